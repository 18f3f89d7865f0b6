"""The ``unrolled`` strategy: straight-line code with the weights in the instructions,
``z += x[i]``, ``z -= x[i]``, ``z += 3 * x[i]``; zero weights produce no code.

The network is first simplified exactly (``mipnn.codegen.simplify``). First-layer neurons
share work: each is computed from the nearest already computed node along the tree of
``mipnn.codegen.sharing``. A sign neuron is consumed as soon as it is known:
``if (z >= 0) { next_k += 2 * w[k][j]; ... }`` into accumulators that start at
``b_k - sum_j w[k][j]`` (since ``w * a = -w + 2 * w * [a = +1]``). In the C, the inputs
x[b..b+31] of the 32-byte window beyond x[31] that holds the most input terms are read
through a second pointer kept in a low register on Thumb (16-bit loads reach only 31 bytes
past a low register).

Every accumulator's type comes from interval arithmetic over every prefix of its sum
(``mipnn.codegen.ranges.Interval``), so no partial sum can overflow. A term whose product
may exceed 16 bits is computed in ``int32_t``. ``UnrolledBuilder`` writes the ``Program``;
``xnor`` and ``compact`` are subclasses that change how later layers, or first-layer terms,
are computed. ``unrolled_context`` gives the template what it needs of a program.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from mipnn.codegen.program import NodeTerms, Op, Program, list_count, list_header, list_heads
from mipnn.codegen.ranges import INT16_MAX, TYPE_RANK, Interval, z_range
from mipnn.codegen.sharing import emission_order, sharing_tree
from mipnn.codegen.simplify import SimpleNetwork
from mipnn.codegen.templating import wrap_values, xref


class UnrolledBuilder:
    """Writes the unrolled program of a simplified network: the first layer along the
    sharing tree, every later layer fed by the signs of the one before (scatter)."""

    def __init__(self, net: SimpleNetwork) -> None:
        self.net = net
        self.table: list[int] = []
        self.table_type = "uint8_t" if net.n_inputs <= 256 else "uint16_t"
        # entries of one list: its count must fit the table's element type, and its sum
        # (at most count * L) 16 bits, so every d[] value is an int_fast16_t
        # (a header holds 8 * ceil(count / 8) + count % 8: see ``list_header``)
        self.input_base = 0  # start of the second input pointer's window (0: none)
        self.list_cap = min(248 if net.n_inputs <= 256 else 65528, INT16_MAX // net.levels)
        self.n_lists = 0
        self.gather_widths: set[int] = set()
        self.node_terms: list[NodeTerms] = []
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

    # -- helpers
    def var(self, li: int, j: int) -> str:
        """The C variable of neuron ``j`` of layer ``li`` (``s<j>`` for a class score)."""
        last = li == len(self.net.layers) - 1
        return f"s{j}" if last else f"z{li}_{j}"

    def near(self, index: int) -> bool:
        """Whether the unrolled code reads input ``index`` with a short (16-bit) load on
        Thumb: x[0..31], or the window of the second pointer."""
        return index < 32 or (self.input_base > 0
                              and self.input_base <= index < self.input_base + 32)

    def emit(self, op: Op) -> None:
        """Append one statement."""
        self.ops.append(op)

    def build(self) -> Program:
        """The whole program (call once)."""
        net = self.net
        layers = net.layers
        for li, layer in enumerate(layers):
            lo, hi = (0, net.levels) if li == 0 else (-1, 1)
            for j, (row, bias) in layer.rows.items():
                self.zrange[(li, j)] = z_range(row, bias, lo, hi)
        self.describe()
        if len(layers) > 1:
            self.prepare_consumers(0)
        self.first_layer()
        for li in range(1, len(layers)):
            self.later_layer(li)
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

    def describe(self) -> None:
        """A note per hidden layer on what ``simplify`` removed."""
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
    def prepare_consumers(self, li: int) -> None:
        """Declare what the signs of hidden layer ``li`` feed: here the accumulators of
        layer ``li + 1``, started at ``b_k - sum_j w[k][j]``."""
        nxt = self.net.layers[li + 1]
        acc: dict[str, Interval] = {}
        for k, (row, bias) in nxt.rows.items():
            start = bias - sum(row.values())
            iv = Interval(start, start)
            for w in row.values():
                iv.add(min(0, 2 * w), max(0, 2 * w))
            acc[self.var(li + 1, k)] = iv
        for k, (row, bias) in nxt.rows.items():
            var = self.var(li + 1, k)
            start = bias - sum(row.values())
            ctype = acc[var].ctype
            self.type_of[var] = ctype
            self.emit(Op("let", var=var, ctype=ctype, value=start))
            self.counts["neuron"] += 1

    def consume(self, li: int, j: int) -> None:
        """Emit what the sign of neuron j of hidden layer li feeds: a conditional
        ``+ 2 * w`` into every accumulator of the next layer that reads it."""
        var = self.var_of[(li, j)]
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

    def later_layer(self, li: int) -> None:
        """Layer ``li >= 1``: its accumulators are complete; consume them."""
        layer = self.net.layers[li]
        for j in layer.rows:
            self.var_of[(li, j)] = self.var(li, j)
        if li < len(self.net.layers) - 1:
            self.prepare_consumers(li)
            for j in layer.rows:
                self.consume(li, j)

    def split_terms(self, node: int, terms: list[tuple[int, int]]
                    ) -> tuple[list[tuple[int, int]], list[int], list[int]]:
        """A node's input terms (index, coefficient) as (code terms, indices to add from
        the table, indices to subtract): all code here; ``compact`` moves terms to data."""
        return terms, [], []

    # -- layer 0: input terms along the sharing tree
    def first_layer(self) -> None:
        """The first layer's nodes in ``emission_order`` of the sharing tree."""
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
        tree = sharing_tree(rows)
        parent, base = tree.parent, tree.base
        self.notes.append(
            f"layer 0: {int((rows != 0).sum())} nonzero weights, {tree.cost} input terms "
            "after sharing" + (" (with a shared partial sum)" if tree.used_base else "")
        )
        L = net.levels
        zr: dict[int, tuple[int, int]] = {0: (0, 0)}
        if tree.used_base:
            zr[1] = z_range({i: int(base[i]) for i in inputs if base[i]}, 0, 0, L)
        for r, j in enumerate(neurons):
            zr[r + 2] = self.zrange[(0, j)]
        names = {1: "t0"}
        biases = {0: 0, 1: 0}
        vectors = {0: np.zeros(net.n_inputs, dtype=np.int64), 1: base}
        for s_i, row in enumerate(tree.steiner):
            node = 2 + len(neurons) + s_i
            names[node] = f"t{s_i + 1}"
            biases[node] = 0
            vectors[node] = row
            zr[node] = z_range({i: int(row[i]) for i in inputs if row[i]}, 0, 0, L)
        for r, j in enumerate(neurons):
            names[r + 2] = self.var(0, j)
            biases[r + 2] = layer.rows[j][1]
            vectors[r + 2] = rows[r]

        def emit_node(node: int, par: int) -> None:
            """Emit ``node``, computed from its tree parent ``par``, and consume it."""
            var = names[node]
            delta_b = biases[node] - biases[par]
            diff = vectors[node] - vectors[par]
            terms = [(i, int(diff[i])) for i in inputs if diff[i] != 0]
            terms, plus, minus = self.split_terms(node, terms)
            lo, hi = zr[par] if par != 0 else (0, 0)
            iv = Interval(lo + delta_b, hi + delta_b)
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
                wide = abs(d) * L > INT16_MAX
                self.emit(Op("term", var=var, ctype=ctype, value=d, index=i, wide=wide))
                self.counts["term_wide" if ctype != "int_fast16_t" else "term"] += 1
                if abs(d) != 1:
                    self.counts["term_mul"] += 1
                if abs(d) > 2:
                    self.counts["term_big"] += 1
            if 2 <= node < 2 + len(neurons):
                j = neurons[node - 2]
                self.var_of[(0, j)] = var
                if not last:
                    self.consume(0, j)

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
        at = len(self.ops)
        for node, par in emission_order(parent):
            emit_node(node, par)
        if self.n_lists:
            # compact: one call sums every list of the table into d[] before the nodes
            self.ops.insert(at, Op("walk", index=self.n_lists))
            self.gather_widths.add(16)
            self.counts["gather_call"] += 1


def unrolled_context(program: Program) -> dict[str, object]:
    """What ``model_unrolled.c.j2`` needs of ``program`` beyond the model's own facts."""
    top = "int_fast16_t"
    if any(ctype != "int_fast16_t" for _, ctype in program.scores):
        top = "int32_t"
    return dict(
        ops=program.ops,
        scores=program.scores,
        popcount_widths=program.popcount_widths,
        top_type=top,
        gather_widths=program.gather_widths,
        table_type=program.table_type,
        table_size=len(program.table),
        n_lists=program.n_lists,
        input_base=program.input_base if any(
            op.kind == "term" and xref(op.index, program.input_base).startswith("xv1")
            for op in program.ops) else 0,
        list_count_type="uint_fast16_t" if program.n_lists <= 0xFFFF else "uint_fast32_t",
        list_cap=max((list_count(program.table[k]) for k in list_heads(program.table)),
                     default=0),
        table_lines=wrap_values(program.table, "    "),
    )
