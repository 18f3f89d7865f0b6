"""The proven arithmetic of a numeric raw input (codegen/scaling.py): every plan equals
section 8's formula, by brute force over every t for small spans and at every step (and
random points) for spans up to 2**32 - 1; the proof refuses wrong constants."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mipnn.codegen.errors import CodegenError
from mipnn.codegen.scaling import (
    U32,
    check_points,
    level,
    plan_scaler,
    prove,
    scaler_value,
    table_value,
)


def test_level_is_the_contract_formula():
    assert level(0, 73, 255) == 0
    assert level(73, 73, 255) == 255
    assert level(5, 0, 255) == 0
    # a tie rounds up: t = d / (2L) gives floor(1) = 1
    assert level(1, 2, 1) == 1 and level(0, 2, 1) == 0


@pytest.mark.parametrize("levels", [1, 2, 3, 7, 100, 254, 255])
def test_brute_force_every_t_for_small_spans(levels):
    for d in [*range(0, 130), 255, 256, 257, 510, 511, 1000, 4095, 4096, 4097]:
        sc = plan_scaler(d, levels)
        for t in range(d + 1):
            assert scaler_value(sc, t) == level(t, d, levels), (d, levels, t, sc)
            assert table_value(sc, t) == level(t, d, levels), (d, levels, t, sc)


@settings(max_examples=60, deadline=None)
@given(d=st.one_of(st.integers(1, U32), st.integers(2**30 - 5, 2**30 + 5),
                   st.integers(U32 - 5, U32), st.integers(1, 2**17)),
       levels=st.integers(1, 255), data=st.data())
def test_every_step_and_random_points_for_large_spans(d, levels, data):
    sc = plan_scaler(d, levels)
    prove(sc)
    points = set(check_points(d, levels))
    points |= set(data.draw(st.lists(st.integers(0, d), min_size=20, max_size=20)))
    for t in points:
        assert scaler_value(sc, t) == level(t, d, levels)
        assert table_value(sc, t) == level(t, d, levels)
    # the products fit the arithmetic the C uses
    assert (d >> sc.shift_in) * sc.mul + sc.add <= U32
    if sc.kind == "fix32":
        assert 4 * d <= 2**32


def test_kinds_by_span():
    assert plan_scaler(0, 255).kind == "zero"
    assert plan_scaler(73, 255).kind == "mul" and plan_scaler(73, 255).arith == "u16"
    fnlwgt = plan_scaler(1472420, 255)  # Adult: an estimate on t >> 8, 16-bit arithmetic
    assert (fnlwgt.kind, fnlwgt.shift_in, fnlwgt.arith) == ("fix32", 8, "u16x16")
    assert len(fnlwgt.steps) == 255  # the AVR threshold table
    assert plan_scaler(2**29, 255).steps == ()  # steps wider than 2**15
    assert plan_scaler(2**31, 255).kind == "fix64"
    assert plan_scaler(U32, 255).kind == "fix64"


def test_the_proof_refuses_wrong_constants():
    sc = plan_scaler(1000, 255)
    for wrong in (dataclasses.replace(sc, mul=sc.mul + 1), dataclasses.replace(sc, add=0),
                  dataclasses.replace(sc, mul=sc.mul * 2**16)):
        if wrong == sc:
            continue
        with pytest.raises(CodegenError):
            prove(wrong)
    est = plan_scaler(1472420, 255)
    with pytest.raises(CodegenError, match="32 bits"):
        prove(dataclasses.replace(est, kind="fix32", d=2**31, mul=1, add=0, arith="u32", steps=()))
    wrong_step = list(est.steps)
    wrong_step[7] += 1
    with pytest.raises(CodegenError, match="wrong"):
        prove(dataclasses.replace(est, steps=tuple(wrong_step)))


def test_refuses_spans_outside_uint32():
    with pytest.raises(CodegenError):
        plan_scaler(2**32, 255)
    with pytest.raises(CodegenError):
        plan_scaler(10, 0)


def test_describe_says_what_is_computed():
    assert "x = 0" in plan_scaler(0, 255).describe()
    assert "16-bit" in plan_scaler(73, 255).describe()
    assert "q + (510 t + 1472420" in plan_scaler(1472420, 255).describe()
