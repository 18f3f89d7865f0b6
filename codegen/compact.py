"""The ``compact`` strategy: as ``unrolled``, but the first-layer input terms left after
the sharing with coefficient +/-1 (or +/-2: the index twice) are data, not code: one
``static const uint8_t`` table (``uint16_t`` beyond 256 inputs; PROGMEM on AVR) holds a
sequence of lists (per node its +1 indices, then its -1 indices; each list a header and at
most ``32767 // L`` indices, so every list's sum is 16 bits), and ONE call of a small helper
per inference sums every list into a local array ``int_fast16_t d[]`` with an eight-way
Duff's device (about 1 byte and 3.25 instructions per term, plus about 14 instructions per
list, against about 5 bytes and 2 instructions as code); each node then reads its lists:
``z_k = z_parent + (b_k - b_parent) + d[a] - d[b] + <code terms>``.

Under a flash budget, ``plan_compact`` (a knapsack over the nodes) keeps as many terms in
code as the estimated flash allows, where they save the most time (first the +/-2 terms,
then the sign with fewer terms, so that whole lists disappear, each class inputs that short
loads reach first); without one, everything that can be is table (the smallest form).
"""

from __future__ import annotations

import numpy as np

from mipnn.codegen.cost import CostProfile, program_cost, term_cost
from mipnn.codegen.program import NodeTerms, Program
from mipnn.codegen.simplify import SimpleNetwork
from mipnn.codegen.unrolled import UnrolledBuilder


class CompactBuilder(UnrolledBuilder):
    """The unrolled program with the first layer's +/-1 and +/-2 terms as table lists,
    except the first ``code_terms[node]`` of each node (the planner's choice)."""

    def __init__(self, net: SimpleNetwork, code_terms: dict[int, int]) -> None:
        super().__init__(net)
        self.code_terms = code_terms  # node -> how many of its tableable terms stay code

    def split_terms(self, node: int, terms: list[tuple[int, int]]
                    ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        """Terms with coefficient +/-1 (+/-2: the index twice) become table entries,
        except the first ``keep`` of them (the planner's choice), in the order: +/-2 first
        (cheapest to keep as code), then the sign with fewer terms (keeping all of those
        saves a whole list), then the other; within each, inputs a short load reaches."""
        plus: list[int] = []
        minus: list[int] = []
        tableable = [(i, d) for i, d in terms if abs(d) <= 2]
        n_pos = sum(1 for _, d in tableable if d > 0)
        minority = 1 if n_pos * 2 < len(tableable) else -1
        tableable.sort(key=lambda t: (abs(t[1]) == 1, (t[1] > 0) != (minority > 0),
                                      not self.near(t[0])))
        keep = self.code_terms.get(node, 0)
        self.node_terms.append(NodeTerms(node, [d for _, d in tableable]))
        table_set = {i for i, _ in tableable[keep:]}
        for i, d in tableable[keep:]:
            (plus if d > 0 else minus).extend([i] * abs(d))
        return [(i, d) for i, d in terms if i not in table_set], plus, minus


def build_compact(net: SimpleNetwork, profile: CostProfile | None = None,
                  flash_budget: float | None = None) -> Program:
    """The ``compact`` program of ``net``: planned for ``flash_budget`` under ``profile``
    (``plan_compact``) when both are given, else every term that can be is table."""
    program = CompactBuilder(net, code_terms={}).build()
    if flash_budget is not None and profile is not None and program.nodes:
        plan = plan_compact(program, profile, flash_budget)
        if plan:
            program = CompactBuilder(net, code_terms=plan).build()
    return program


def plan_compact(program: Program, profile: CostProfile, flash_budget: float) -> dict[int, int]:
    """For the all-table ``compact`` program: how many tableable terms of each first-layer
    node to keep as code (node -> k, the first k of them) so that the estimated time is
    smallest while the estimated model flash stays within ``flash_budget``. A
    multiple-choice knapsack over the nodes (options: k on a grid of at most 17 values,
    always including 0 and all), solved exactly by dynamic programming over whole bytes."""
    p = profile
    _, base_flash = program_cost(program, p)
    elem = 1 if program.table_type == "uint8_t" else 2
    options: list[list[tuple[int, float, int]]] = []  # per node: (extra bytes, saving, k)
    slack = flash_budget - base_flash
    for nt in program.nodes:
        m = len(nt.coefs)
        if m == 0:
            options.append([(0, 0.0, 0)])
            continue
        step = max(1, m // 16)
        ks = sorted(set(range(0, m, step)) | {m})
        rows = []
        for k in ks:
            code, table = nt.coefs[:k], nt.coefs[k:]
            pos = sum(c for c in table if c > 0)
            neg = -sum(c for c in table if c < 0)
            lists = -(-pos // program.list_cap) - (-neg // program.list_cap)
            costs = [term_cost(p, c) for c in code]
            time = sum(t for t, _ in costs)
            flash = sum(f for _, f in costs)
            time += (pos + neg) * p.gather + lists * p.gather_list
            flash += (pos + neg + lists) * elem + lists * p.gather_list_bytes
            rows.append((flash, time, k))
        f0, t0, _ = rows[0]  # k = 0: the all-table program
        fmin = min(r[0] for r in rows)
        slack += f0 - fmin
        options.append([(int(np.ceil(f - fmin - 1e-9)), t0 - t, k) for f, t, k in rows])
    most = sum(max(o[0] for o in opts) for opts in options)
    if slack < 0:
        limit = 0
    else:
        limit = int(min(np.floor(slack), most))
    dp = np.zeros(limit + 1)
    choices = []
    for opts in options:
        new = np.full(limit + 1, -np.inf)
        pick = np.zeros(limit + 1, dtype=np.int64)
        for idx, (df, saving, _k) in sorted(enumerate(opts), key=lambda t: t[1][0]):
            if df > limit:
                continue
            cand = np.full(limit + 1, -np.inf)
            cand[df:] = dp[: limit + 1 - df] + saving
            better = cand > new
            new[better] = cand[better]
            pick[better] = idx
        dp = new
        choices.append(pick)
    plan: dict[int, int] = {}
    f = int(np.argmax(dp)) if limit >= 0 else 0
    for nt, opts, pick in zip(reversed(program.nodes), reversed(options), reversed(choices),
                              strict=True):
        df, _saving, k = opts[int(pick[f])]
        if k:
            plan[nt.node] = k
        f -= df
    return plan


def compact_note(program: Program, flash_budget: float | None) -> str:
    """The note the generated C carries on how much of a compact program is table."""
    entries = program.counts["gather"]
    code = program.counts["term"] + program.counts["term_wide"]
    return (
        f"compact: {entries} table entries in {program.n_lists} lists, "
        f"{code} input terms as code"
        + (f" (planned for a flash budget of {flash_budget:g} B)" if flash_budget is not None
           else "")
    )
