"""Reports (mipnn/device/report.py): the table ``mipnn firmware`` prints and the JSON
report, for one run and for every target."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import EMULATED, TARGET_TOOLS, require_targets
from helpers_models import linear_model

from mipnn.cli import main
from mipnn.device.report import (
    FirmwareReport,
    table_header,
    table_legend,
    table_row,
    write_report,
)
from mipnn.trainer.model import save_model


def test_the_table_and_the_json_report_of_one_run(tmp_path):
    report = FirmwareReport(
        target="cortex-m3", name="lin", n_vectors=12, mismatches=[], flash_bytes=5120,
        ram_bytes=64, stack_reserved_bytes=4096, model_flash_bytes=412, model_stack_bytes=16,
        build_seconds=1.0, run_seconds=0.5, elapsed=2.0, output="", strategy="unrolled",
        requested_strategy="auto", model_ram_bytes=0, call_stack_bytes=24, instructions=300,
        counted_calls=[300, 290],
    )
    header = table_header()
    row = table_row(report)
    assert header.split() == ["target", "vectors", "differ", "flash", "B", "RAM", "B", "model",
                              "flash", "B", "model", "RAM", "B", "stack", "B", "instr",
                              "cycles", "raw", "encode", "strategy", "verdict"]
    assert row == ("cortex-m3       12      0     5120     64           412           0 "
                   "     24     300       -       -       -  unrolled  bit-exact")
    assert len(row) == len(header) + len("bit-exact") - len("verdict")
    assert table_legend().startswith("flash, RAM: the whole image")
    path = write_report([report], tmp_path / "r" / "report.json")
    data = json.loads(path.read_text())
    assert data["format"] == "mipnn.firmware-report" and data["version"] == 1
    assert data["model"] is None and data["model_sha256"] is None
    run = data["runs"][0]
    assert run["instructions_per_inference"] == 300 and run["cycles_per_inference"] is None
    assert run["bit_exact"] and run["counted_calls"] == [300, 290]
    assert run["seconds"] == {"build": 1.0, "run": 0.5, "measure": 0.0, "total": 2.0}
    assert run["raw_vectors"] == 0 and run["raw_instructions_per_inference"] is None


def test_raw_figures_in_the_table_the_summary_and_the_json_report():
    """A version-2 model: raw vectors count in vectors and differ; the instructions (AVR:
    cycles) of NAME_predict_raw and NAME_encode in their own columns and fields."""
    from mipnn.device.rawcheck import RawMismatch

    bad = RawMismatch(index=4, expected_class=1, expected_scores=(0, 3), got_class=1,
                      got_scores=(0, 3), input_position=7, expected_input=255, got_input=0)
    report = FirmwareReport(
        target="avr", name="m", n_vectors=10, mismatches=[], flash_bytes=9000, ram_bytes=500,
        stack_reserved_bytes=0, model_flash_bytes=3000, model_stack_bytes=18,
        build_seconds=1.0, run_seconds=0.5, elapsed=2.0, output="", strategy="unrolled",
        requested_strategy="auto", model_ram_bytes=0, call_stack_bytes=18, cycles=894,
        raw_vectors=30, raw_mismatches=[bad], raw_cycles=830, encode_cycles=864,
    )
    row = table_row(report)
    assert row.split()[1:3] == ["40", "1"] and row.split()[-4:] == ["830", "864", "unrolled",
                                                                     "MISMATCH"]
    assert not report.ok
    assert report.describe_mismatches() == [
        "raw vector 4: encode ERROR at x[7]: Act: 0 Ref: 255; class Act: 1 Ref: 1"]
    assert "predict_raw 830 cycles, encode 864 cycles" in report.summary()
    data = report.to_dict()
    assert (data["raw_vectors"], data["raw_mismatches"], data["raw_cycles_per_inference"],
            data["encode_cycles"], data["encode_instructions"]) == (30, 1, 830, 864, None)


def _cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.mark.emulator
def test_firmware_all_targets_table_and_json_report(tmp_path):
    require_targets(("host", *EMULATED))
    model = linear_model()
    path = save_model(model, tmp_path / "lin.json")
    report = tmp_path / "r" / "report.json"
    result = _cli("firmware", str(path), "--target", "all", "--strategy", "int8",
                  "--strategy", "auto", "--random", "8", "--report", str(report))
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()
            if line.split() and line.split()[0] in TARGET_TOOLS]
    assert sorted({r[0] for r in rows}) == sorted(TARGET_TOOLS)
    assert len(rows) == 2 * len(TARGET_TOOLS) and all(r[-1] == "bit-exact" for r in rows)
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
