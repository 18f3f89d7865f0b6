"""The fused ``NAME_predict_raw`` of ``unrolled`` and ``xnor`` (codegen/rawprogram.py): run
in Python with every value checked against its declared C type (16-bit ``int_fast16_t`` as
on AVR), it equals ``forward`` of the reference raw encoding; a categorical source is one
switch and no one-hot input is read."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_models import interpret
from helpers_raw import adult_version_2, edge_rows, raw_model, raw_specs
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnn.codegen.export import render
from mipnn.codegen.rawinputs import raw_plan
from mipnn.codegen.rawprogram import FUSED, build_raw_program
from mipnn.trainer.encoding import encode_raw
from mipnn.trainer.model import forward
from mipnn.trainer.raw import INT32_MAX, INT32_MIN


def check_program(model, strategy: str, rows: np.ndarray) -> None:
    plan = raw_plan(model, model.name)
    program = build_raw_program(model, strategy, plan)
    X = encode_raw(model.features, model.levels, rows)
    got = interpret(model, strategy, X, program=program, raw=rows)
    want, _ = forward(model, X)
    np.testing.assert_array_equal(got, np.atleast_2d(want))


@settings(max_examples=80, deadline=None)
@given(spec=raw_specs(), levels=st.integers(1, 255), seed=st.integers(0, 2**31),
       hidden=st.sampled_from([[], [3], [6], [4, 2]]), strategy=st.sampled_from(FUSED),
       w_max=st.sampled_from([1, 3, 127]))
def test_fused_program_equals_forward(spec, levels, seed, hidden, strategy, w_max):
    model = raw_model(seed, spec, hidden, levels=levels, w_max=w_max)
    check_program(model, strategy, edge_rows(model.features, n_random=10, seed=seed))


adult_v2 = adult_version_2


@pytest.mark.parametrize("strategy", FUSED)
def test_adult_fused_program(strategy):
    model = adult_v2()
    rows = edge_rows(model.features, n_random=200)
    check_program(model, strategy, rows)
    program = build_raw_program(model, strategy, raw_plan(model, "adult"))
    kinds = [op.kind for op in program.ops]
    assert kinds.count("switch") == 8  # one per categorical source
    assert kinds.count("encode") <= 6
    # only the numeric inputs are read, from locals
    onehot = {i for i, f in enumerate(model.features) if f["kind"] == "onehot"}
    assert all(op.index not in onehot and op.source for op in program.ops if op.kind == "term")
    source = render(model, strategy=strategy)["adult.c"]
    body = source[source.index("int adult_predict_raw("):]
    assert "adult_encode(" not in body and "xv[" not in body


def test_unseen_codes_add_nothing():
    model = adult_v2()
    rows = edge_rows(model.features, n_random=0)
    rows[:, 1] = -1  # workclass unseen
    rows[:, 13] = INT32_MAX  # native-country unseen
    for strategy in FUSED:
        check_program(model, strategy, rows)
    assert rows[:, 0].min() == INT32_MIN
