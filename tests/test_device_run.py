"""Running an image and reading its output (mipnn/device/run.py): the harness output is
parsed strictly (a run without the sentinel line never passes), a wrong result is reported
position by position, and a crash or a non-zero exit reaches the host as the firmware's
exit status."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import EMULATED, require_targets, require_tools
from helpers_models import make_model, write_crash_sources

from mipnn.device.driver import run_firmware
from mipnn.device.errors import FirmwareError
from mipnn.device.run import (
    SENTINEL,
    Mismatch,
    exit_error,
    parse_output,
    run_image,
    sanitizer_finding,
)
from mipnn.device.vectors import golden_vectors
from mipnn.resources import firmware_dir
from mipnn.trainer.model import Layer, save_model

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
    )[:4]  # then the raw vectors' output (a version-2 model) and their stack
    assert classes.tolist() == [1, 0]
    assert scores.tolist() == [[-5, 7], [2**31 - 1, -(2**31)]]
    assert stack is None and call is None
    text = _output([1], [[3, 4]]).replace(SENTINEL, "~~~MIPNN STACK used=88~~~\n" + SENTINEL)
    assert parse_output(text, 1, 2).stack_used == 88
    text = _output([1], [[3, 4]]).replace(
        SENTINEL, "~~~MIPNN STACK used=88 call=40~~~\n" + SENTINEL
    )
    assert parse_output(text, 1, 2)[2:4] == (88, 40)
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


# ---------------------------------------------------------------- comparison with the reference


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


# ---------------------------------------------------------------- exits and faults


def _crash_build(target: str, body: str, tmp_path: Path, name: str = "crash",
                 extra: tuple[str, ...] = ()) -> list[str]:
    """Build a one-vector harness around a hand-written 'model' (``name``.c) with the make
    variables ``extra`` and return the run command (from the fragment's RUN)."""
    gen = tmp_path / "gen"
    write_crash_sources(gen, body, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    args = [f"BUILD={tmp_path}", f"GEN={gen}", f"MODEL={name}", f"TARGET={target}", *extra]
    build = subprocess.run(
        ["make", "-s", "-C", str(firmware_dir()), "build", "print-run", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert build.returncode == 0, build.stderr
    return build.stdout.split()


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
    command = _crash_build("cortex-m3", body, tmp_path)
    run = subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
    )
    assert run.returncode == status, run.stdout + run.stderr
    assert "~~~MIPNN BEGIN" in run.stdout and SENTINEL not in run.stdout
    with pytest.raises(FirmwareError):
        parse_output(run.stdout, 1, 2)


@pytest.mark.emulator
@pytest.mark.parametrize("target", EMULATED)
def test_the_firmware_exit_status_reaches_the_host(target, tmp_path):
    require_targets((target,))
    command = _crash_build(target, "mipnn_fw_exit(7);\n    return 0;", tmp_path)
    run = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                         timeout=60)
    assert run.returncode == 7, run.stdout + run.stderr
    assert "~~~MIPNN BEGIN" in run.stdout and "~~~MIPNN DONE~~~" not in run.stdout


@pytest.mark.emulator
def test_rv32_fault_is_exit_127(tmp_path):
    require_targets(("rv32",))
    body = "return (int)*(volatile const uint32_t *)(uintptr_t)0x0E000000u;"  # unmapped
    command = _crash_build("rv32", body, tmp_path)
    run = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                         timeout=60)
    assert run.returncode == 127, run.stdout + run.stderr


# ---------------------------------------------------------------- sanitizers, headers (issue 21)

FINDINGS = {
    # x has one element: reading x[1] is out of bounds (the harness's input buffer).
    "bounds": ("volatile unsigned k = 1u;\n    return (int)x[k];", "AddressSanitizer"),
    "overflow": ("volatile int32_t big = INT32_MAX;\n    s[0] = big + (int32_t)x[0] + 1;\n"
                 "    return 0;", "signed integer overflow"),
}


@pytest.mark.parametrize("kind", sorted(FINDINGS))
def test_a_sanitizer_finding_fails_the_run_with_its_report(kind, tmp_path):
    """SANITIZE=1 on the host: an out-of-bounds read (which UBSan alone lets pass) or a
    signed overflow ends the run, and the error quotes the sanitizer's finding."""
    require_tools("gcc", "make")
    body, what = FINDINGS[kind]
    command = _crash_build("host", body, tmp_path, extra=("SANITIZE=1",))
    assert "/host-sanitize/" in command[0]  # its own objects, never mixed with plain ones
    code, output, errors, _ = run_image(command, 60, "host")
    assert code != 0
    message = str(exit_error("host", code, output, errors))
    assert "a sanitizer stopped the firmware" in message and what in message, message
    assert sanitizer_finding("x.c:3: warning: w\n") is None


def test_a_model_named_like_a_system_header_cannot_shadow_it(tmp_path):
    """The build searches the generated files only for #include "...": a model whose files
    are stdint.h and stdint.c (the name check refuses it; this is the second line of
    defence) still builds against the system's <stdint.h>."""
    require_tools("gcc", "make")
    command = _crash_build("host", "return 0;", tmp_path,
                           name="stdint")
    code, output, errors, _ = run_image(command, 60, "host")
    assert code == 0 and output.rstrip().endswith(SENTINEL), output + errors
