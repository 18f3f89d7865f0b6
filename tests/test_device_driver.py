"""The whole firmware check (mipnn/device/driver.py): the generated C, built with the
harness, matches ``forward`` bit for bit with every code-generation strategy, on the host
and on every target, for random models (hypothesis: several shapes, weights up to +/-127,
huge biases, ties), edge-case models and the trained ones; the sizes are reported.

Time budget: the every-target tests run the targets two at a time (2 cores) and keep the
models small; about two minutes in all.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from conftest import ADULT, EMULATED, INT32_MAX, TRAINED, require_targets, require_tools
from helpers_models import (
    FIXED_MODELS,
    adversarial_models,
    extreme_vectors,
    make_model,
    random_models,
    random_network,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnn.codegen.cost import PROFILES
from mipnn.codegen.strategy import STRATEGIES, estimate
from mipnn.device.driver import run_firmware
from mipnn.device.errors import FirmwareError
from mipnn.device.run import SENTINEL
from mipnn.device.vectors import golden_vectors
from mipnn.resources import firmware_dir
from mipnn.trainer.model import Layer, Model, forward, load_model, save_model


def int32_limits_model() -> Model:
    """int64 accumulators in the hidden layer, scores reaching INT32_MAX and INT32_MIN,
    and two identical output rows (ties: the lowest index must win)."""
    m = make_model([12, 5, 4], levels=255, seed=7, w_max=127)
    w0 = m.layers[0].weights
    b0 = np.array([2**31 - 1, -(2**31 - 1), 0, 3, -3])
    w1 = m.layers[1].weights.copy()
    # Hidden neuron 0 is always +1 and neuron 1 always -1 (their biases dominate), so
    # rows 0 and 2 below always reach the int32 limits exactly.
    w1[0] = [100, -27, 0, 0, 0]
    w1[1] = w1[0]
    w1[2] = [-127, 127, 0, 0, 0]
    s = np.abs(w1).sum(axis=1)
    b1 = np.array([INT32_MAX - int(s[0]), INT32_MAX - int(s[0]), -(2**31) + int(s[2]), 0])
    m.layers = [Layer(w0, b0, "sign"), Layer(w1, b1, "linear")]
    return m


def with_bad_vectors_for(model: Model) -> np.ndarray:
    """Vectors that drive the hidden layer of ``int32_limits_model`` to both signs."""
    return golden_vectors(model, n_random=32, seed=1)


# ---------------------------------------------------------------- host runs


def test_host_run_is_bit_exact_and_reports_sizes(tmp_path):
    require_tools("gcc", "make")
    model = make_model([30, 8, 2], name="demo")
    path = save_model(model, tmp_path / "demo.json")
    vectors = golden_vectors(model, n_random=64)
    report = run_firmware(path, "host", vectors, workdir=tmp_path / "build")
    assert report.ok, report.summary()
    assert report.n_vectors == len(vectors) == len(report.output.splitlines()) - 2
    assert report.flash_bytes > 0 and report.ram_bytes > 0
    # The image with the model minus the same image with a stub in its place.
    assert 0 < report.model_flash_bytes < report.flash_bytes
    assert report.model_ram_bytes is not None and report.model_stack_bytes is not None
    assert report.instructions is None and report.call_stack_bytes is None  # not on the host
    want_scores, want_classes = forward(model, vectors)
    assert np.array_equal(report.scores, want_scores)
    assert np.array_equal(report.classes, want_classes)
    assert report.build_seconds > 0 and report.run_seconds > 0  # reported, not judged here
    # Nothing is written into the source tree.
    products = [p for p in firmware_dir().rglob("*") if p.suffix in {".o", ".d", ".su", ".elf"}]
    assert products == []


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ties_and_int32_extremes_on_host(strategy, tmp_path):
    require_tools("gcc", "make")
    model = int32_limits_model()
    path = save_model(model, tmp_path / "x.json")
    vectors = with_bad_vectors_for(model)
    report = run_firmware(path, "host", vectors, strategy=strategy, measure=False)
    assert report.ok, report.summary()
    assert report.strategy == strategy
    assert (report.scores[:, 0] == INT32_MAX).all()  # the extreme scores really occur
    assert (report.scores[:, 2] == -(2**31)).all()
    assert (report.scores[:, 0] == report.scores[:, 1]).all()
    assert (report.classes != 1).all()  # on a tie the lowest index wins


# ---------------------------------------------------------------- property test (host)


@st.composite
def large_random_models(draw: st.DrawFn) -> Model:
    seed = draw(st.integers(0, 2**32 - 1))
    n_in = draw(st.integers(1, 300))
    hidden = draw(st.lists(st.integers(1, 64), min_size=0, max_size=3))
    n_classes = draw(st.integers(2, 8))
    levels = draw(st.one_of(st.sampled_from([1, 2, 3, 255]), st.integers(1, 255)))
    w_max = draw(st.sampled_from([1, 3, 127]))
    sparse = draw(st.booleans())
    bias_kind = draw(st.sampled_from(["zero", "small", "scaled", "huge"]))
    tie = draw(st.booleans())
    return random_network(seed, [n_in, *hidden, n_classes], levels, w_max,
                          sparsity=0.7 if sparse else 0.0, bias_kind=bias_kind, tie=tie,
                          name="prop")


@pytest.fixture(scope="module")
def host_workdir():
    with tempfile.TemporaryDirectory(prefix="mipnn-prop-") as tmp:
        yield Path(tmp)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(model=large_random_models(), vector_seed=st.integers(0, 2**16))
def test_host_c_is_bit_exact_on_random_models(model, vector_seed, host_workdir):
    require_tools("gcc", "make")
    path = host_workdir / "prop.json"
    save_model(model, path)
    # The same build directory for every example: also exercises incremental rebuilds.
    vectors = golden_vectors(model, n_random=48, seed=vector_seed)
    # The table-driven baseline; the every-strategy tests below cover the others.
    report = run_firmware(
        path, "host", vectors, workdir=host_workdir / "build", strategy="int8", measure=False
    )
    assert report.ok, report.summary()


# ---------------------------------------------------------------- Cortex-M3 under QEMU


@pytest.mark.emulator
@pytest.mark.parametrize(
    "make",
    [
        lambda: make_model([30, 8, 2], name="demo"),
        int32_limits_model,
        lambda: make_model([300, 64, 32, 10], levels=255, w_max=127, b_max=20000, seed=9),
    ],
    ids=["30-8-2", "extreme", "300-64-32-10"],
)
def test_cortex_m3_qemu_is_bit_exact(make, tmp_path):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "make")
    model = make()
    path = save_model(model, tmp_path / "m.json")
    vectors = golden_vectors(model, n_random=40, seed=2)
    report = run_firmware(path, "cortex-m3", vectors, measure_vectors=2)
    assert report.ok, report.summary()
    assert report.output.rstrip().endswith(SENTINEL)
    assert report.stack_reserved_bytes == 4096
    assert 0 < report.model_flash_bytes < report.flash_bytes
    assert report.model_ram_bytes == 0  # the model has no variables, only constants
    assert report.model_stack_bytes is not None and report.model_stack_bytes < 512
    assert report.stack_used_bytes is not None
    assert report.model_stack_bytes < report.stack_used_bytes < 1024
    # One inference: about its own frame (the words it writes), within the whole run's.
    assert report.call_stack_bytes is not None
    assert 0 < report.call_stack_bytes <= report.stack_used_bytes
    assert report.call_stack_bytes <= report.model_stack_bytes + 8
    # Two calls per measured vector (with and without scores), all counted.
    assert len(report.counted_calls) == 4 and report.instructions == max(report.counted_calls)
    assert report.instructions > 10


# ---------------------------------------------------------------- every strategy on every target


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


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("deploy")


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(model=random_models(max_inputs=60, max_hidden=16), seed=st.integers(0, 2**16))
def test_every_strategy_is_bit_exact_on_the_host(model, seed, workdir):
    require_targets(("host",))
    vectors = golden_vectors(model, n_random=32, seed=seed)
    _run_all(model, workdir / "host.json", ("host",), vectors, workdir / "prop-host")


@pytest.mark.emulator
@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(model=random_models(max_inputs=24, max_hidden=8), seed=st.integers(0, 2**16))
def test_every_strategy_is_bit_exact_on_every_target(model, seed, workdir):
    require_targets(EMULATED)
    vectors = golden_vectors(model, n_random=12, seed=seed)
    _run_all(model, workdir / "emu.json", EMULATED, vectors, workdir / "prop-emu")


@pytest.mark.emulator
@pytest.mark.parametrize("key", sorted(FIXED_MODELS))
def test_edge_case_models_on_every_target(key, workdir):
    require_targets(EMULATED)
    model = FIXED_MODELS[key]()
    vectors = golden_vectors(model, n_random=16, seed=1)
    _run_all(model, workdir / f"{key}.json", EMULATED, vectors, workdir / key)


@pytest.mark.emulator
@pytest.mark.parametrize("path", TRAINED, ids=[p.stem for p in TRAINED])
def test_trained_models_on_every_target(path, workdir):
    require_targets(("host", *EMULATED))
    model = load_model(path)
    vectors = golden_vectors(model, n_random=24, seed=4)
    _run_all(model, workdir / path.name, ("host", *EMULATED), vectors, workdir / path.stem)


# ---------------------------------------------------------------- adversarial models (issue 21)


def _run_strategies(model: Model, path: Path, target: str, vectors: np.ndarray,
                    workdir: Path, sanitize: bool = False) -> None:
    """run_firmware with every strategy on ``target``, two at a time; each bit-exact."""
    save_model(model, path)

    def one(strategy: str):
        return run_firmware(path, target, vectors, workdir=workdir, strategy=strategy,
                            measure=False, sanitize=sanitize)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(one, STRATEGIES))
    for strategy, report in zip(STRATEGIES, reports, strict=True):
        assert report.ok, f"{target} {strategy}:\n{report.summary()}"


@pytest.mark.emulator
@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(model=adversarial_models(max_inputs=12, max_hidden=6), seed=st.integers(0, 2**16))
def test_adversarial_models_are_bit_exact_on_avr(model, seed, workdir):
    """Weights and biases at the edges of every intermediate's range (conftest's
    adversarial_network), every strategy compiled for AVR's 16-bit int and run in simavr,
    on the inputs that drive each first-layer neuron to its extremes."""
    require_targets(("avr",))
    vectors = golden_vectors(model, extreme_vectors(model), n_random=8, seed=seed)
    _run_strategies(model, workdir / "adv-avr.json", "avr", vectors, workdir / "adv-avr")


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(model=adversarial_models(max_inputs=16, max_hidden=8), seed=st.integers(0, 2**16))
def test_adversarial_models_under_the_sanitizers(model, seed, workdir):
    """The same models on the host, built with -fsanitize=undefined,address
    -fno-sanitize-recover=all: no finding, every score exact, with every strategy."""
    require_targets(("host",))
    vectors = golden_vectors(model, extreme_vectors(model), n_random=16, seed=seed)
    _run_strategies(model, workdir / "adv-san.json", "host", vectors, workdir / "adv-san",
                    sanitize=True)


@pytest.mark.parametrize("key", [*sorted(FIXED_MODELS), "adult"])
def test_every_strategy_under_the_sanitizers(key, workdir):
    """The sanitizer run of the generated C (issue 21): the edge-case models and a trained
    one, every strategy, on the host harness built with AddressSanitizer and UBSan."""
    require_targets(("host",))
    model = load_model(ADULT) if key == "adult" else FIXED_MODELS[key]()
    vectors = golden_vectors(model, extreme_vectors(model), n_random=16, seed=1)
    _run_strategies(model, workdir / f"san-{key}.json", "host", vectors,
                    workdir / f"san-{key}", sanitize=True)


def test_a_sanitized_build_needs_a_target_that_has_one(tmp_path):
    require_targets(("avr",))
    model = make_model([3, 2])
    path = save_model(model, tmp_path / "m.json")
    with pytest.raises(FirmwareError, match="no sanitizer build"):
        run_firmware(path, "avr", golden_vectors(model, n_random=1), sanitize=True)


def test_a_model_in_memory_runs_as_its_saved_file_does(tmp_path):
    """run_firmware takes a Model without a file: the same C (its banner records the sha256
    of the file save_model would write) and the same scores."""
    require_tools("gcc", "make")
    model = make_model([6, 3, 2], name="inmem")
    path = save_model(model, tmp_path / "inmem.json")
    vectors = golden_vectors(model, n_random=16)
    from_file = run_firmware(path, "host", vectors, workdir=tmp_path / "a", measure=False)
    in_memory = run_firmware(model, "host", vectors, workdir=tmp_path / "b", measure=False)
    assert in_memory.ok and from_file.ok
    assert np.array_equal(in_memory.scores, from_file.scores)
    sources = [(tmp_path / d / from_file.strategy / "gen-host" / "inmem.c").read_text()
               for d in ("a", "b")]
    assert sources[0] == sources[1]
