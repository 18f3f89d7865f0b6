"""Code-generation strategies and the cost model that chooses between them.

Every strategy computes exactly ``mipnn.trainer.model.forward`` (ARCHITECTURE.md 2) for every input
in range; they differ only in how the C does it:

``int8``
    The baseline: weights in ``int8_t`` tables, one loop per layer, 32-bit accumulators
    (64-bit where a partial sum may need it).
``int16``
    The same loop, with ``int_fast16_t`` accumulators wherever range analysis proves every
    partial sum fits 16 bits. ``int_fast16_t`` is 16 bits where that is faster (AVR, whose
    ``int`` is 16 bits and whose 32-bit add takes four instructions) and the native word
    elsewhere, so a 32-bit core pays no sign extension for it.
``unrolled``
    Straight-line code with the weights in the instructions: ``z += x[i]``, ``z -= x[i]``,
    ``z += 3 * x[i]``; zero weights produce no code. Before that, the network is simplified
    exactly (``simplify``): hidden neurons that range analysis proves constant are folded
    into the next layer's bias, neurons no later layer reads are dropped, and identical
    neurons are computed once. First-layer neurons share work: each is computed from the
    nearest already computed neuron (or a shared partial sum of the most common weights),
    ``z_k = z_j + (b_k - b_j) + sum_i (w_k[i] - w_j[i]) * x[i]``, along a minimum spanning
    tree of the Hamming distances between weight rows. A sign neuron is consumed as soon as
    it is known: ``if (z >= 0) { next_k += 2 * w[k][j]; ... }`` into accumulators that
    start at ``b_k - sum_j w[k][j]`` (since ``w * a = -w + 2 * w * [a = +1]``).
``xnor``
    As ``unrolled`` for the first layer; the +/-1 outputs of every sign layer are packed
    into bit words, and the layers after the first compute ``sum_j w[k][j] * a[j]`` with
    XOR and a popcount per bit plane of ``|w|``:
    ``sum_{j in M} s_j a_j = 2 * popcount((h ^ T) & M) - |M|`` where ``h`` holds the bits
    ``a_j = +1``, ``M`` the weights with that plane's bit set, and ``T`` those of them that
    are negative (``s_j = -1``).

``compact``
    As ``unrolled``, but the first-layer input terms left after the sharing with
    coefficient +/-1 (or +/-2: the index twice) are data, not code: one
    ``static const uint8_t`` table (``uint16_t`` beyond 256 inputs; PROGMEM on AVR) holds a
    sequence of lists (per node its +1 indices, then its -1 indices; each list a header and
    at most ``32767 // L`` indices, so every list's sum is 16 bits), and ONE call of a small
    helper per inference sums every list into a local array ``int_fast16_t d[]`` with an
    eight-way Duff's device (about 1 byte and 3.25 instructions per term, plus about 14
    instructions per list, against about 5 bytes and 2 instructions as code); each node
    then reads its lists: ``z_k = z_parent + (b_k - b_parent) + d[a] - d[b] + <code terms>``.
    Under a flash budget, ``plan_compact`` (a knapsack over the nodes) keeps as many terms in
    code as the estimated flash allows, where they save the most time (first the +/-2
    terms, then the sign with fewer terms, so that whole lists disappear, each class
    inputs that short loads reach first); without one,
    everything that can be is table (the smallest form).

The unrolled strategies share first-layer work along a minimum spanning tree whose nodes
are the neurons, the zero row, possibly the column-wise most common row, and Steiner
points: column-wise medians of three nearby nodes, added greedily while each makes the
tree more than five terms cheaper (a node of its own costs a statement and, in
``compact``, lists). In the C, the inputs x[b..b+31] of the 32-byte window
beyond x[31] that holds the most input terms are read through a second pointer kept in a
low register on Thumb (16-bit loads reach only 31 bytes past a low register).

Every accumulator's type comes from interval arithmetic over every prefix of its sum
(inputs in ``[0, L]`` or ``{-1, +1}``), so no partial sum can overflow: ``int_fast16_t``
when all prefixes fit 16 bits, else ``int32_t``, else ``int64_t``. A term whose product
may exceed 16 bits is computed in ``int32_t``.

``auto`` picks, per target, the strategy the cost model (``CostProfile``) estimates to be
fastest among those whose estimated model flash fits the budget (``--flash-budget``,
default the profile's); ``compact`` is planned for that same budget. If nothing fits, the
smallest estimate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from mipnn.trainer.model import Model

STRATEGIES = ("int8", "int16", "unrolled", "xnor", "compact")
STRATEGY_CHOICES = (*STRATEGIES, "auto")

# Straight-line code beyond this many statements is refused: it would take more flash than
# a microcontroller has for a model, and GCC's time grows faster than linearly with the
# size of one function (about 10 s for 10,000 statements here).
MAX_UNROLLED_STATEMENTS = 6000

I16_MAX = 2**15 - 1
I32_MAX = 2**31 - 1
I64_MAX = 2**63 - 1
# Accumulator types by width: an expression mixing two of them must be computed in the
# wider one (a sum of two ``int_fast16_t`` values is computed in ``int``: 16 bits on AVR).
TYPE_RANK = {"int_fast16_t": 1, "int32_t": 2, "int64_t": 3}


# ---------------------------------------------------------------- cost model


@dataclass(frozen=True)
class CostProfile:
    """Estimated costs on one kind of core: time in instructions (cycles on AVR), size in
    bytes of flash. Calibrated on the measured targets (bench/deploy.py prints the
    estimates beside the measurements); they only need to rank the strategies."""

    name: str
    loop_mac: float  # one weight of the table loop (load weight and input, multiply-add, loop)
    loop_mac_wide: float  # ... with a 32-bit accumulator
    loop_neuron: float  # per neuron of the table loop (bias, activation, store)
    term: float  # one input term of unrolled code (load input, add)
    term_wide: float  # ... into a 32-bit accumulator
    term_mul: float  # extra for a weight other than +/-1 (multiply or shift-add)
    cond: float  # test of one sign neuron (compare and branch, or IT block)
    cond_add: float  # one conditional add into an accumulator
    pack: float  # setting one bit of a packed word
    popcount: float  # one XOR/AND/popcount/shift-add term (per word and bit plane)
    neuron: float  # per neuron of unrolled code (start, move)
    fixed: float  # argmax, scores, call overhead
    # flash bytes
    loop_bytes_per_weight: float
    loop_code_bytes: float
    term_bytes: float
    cond_bytes: float
    cond_add_bytes: float
    pack_bytes: float
    popcount_bytes: float
    popcount_fn_bytes: float
    neuron_bytes: float
    flash_budget: int  # largest model flash the auto strategy accepts
    # compact: first-layer terms as table entries, summed by a helper function
    gather: float = 3.25  # one table entry (load index, load input, add; 8 per loop)
    gather_list: float = 14.0  # one list: count, Duff entry, store in d[]; read of d[] and add
    gather_list_bytes: float = 2.0  # the read of d[] and the add, per list
    gather_call: float = 20.0  # the one call of the helper (arguments, return)
    gather_call_bytes: float = 14.0  # the code of the call and of the d[] frame
    gather_fn_bytes: float = 82.0  # the helper function


def _profile(name: str, wide: bool, flash_budget: int, **overrides: float) -> CostProfile:
    """A 32-bit core's costs (``wide`` selects the 8-bit AVR numbers instead)."""
    if wide:  # AVR: cycles; a 16-bit add is 2 instructions, a 32-bit add 4
        base = dict(
            loop_mac=14.0, loop_mac_wide=24.0, loop_neuron=30.0, term=5.0, term_wide=8.0,
            term_mul=10.0, cond=3.0, cond_add=3.0, pack=3.0, popcount=40.0, neuron=4.0,
            fixed=120.0, loop_bytes_per_weight=1.0, loop_code_bytes=260.0, term_bytes=6.0,
            cond_bytes=6.0, cond_add_bytes=6.0, pack_bytes=6.0, popcount_bytes=40.0,
            popcount_fn_bytes=40.0, neuron_bytes=8.0,
        )
    else:
        base = dict(
            loop_mac=6.0, loop_mac_wide=6.0, loop_neuron=10.0, term=2.0, term_wide=2.0,
            term_mul=1.0, cond=2.0, cond_add=1.2, pack=2.5, popcount=14.0, neuron=1.5,
            fixed=30.0, loop_bytes_per_weight=1.0, loop_code_bytes=140.0, term_bytes=5.0,
            cond_bytes=4.0, cond_add_bytes=4.0, pack_bytes=6.0, popcount_bytes=30.0,
            popcount_fn_bytes=0.0, neuron_bytes=4.0,
        )
    if wide:
        base.update(gather=17.5, gather_list=40.0, gather_list_bytes=6.0, gather_call=60.0,
                    gather_call_bytes=18.0, gather_fn_bytes=300.0)
    base.update(overrides)
    return CostProfile(name=name, flash_budget=flash_budget, **base)


