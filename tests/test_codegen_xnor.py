"""The ``xnor`` strategy (codegen/xnor.py): the signs after the first layer are packed into
bit words and the later layers are popcounts, one per word and bit plane of ``|w|``."""

from __future__ import annotations

import numpy as np
from helpers_models import deep_model, interpret

from mipnn.codegen.simplify import simplify
from mipnn.codegen.strategy import build_program
from mipnn.device import golden_vectors
from mipnn.trainer.model import forward


def test_later_layers_are_popcounts_over_packed_signs():
    model = deep_model()  # hidden layers of 9, 7, 5 neurons; weights up to 127: 7 planes
    program = build_program(model, "xnor")
    kinds = {op.kind for op in program.ops}
    assert {"pack", "xnor"} <= kinds and "cond" not in kinds
    assert program.popcount_widths == [8, 16]  # the 9 signs of layer 0 take 16 bits
    assert max(op.shift for op in program.ops if op.kind == "xnor") == 7
    hidden = simplify(model).layers[:-1]
    assert program.counts["pack"] == sum(len(layer.rows) for layer in hidden)  # one per sign
    assert program.words == [("h1_0", "uint16_t"), ("h2_0", "uint8_t"), ("h3_0", "uint8_t")]
    X = golden_vectors(model, n_random=64).astype(np.int64)
    assert np.array_equal(interpret(model, "xnor", X), forward(model, X)[0])
