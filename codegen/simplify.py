"""Exact simplification of a model for the unrolled strategies: an equivalent network
whose scores are the same for every input in range. Hidden neurons that range analysis
proves constant (``z >= 0`` or ``z < 0`` over the whole input box) are folded into the next
layer's bias, neurons no later layer reads are dropped, and identical neurons (same bias
and weights) are computed once, their outgoing weights added to their twin's. The output
layer is never reduced."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mipnn.codegen.ranges import z_range
from mipnn.trainer.model import Model


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
    """The simplified network: the input levels ``L``, the number of inputs, its layers."""

    levels: int
    n_inputs: int
    layers: list[SimpleLayer]


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
                zl, zh = z_range(row, int(B[li][j]), lo, hi)
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

