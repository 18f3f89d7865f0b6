"""The ``compact`` strategy (codegen/compact.py): first-layer terms as table lists, the
planner trading flash for time under a budget, 16-bit indices beyond 256 inputs."""

from __future__ import annotations

import numpy as np
from conftest import REALISTIC
from helpers_models import interpret

from mipnn.codegen.cost import PROFILES
from mipnn.codegen.export import render
from mipnn.codegen.strategy import build_program, choose_strategy, estimate
from mipnn.device import golden_vectors
from mipnn.trainer.model import Layer, Model, forward, load_model


def test_compact_tables_terms_and_the_planner_trades_flash_for_time():
    model = load_model(REALISTIC)
    X = golden_vectors(model, n_random=32, seed=2).astype(np.int64)
    want, _ = forward(model, X)
    m3 = PROFILES["cortex-m3"]
    unrolled = build_program(model, "unrolled")
    table = build_program(model, "compact")  # no budget: every +/-1, +/-2 term is data
    assert table.counts["term"] + table.counts["term_wide"] == 0
    assert table.counts["gather_call"] == 1  # one call of the helper for every list
    assert len(table.table) == table.n_lists + table.counts["gather"]
    times, flashes = [], []
    for budget in (600, 1024, 1400, 2000, 32768):
        e = estimate(model, "compact", m3, flash_budget=budget)
        if budget >= 800:
            assert e.fits and e.flash <= budget
        times.append(e.time)
        flashes.append(e.flash)
        assert np.array_equal(interpret(model, "compact", X, budget), want), budget
    assert times == sorted(times, reverse=True) and flashes == sorted(flashes)
    # With room for everything, compact is the unrolled program.
    assert build_program(model, "compact", m3, 32768).counts == unrolled.counts
    # auto: the fastest that fits; a 1 KB budget on the Cortex-M3 profile gives compact.
    assert choose_strategy(model, m3, 1024)[0] == "compact"
    assert choose_strategy(model, m3)[0] == "unrolled"


def test_compact_with_more_than_256_inputs_uses_16_bit_indices():
    rng = np.random.default_rng(1)
    w = (rng.random((6, 300)) < 0.8).astype(np.int64)  # ~240 +1 terms in the first node
    model = Model(name="wide", classes=["a", "b"], input_size=300, levels=255,
                  layers=[Layer(w, -128 * w.sum(axis=1), "sign"),
                          Layer(np.array([[1, 2, 3, -1, -2, -3], [1, 1, 1, 1, 1, 1]]),
                                np.zeros(2, np.int64), "linear")])
    program = build_program(model, "compact")
    assert program.table_type == "uint16_t" and max(program.table) > 255
    # 240 * 255 > 32767: a node's +1 terms are split into lists of at most 128 entries,
    # so that every list's sum stays 16 bits
    assert program.list_cap == 128 and program.n_lists > len(program.nodes)
    X = golden_vectors(model, n_random=16).astype(np.int64)
    assert np.array_equal(interpret(model, "compact", X), forward(model, X)[0])
    assert "const uint16_t wide_terms[" in render(model, strategy="compact")["wide.c"]
