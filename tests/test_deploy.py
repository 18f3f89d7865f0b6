"""Deployment (issue 5): every code-generation strategy is bit-exact against ``forward``,
on every target, for random models (hypothesis: several shapes, weights up to +/-127,
huge biases, ties) and for trained ones; the measurements are there and plausible; the
cost model chooses sensibly.

Time budget: the emulator tests run the targets two at a time (2 cores) and keep the
models small; about two minutes in all.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import random_network, require_tools, write_crash_sources
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

from mipnn.device import (
    count_exec_log,
    golden_vectors,
    list_targets,
    run_firmware,
    target_info,
)

REPO = Path(__file__).resolve().parents[1]
BENCH_MODELS = REPO / "bench" / "models"
ADULT = BENCH_MODELS / "adult-108-16-2.json"
REALISTIC = BENCH_MODELS / "adult-108-16-2-l255.json"  # 78.1% test, less regular weights
TRAINED = sorted(BENCH_MODELS.glob("*.json"))
INT32_MAX = 2**31 - 1
EMULATED = ("cortex-m0", "cortex-m3", "cortex-m4", "avr", "rv32")
TOOLS = {
    "host": ("gcc", "make"),
    "cortex-m0": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "cortex-m3": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "cortex-m4": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "avr": ("avr-gcc", "gcc", "make"),
    "rv32": ("riscv64-unknown-elf-gcc", "qemu-system-riscv32", "make"),
}


# ---------------------------------------------------------------- models


@st.composite
def random_models(draw: st.DrawFn, max_inputs: int = 40, max_hidden: int = 12) -> Model:
    """Small random networks: 0-2 hidden layers, weights up to +/-127 (dense or sparse),
    biases from zero to the int32 limits, optionally two identical output rows (a tie)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_in = draw(st.integers(1, max_inputs))
    hidden = draw(st.lists(st.integers(1, max_hidden), min_size=0, max_size=2))
    n_classes = draw(st.integers(2, 5))
    levels = draw(st.one_of(st.sampled_from([1, 3, 255]), st.integers(1, 255)))
    w_max = draw(st.sampled_from([1, 2, 3, 127]))
    sparse = draw(st.booleans())
    bias_kind = draw(st.sampled_from(["zero", "small", "scaled", "huge"]))
    tie = draw(st.booleans())
    return random_network(seed, [n_in, *hidden, n_classes], levels, w_max,
                          sparsity=0.6 if sparse else 0.0, bias_kind=bias_kind, tie=tie,
                          duplicates=True, name="rnd")


def extreme_model() -> Model:
    """int64 partial sums, scores at INT32_MAX and INT32_MIN, a tie, constant neurons."""
    rng = np.random.default_rng(7)
    w0 = rng.integers(-127, 127, size=(5, 12), endpoint=True)
    b0 = np.array([2**31 - 1, -(2**31 - 1), 0, 3, -3])
    w1 = np.zeros((4, 5), dtype=np.int64)
    w1[0] = [100, -27, 0, 0, 0]
    w1[1] = w1[0]
    w1[2] = [-127, 127, 0, 0, 0]
    w1[3] = [1, 2, 3, 4, 5]
    s = np.abs(w1).sum(axis=1)
    b1 = np.array([INT32_MAX - int(s[0]), INT32_MAX - int(s[0]), -(2**31) + int(s[2]), 0])
    return Model(name="ext", classes=list("abcd"), input_size=12, levels=255,
                 layers=[Layer(w0, b0, "sign"), Layer(w1, b1, "linear")])


def deep_model() -> Model:
    """Three hidden layers, weights up to 127 (several bit planes for xnor), L = 1."""
    rng = np.random.default_rng(3)
    shape = [20, 9, 7, 5, 3]
    layers = []
    for k in range(len(shape) - 1):
        w = rng.integers(-127, 127, size=(shape[k + 1], shape[k]), endpoint=True)
        b = rng.integers(-300, 300, size=shape[k + 1], endpoint=True)
        layers.append(Layer(w, b, "linear" if k == len(shape) - 2 else "sign"))
    return Model(name="deep", classes=["x", "y", "z"], input_size=20, levels=1, layers=layers)


