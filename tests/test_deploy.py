"""Deployment (issue 5): every code-generation strategy is bit-exact against ``forward``,
on every target, for random models (hypothesis: several shapes, weights up to +/-127,
huge biases, ties) and for trained ones; the measurements are there and plausible.
(The unrolled programs, interpreted in Python, and the cost model are tested in
tests/test_codegen_*.py.)

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
from conftest import (
    ADULT,
    BENCH_MODELS,
    FIXED_MODELS,
    REALISTIC,
    linear_model,
    random_models,
    require_tools,
    write_crash_sources,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mipnn.codegen.cost import PROFILES
from mipnn.codegen.strategy import STRATEGIES, estimate
from mipnn.trainer.model import Model, load_model, save_model

from mipnn.device import (
    count_exec_log,
    golden_vectors,
    list_targets,
    run_firmware,
    target_info,
)

TRAINED = sorted(BENCH_MODELS.glob("*.json"))
EMULATED = ("cortex-m0", "cortex-m3", "cortex-m4", "avr", "rv32")
TOOLS = {
    "host": ("gcc", "make"),
    "cortex-m0": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "cortex-m3": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "cortex-m4": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "avr": ("avr-gcc", "gcc", "make"),
    "rv32": ("riscv64-unknown-elf-gcc", "qemu-system-riscv32", "make"),
}



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
