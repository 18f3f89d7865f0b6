"""Range analysis (codegen/ranges.py): accumulator and bias types, the int32 limits of the
class scores, weights out of int8 range; the prefix intervals of the unrolled programs."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_models import make_model

from mipnn.codegen.errors import CodegenError
from mipnn.codegen.export import render
from mipnn.codegen.ranges import INT32_MAX, Interval, analyse_ranges, c_type
from mipnn.trainer.model import Layer, Model


def test_output_scores_must_fit_int32():
    model = make_model([4, 3, 2], w_max=5)
    out = model.layers[-1]
    weights = np.abs(out.weights) + 1  # all positive
    bias = np.array([2**31 - 1, 0])
    model.layers[-1] = Layer(weights, bias, "linear")
    with pytest.raises(CodegenError) as info:
        render(model)
    message = str(info.value)
    assert "layer 1" in message and "neuron 0" in message and "class0" in message
    assert f"{2**31 - 1 + int(weights[0].sum())}" in message and "int32_t" in message


def test_output_scores_below_int32_min_are_refused():
    model = make_model([4, 2], levels=255, w_max=5)
    weights = -np.ones((2, 4), dtype=np.int64)
    model.layers = [Layer(weights, np.array([0, -(2**31 - 1)]), "linear")]
    with pytest.raises(CodegenError, match=r"neuron 1 .*\[-2147484667, -2147483647\]"):
        render(model)


def test_scores_exactly_at_int32_limits_are_accepted():
    model = make_model([4, 3, 2], w_max=5)
    out = model.layers[-1]
    s = np.abs(out.weights).sum(axis=1)
    bias = np.array([INT32_MAX - int(s[0]), -INT32_MAX - 1 + int(s[1])])
    model.layers[-1] = Layer(out.weights, bias, "linear")
    plans = analyse_ranges(model)
    assert plans[-1].z_max[0] == INT32_MAX
    assert plans[-1].z_min[1] == -(2**31)
    assert plans[-1].acc_type == "int64_t"  # |b| + sum|w| exceeds int32 for the partial sums
    render(model)


def _single_layer(weights: list[list[int]], bias: list[int], levels: int) -> Model:
    return Model(
        name="one",
        classes=[str(k) for k in range(len(weights))],
        input_size=len(weights[0]),
        levels=levels,
        layers=[Layer(np.array(weights), np.array(bias), "linear")],
    )


@pytest.mark.parametrize(
    ("weights", "bias", "levels", "acc", "bias_type"),
    [
        # 127*255 = 32385; + 382 = 32767: still int16
        ([[127], [0]], [382, 0], 255, "int16_t", "int16_t"),
        ([[127], [0]], [383, 0], 255, "int32_t", "int16_t"),
        ([[-127], [0]], [-382, 0], 255, "int16_t", "int16_t"),
        ([[1], [1]], [127, -128], 1, "int16_t", "int8_t"),
        ([[1], [1]], [128, 0], 1, "int16_t", "int16_t"),
        ([[1], [1]], [32768, 0], 1, "int32_t", "int32_t"),
        ([[1], [0]], [2**31 - 2, 0], 1, "int32_t", "int32_t"),
        ([[1], [0]], [-(2**31 - 1), 0], 1, "int64_t", "int32_t"),
    ],
)
def test_accumulator_and_bias_types(weights, bias, levels, acc, bias_type):
    plan = analyse_ranges(_single_layer(weights, bias, levels))[0]
    assert (plan.acc_type, plan.bias_type) == (acc, bias_type)


def test_hidden_layers_use_sign_inputs_for_the_bound():
    model = make_model([10, 4, 2], levels=200, w_max=127, b_max=0)
    plans = analyse_ranges(model)
    assert plans[0].input_max_abs == 200 and plans[1].input_max_abs == 1
    w1 = np.abs(model.layers[1].weights).sum(axis=1)
    assert plans[1].acc_bound == int(w1.max())
    assert plans[1].z_max == tuple(int(v) for v in w1)


def test_in_memory_model_with_out_of_range_weights_is_refused():
    model = make_model([3, 2])
    model.layers[0] = Layer(np.full((2, 3), 200), np.zeros(2, dtype=np.int64), "linear")
    with pytest.raises(CodegenError, match=r"\[-127, 127\]"):
        render(model)


def test_unrolled_accumulators_take_the_narrowest_type_of_every_prefix():
    assert c_type(-(2**15), 2**15 - 1) == "int_fast16_t"
    assert c_type(0, 2**15) == "int32_t"
    assert c_type(-(2**31), 0) == "int32_t"
    assert c_type(-(2**31) - 1, 0) == "int64_t"
    with pytest.raises(CodegenError, match="more than 64 bits"):
        c_type(0, 2**63)
    # the sum ends in 16 bits, but a prefix on the way does not: the type holds every prefix
    iv = Interval(30000, 30000)
    iv.add(0, 5000)
    iv.add(-10000, -10000)
    assert (iv.lo, iv.hi) == (20000, 25000)
    assert (iv.min, iv.max) == (0, 35000) and iv.ctype == "int32_t"