def linear_model() -> Model:
    """No hidden layer: the first layer gives the scores."""
    rng = np.random.default_rng(5)
    w = rng.integers(-3, 3, size=(3, 17), endpoint=True)
    return Model(name="lin", classes=["p", "q", "r"], input_size=17, levels=200,
                 layers=[Layer(w, np.array([5, -5, 0]), "linear")])


def sum_in_int_model() -> Model:
    """Issue 21, cause 1: neuron 1 starts from neuron 0 (``z0_1 = z0_0 + 26000``); z0_0 is
    16 bits, z0_1 needs 32, and the sum overflowed AVR's 16-bit ``int`` before the cast."""
    return Model(name="hostile", classes=["a", "b"], input_size=4, levels=255,
                 layers=[Layer(np.array([[127, 0, 0, 0], [127, -127, 0, 0]]),
                               np.array([-16000, 10000]), "sign"),
                         Layer(np.array([[1, -1], [-1, 1]]), np.array([0, 0]), "linear")])


FIXED_MODELS = {"extreme": extreme_model, "deep": deep_model, "linear": linear_model,
                "sum_in_int": sum_in_int_model}


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


def test_count_exec_log(tmp_path):
    log = tmp_path / "exec.log"
    lines = []
    for pc in [0x10, 0x40, 0x42, 0x44, 0x100, 0x102, 0x46, 0x12, 0x40, 0x42, 0x14, 0x40]:
        lines.append(f"Trace 0: 0x7f0000 [00000000/{pc:08x}/00000110/ff000201] f\n")
    log.write_text("".join(lines) + "Linking TBs\n")
    # main is [0x10, 0x20): calls end when the PC is back there.
    assert count_exec_log(log, 0x40, [(0x10, 0x20)]) == [6, 2]


# ---------------------------------------------------------------- C on the targets


def _have(target: str) -> bool:
    return all(shutil.which(t) for t in TOOLS[target])


def _run_all(model: Model, path: Path, targets: tuple[str, ...], vectors: np.ndarray,
             workdir: Path, measure: bool = False) -> list:
    """run_firmware for every (target, strategy), two at a time; each must be bit-exact."""
    save_model(model, path)
    jobs = [(t, s) for t in targets for s in STRATEGIES]
    # compact is planned for a budget halfway between its all-table and all-code flash, so
    # that its C mixes gathers and code terms (the all-table form is the same C, less code).
    generic = PROFILES["generic32"]
    mid = int((estimate(model, "compact", generic).flash
               + estimate(model, "unrolled", generic).flash) / 2) \
        if model.layers[0].weights.any() else None

    def one(job: tuple[str, str]):
        target, strategy = job
        return run_firmware(path, target, vectors, workdir=workdir / target, strategy=strategy,
                            measure=measure, flash_budget=mid if strategy == "compact" else None)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(one, jobs))
    for (target, strategy), report in zip(jobs, reports, strict=True):
        assert report.strategy == strategy
        assert report.ok, f"{target} {strategy}:\n{report.summary()}"
    return reports


def _require(targets: tuple[str, ...]) -> None:
    for t in targets:
        require_tools(*TOOLS[t])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("deploy")


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(model=random_models(max_inputs=60, max_hidden=16), seed=st.integers(0, 2**16))
def test_every_strategy_is_bit_exact_on_the_host(model, seed, workdir):
    _require(("host",))
    vectors = golden_vectors(model, n_random=32, seed=seed)
    _run_all(model, workdir / "host.json", ("host",), vectors, workdir / "prop-host")


@pytest.mark.emulator
@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(model=random_models(max_inputs=24, max_hidden=8), seed=st.integers(0, 2**16))
def test_every_strategy_is_bit_exact_on_every_target(model, seed, workdir):
    _require(EMULATED)
    vectors = golden_vectors(model, n_random=12, seed=seed)
    _run_all(model, workdir / "emu.json", EMULATED, vectors, workdir / "prop-emu")