# Budgets: the model flash ``auto`` accepts for speed (a quarter of a 128K part; a quarter
# of the Uno's 32K).
PROFILES: dict[str, CostProfile] = {
    "generic32": _profile("generic32", False, 32 * 1024),
    "host": _profile("host", False, 32 * 1024, term_bytes=7.0),
    # Cortex-M0: 16-bit Thumb only (no IT blocks: a conditional add is a branch).
    "cortex-m0": _profile("cortex-m0", False, 32 * 1024, loop_mac=10.0, loop_mac_wide=10.0,
                          cond=3.0, cond_add=1.5, term=2.8, term_mul=2.0, term_bytes=5.8,
                          popcount=18.0, gather=5.0, gather_list=20.0, gather_call=30.0,
                          gather_fn_bytes=92.0),
    "cortex-m3": _profile("cortex-m3", False, 32 * 1024, loop_mac=5.2, loop_mac_wide=5.2,
                          term_bytes=5.2),
    "cortex-m4": _profile("cortex-m4", False, 32 * 1024, loop_mac=5.2, loop_mac_wide=5.2,
                          term_bytes=5.6),
    "rv32": _profile("rv32", False, 32 * 1024, loop_mac=8.0, loop_mac_wide=8.0, cond=2.0,
                     cond_add=1.5, term_bytes=7.4, popcount=16.0, gather=5.5,
                     gather_list=16.0, gather_call=30.0, gather_call_bytes=14.0,
                     gather_fn_bytes=150.0),
    "avr": _profile("avr", True, 8 * 1024, loop_mac=24.0, loop_mac_wide=29.0, term_bytes=7.7),
}


def get_profile(name: str | None) -> CostProfile:
    """The cost profile called ``name`` (``None``: ``generic32``)."""
    from mipnn.codegen.export import CodegenError

    key = name or "generic32"
    if key not in PROFILES:
        raise CodegenError(f"unknown cost profile {key!r}; known: {', '.join(sorted(PROFILES))}")
    return PROFILES[key]


# ---------------------------------------------------------------- exact simplification


@dataclass
class SimpleLayer:
    """One layer of the simplified network: ``rows[j] = (weights over inputs, bias)`` for
    every live neuron ``j`` (original numbering); ``inputs`` are the live inputs (input
    indices for layer 0, live neurons of the previous layer otherwise), in order."""

    index: int
    activation: str
    inputs: list[int]
    rows: dict[int, tuple[dict[int, int], int]]
    aliases: dict[int, int] = field(default_factory=dict)  # removed duplicate -> kept twin
    constants: dict[int, int] = field(default_factory=dict)  # folded neuron -> its sign
    dead: list[int] = field(default_factory=list)  # neurons no later layer reads


