"""``NAME_predict_raw`` of the ``unrolled`` and ``xnor`` strategies: the unrolled program
with a first layer that reads raw values (ARCHITECTURE.md 8) instead of ``x``.

A categorical source is one code, so its one-hot inputs are never written nor read: one
``switch`` on the code adds, to each first-layer accumulator, ``L * w`` of the column that
code selects (codes whose additions are equal share a case; an unseen code adds nothing).
Each numeric input the first layer reads is encoded into a local ``x<i>`` (the proven
arithmetic of ``mipnn.codegen.scaling``) and enters through the usual terms, shared along
a tree (``mipnn.codegen.sharing``) of the numeric columns. The order is: numeric inputs,
the tree of numeric terms (every node), the switches, then the signs are consumed as in
``NAME_predict`` (later layers unchanged). Accumulator types hold every prefix of this
order (``mipnn.codegen.ranges.Interval``).

``compact``, ``int8`` and ``int16`` keep their flash small instead: their
``NAME_predict_raw`` is ``NAME_predict`` of ``NAME_encode`` (``templates/raw.c.j2``).
"""

from __future__ import annotations

import numpy as np

from mipnn.codegen.program import Op, Program
from mipnn.codegen.ranges import INT16_MAX, TYPE_RANK, Interval, z_range
from mipnn.codegen.rawinputs import RawPlan
from mipnn.codegen.sharing import emission_order, sharing_tree
from mipnn.codegen.simplify import SimpleNetwork, simplify
from mipnn.codegen.unrolled import UnrolledBuilder
from mipnn.codegen.xnor import XnorBuilder
from mipnn.trainer.model import Model

FUSED = ("unrolled", "xnor")  # the strategies whose predict_raw is its own program


class RawFirstLayer(UnrolledBuilder):
    """The unrolled builder with the raw first layer (see the module docstring); the
    later layers are those of the base class (``UnrolledBuilder`` or, mixed in before it,
    ``XnorBuilder``)."""

    raw: RawPlan

    def first_layer(self) -> None:
        """Numeric inputs, the tree of their terms, one switch per source, then the signs."""
        net, raw = self.net, self.raw
        layer = net.layers[0]
        neurons = list(layer.rows)
        if not neurons:
            return
        L = net.levels
        weights = {j: layer.rows[j][0] for j in neurons}
        numeric = [e.index for e in raw.numeric
                   if any(weights[j].get(e.index, 0) for j in neurons)]
        for i in numeric:
            self.emit(Op("encode", var=f"x{i}", index=i))
            self.counts["encode"] += 1
        # what each source's switch may add to each neuron: the hull of its cases and 0
        cat: dict[int, Interval] = {}
        for j in neurons:
            iv = Interval(0, 0)
            for s in raw.sources:
                adds = [L * weights[j].get(i, 0) for i in s.features]
                iv.add(min(0, *adds), max(0, *adds))
            cat[j] = iv
        self.numeric_tree(neurons, numeric, weights, cat)
        for s in raw.sources:
            self.source_switch(s.column, s.features, s.macro, neurons, weights)
        if len(net.layers) > 1:
            for j in neurons:
                self.consume(0, j)

    def numeric_tree(self, neurons: list[int], numeric: list[int],
                     weights: dict[int, dict[int, int]], cat: dict[int, Interval]) -> None:
        """Every first-layer accumulator: its bias and numeric terms, along the sharing
        tree of the numeric columns; its type also holds what the switches add later."""
        net = self.net
        L = net.levels
        rows = np.array([[weights[j].get(i, 0) for i in numeric] for j in neurons],
                        dtype=np.int64).reshape(len(neurons), len(numeric))
        if numeric:
            tree = sharing_tree(rows)
            parent, base, steiner = tree.parent, tree.base, tree.steiner
        else:
            parent, base, steiner = [-1, -1] + [0] * len(neurons), rows[0] * 0, []
        names = {1: "t0"}
        vectors = {0: np.zeros(len(numeric), dtype=np.int64), 1: base}
        biases = {0: 0, 1: 0}
        for k, row in enumerate(steiner):
            names[2 + len(neurons) + k] = f"t{k + 1}"
            vectors[2 + len(neurons) + k] = row
            biases[2 + len(neurons) + k] = 0
        for r, j in enumerate(neurons):
            names[r + 2] = self.var(0, j)
            vectors[r + 2] = rows[r]
            biases[r + 2] = net.layers[0].rows[j][1]
        ranges = {node: z_range({k: int(w) for k, w in enumerate(vec) if w}, biases[node], 0, L)
                  for node, vec in vectors.items()}
        for node, par in emission_order(parent):
            var = names[node]
            delta_b = biases[node] - biases[par]
            diff = vectors[node] - vectors[par]
            terms = [(numeric[k], int(d)) for k, d in enumerate(diff) if d]
            lo, hi = ranges[par] if par else (0, 0)
            iv = Interval(lo + delta_b, hi + delta_b)
            for _, d in terms:
                iv.add(min(0, d * L), max(0, d * L))
            if 2 <= node < 2 + len(neurons):
                extra = cat[neurons[node - 2]]
                iv.add(extra.min, extra.max)
            ctype = iv.ctype
            self.type_of[var] = ctype
            source = names[par] if par else ""
            narrower = source and TYPE_RANK[self.type_of[source]] < TYPE_RANK[ctype]
            self.emit(Op("let", var=var, ctype=ctype, value=delta_b, source=source,
                         widen=ctype if narrower else ""))
            self.counts["neuron"] += 1
            for i, d in terms:
                self.emit(Op("term", var=var, ctype=ctype, value=d, index=i, source=f"x{i}",
                             wide=abs(d) * L > INT16_MAX))
                self.counts["term"] += 1
            if 2 <= node < 2 + len(neurons):
                self.var_of[(0, neurons[node - 2])] = var

    def source_switch(self, column: int, features: list[int], macro: str,
                      neurons: list[int], weights: dict[int, dict[int, int]]) -> None:
        """One switch on a source's code: per code, ``L * w`` into every accumulator whose
        weight on that code's input is not zero; codes with equal additions share a case."""
        L = self.net.levels
        cases: dict[tuple[tuple[str, str, int], ...], list[int]] = {}
        for code, i in enumerate(features):
            adds = tuple((self.var_of[(0, j)], self.type_of[self.var_of[(0, j)]],
                          L * weights[j][i]) for j in neurons if weights[j].get(i, 0))
            if adds:
                cases.setdefault(adds, []).append(code)
        if not cases:
            return
        self.emit(Op("switch", var=macro, index=column, value=len(features), cases=[(codes, list(adds))
                                                   for adds, codes in cases.items()]))
        self.counts["switch"] += 1
        self.counts["switch_add"] += sum(len(adds) for adds in cases)


class RawUnrolledBuilder(RawFirstLayer):
    """``unrolled`` with the raw first layer."""

    def __init__(self, net: SimpleNetwork, raw: RawPlan) -> None:
        super().__init__(net)
        self.raw = raw


class RawXnorBuilder(RawFirstLayer, XnorBuilder):
    """``xnor`` with the raw first layer."""

    def __init__(self, net: SimpleNetwork, raw: RawPlan) -> None:
        super().__init__(net)
        self.raw = raw


def build_raw_program(model: Model, strategy: str, raw: RawPlan) -> Program:
    """The program of ``NAME_predict_raw`` for ``unrolled`` or ``xnor`` (``FUSED``)."""
    net = simplify(model)
    builder = RawXnorBuilder(net, raw) if strategy == "xnor" else RawUnrolledBuilder(net, raw)
    return builder.build()