@pytest.mark.emulator
@pytest.mark.parametrize("key", sorted(FIXED_MODELS))
def test_edge_case_models_on_every_target(key, workdir):
    _require(EMULATED)
    model = FIXED_MODELS[key]()
    vectors = golden_vectors(model, n_random=16, seed=1)
    _run_all(model, workdir / f"{key}.json", EMULATED, vectors, workdir / key)


@pytest.mark.emulator
@pytest.mark.parametrize("path", TRAINED, ids=[p.stem for p in TRAINED])
def test_trained_models_on_every_target(path, workdir):
    _require(("host", *EMULATED))
    model = load_model(path)
    vectors = golden_vectors(model, n_random=24, seed=4)
    _run_all(model, workdir / path.name, ("host", *EMULATED), vectors, workdir / path.stem)


@pytest.mark.emulator
def test_adult_model_meets_the_deployment_figures(workdir):
    """The done-when figures of issue 5, as a regression test (docs/RESULTS.md)."""
    _require(("cortex-m3", "avr"))
    vectors = golden_vectors(load_model(ADULT), n_random=8, seed=0)
    m3 = run_firmware(ADULT, "cortex-m3", vectors, workdir=workdir / "fig")
    avr = run_firmware(ADULT, "avr", vectors, workdir=workdir / "fig")
    assert m3.ok and avr.ok
    assert m3.strategy in ("unrolled", "xnor") and avr.strategy in ("unrolled", "xnor")
    assert m3.instructions is not None and m3.instructions <= 1000
    assert m3.model_flash_bytes is not None and m3.model_flash_bytes <= 1024
    assert avr.cycles is not None and avr.cycles <= 10_000
    assert m3.model_ram_bytes == 0 and avr.model_ram_bytes == 0


@pytest.mark.emulator
def test_auto_within_1_kb_on_cortex_m3_measures_within_1_kb(workdir):
    """The realistic Adult model: auto under a 1,024 B budget picks code whose *measured*
    model flash fits (compact: the unrolled form is ~1.4 KB), and that code meets the
    issue's 1,000 instructions per inference with it (991 measured when written)."""
    _require(("cortex-m3",))
    vectors = golden_vectors(load_model(REALISTIC), n_random=8, seed=0)
    r = run_firmware(REALISTIC, "cortex-m3", vectors, workdir=workdir / "kb",
                     flash_budget=1024)
    assert r.ok and r.strategy == "compact" and r.flash_budget == 1024
    assert r.model_flash_bytes is not None and r.model_flash_bytes <= 1024
    assert r.instructions is not None and r.instructions <= 1000, r.instructions


@pytest.mark.emulator
@pytest.mark.parametrize("target", EMULATED)
def test_measurements_on_each_target(target, workdir):
    _require((target,))
    model = linear_model()
    path = save_model(model, workdir / f"meas-{target}.json")
    vectors = golden_vectors(model, n_random=4)
    report = run_firmware(path, target, vectors, strategy="int8", measure_vectors=2,
                          workdir=workdir / "meas")
    assert report.ok
    assert 0 < report.model_flash_bytes < report.flash_bytes
    assert report.model_ram_bytes == 0
    assert report.call_stack_bytes is not None and 0 < report.call_stack_bytes < 256
    assert report.stack_used_bytes is not None
    assert len(report.counted_calls) == 4
    count = report.cycles if target == "avr" else report.instructions
    other = report.instructions if target == "avr" else report.cycles
    assert other is None and count is not None
    # The table loop does 3 * 17 multiply-adds: more than 51 instructions or cycles.
    assert count > 51
    assert count == max(report.counted_calls)
    data = report.to_dict()
    assert data["bit_exact"] and data["model_flash_bytes"] == report.model_flash_bytes
    json.dumps(data)


def test_targets_are_data():
    assert set(list_targets()) == {"host", *EMULATED}
    info = {t: target_info(t) for t in list_targets()}
    assert info["avr"]["measure"] == "simavr-cycles" and info["avr"]["flash_size"] == 32768
    assert info["rv32"]["measure"] == "qemu-exec-log"
    assert info["host"]["measure"] == "none"
    for t in EMULATED:
        assert info[t]["cost_profile"] in PROFILES
        assert info[t]["apt_packages"], t
    assert "/usr/include/simavr/sim_avr.h" in info["avr"]["tool_files"]