@dataclass
class SimpleNetwork:
    levels: int
    n_inputs: int
    layers: list[SimpleLayer]


def _z_range(row: dict[int, int], bias: int, lo: int, hi: int) -> tuple[int, int]:
    zl = zh = bias
    for w in row.values():
        a, b = w * lo, w * hi
        zl += min(a, b)
        zh += max(a, b)
    return zl, zh


def simplify(model: Model) -> SimpleNetwork:
    """An exactly equivalent view of ``model`` for the unrolled kernels (see the module
    docstring): constant hidden neurons folded into the next bias, dead ones dropped,
    duplicates merged. The scores of every input are unchanged."""
    W = [layer.weights.astype(np.int64).copy() for layer in model.layers]
    B = [layer.bias.astype(np.int64).copy() for layer in model.layers]
    n = len(W)
    live = [list(range(w.shape[0])) for w in W]
    constants: list[dict[int, int]] = [{} for _ in range(n)]
    aliases: list[dict[int, int]] = [{} for _ in range(n)]
    dead: list[list[int]] = [[] for _ in range(n)]
    changed = True
    while changed:
        changed = False
        for li in range(n - 1):  # hidden layers only: the output layer is never reduced
            lo, hi = (0, model.levels) if li == 0 else (-1, 1)
            cols = list(range(W[0].shape[1])) if li == 0 else live[li - 1]
            seen: dict[tuple[int, ...], int] = {}
            for j in list(live[li]):
                row = {i: int(W[li][j, i]) for i in cols if W[li][j, i] != 0}
                zl, zh = _z_range(row, int(B[li][j]), lo, hi)
                if zl >= 0 or zh < 0:
                    sign = 1 if zl >= 0 else -1
                    B[li + 1] += W[li + 1][:, j] * sign
                    W[li + 1][:, j] = 0
                    live[li].remove(j)
                    constants[li][j] = sign
                    changed = True
                    continue
                key = (int(B[li][j]), *(int(W[li][j, i]) for i in cols))
                if key in seen:
                    twin = seen[key]
                    W[li + 1][:, twin] += W[li + 1][:, j]
                    W[li + 1][:, j] = 0
                    live[li].remove(j)
                    aliases[li][j] = twin
                    changed = True
                    continue
                seen[key] = j
        for li in range(n - 2, -1, -1):
            readers = live[li + 1]
            for j in list(live[li]):
                if not W[li + 1][readers, j].any():
                    live[li].remove(j)
                    dead[li].append(j)
                    changed = True
    layers = []
    for li in range(n):
        cols = list(range(W[0].shape[1])) if li == 0 else live[li - 1]
        rows = {
            j: ({i: int(W[li][j, i]) for i in cols if W[li][j, i] != 0}, int(B[li][j]))
            for j in live[li]
        }
        layers.append(
            SimpleLayer(
                index=li,
                activation=model.layers[li].activation,
                inputs=cols,
                rows=rows,
                aliases=aliases[li],
                constants=constants[li],
                dead=sorted(dead[li]),
            )
        )
    return SimpleNetwork(levels=model.levels, n_inputs=model.input_size, layers=layers)


# ---------------------------------------------------------------- the unrolled program


def c_type(lo: int, hi: int) -> str:
    """The accumulator type for values in ``[lo, hi]`` (see the module docstring)."""
    if -I16_MAX - 1 <= lo and hi <= I16_MAX:
        return "int_fast16_t"
    if -I32_MAX - 1 <= lo and hi <= I32_MAX:
        return "int32_t"
    if -I64_MAX - 1 <= lo and hi <= I64_MAX:
        return "int64_t"
    from mipnn.codegen.export import CodegenError

    raise CodegenError(f"a partial sum may reach [{lo}, {hi}], more than 64 bits hold")


