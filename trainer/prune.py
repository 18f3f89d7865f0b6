"""Function-preserving simplification of a trained network: hidden neurons that cannot
change any output are removed (not zeroed), so the generated C gets smaller.

* a hidden neuron whose outgoing weights are all zero contributes nothing: removed;
* a hidden neuron whose incoming weights are all zero outputs the constant ``sign(b)``:
  its contribution ``W_next[:, j] * sign(b)`` is folded into the next layer's bias and it
  is removed.

Both are exact: ``forward`` gives identical scores before and after. Neurons switched off
by the MIP's neuron-count optimisation have all weights zero and go by the first rule.
A hidden layer keeps at least one neuron (a model file cannot have an empty layer).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from mipnn.trainer.model import Layer, Model


def simplify(model: Model) -> tuple[Model, dict[str, Any]]:
    """Return an equivalent model without dead or constant hidden neurons, and a report
    ``{"hidden_before", "hidden_after", "removed"}``."""
    layers = [Layer(lay.weights.copy(), lay.bias.copy(), lay.activation) for lay in model.layers]
    before = [lay.n_out for lay in layers[:-1]]
    changed = True
    while changed:
        changed = False
        for li in range(len(layers) - 1):
            cur, nxt = layers[li], layers[li + 1]
            dead = ~nxt.weights.any(axis=0)
            constant = ~cur.weights.any(axis=1) & ~dead
            if constant.any():
                signs = np.where(cur.bias[constant] >= 0, 1, -1)
                nxt = Layer(nxt.weights, nxt.bias + nxt.weights[:, constant] @ signs,
                            nxt.activation)
                nxt.weights[:, constant] = 0
            drop = dead | constant
            if drop.all():  # keep one neuron: zero weights, no effect on the next layer
                drop[0] = False
                cur.weights[0] = 0
                cur.bias[0] = 0
                nxt.weights[:, 0] = 0
            if drop.any():
                keep = ~drop
                layers[li] = Layer(cur.weights[keep], cur.bias[keep], cur.activation)
                layers[li + 1] = Layer(nxt.weights[:, keep], nxt.bias, nxt.activation)
                changed = True
            else:
                layers[li + 1] = nxt
    after = [lay.n_out for lay in layers[:-1]]
    report = {
        "hidden_before": before,
        "hidden_after": after,
        "removed": [b - a for b, a in zip(before, after, strict=True)],
    }
    return replace(model, layers=layers), report


def silence_dead_neurons(
    network: list[tuple[np.ndarray, np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Zero the incoming weights and bias of every hidden neuron whose outgoing weights are
    all zero (weights, biases per layer; the shapes stay). Exact: such a neuron cannot
    change any output. With the neuron-count optimisation a neuron is charged ALPHA while
    any of its parameters is non-zero, so a gradient network's dead neurons would make its
    warm start pay for neurons that do nothing; silenced, they are switched off."""
    net = [(np.array(W, dtype=np.int64), np.array(b, dtype=np.int64)) for W, b in network]
    for li in reversed(range(len(net) - 1)):  # last first: silencing can kill earlier ones
        W, b = net[li]
        dead = ~net[li + 1][0].any(axis=0)
        W[dead] = 0
        b[dead] = 0
    return net