# ---------------------------------------------------------------- exits and faults


def _crash_build(target: str, body: str, tmp_path: Path) -> list[str]:
    """Build a one-vector harness around a hand-written 'model' and return the run
    command (from the fragment's RUN)."""
    import os
    import subprocess

    from mipnn.resources import firmware_dir

    gen = tmp_path / "gen"
    write_crash_sources(gen, body)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    args = [f"BUILD={tmp_path}", f"GEN={gen}", "MODEL=crash", f"TARGET={target}"]
    build = subprocess.run(
        ["make", "-s", "-C", str(firmware_dir()), "build", "print-run", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert build.returncode == 0, build.stderr
    return build.stdout.split()


@pytest.mark.emulator
@pytest.mark.parametrize("target", EMULATED)
def test_the_firmware_exit_status_reaches_the_host(target, tmp_path):
    import subprocess

    _require((target,))
    command = _crash_build(target, "mipnn_fw_exit(7);\n    return 0;", tmp_path)
    run = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                         timeout=60)
    assert run.returncode == 7, run.stdout + run.stderr
    assert "~~~MIPNN BEGIN" in run.stdout and "~~~MIPNN DONE~~~" not in run.stdout


@pytest.mark.emulator
def test_rv32_fault_is_exit_127(tmp_path):
    import subprocess

    _require(("rv32",))
    body = "return (int)*(volatile const uint32_t *)(uintptr_t)0x0E000000u;"  # unmapped
    command = _crash_build("rv32", body, tmp_path)
    run = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                         timeout=60)
    assert run.returncode == 127, run.stdout + run.stderr


# ---------------------------------------------------------------- command line


def _cli(*args: str):
    from click.testing import CliRunner

    from mipnn.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_export_strategy_option(tmp_path):
    for strategy in STRATEGIES:
        result = _cli("export", str(ADULT), "--out", str(tmp_path / strategy),
                      "--strategy", strategy)
        assert result.exit_code == 0, result.output
        assert f'Strategy "{strategy}"' in (tmp_path / strategy / "adult.c").read_text()
    result = _cli("export", str(ADULT), "--out", str(tmp_path / "a"), "--target", "avr")
    assert result.exit_code == 0
    assert 'Strategy "unrolled"' in (tmp_path / "a" / "adult.c").read_text()
    result = _cli("export", str(ADULT), "--out", str(tmp_path / "z"), "--target", "z80")
    assert result.exit_code == 2 and "unknown target 'z80'" in result.output


@pytest.mark.emulator
def test_firmware_all_targets_table_and_json_report(tmp_path):
    _require(("host", *EMULATED))
    model = linear_model()
    path = save_model(model, tmp_path / "lin.json")
    report = tmp_path / "r" / "report.json"
    result = _cli("firmware", str(path), "--target", "all", "--strategy", "int8",
                  "--strategy", "auto", "--random", "8", "--report", str(report))
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()
            if line.split() and line.split()[0] in TOOLS]
    assert sorted({r[0] for r in rows}) == sorted(TOOLS)
    assert len(rows) == 2 * len(TOOLS) and all(r[-1] == "bit-exact" for r in rows)
    data = json.loads(report.read_text())
    assert data["format"] == "mipnn.firmware-report" and len(data["runs"]) == 12
    for run in data["runs"]:
        assert run["bit_exact"] and run["model_flash_bytes"] > 0
        if run["target"] == "avr":
            assert run["cycles_per_inference"] > 0 and run["instructions_per_inference"] is None
        elif run["target"] == "host":
            assert run["instructions_per_inference"] is None
        else:
            assert run["instructions_per_inference"] > 0
            assert run["inference_stack_bytes"] is not None  # 0: all in registers (rv32)
    assert {r["requested_strategy"] for r in data["runs"]} == {"int8", "auto"}