class _Interval:
    """Tracks the range of every prefix of a sum (for choosing a type)."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo = self.hi = 0
        self.min = self.max = 0
        self.add(lo, hi)

    def add(self, lo: int, hi: int) -> None:
        self.lo += lo
        self.hi += hi
        self.min = min(self.min, self.lo)
        self.max = max(self.max, self.hi)

    @property
    def ctype(self) -> str:
        return c_type(self.min, self.max)


@dataclass
class Op:
    """One statement of the unrolled program; ``kind`` selects the template macro."""

    kind: str  # let | term | gather | cond | pack | xnor | comment
    var: str = ""
    ctype: str = ""
    value: int = 0  # let: constant start; term: coefficient; pack: the bit; xnor: 2**shift
    source: str = ""  # let: the variable it starts from (empty: constant only)
    # let: the source is read as this (wider) type before the addition, so that the sum is
    # computed in ``ctype`` and not in the narrower source type (16-bit ``int`` on AVR)
    widen: str = ""
    index: int = 0  # term: input index; pack: bit number; gather: offset in the term table
    wide: bool = False  # term: compute the product in int32_t
    adds: list[tuple[str, str, int]] = field(default_factory=list)  # cond: (var, type, delta)
    word: str = ""  # pack / xnor: the bit word
    word_type: str = ""
    bits: int = 0  # xnor: word width; gather: 16 or 32 (the helper's sums)
    flip: int = 0  # xnor: T mask
    mask: int = 0  # xnor: M mask
    shift: int = 0  # xnor: popcount << shift (written as a multiplication)
    text: str = ""  # comment


@dataclass
class Program:
    """The unrolled code of one model: the statements, the class-score variables, the
    bit words and popcount widths it uses, and counts for the cost model."""

    ops: list[Op]
    scores: list[tuple[str, str]]  # (variable, type) per class
    words: list[tuple[str, str]]  # (variable, type) of the packed bit words
    popcount_widths: list[int]
    counts: Counter[str]
    notes: list[str]
    # compact: the first-layer term table (per node: n+, indices, n-, indices), its
    # element type, the helper widths used, and per node what the planner may move to code
    table: list[int] = field(default_factory=list)
    table_type: str = "uint8_t"
    gather_widths: list[int] = field(default_factory=list)
    nodes: list[_NodeTerms] = field(default_factory=list)
    n_lists: int = 0  # lists in the table (= entries of d[])
    list_cap: int = 255  # most entries of one list
    input_base: int = 0  # the window x[b..b+31] read through a second pointer (0: none)


@dataclass
class _NodeTerms:
    """The input terms of one first-layer node that may be stored as table data
    (coefficient +/-1 or +/-2; a +/-2 is its index twice): the planner of ``compact``
    decides how many of them (the first ``k``) stay code."""

    node: int
    coefs: list[int]  # of the tableable terms, in emission order


def list_header(count: int) -> int:
    """The header of a ``compact`` table list of ``count`` >= 1 entries: the iterations of
    its eight-way loop times 8, plus where the first one enters (``count % 8``)."""
    return 8 * ((count + 7) // 8) + count % 8


def list_count(header: int) -> int:
    """The number of entries of a list from its header (the inverse of ``list_header``)."""
    rem = header % 8
    return header - 8 if rem else header


def _hamming(rows: np.ndarray) -> np.ndarray:
    k = rows.shape[0]
    out = np.zeros((k, k), dtype=np.int64)
    for a in range(k):
        out[a] = (rows != rows[a]).sum(axis=1)
    return out


def _spanning_tree(rows: np.ndarray, with_base: bool) -> tuple[list[int], np.ndarray, int]:
    """Prim's tree over node 0 = the zero row (start from the bias), node 1 = the base row
    (column-wise most common weight; only when ``with_base``), then the neurons. Returns
    (parent of every node, the base row, total terms)."""
    k, n = rows.shape
    base = np.zeros(n, dtype=np.int64)
    if with_base and k > 1:
        for i in range(n):
            col = rows[:, i]
            values, counts = np.unique(col, return_counts=True)
            best_cost, best = k - int((col == 0).sum()), 0  # cost with base 0: neurons != 0
            for v, c in zip(values.tolist(), counts.tolist(), strict=True):
                cost = (1 if v != 0 else 0) + (k - c)
                if cost < best_cost:
                    best_cost, best = cost, v
            base[i] = best
    nodes = np.vstack([np.zeros((1, n), dtype=np.int64), base[None, :], rows])
    dist = _hamming(nodes)
    total = len(nodes)
    parent = [-1] * total
    in_tree = [False] * total
    best = dist[0].copy()
    best_from = [0] * total
    in_tree[0] = True
    if not with_base:
        in_tree[1] = True  # the base row is not used
    cost = 0
    for _ in range(total - sum(in_tree)):
        cand = [(best[v], v) for v in range(total) if not in_tree[v]]
        if not cand:
            break
        c, v = min(cand)
        in_tree[v] = True
        parent[v] = best_from[v]
        cost += int(c)
        for u in range(total):
            if not in_tree[u] and dist[v, u] < best[u]:
                best[u] = dist[v, u]
                best_from[u] = v
    return parent, base, cost


def _mst(dist: np.ndarray) -> tuple[list[int], int]:
    """Prim's minimum spanning tree from node 0 over the distance matrix: (parents, cost)."""
    total = len(dist)
    parent = [-1] * total
    in_tree = np.zeros(total, dtype=bool)
    in_tree[0] = True
    best = dist[0].astype(np.int64).copy()
    best_from = np.zeros(total, dtype=np.int64)
    cost = 0
    for _ in range(total - 1):
        cand = np.where(in_tree, np.iinfo(np.int64).max, best)
        v = int(np.argmin(cand))
        in_tree[v] = True
        parent[v] = int(best_from[v])
        cost += int(best[v])
        closer = ~in_tree & (dist[v] < best)
        best[closer] = dist[v][closer]
        best_from[closer] = v
    return parent, cost


def _steiner_points(nodes: np.ndarray, fixed: int, cost: int,
                    node_cost: int = 5) -> tuple[list[np.ndarray], list[int], int]:
    """Shared partial sums beyond the spanning tree (Steiner points in Hamming space):
    greedily, for a node ``a`` of the tree and two of its tree neighbours ``b``, ``c``, the
    column-wise median ``m`` of the three replaces the edges a-b and a-c by m-a, m-b, m-c
    when that saves more than ``node_cost`` terms; the tree is then rebuilt over all nodes.
    ``nodes`` holds the rows of the tree's nodes (node 0 the zero row); returns (the added
    rows, the parents of every node, the cost)."""
    added: list[np.ndarray] = []
    rows = nodes
    dist = _hamming(rows)
    parent, cost = _mst(dist)
    for _ in range(min(max(0, fixed - 1), 64)):
        k = len(rows)
        adjacent: list[list[int]] = [[] for _ in range(k)]
        for v, par in enumerate(parent):
            if par >= 0:
                adjacent[v].append(par)
                adjacent[par].append(v)
        best: tuple[int, np.ndarray] | None = None
        for a in range(k):
            nbrs = adjacent[a]
            for bi, b in enumerate(nbrs):
                for c in nbrs[bi + 1:]:
                    ra, rb, rc = rows[a], rows[b], rows[c]
                    med = np.where(rb == rc, rb, ra)
                    da = int((med != ra).sum())
                    db = int((med != rb).sum())
                    dc = int((med != rc).sum())
                    if min(da, db, dc) == 0:
                        continue
                    gain = int(dist[a, b] + dist[a, c]) - da - db - dc
                    if gain > node_cost and (best is None or gain > best[0]):
                        best = (gain, med)
        if best is None:
            break
        med = best[1]
        dm = (rows != med).sum(axis=1)
        ext = np.zeros((k + 1, k + 1), dtype=np.int64)
        ext[:k, :k] = dist
        ext[k, :k] = ext[:k, k] = dm
        rows = np.vstack([rows, med[None, :]])
        dist = ext
        added.append(med)
        parent, cost = _mst(dist)
    return added, parent, cost


