"""Exact simplification (codegen/simplify.py): constant, duplicate and unused neurons."""

from __future__ import annotations

import numpy as np
from helpers_models import interpret

from mipnn.codegen.simplify import simplify
from mipnn.device import golden_vectors
from mipnn.trainer.model import Layer, Model, forward


def test_simplify_folds_constant_duplicate_and_unused_neurons():
    w0 = np.array([[1, 1, 0], [1, 1, 0], [-1, -1, 0], [0, 1, -1], [1, 0, 1]])
    b0 = np.array([-3, -3, -1, 0, 5])  # neuron 2 is always -1, neuron 1 duplicates 0
    w1 = np.array([[1, 2, 3, 0, 4], [1, -1, 1, 0, 1]])  # neuron 3 is read by nobody
    model = Model(name="s", classes=["a", "b"], input_size=3, levels=4,
                  layers=[Layer(w0, b0, "sign"), Layer(w1, np.array([0, 0]), "linear")])
    net = simplify(model)
    hidden, out = net.layers
    assert hidden.constants == {2: -1, 4: 1}  # z4 = 5 + x0 + x2 >= 5
    assert hidden.aliases == {1: 0} and hidden.dead == [3]
    assert list(hidden.rows) == [0]
    # The duplicate's outgoing weights go to its twin; the constants' into the biases:
    # b = 0 - (3, 1) * 1 + (4, 1) = (1, 0).
    assert out.rows == {0: ({0: 3}, 1), 1: ({}, 0)}
    X = golden_vectors(model, n_random=32).astype(np.int64)
    for strategy in ("unrolled", "xnor"):
        assert np.array_equal(interpret(model, strategy, X), forward(model, X)[0])
