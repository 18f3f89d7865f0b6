"""Firmware: the generated C, built with the harness, matches ``forward`` bit for bit."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from conftest import make_model, random_network, require_tools, write_crash_sources
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mipnn.codegen.strategy import STRATEGIES
from mipnn.trainer.model import Layer, Model, forward, save_model

from mipnn.device import (
    SENTINEL,
    FirmwareError,
    Mismatch,
    golden_vectors,
    list_targets,
    missing_tools,
    parse_output,
    run_firmware,
    target_info,
)
from mipnn.resources import firmware_dir

INT32_MAX = 2**31 - 1


def extreme_model() -> Model:
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
    """Vectors that drive the hidden layer of ``extreme_model`` to both signs."""
    return golden_vectors(model, n_random=32, seed=1)


# ---------------------------------------------------------------- targets and tools


def test_targets_are_listed_from_the_fragments():
    targets = list_targets()
    assert {"host", "cortex-m3"} <= set(targets)
    assert targets == sorted(p.stem for p in (firmware_dir() / "targets").glob("*.mk"))


def test_target_info_is_read_from_make():
    info = target_info("cortex-m3")
    assert "qemu-system-arm" in info["tools"] and "arm-none-eabi-gcc" in info["tools"]
    assert info["apt_packages"] == ["gcc-arm-none-eabi", "qemu-system-arm"]
    host = target_info("host")
    assert "gcc" in host["tools"] and host["cc"] == "gcc"


def test_make_print_tools_for_makefiles():
    out = subprocess.run(
        ["make", "-s", "-C", str(firmware_dir()), "print-tools", "TARGET=cortex-m3"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == target_info("cortex-m3")["tools"]


def test_unknown_target_lists_the_known_ones(tmp_path):
    with pytest.raises(FirmwareError, match="unknown target 'z80'.*cortex-m3.*host"):
        target_info("z80")
    path = save_model(make_model([3, 2]), tmp_path / "m.json")
    with pytest.raises(FirmwareError, match="known targets"):
        run_firmware(path, "z80", np.zeros((1, 3), dtype=np.uint8))


def test_missing_tools_name_the_tools_and_packages(tmp_path, monkeypatch):
    only_make = tmp_path / "bin"
    only_make.mkdir()
    (only_make / "make").symlink_to(shutil.which("make"))
    monkeypatch.setenv("PATH", str(only_make))
    missing = missing_tools("cortex-m3")
    assert missing == [
        "arm-none-eabi-gcc",
        "arm-none-eabi-size",
        "arm-none-eabi-nm",
        "qemu-system-arm",
    ]
    path = save_model(make_model([3, 2]), tmp_path / "m.json")
    with pytest.raises(FirmwareError) as info:
        run_firmware(path, "cortex-m3", np.zeros((1, 3), dtype=np.uint8))
    message = str(info.value)
    assert "arm-none-eabi-gcc" in message and "qemu-system-arm" in message
    assert "make demo" in message
    assert "apt-get install -y --no-install-recommends gcc-arm-none-eabi qemu-system-arm" in message


def test_missing_make_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert missing_tools("host") == ["make"]
    with pytest.raises(FirmwareError, match="make is not installed"):
        target_info("host")


# ---------------------------------------------------------------- golden vectors


def test_golden_vectors_order_and_content():
    model = make_model([6, 3, 2], levels=9)
    test_x = np.arange(5 * 6).reshape(5, 6) % 10
    v = golden_vectors(model, test_x, n_random=7, seed=3, limit=4)
    assert v.dtype == np.uint8 and v.shape[1] == 6
    assert np.array_equal(v[:4], test_x[:4])
    edges = v[4:-7]
    rows = {tuple(r) for r in edges}
    assert (0,) * 6 in rows and (9,) * 6 in rows
    assert (0, 9, 0, 9, 0, 9) in rows and (9, 0, 9, 0, 9, 0) in rows
    assert (9, 0, 0, 0, 0, 0) in rows and (0, 0, 0, 0, 0, 9) in rows
    assert v.max() <= 9
    again = golden_vectors(model, test_x, n_random=7, seed=3, limit=4)
    assert np.array_equal(v, again)
    other = golden_vectors(model, test_x, n_random=7, seed=4, limit=4)
    assert not np.array_equal(v[-7:], other[-7:])
    assert len(golden_vectors(model, None, n_random=0)) == len(edges)


def test_golden_vectors_reject_bad_test_data():
    model = make_model([3, 2], levels=5)
    with pytest.raises(FirmwareError, match=r"\[0, 5\]"):
        golden_vectors(model, np.array([[0, 6, 1]]))
    with pytest.raises(FirmwareError, match="shape"):
        golden_vectors(model, np.zeros((2, 4)))
    with pytest.raises(FirmwareError, match="integers"):
        golden_vectors(model, np.array([[0.5, 1, 1]]))


# ---------------------------------------------------------------- output parsing


def _output(classes: list[int], scores: list[list[int]], sentinel: bool = True) -> str:
    lines = [f"~~~MIPNN BEGIN vectors={len(classes)} inputs=3 classes={len(scores[0])}~~~"]
    for v, (c, s) in enumerate(zip(classes, scores, strict=True)):
        lines.append(f"vector {v} class {c} scores " + " ".join(str(x) for x in s))
    if sentinel:
        lines.append(SENTINEL)
    return "\n".join(lines) + "\n"


def test_parse_output_roundtrip():
    classes, scores, stack, call = parse_output(
        _output([1, 0], [[-5, 7], [2**31 - 1, -(2**31)]]), 2, 2
    )
    assert classes.tolist() == [1, 0]
    assert scores.tolist() == [[-5, 7], [2**31 - 1, -(2**31)]]
    assert stack is None and call is None
    text = _output([1], [[3, 4]]).replace(SENTINEL, "~~~MIPNN STACK used=88~~~\n" + SENTINEL)
    assert parse_output(text, 1, 2).stack_used == 88
    text = _output([1], [[3, 4]]).replace(
        SENTINEL, "~~~MIPNN STACK used=88 call=40~~~\n" + SENTINEL
    )
    assert parse_output(text, 1, 2)[2:] == (88, 40)
    with pytest.raises(FirmwareError, match="malformed stack line"):
        parse_output(_output([1], [[3, 4]]).replace(SENTINEL, "~~~MIPNN STACK x~~~\n"), 1, 2)


def test_missing_sentinel_is_an_error_never_a_pass():
    with pytest.raises(FirmwareError, match="did not finish"):
        parse_output(_output([1, 0], [[-5, 7], [1, 0]], sentinel=False), 2, 2)


def test_truncated_or_malformed_output_is_an_error():
    text = _output([1, 0], [[-5, 7], [1, 0]])
    with pytest.raises(FirmwareError, match="stops after 1 of 2"):
        parse_output("\n".join(text.splitlines()[:2]), 2, 2)
    with pytest.raises(FirmwareError, match="expected vectors=3"):
        parse_output(text, 3, 2)
    with pytest.raises(FirmwareError, match="no '~~~MIPNN BEGIN'"):
        parse_output("Lockup\n", 2, 2)
    with pytest.raises(FirmwareError, match="unexpected firmware output"):
        parse_output(text.replace("vector 1", "vector 5"), 2, 2)


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


def test_a_wrong_result_is_detected(tmp_path):
    """Compare the firmware of one model against a slightly different reference model:
    the run must report mismatches (so this check can fail)."""
    require_tools("gcc", "make")
    model = make_model([10, 4, 3], levels=15, seed=5)
    path = save_model(model, tmp_path / "m.json")
    other = make_model([10, 4, 3], levels=15, seed=5)
    other.layers[-1] = Layer(
        other.layers[-1].weights, other.layers[-1].bias + np.array([0, 1, 0]), "linear"
    )
    vectors = golden_vectors(model, n_random=20)
    report = run_firmware(path, "host", vectors, reference=other, measure=False)
    assert not report.ok
    assert len(report.mismatches) == len(vectors)  # score 1 is off by one everywhere
    first = report.mismatches[0]
    assert isinstance(first, Mismatch) and first.index == 0
    assert first.position == 1
    assert first.got_scores[1] == first.expected_scores[1] - 1
    assert "ERROR at pos 1" in first.describe()
    lines = report.describe_mismatches(limit=3)
    assert len(lines) == 4 and lines[-1] == f"... and {len(vectors) - 3} more"
    assert "FAIL" in report.summary()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ties_and_int32_extremes_on_host(strategy, tmp_path):
    require_tools("gcc", "make")
    model = extreme_model()
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
def random_models(draw: st.DrawFn) -> Model:
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
@given(model=random_models(), vector_seed=st.integers(0, 2**16))
def test_host_c_is_bit_exact_on_random_models(model, vector_seed, host_workdir):
    require_tools("gcc", "make")
    path = host_workdir / "prop.json"
    save_model(model, path)
    # The same build directory for every example: also exercises incremental rebuilds.
    vectors = golden_vectors(model, n_random=48, seed=vector_seed)
    # The table-driven baseline; tests/test_deploy.py covers the other strategies.
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
        extreme_model,
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


CRASHES = {
    # Reads memory that mps2-an385 does not map: BusFault -> HardFault -> exit 127.
    "fault": (127, "return (int)*(volatile const uint32_t *)(uintptr_t)0x30000000u;"),
    # 8 KB on a 4 KB stack: QEMU ignores the writes below RAM; the painted stack shows it.
    "stack": (
        125,
        "volatile uint8_t big[8192]; uint32_t i;\n"
        "    for (i = 0; i < sizeof big; ++i) { big[i] = x[0]; }\n"
        "    return big[100];",
    ),
}


@pytest.mark.emulator
@pytest.mark.parametrize("kind", sorted(CRASHES))
def test_cortex_m3_crash_is_an_exit_status_never_a_pass(kind, tmp_path):
    """A model that faults or overflows the stack ends the emulator with a distinctive
    status and without the sentinel line."""
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "make")
    status, body = CRASHES[kind]
    gen = tmp_path / "gen"
    write_crash_sources(gen, body)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    args = [f"BUILD={tmp_path}", f"GEN={gen}", "MODEL=crash", "TARGET=cortex-m3"]
    build = subprocess.run(
        ["make", "-s", "-C", str(firmware_dir()), "build", "print-run", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert build.returncode == 0, build.stderr
    run = subprocess.run(
        build.stdout.split(), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert run.returncode == status, run.stdout + run.stderr
    assert "~~~MIPNN BEGIN" in run.stdout and SENTINEL not in run.stdout
    with pytest.raises(FirmwareError):
        parse_output(run.stdout, 1, 2)


@pytest.mark.emulator
def test_image_too_big_for_flash_is_a_clear_build_error(tmp_path):
    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "make")
    model = make_model([1000, 2, 2])
    path = save_model(model, tmp_path / "big.json")
    vectors = np.zeros((300, 1000), dtype=np.uint8)  # 300 KB of vectors, flash is 256 KB
    with pytest.raises(FirmwareError, match="(?s)FLASH.*use fewer golden vectors"):
        run_firmware(path, "cortex-m3", vectors, measure=False)
