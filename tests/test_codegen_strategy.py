"""The strategies and the choice between them (codegen/strategy.py): every unrolled program
computes ``forward`` exactly and never overflows a declared type (interpreted in Python, on
random and edge-case models); too much straight-line code is refused and ``auto`` falls
back; bad strategies and flash budgets are clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_models import (
    FIXED_MODELS,
    adversarial_models,
    extreme_vectors,
    interpret,
    linear_model,
    random_models,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnn.codegen.cost import PROFILES
from mipnn.codegen.errors import CodegenError
from mipnn.codegen.export import render
from mipnn.codegen.strategy import MAX_UNROLLED_STATEMENTS, choose_strategy
from mipnn.device import golden_vectors
from mipnn.trainer.model import Layer, Model, forward, save_model


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=random_models(max_inputs=60, max_hidden=20), seed=st.integers(0, 2**16))
def test_unrolled_programs_compute_forward_and_never_overflow(model, seed):
    X = golden_vectors(model, n_random=24, seed=seed).astype(np.int64)
    want, _ = forward(model, X)
    for strategy in ("unrolled", "xnor", "compact"):
        assert np.array_equal(interpret(model, strategy, X), want), strategy
    # compact planned for a budget: some nodes code, some table
    budget = 200 + 3 * int((model.layers[0].weights != 0).sum())
    assert np.array_equal(interpret(model, "compact", X, budget), want), budget


@pytest.mark.parametrize("key", sorted(FIXED_MODELS))
def test_unrolled_programs_on_edge_case_models(key):
    model = FIXED_MODELS[key]()
    X = golden_vectors(model, n_random=64).astype(np.int64)
    want, _ = forward(model, X)
    for strategy in ("unrolled", "xnor", "compact"):
        assert np.array_equal(interpret(model, strategy, X), want), strategy


def test_flash_budget_must_be_positive(tmp_path):
    with pytest.raises(CodegenError, match="positive"):
        render(linear_model(), strategy="auto", flash_budget=0)
    from click.testing import CliRunner

    from mipnn.cli import main

    path = save_model(linear_model(), tmp_path / "lin.json")
    result = CliRunner().invoke(main, ["export", str(path), "--out", str(tmp_path / "c"),
                                       "--flash-budget", "-5"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "mipnn: error: --flash-budget -5: give a positive number of bytes"]
    result = CliRunner().invoke(main, ["export", str(path), "--out", str(tmp_path / "c"),
                                       "--target", "cortex-m3", "--flash-budget", "300"])
    assert result.exit_code == 0, result.output


def test_too_much_straight_line_code_is_refused_and_auto_falls_back():
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 127, size=(64, 200), endpoint=True)
    model = Model(name="big", classes=["a", "b"], input_size=200, levels=255,
                  layers=[Layer(w, np.zeros(64, dtype=np.int64), "sign"),
                          Layer(np.ones((2, 64), dtype=np.int64), np.zeros(2, np.int64),
                                "linear")])
    with pytest.raises(CodegenError, match=f"more than {MAX_UNROLLED_STATEMENTS}"):
        render(model, strategy="unrolled")
    chosen, estimates = choose_strategy(model, PROFILES["cortex-m3"])
    assert chosen in ("int8", "int16")
    assert [e.fits for e in estimates if e.strategy in ("unrolled", "xnor")] == [False, False]


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(CodegenError, match="unknown strategy 'fast'.*int8"):
        render(linear_model(), strategy="fast")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=adversarial_models(max_inputs=24, max_hidden=10), seed=st.integers(0, 2**16))
def test_adversarial_models_never_overflow_a_16_bit_int(model, seed):
    """Issue 21: weights and biases at the edges of every intermediate's range (conftest's
    adversarial_network). Every intermediate sum of every program, built for the AVR and
    a 32-bit profile, fits its C type at AVR's 16-bit ``int``, and the scores are exact."""
    X = golden_vectors(model, extreme_vectors(model), n_random=16, seed=seed).astype(np.int64)
    want, _ = forward(model, X)
    budget = 200 + 3 * int((model.layers[0].weights != 0).sum())
    for profile in ("avr", "cortex-m3"):
        for strategy, flash in (("unrolled", None), ("xnor", None), ("compact", None),
                                ("compact", budget)):
            got = interpret(model, strategy, X, flash, profile=profile)
            assert np.array_equal(got, want), (profile, strategy, flash)
