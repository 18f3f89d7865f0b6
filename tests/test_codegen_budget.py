"""The flash budget in bytes translated into the trainer's budget (codegen/budget.py): the
largest K whose stand-in fits by the cost model, L on 16-bit cores, a clear error when not
even one weight fits, and the cost model's verdict on a trained model."""

from __future__ import annotations

import numpy as np
import pytest

from mipnn.codegen.budget import choose_levels, model_cost, stand_in, translate_budget
from mipnn.codegen.cost import get_profile
from mipnn.codegen.errors import CodegenError
from mipnn.codegen.strategy import estimate


def test_the_largest_k_that_fits():
    b = translate_budget(512, "cortex-m3", n_inputs=111, hidden=(), n_classes=2, bound=127)
    assert 30 <= b.max_nonzeros < 111 and b.flash <= 512 and b.levels == 255
    assert b.strategy in ("unrolled", "xnor", "compact") and b.max_neurons is None
    bigger = translate_budget(1024, "cortex-m3", n_inputs=111, hidden=(), n_classes=2,
                              bound=127)
    assert bigger.max_nonzeros > b.max_nonzeros
    over = stand_in(111, (), 2, b.max_nonzeros + 1, 8, 255)
    prof = get_profile("cortex-m3")
    assert min(estimate(over, s, prof).flash for s in ("unrolled", "xnor", "compact")) > 512
    hidden = translate_budget(1024, "cortex-m3", n_inputs=64, hidden=(8,), n_classes=10,
                              bound=15, max_neurons=4)
    assert hidden.max_neurons == 4 and hidden.max_nonzeros >= 1


def test_levels_keep_avr_sums_in_16_bits():
    b = translate_budget(1024, "avr", n_inputs=111, hidden=(), n_classes=2, bound=127)
    assert b.levels in (63, 127) and 8 * b.max_nonzeros * b.levels <= 32767
    fixed = translate_budget(1024, "avr", n_inputs=111, hidden=(), n_classes=2, bound=127,
                             choose_l=False)
    assert fixed.levels == 255
    assert choose_levels("cortex-m3", 100, 8, 255) == 255
    assert choose_levels("avr", 64, 8, 255) == 63 and choose_levels("avr", 10, 8, 200) == 127


def test_a_budget_too_small_is_a_clear_error():
    with pytest.raises(CodegenError, match="even one weight"):
        translate_budget(20, "cortex-m3", n_inputs=30, hidden=(), n_classes=2, bound=3)
    with pytest.raises(CodegenError, match="positive"):
        translate_budget(0, "cortex-m3", n_inputs=30, hidden=(), n_classes=2, bound=3)


def test_stand_in_and_model_cost():
    m = stand_in(20, (), 3, 12, 8, 63)
    W = m.layers[0].weights
    assert np.count_nonzero(W) == 12 and m.levels == 63
    assert len({tuple(r) for r in W}) == 3  # rows differ (no sharing between them)
    strategy, flash, time = model_cost(m, "cortex-m3", 4096)
    assert strategy in ("unrolled", "xnor", "compact", "int8", "int16") and flash > 0 < time
