"""Measurements (mipnn/device/measure.py): instruction counting from a QEMU exec log, the
model's own flash and RAM, the stack of one inference and the instructions or cycles of one
inference on every emulated target, and the deployment figures of issue 5."""

from __future__ import annotations

import json

import pytest
from conftest import ADULT, EMULATED, REALISTIC, require_targets
from helpers_models import linear_model

from mipnn.device.driver import run_firmware
from mipnn.device.measure import count_exec_log
from mipnn.device.vectors import golden_vectors
from mipnn.trainer.model import load_model, save_model


def test_count_exec_log(tmp_path):
    log = tmp_path / "exec.log"
    lines = []
    for pc in [0x10, 0x40, 0x42, 0x44, 0x100, 0x102, 0x46, 0x12, 0x40, 0x42, 0x14, 0x40]:
        lines.append(f"Trace 0: 0x7f0000 [00000000/{pc:08x}/00000110/ff000201] f\n")
    log.write_text("".join(lines) + "Linking TBs\n")
    # main is [0x10, 0x20): calls end when the PC is back there.
    assert count_exec_log(log, 0x40, [(0x10, 0x20)]) == [6, 2]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("deploy")


@pytest.mark.emulator
def test_adult_model_meets_the_deployment_figures(workdir):
    """The done-when figures of issue 5, as a regression test (docs/RESULTS.md)."""
    require_targets(("cortex-m3", "avr"))
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
    require_targets(("cortex-m3",))
    vectors = golden_vectors(load_model(REALISTIC), n_random=8, seed=0)
    r = run_firmware(REALISTIC, "cortex-m3", vectors, workdir=workdir / "kb",
                     flash_budget=1024)
    assert r.ok and r.strategy == "compact" and r.flash_budget == 1024
    assert r.model_flash_bytes is not None and r.model_flash_bytes <= 1024
    assert r.instructions is not None and r.instructions <= 1000, r.instructions


@pytest.mark.emulator
@pytest.mark.parametrize("target", EMULATED)
def test_measurements_on_each_target(target, workdir):
    require_targets((target,))
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
