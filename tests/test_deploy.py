"""Deployment (issue 5): the code-generation strategies compute ``forward`` exactly (the
unrolled programs, run in Python with every value checked against its C type), for random
models (hypothesis: several shapes, weights up to +/-127, huge biases, ties) and for trained
ones; the cost model chooses sensibly. The same strategies built and run on every target:
tests/test_device_driver.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ADULT, FIXED_MODELS, REALISTIC, linear_model, random_models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mipnn.codegen.export import CodegenError, generate, render
from mipnn.codegen.strategy import (
    MAX_UNROLLED_STATEMENTS,
    PROFILES,
    STRATEGIES,
    build_program,
    choose_strategy,
    estimate,
    list_count,
    list_header,
    simplify,
)
from mipnn.trainer.model import Layer, Model, forward, load_model, save_model

from mipnn.device import golden_vectors

# ---------------------------------------------------------------- the program, in Python

RANGES = {
    "int_fast16_t": (-(2**15), 2**15 - 1),  # the narrowest it can be (AVR)
    "int32_t": (-(2**31), 2**31 - 1),
    "int64_t": (-(2**63), 2**63 - 1),
    "uint8_t": (0, 2**8 - 1),
    "uint16_t": (0, 2**16 - 1),
    "uint32_t": (0, 2**32 - 1),
}


WIDTH_RANK = {"int_fast16_t": 1, "int32_t": 2, "int64_t": 3}


def const_type(value: int) -> str:
    """The type of an integer constant as the generated C writes it (``_c_int``): plain
    ``int`` within 16 bits, else ``INT32_C``, else ``INT64_C``."""
    if abs(value) <= 2**15 - 1:
        return "int_fast16_t"
    return "int32_t" if -(2**31) <= value <= 2**31 - 1 else "int64_t"


def interpret(model: Model, strategy: str, X: np.ndarray, budget: int | None = None,
              profile: str = "cortex-m3") -> np.ndarray:
    """Run the unrolled program's statements with Python integers, checking that every
    value assigned fits the type the program declared for it (what the C relies on)."""
    program = build_program(model, strategy, PROFILES[profile], budget)
    out = np.zeros((len(X), model.n_classes), dtype=np.int64)
    env: dict[str, int] = {}

    types: dict[str, str] = {}

    def put(var: str, value: int, ctype: str) -> None:
        lo, hi = RANGES[ctype]
        assert lo <= value <= hi, f"{var} = {value} does not fit {ctype}"
        env[var] = value
        types[var] = ctype

    def expr(what: str, value: int, *operand_types: str) -> int:
        """A sum computed in C: in the widest operand type, at least ``int`` (16 bits on
        AVR, like ``int_fast16_t``); the value must fit that type, not only the variable
        that receives it."""
        ctype = max(("int_fast16_t", *operand_types), key=WIDTH_RANK.__getitem__)
        lo, hi = RANGES[ctype]
        assert lo <= value <= hi, f"{what}: {value} overflows {ctype} (an intermediate)"
        return value

    for v, x in enumerate(X.astype(int).tolist()):
        env.clear()
        for op in program.ops:
            if op.kind == "let":
                if op.source:
                    value = expr(f"{op.var} = {op.source} + {op.value}",
                                 env[op.source] + op.value,
                                 op.widen or types[op.source], const_type(op.value))
                else:
                    value = op.value
                put(op.var, value, op.ctype)
            elif op.kind == "term":
                product = expr(f"{op.value} * x[{op.index}]", op.value * x[op.index],
                               "int32_t" if op.wide else "int_fast16_t")
                put(op.var, expr(f"{op.var} + {op.value} * x", env[op.var] + product,
                                 op.ctype, "int32_t" if op.wide else "int_fast16_t"),
                    op.ctype)
            elif op.kind == "walk":
                # the helper: d[k] = the sum of x over list k, every partial sum 16 bits
                d, at = [], 0
                for _ in range(op.index):
                    n = list_count(program.table[at])
                    assert 1 <= n <= program.list_cap
                    total = 0
                    for i in program.table[at + 1: at + 1 + n]:
                        total += x[i]
                        assert total <= RANGES["int_fast16_t"][1], "gather sum"
                    d.append(total)
                    at += 1 + n
                assert at == len(program.table)
            elif op.kind == "gather":
                put(op.var, expr(f"{op.var} +- d", env[op.var] + op.value * d[op.index],
                                 op.ctype), op.ctype)
            elif op.kind == "cond":
                if env[op.var] >= 0:
                    for target, ctype, delta in op.adds:
                        put(target, expr(f"{target} + {delta}", env[target] + delta, ctype,
                                         const_type(delta)), ctype)
            elif op.kind == "pack":
                if env[op.var] >= 0:
                    put(op.word, env[op.word] | op.value, op.word_type)
            elif op.kind == "xnor":
                mask = op.mask or (1 << op.bits) - 1
                count = bin((env[op.word] ^ op.flip) & mask).count("1")
                wide = "int32_t" if op.wide else "int_fast16_t"
                product = expr(f"popcount * {op.value}", count * op.value, wide)
                put(op.var, expr(f"{op.var} + popcount", env[op.var] + product, op.ctype, wide),
                    op.ctype)
        out[v] = [env[var] for var, _ in program.scores]
    return out


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


def test_compact_list_headers_and_steiner_points():
    # a list's header: 8 * (loop iterations) + (count % 8), inverted by list_count
    assert [list_header(n) for n in (1, 7, 8, 9, 248)] == [9, 15, 8, 17, 248]
    assert all(list_count(list_header(n)) == n for n in range(1, 70000))
    # the realistic model: 423 nonzero first-layer weights, 296 terms along the spanning
    # tree alone; Steiner points (shared medians) save more than 15% of them
    program = build_program(load_model(REALISTIC), "unrolled")
    terms = program.counts["term"] + program.counts["term_wide"]
    assert terms < 0.85 * 296
    assert any(op.kind == "let" and op.var.startswith("t") for op in program.ops)


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


def test_shared_partial_sums_cut_the_adult_model():
    model = load_model(ADULT)
    program = build_program(model, "unrolled")
    nonzero = int((model.layers[0].weights != 0).sum())
    terms = program.counts["term"] + program.counts["term_wide"]
    assert terms < nonzero / 3, (terms, nonzero)  # 1150 nonzero weights, ~140 terms
    assert any("constant" in note for note in program.notes)


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


def test_cost_model_choices():
    adult = load_model(ADULT)
    for profile in ("cortex-m0", "cortex-m3", "cortex-m4", "rv32", "avr", "generic32"):
        chosen, estimates = choose_strategy(adult, PROFILES[profile])
        assert chosen in ("unrolled", "xnor"), profile
        by = {e.strategy: e for e in estimates}
        assert by[chosen].time < by["int8"].time / 5
    # int16 accumulators pay off only where int is 16 bits.
    by_avr = {e.strategy: e for e in choose_strategy(adult, PROFILES["avr"])[1]}
    by_m3 = {e.strategy: e for e in choose_strategy(adult, PROFILES["cortex-m3"])[1]}
    assert by_avr["int16"].time < by_avr["int8"].time
    assert by_m3["int16"].time == by_m3["int8"].time
    gen = generate(adult, strategy="auto", profile="avr")
    assert gen.strategy == chosen or gen.strategy in ("unrolled", "xnor")
    assert gen.requested == "auto" and len(gen.estimates) == len(STRATEGIES)


def test_int16_uses_fast_16_bit_accumulators_only_where_proven():
    model = load_model(ADULT)
    c16 = render(model, strategy="int16")["adult.c"]
    c8 = render(model, strategy="int8")["adult.c"]
    assert "int_fast16_t acc" in c16 and "int_fast16_t acc" not in c8
    assert "int32_t acc" in c8
    assert 'Strategy "int16"' in c16 and 'Strategy "int8"' in c8


def test_unknown_strategy_is_a_clear_error():
    with pytest.raises(CodegenError, match="unknown strategy 'fast'.*int8"):
        render(linear_model(), strategy="fast")