class _Builder:
    def __init__(self, net: SimpleNetwork, hidden_kernel: str,
                 code_terms: dict[int, int] | None = None) -> None:
        self.net = net
        self.hidden_kernel = hidden_kernel  # scatter | xnor
        # compact: node -> how many of its tableable terms stay code (None: all code)
        self.code_terms = code_terms
        self.table: list[int] = []
        self.table_type = "uint8_t" if net.n_inputs <= 256 else "uint16_t"
        # entries of one list: its count must fit the table's element type, and its sum
        # (at most count * L) 16 bits, so every d[] value is an int_fast16_t
        # (a header holds 8 * ceil(count / 8) + count % 8: see ``list_header``)
        self.input_base = 0  # start of the second input pointer's window (0: none)
        self.list_cap = min(248 if net.n_inputs <= 256 else 65528, I16_MAX // net.levels)
        self.n_lists = 0
        self.gather_widths: set[int] = set()
        self.node_terms: list[_NodeTerms] = []
        self.ops: list[Op] = []
        self.counts: Counter[str] = Counter()
        self.words: list[tuple[str, str]] = []
        self.popcount_widths: set[int] = set()
        self.notes: list[str] = []
        # exact range of each neuron's z (by the box of its live inputs)
        self.zrange: dict[tuple[int, int], tuple[int, int]] = {}
        self.var_of: dict[tuple[int, int], str] = {}
        self.type_of: dict[str, str] = {}
        self.scores: list[tuple[str, str]] = []
        # scatter accumulators of the layer being fed: var -> interval
        self.acc: dict[str, _Interval] = {}
        # packed words of layer li's outputs: neuron -> (word var, word type, bit)
        self.bit_of: dict[tuple[int, int], tuple[str, str, int, int]] = {}

    # -- helpers
    def var(self, li: int, j: int) -> str:
        last = li == len(self.net.layers) - 1
        return f"s{j}" if last else f"z{li}_{j}"

    def near(self, index: int) -> bool:
        """Whether the unrolled code reads input ``index`` with a short (16-bit) load on
        Thumb: x[0..31], or the window of the second pointer."""
        return index < 32 or (self.input_base > 0
                              and self.input_base <= index < self.input_base + 32)

    def emit(self, op: Op) -> None:
        self.ops.append(op)

    def build(self) -> Program:
        net = self.net
        layers = net.layers
        for li, layer in enumerate(layers):
            lo, hi = (0, net.levels) if li == 0 else (-1, 1)
            for j, (row, bias) in layer.rows.items():
                self.zrange[(li, j)] = _z_range(row, bias, lo, hi)
        self._describe()
        if len(layers) > 1:
            self._prepare_consumers(0)
        self._first_layer()
        for li in range(1, len(layers)):
            if self.hidden_kernel == "scatter":
                self._finish_scatter(li)
            else:
                self._xnor_layer(li)
        for k in range(len(layers[-1].rows)):
            var = self.var(len(layers) - 1, k)
            self.scores.append((var, self.type_of[var]))
        return Program(
            ops=self.ops,
            scores=self.scores,
            words=self.words,
            popcount_widths=sorted(self.popcount_widths),
            counts=self.counts,
            notes=self.notes,
            table=self.table,
            table_type=self.table_type,
            gather_widths=sorted(self.gather_widths),
            nodes=self.node_terms,
            n_lists=self.n_lists,
            list_cap=self.list_cap,
            input_base=self.input_base,
        )

    def _describe(self) -> None:
        for layer in self.net.layers[:-1]:
            parts = []
            if layer.constants:
                parts.append(
                    f"{len(layer.constants)} constant (folded into the next bias: "
                    + ", ".join(f"{j}={'+1' if s > 0 else '-1'}"
                                for j, s in sorted(layer.constants.items())) + ")"
                )
            if layer.aliases:
                parts.append(
                    f"{len(layer.aliases)} duplicate ("
                    + ", ".join(f"{j}={t}" for j, t in sorted(layer.aliases.items())) + ")"
                )
            if layer.dead:
                parts.append(f"{len(layer.dead)} unused ({', '.join(map(str, layer.dead))})")
            if parts:
                self.notes.append(
                    f"layer {layer.index}: {len(layer.rows)} neurons computed; "
                    + "; ".join(parts)
                )

    # -- accumulators of layer li + 1 fed by the signs of layer li (scatter)
    def _prepare_consumers(self, li: int) -> None:
        nxt = self.net.layers[li + 1]
        self.acc = {}
        if self.hidden_kernel == "xnor":
            self._prepare_words(li)
            return
        for k, (row, bias) in nxt.rows.items():
            start = bias - sum(row.values())
            iv = _Interval(start, start)
            for w in row.values():
                iv.add(min(0, 2 * w), max(0, 2 * w))
            var = self.var(li + 1, k)
            self.acc[var] = iv
        for k, (row, bias) in nxt.rows.items():
            var = self.var(li + 1, k)
            start = bias - sum(row.values())
            ctype = self.acc[var].ctype
            self.type_of[var] = ctype
            self.emit(Op("let", var=var, ctype=ctype, value=start))
            self.counts["neuron"] += 1

    def _prepare_words(self, li: int) -> None:
        neurons = list(self.net.layers[li].rows)
        n = len(neurons)
        width = 8 if n <= 8 else 16 if n <= 16 else 32
        wtype = {8: "uint8_t", 16: "uint16_t", 32: "uint32_t"}[width]
        for w in range((n + width - 1) // width):
            word = f"h{li + 1}_{w}"
            self.words.append((word, wtype))
            self.emit(Op("let", var=word, ctype=wtype, value=0))
        for pos, j in enumerate(neurons):
            self.bit_of[(li, j)] = (f"h{li + 1}_{pos // width}", wtype, pos % width, width)

    def _consume(self, li: int, j: int) -> None:
        """Emit what the sign of neuron j of hidden layer li feeds."""
        var = self.var_of[(li, j)]
        if self.hidden_kernel == "xnor":
            word, wtype, bit, _ = self.bit_of[(li, j)]
            self.emit(Op("pack", var=var, word=word, word_type=wtype, index=bit, value=1 << bit))
            self.counts["pack"] += 1
            return
        adds = []
        for k, (row, _bias) in self.net.layers[li + 1].rows.items():
            w = row.get(j, 0)
            if w:
                target = self.var(li + 1, k)
                adds.append((target, self.type_of[target], 2 * w))
        if adds:
            self.emit(Op("cond", var=var, adds=adds))
            self.counts["cond"] += 1
            self.counts["cond_add"] += len(adds)

    # -- layer 0: input terms along a minimum spanning tree
    def _first_layer(self) -> None:
        net = self.net
        layer = net.layers[0]
        last = len(net.layers) == 1
        neurons = list(layer.rows)
        inputs = list(range(net.n_inputs))
        rows = np.zeros((len(neurons), net.n_inputs), dtype=np.int64)
        for r, j in enumerate(neurons):
            for i, w in layer.rows[j][0].items():
                rows[r, i] = w
        if not neurons:
            return
        plain = _spanning_tree(rows, with_base=False)
        based = _spanning_tree(rows, with_base=True)
        parent, base, cost = based if based[2] < plain[2] else plain
        used_base = based[2] < plain[2]
        # More shared partial sums (Steiner points): nodes 2 + len(neurons) onwards.
        tree_rows = np.vstack([np.zeros((1, net.n_inputs), dtype=np.int64),
                               base[None, :], rows])
        if not used_base:  # keep node 1 out of the tree: a copy of the zero row
            tree_rows[1] = 0
        steiner, st_parent, st_cost = _steiner_points(tree_rows, len(neurons), cost)
        if steiner:
            parent, cost = st_parent, st_cost
            if not used_base:
                parent[1] = -1
                for v, par in enumerate(parent):
                    if par == 1:
                        parent[v] = 0
        self.notes.append(
            f"layer 0: {int((rows != 0).sum())} nonzero weights, {cost} input terms after "
            "sharing" + (" (with a shared partial sum)" if used_base else "")
        )
        children: dict[int, list[int]] = {}
        for node, par in enumerate(parent):
            if par >= 0:
                children.setdefault(par, []).append(node)
        L = net.levels
        zr: dict[int, tuple[int, int]] = {0: (0, 0)}
        if used_base:
            zr[1] = _z_range({i: int(base[i]) for i in inputs if base[i]}, 0, 0, L)
        for r, j in enumerate(neurons):
            zr[r + 2] = self.zrange[(0, j)]
        names = {1: "t0"}
        biases = {0: 0, 1: 0}
        vectors = {0: np.zeros(net.n_inputs, dtype=np.int64), 1: base}
        for s_i, row in enumerate(steiner):
            node = 2 + len(neurons) + s_i
            names[node] = f"t{s_i + 1}"
            biases[node] = 0
            vectors[node] = row
            zr[node] = _z_range({i: int(row[i]) for i in inputs if row[i]}, 0, 0, L)
        for r, j in enumerate(neurons):
            names[r + 2] = self.var(0, j)
            biases[r + 2] = layer.rows[j][1]
            vectors[r + 2] = rows[r]

        def emit_node(node: int, par: int) -> None:
            var = names[node]
            delta_b = biases[node] - biases[par]
            diff = vectors[node] - vectors[par]
            terms = [(i, int(diff[i])) for i in inputs if diff[i] != 0]
            plus: list[int] = []
            minus: list[int] = []
            if self.code_terms is not None:
                # compact: terms with coefficient +/-1 (+/-2: the index twice) become table
                # entries, except the first ``keep`` of them (the planner's choice), in the
                # order: +/-2 first (cheapest to keep as code), then the sign with fewer
                # terms (keeping all of those saves a whole list), then the other.
                tableable = [(i, d) for i, d in terms if abs(d) <= 2]
                n_pos = sum(1 for _, d in tableable if d > 0)
                minority = 1 if n_pos * 2 < len(tableable) else -1
                tableable.sort(key=lambda t: (abs(t[1]) == 1, (t[1] > 0) != (minority > 0),
                                              not self.near(t[0])))
                keep = self.code_terms.get(node, 0)
                self.node_terms.append(_NodeTerms(node, [d for _, d in tableable]))
                table_set = {i for i, _ in tableable[keep:]}
                for i, d in tableable[keep:]:
                    (plus if d > 0 else minus).extend([i] * abs(d))
                terms = [(i, d) for i, d in terms if i not in table_set]
            lo, hi = zr[par] if par != 0 else (0, 0)
            iv = _Interval(lo + delta_b, hi + delta_b)
            # each list of at most ``list_cap`` entries is one d[] value read by the node
            chunks = [(sign, lst[k:k + self.list_cap]) for sign, lst in ((1, plus), (-1, minus))
                      for k in range(0, len(lst), self.list_cap)]
            for sign, chunk in chunks:
                iv.add(min(0, sign * len(chunk) * L), max(0, sign * len(chunk) * L))
            for _, d in terms:
                iv.add(min(0, d * L), max(0, d * L))
            ctype = iv.ctype
            self.type_of[var] = ctype
            source = names[par] if par != 0 else ""
            narrower = source and TYPE_RANK[self.type_of[source]] < TYPE_RANK[ctype]
            self.emit(
                Op("let", var=var, ctype=ctype, value=delta_b, source=source,
                   widen=ctype if narrower else "")
            )
            self.counts["neuron"] += 1
            for sign, chunk in chunks:
                self.emit(Op("gather", var=var, ctype=ctype, index=self.n_lists, value=sign))
                self.n_lists += 1
                self.table.extend([list_header(len(chunk)), *chunk])
                self.counts["gather_list"] += 1
                self.counts["gather"] += len(chunk)
                self.counts["table"] += 1 + len(chunk)
            for i, d in terms:
                wide = abs(d) * L > I16_MAX
                self.emit(Op("term", var=var, ctype=ctype, value=d, index=i, wide=wide))
                self.counts["term_wide" if ctype != "int_fast16_t" else "term"] += 1
                if abs(d) != 1:
                    self.counts["term_mul"] += 1
            if 2 <= node < 2 + len(neurons):
                j = neurons[node - 2]
                self.var_of[(0, j)] = var
                if not last:
                    self._consume(0, j)

        # The window of 32 inputs beyond x[31] read through a second pointer (see the
        # template): where most input terms are. Terms on x[0..31] or in it are shorter
        # code on Thumb, so compact keeps those as code first.
        refs = [i for node, par in enumerate(parent) if par >= 0
                for i in np.flatnonzero(vectors[node] - vectors[par]).tolist() if i >= 32]
        self.input_base, best_n = 0, 3  # fewer than 4 terms: not worth a register
        for start in sorted(set(refs)):
            n_in = sum(1 for i in refs if start <= i < start + 32)
            if n_in > best_n:
                self.input_base, best_n = start, n_in
        # Depth first, so a neuron's value is needed only while its subtree is computed; the
        # children of a node in increasing order of the values they keep live (Sethi-Ullman:
        # the most demanding last, when the parent is no longer needed), so that fewer
        # partial sums are live at once (on Thumb, values beyond the 8 low registers make
        # every load and subtraction a 32-bit instruction).
        need: dict[int, int] = {}
        order, todo = [], [0]
        while todo:  # pre-order; reversed, every child comes before its parent
            node = todo.pop()
            order.append(node)
            todo.extend(children.get(node, []))
        for node in reversed(order):
            kids = children.get(node, [])
            kids.sort(key=lambda c: (need[c], c))
            need[node] = max([1] + [need[c] + 1 for c in kids[:-1]]
                             + [need[c] for c in kids[-1:]])
        at = len(self.ops)
        stack = [(c, 0) for c in reversed(children.get(0, []))]
        while stack:
            node, par = stack.pop()
            emit_node(node, par)
            for c in reversed(children.get(node, [])):
                stack.append((c, node))
        if self.n_lists:
            # compact: one call sums every list of the table into d[] before the nodes
            self.ops.insert(at, Op("walk", index=self.n_lists))
            self.gather_widths.add(16)
            self.counts["gather_call"] += 1

    # -- layers >= 1, scatter: the accumulators are complete; consume them
    def _finish_scatter(self, li: int) -> None:
        layer = self.net.layers[li]
        for j in layer.rows:
            self.var_of[(li, j)] = self.var(li, j)
        if li < len(self.net.layers) - 1:
            self._prepare_consumers(li)
            for j in layer.rows:
                self._consume(li, j)

    # -- layers >= 1, xnor: popcounts over the packed words of layer li - 1
    def _xnor_layer(self, li: int) -> None:
        layer = self.net.layers[li]
        last = li == len(self.net.layers) - 1
        if not last:
            self._prepare_words(li)
        # group the previous layer's neurons by word
        by_word: dict[str, list[tuple[int, int, int]]] = {}
        word_info: dict[str, tuple[str, int]] = {}
        for (pl, j), (word, wtype, bit, width) in self.bit_of.items():
            if pl == li - 1:
                by_word.setdefault(word, []).append((j, bit, width))
                word_info[word] = (wtype, width)
        for k, (row, bias) in layer.rows.items():
            var = self.var(li, k)
            terms: list[tuple[str, str, int, int, int, int]] = []
            start = bias
            for word, members in by_word.items():
                wtype, width = word_info[word]
                mags = {j: abs(row.get(j, 0)) for j, _, _ in members}
                top = max(mags.values(), default=0)
                for plane in range(top.bit_length()):
                    mask = flip = 0
                    count = 0
                    for j, bit, _ in members:
                        if (mags[j] >> plane) & 1:
                            mask |= 1 << bit
                            count += 1
                            if row[j] < 0:
                                flip |= 1 << bit
                    if mask:
                        start -= count << plane
                        terms.append((word, wtype, width, flip, mask, plane + 1))
            iv = _Interval(start, start)
            for _word, _wt, _width, _flip, mask, shift in terms:
                iv.add(0, bin(mask).count("1") << shift)
            ctype = iv.ctype
            self.type_of[var] = ctype
            self.emit(Op("let", var=var, ctype=ctype, value=start))
            self.counts["neuron"] += 1
            for word, wtype, width, flip, mask, shift in terms:
                full = (1 << width) - 1
                self.popcount_widths.add(width)
                self.emit(
                    Op("xnor", var=var, ctype=ctype, word=word, word_type=wtype, bits=width,
                       flip=flip, mask=mask if mask != full else 0, shift=shift,
                       value=1 << shift, wide=(width << shift) > I16_MAX)
                )
                self.counts["popcount"] += 1
            self.var_of[(li, k)] = var
            if not last:
                self._consume(li, k)


def build_program(model: Model, strategy: str, profile: CostProfile | None = None,
                  flash_budget: float | None = None) -> Program:
    """The unrolled program of ``model`` for ``unrolled``, ``xnor`` or ``compact``; raises
    CodegenError when its straight-line code would exceed ``MAX_UNROLLED_STATEMENTS``.

    ``compact`` with a ``flash_budget`` (and the ``profile`` whose costs it uses) keeps as
    many first-layer terms in code as the budget allows, where they save the most time
    (``plan_compact``); without one, every term that can be is a table entry."""
    net = simplify(model)
    if strategy == "compact":
        program = _Builder(net, "scatter", code_terms={}).build()
        if flash_budget is not None and profile is not None and program.nodes:
            plan = plan_compact(program, profile, flash_budget)
            if plan:
                program = _Builder(net, "scatter", code_terms=plan).build()
    else:
        program = _Builder(net, "xnor" if strategy == "xnor" else "scatter").build()
    size = sum(program.counts[k] for k in
               ("term", "term_wide", "cond_add", "pack", "popcount", "gather_call"))
    if size > MAX_UNROLLED_STATEMENTS:
        from mipnn.codegen.export import CodegenError

        raise CodegenError(
            f"strategy {strategy!r}: the straight-line code of this model would have {size} "
            f"statements (more than {MAX_UNROLLED_STATEMENTS}: too big for a microcontroller "
            "and slow to compile); use --strategy int8, int16 or auto"
        )
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
            time = sum(p.term + (p.term_mul if abs(c) != 1 else 0) for c in code)
            flash = len(code) * p.term_bytes
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


# ---------------------------------------------------------------- estimates and choice


@dataclass(frozen=True)
class Estimate:
    strategy: str
    time: float  # instructions (cycles on AVR)
    flash: float  # bytes
    fits: bool


def program_cost(prog: Program, p: CostProfile) -> tuple[float, float]:
    """Estimated (time, model flash) of an unrolled program under profile ``p``."""
    c = prog.counts
    elem = 1 if prog.table_type == "uint8_t" else 2
    time = (
        p.fixed
        + c["term"] * p.term
        + c["term_wide"] * p.term_wide
        + c["term_mul"] * p.term_mul
        + c["cond"] * p.cond
        + c["cond_add"] * p.cond_add
        + c["pack"] * p.pack
        + c["popcount"] * p.popcount
        + c["neuron"] * p.neuron
        + c["gather"] * p.gather
        + c["gather_list"] * p.gather_list
        + c["gather_call"] * p.gather_call
    )
    flash = (
        60
        + (c["term"] + c["term_wide"]) * p.term_bytes
        + c["cond"] * p.cond_bytes
        + c["cond_add"] * p.cond_add_bytes
        + c["pack"] * p.pack_bytes
        + c["popcount"] * p.popcount_bytes
        + len(prog.popcount_widths) * p.popcount_fn_bytes
        + c["neuron"] * p.neuron_bytes
        + c["table"] * elem
        + c["gather_list"] * p.gather_list_bytes
        + c["gather_call"] * (p.gather_call_bytes + p.gather_fn_bytes)
    )
    return float(time), float(flash)


def estimate(model: Model, strategy: str, profile: CostProfile,
             program: Program | None = None, flash_budget: float | None = None) -> Estimate:
    """Estimated time and flash of ``strategy`` for ``model`` under ``profile``; ``fits``
    compares the flash with ``flash_budget`` (default: the profile's). ``compact`` is
    planned for ``flash_budget`` (None: all table; see ``build_program``)."""
    p = profile
    budget = p.flash_budget if flash_budget is None else flash_budget
    if strategy in ("int8", "int16"):
        from mipnn.codegen.export import analyse_ranges

        plans = analyse_ranges(model)
        time = p.fixed
        flash = p.loop_code_bytes
        for plan in plans:
            narrow = strategy == "int16" and plan.acc_type == "int16_t"
            per = p.loop_mac if narrow else p.loop_mac_wide
            time += plan.n_in * plan.n_out * per + plan.n_out * p.loop_neuron
            flash += plan.n_in * plan.n_out * p.loop_bytes_per_weight + plan.n_out * 4 + 24
    else:
        prog = program if program is not None else build_program(model, strategy, p,
                                                                 flash_budget)
        time, flash = program_cost(prog, p)
    return Estimate(strategy, float(time), float(flash), flash <= budget)


def choose_strategy(model: Model, profile: CostProfile,
                    flash_budget: float | None = None) -> tuple[str, list[Estimate]]:
    """The strategy ``auto`` uses: the fastest estimate whose model flash fits
    ``flash_budget`` (default: the profile's; the smaller flash on a tie, then the earlier
    strategy); if nothing fits, the smallest. Strategies that refuse the model (too much
    straight-line code) do not fit."""
    from mipnn.codegen.export import CodegenError

    if flash_budget is None:
        flash_budget = profile.flash_budget
    estimates = []
    for s in STRATEGIES:
        try:
            estimates.append(estimate(model, s, profile, flash_budget=flash_budget))
        except CodegenError:
            estimates.append(Estimate(s, float("inf"), float("inf"), False))
    fitting = [e for e in estimates if e.fits]
    if not fitting:
        return min(estimates, key=lambda e: (e.flash, e.time)).strategy, estimates
    best = min(fitting, key=lambda e: (e.time, e.flash))
    return best.strategy, estimates
