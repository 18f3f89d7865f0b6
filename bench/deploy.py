"""Deployment benchmark (issue 5): every code-generation strategy on every installed
target, for one trained model, beside the plain int8 loop; prints the table and writes the
"## Deployment (issue 5)" section of docs/RESULTS.md (only that section).

    .venv/bin/python bench/deploy.py [--model bench/models/adult-108-16-2-l255.json]
                                     [--data-dir DIR] [--json FILE] [--no-write]

``make bench-deploy`` runs it. Every run is also checked bit for bit against ``forward``
on the golden vectors (test split when the data are found, edge cases, random inputs); a
mismatch fails the benchmark.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.sections import write_section as replace_section  # noqa: E402
from mipnn.codegen.export import generate  # noqa: E402
from mipnn.codegen.strategy import STRATEGIES  # noqa: E402
from mipnn.device import (  # noqa: E402
    FirmwareReport,
    golden_vectors,
    list_targets,
    missing_tools,
    run_firmware,
    target_info,
    vector_budget,
    write_report,
)
from mipnn.trainer.model import file_sha256, load_model  # noqa: E402

DEFAULT_MODEL = REPO / "bench" / "models" / "adult-108-16-2-l255.json"
OLD_MODEL = REPO / "bench" / "models" / "adult-108-16-2.json"  # very regular weight rows
KB = 1024  # the model flash limit; auto also runs with it as the flash budget
RESULTS = REPO / "docs" / "RESULTS.md"
HEADING = "## Deployment (issue 5)"
RUN_STRATEGIES = (*STRATEGIES, "auto")
TOOL_VERSIONS = {
    "gcc": ["gcc", "--version"],
    "arm-none-eabi-gcc": ["arm-none-eabi-gcc", "--version"],
    "avr-gcc": ["avr-gcc", "--version"],
    "riscv64-unknown-elf-gcc": ["riscv64-unknown-elf-gcc", "--version"],
    "qemu": ["qemu-system-arm", "--version"],
}


def _test_rows(model_path: Path, data_dir: Path | None, limit: int):  # noqa: ANN202
    """The model's test split (first ``limit`` rows), or None when the data are missing."""
    if data_dir is None:
        return None
    try:
        from mipnn.trainer.data import load_from_provenance

        model = load_model(model_path)
        ds = load_from_provenance(dict(model.training.get("data") or {}), data_dir=data_dir,
                                  features=model.features)
        return ds.X_test[:limit]
    except Exception as exc:  # noqa: BLE001 - the benchmark still runs without them
        print(f"note: test split not loaded ({exc}); edge and random vectors only")
        return None


def _versions() -> dict[str, str]:
    out = {}
    for name, cmd in TOOL_VERSIONS.items():
        if shutil.which(cmd[0]) is None:
            continue
        text = subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()
        out[name] = text[0].strip() if text else "?"
    simavr = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "simavr"],
                            capture_output=True, text=True)
    if simavr.returncode == 0:
        out["simavr"] = simavr.stdout.strip()
    return out


def _speed(r: FirmwareReport) -> int | None:
    return r.cycles if r.cycles is not None else r.instructions


def _budget(r: FirmwareReport) -> str:
    b = r.flash_budget
    return "-" if b is None else (f"{b / 1024:g} KB budget" if b % 1024 == 0 else f"{b:g} B")


def _key(r: FirmwareReport) -> tuple[str, str, float | None]:
    budget = r.flash_budget if r.requested_strategy == "auto" and r.flash_budget == KB else None
    return (r.target, r.requested_strategy, budget)


def _fmt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def run(model_path: Path, data_dir: Path | None, workdir: Path) -> list[FirmwareReport]:
    model = load_model(model_path)
    test_x = _test_rows(model_path, data_dir, 64)
    targets = []
    for t in list_targets():
        missing = missing_tools(t)
        if missing:
            print(f"note: skipping {t}: missing {', '.join(missing)}")
        else:
            targets.append(t)
    jobs: list[tuple[str, str, int | None]] = [
        (t, s, None) for t in targets for s in RUN_STRATEGIES]
    jobs += [(t, "auto", KB) for t in targets]
    extra = len(golden_vectors(model, None, n_random=64))

    def one(job: tuple[str, str, int | None]) -> FirmwareReport:
        target, strategy, flash_budget = job
        budget = vector_budget(target, model.input_size)
        limit = 64 if budget is None else max(0, min(64, budget - extra))
        vectors = golden_vectors(model, test_x, n_random=64, limit=limit)
        return run_firmware(model_path, target, vectors,
                            workdir=workdir / f"{target}-{strategy}-{flash_budget}",
                            strategy=strategy, measure_vectors=3, flash_budget=flash_budget)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(one, jobs))
    return reports


CURVE_BUDGETS = (768, 900, 1024, 1100, 1200, 1400)


def curve(model_path: Path, workdir: Path) -> list[str]:
    """Cortex-M3: auto under several flash budgets (budget -> measured flash and
    instructions), and the old regular model's auto figures, as table lines."""
    if missing_tools("cortex-m3"):
        return []
    model = load_model(model_path)
    vectors = golden_vectors(model, None, n_random=8, seed=0)
    lines = ["| model | target | flash budget | auto chose | model flash B "
             "| instructions (AVR: cycles) | bit-exact |", "| --- | --- | ---: | --- | ---: | ---: | --- |"]
    jobs = [(model_path, "cortex-m3", b) for b in CURVE_BUDGETS]
    jobs += [(OLD_MODEL, t, b) for t in ("cortex-m3", "avr") for b in (None, KB)
             if not missing_tools(t)]

    def one(job: tuple[Path, str, int | None]) -> FirmwareReport:
        path, target, budget = job
        vec = vectors if path == model_path else golden_vectors(load_model(path), None,
                                                                n_random=8, seed=0)
        return run_firmware(path, target, vec, workdir=workdir / f"curve-{path.stem}-{target}-{budget}",
                            flash_budget=budget, measure_vectors=3)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(one, jobs))
    for (path, target, _b), r in zip(jobs, reports, strict=True):
        lines.append(f"| `{path.name}` | {target} | {_budget(r)} | {r.strategy} | "
                     f"{_fmt(r.model_flash_bytes)} | {_fmt(_speed(r))} | "
                     f"{'yes' if r.ok else 'NO'} |")
    return lines


def table(reports: list[FirmwareReport]) -> list[str]:
    base = {r.target: _speed(r) for r in reports if r.requested_strategy == "int8"}
    base_flash = {r.target: r.model_flash_bytes for r in reports
                  if r.requested_strategy == "int8"}
    lines = [
        "| target | strategy | model flash B | model RAM B | stack of one inference B "
        "| instructions (AVR: cycles) per inference | vs int8 | model flash vs int8 "
        "| image flash B | vectors | bit-exact |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in reports:
        speed, b = _speed(r), base.get(r.target)
        ratio = f"{b / speed:.1f}x faster" if speed and b else "-"
        if r.requested_strategy == "int8":
            ratio = "baseline"
        flash_ratio = "-"
        if r.model_flash_bytes and base_flash.get(r.target):
            flash_ratio = f"{r.model_flash_bytes / base_flash[r.target]:.2f}"
        unit = " cycles" if r.cycles is not None else ""
        strategy = r.strategy if r.requested_strategy != "auto" else f"auto: {r.strategy}"
        if r.requested_strategy == "auto":
            strategy += f" ({_budget(r)})"
        elif r.strategy == "compact":
            strategy += " (all table)"
        stack = _fmt(r.call_stack_bytes) if r.call_stack_bytes is not None else (
            f"{r.model_stack_bytes} (frame)" if r.model_stack_bytes is not None else "-")
        lines.append(
            f"| {r.target} | {strategy} | {_fmt(r.model_flash_bytes)} | "
            f"{_fmt(r.model_ram_bytes)} | {stack} | {_fmt(speed)}{unit if speed else ''} | "
            f"{ratio} | {flash_ratio} | {r.flash_bytes:,} | {r.n_vectors} | "
            f"{'yes' if r.ok else 'NO'} |"
        )
    return lines


def estimates_table(model_path: Path, reports: list[FirmwareReport]) -> list[str]:
    """The cost model's estimates beside what was measured (time only needs to rank)."""
    model = load_model(model_path)
    lines = [
        "| target | profile | strategy | estimated time | measured | estimated model flash B "
        "| measured B | auto chose |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    by = {_key(r): r for r in reports}
    for target in dict.fromkeys(r.target for r in reports):
        profile = str(target_info(target)["cost_profile"] or "generic32")
        gen = generate(model, strategy="auto", profile=profile)
        for e in gen.estimates:
            if e.strategy == "compact":  # the run: all table (no budget)
                e = generate(model, strategy="compact", profile=profile).estimates[0]
            r = by.get((target, e.strategy, None))
            if r is None:
                continue
            lines.append(
                f"| {target} | {profile} | {e.strategy} | {e.time:,.0f} | "
                f"{_fmt(_speed(r))} | {e.flash:,.0f} | {_fmt(r.model_flash_bytes)} | "
                f"{'yes' if e.strategy == gen.strategy else ''} |"
            )
        r = by.get((target, "auto", KB))
        if r is not None:
            e = generate(model, strategy="auto", profile=profile, flash_budget=KB)
            est = {x.strategy: x for x in e.estimates}[e.strategy]
            lines.append(
                f"| {target} | {profile} | auto, 1 KB budget: {e.strategy} | {est.time:,.0f} | "
                f"{_fmt(_speed(r))} | {est.flash:,.0f} | {_fmt(r.model_flash_bytes)} | yes |"
            )
    return lines


def section(model_path: Path, reports: list[FirmwareReport], seconds: float,
            curve_lines: list[str] | None = None) -> str:
    model = load_model(model_path)
    rel = model_path.resolve().relative_to(REPO) if model_path.resolve().is_relative_to(
        REPO) else model_path
    shape = "-".join(str(n) for n in model.shape)
    weights = [int(abs(layer.weights).max()) for layer in model.layers]
    acc = (model.training.get("accuracy") or {}).get("test")
    data = model.training.get("data") or {}
    by = {_key(r): r for r in reports}
    m3, m3b = by.get(("cortex-m3", "auto", KB)), by.get(("cortex-m3", "int8", None))
    m3fast = by.get(("cortex-m3", "auto", None))
    avr, avrb = by.get(("avr", "auto", None)), by.get(("avr", "int8", None))
    all_exact = all(r.ok for r in reports)
    targets = sorted({r.target for r in reports})

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    done = [
        "| figure | required | plain int8 loop (baseline) | generated (auto) | |",
        "| --- | --- | ---: | ---: | --- |",
    ]
    if m3 and m3b:
        both = (m3.instructions is not None and m3.instructions <= 1000
                and m3.model_flash_bytes is not None and m3.model_flash_bytes <= 1024)
        done.append(
            f"| Cortex-M3 instructions per inference, by the code of the next row | <= 1,000 | "
            f"{_fmt(m3b.instructions)} | {_fmt(m3.instructions)} (auto, 1 KB budget: "
            f"{m3.strategy}) | {verdict(both)} |"
        )
        done.append(
            f"| Cortex-M3 model flash | <= 1,024 B | {_fmt(m3b.model_flash_bytes)} B | "
            f"{_fmt(m3.model_flash_bytes)} B | "
            f"{verdict(m3.model_flash_bytes is not None and m3.model_flash_bytes <= 1024)} |"
        )
    if m3fast:
        done.append(
            f"| (Cortex-M3, default 32 KB budget) | | | {_fmt(m3fast.instructions)} instructions, "
            f"{_fmt(m3fast.model_flash_bytes)} B ({m3fast.strategy}) | |"
        )
    if avr and avrb:
        done.append(
            f"| AVR (ATmega328P) cycles per inference | <= 10,000 | {_fmt(avrb.cycles)} | "
            f"{_fmt(avr.cycles)} ({avr.strategy}) | "
            f"{verdict(avr.cycles is not None and avr.cycles <= 10000)} |"
        )
    done.append(
        f"| bit-exact vs `forward`, every strategy on every target | all | "
        f"{'yes' if all(r.ok for r in reports if r.requested_strategy == 'int8') else 'NO'} | "
        f"{'yes' if all_exact else 'NO'} | {verdict(all_exact)} |"
    )
    m3_note = ""
    if m3:
        both = (m3.instructions is not None and m3.instructions <= 1000
                and m3.model_flash_bytes is not None and m3.model_flash_bytes <= 1024)
        m3_note = (
            f"With 1 KB, `auto` chose `{m3.strategy}` on the Cortex-M3 "
            f"({_fmt(m3.model_flash_bytes)} B, {_fmt(m3.instructions)} instructions): "
            + ("both figures are met together by the same code." if both else
               "the two figures are NOT met together for this model (see the trade-off "
               "below).")
        )
    versions = _versions()
    config = model.training.get("config") or {}
    hidden = ",".join(str(h) for h in config.get("hidden", [])) or "?"
    flags = " --no-simplify" if config.get("simplify") is False else ""
    provenance = (
        f"trained with `mipnn train --dataset {data.get('dataset', '?')} --train-size "
        f"{data.get('train_size', '?')} --hidden {hidden} --bound {config.get('bound', '?')} "
        f"--time-limit {config.get('time_limit', '?'):g}{flags}` (seed {data.get('seed', '?')}, "
        f"{model.training.get('objective', '?')}, {model.training.get('solver', '?')})"
    )
    out = [
        HEADING,
        "",
        f"Written by `bench/deploy.py` (`make bench-deploy`), {len(reports)} firmware runs in "
        f"{seconds:.0f} s on this project's 2-core machine, "
        f"{datetime.date.today().isoformat()}. Model: `{rel}` ({shape}, weights in "
        f"[-{max(weights)}, {max(weights)}], sha256 `{file_sha256(model_path)[:16]}...`, "
        f"{provenance}; test accuracy "
        f"{'-' if acc is None else f'{100 * acc:.1f}%'}). Targets: {', '.join(targets)}.",
        "",
        "### Done when",
        "",
        *done,
        "",
        "Flash budgets: `auto` picks the fastest strategy whose *estimated* model flash fits "
        "the budget; the default budget is the target's cost profile's (32 KB on the 32-bit "
        "targets and the host, 8 KB on AVR); the Cortex-M3 rows of the table above use "
        "`--flash-budget 1024`, the AVR row the default 8 KB. " + m3_note,
        "",
        "### Flash budget against speed (Cortex-M3), and the older model",
        "",
        *(curve_lines or ["(not measured)"]),
        "",
        "### Every target and strategy",
        "",
        "`auto` is what `mipnn export`/`mipnn firmware` generate by default: the strategy the "
        "target's cost model estimates fastest within its flash budget. `int8` is the plain "
        "table-driven loop with 32-bit accumulators (the baseline); `int16` the same loop "
        "with `int_fast16_t` accumulators where range analysis proves 16 bits suffice; "
        "`unrolled` straight-line add/subtract with the weights in the code (zero weights "
        "skipped, constant/duplicate/unused neurons folded, shared partial sums); `xnor` "
        "the same first layer, then +/-1 activations packed into bits with XOR/popcount; "
        "`compact` the unrolled program with first-layer input terms stored as index lists "
        "that one helper call per inference sums into a small local array (Duff's device), "
        "mixed with code terms as the flash budget allows (without a budget, as here, all "
        "table: the smallest). The unrolled forms share first-layer sums along a spanning "
        "tree with Steiner points (column-wise medians of nearby neurons).",
        "",
        *table(reports),
        "",
        "How each figure is measured (`mipnn/device/measure.py`):",
        "",
        "- *model flash / RAM*: the firmware image with the model minus the same image built "
        "with a stub `NAME_predict` (harness, vectors and startup identical); RAM is static "
        ".data + .bss (the model has none).",
        "- *stack of one inference*: the target paints its free stack before each call of "
        "`NAME_predict` and reads back the deepest word written, return address included; "
        "the largest over all vectors. On the host: the frame from `-fstack-usage`.",
        "- *instructions per inference* (QEMU 7.2, `-singlestep -d exec,nochain`): executed "
        "instructions from the entry of `NAME_predict` to the return to its caller, "
        "helper calls included; the largest of 6 calls (3 vectors, with and without "
        "`scores`). *AVR cycles*: exact simavr core cycles of the same span, `ret` "
        "included (`firmware/tools/mipnn_avr_run.c --measure`).",
        "- A stack of 0 B means the inference ran in registers only (RV32 has 31).",
        "- Host rows describe a UBSan-instrumented Linux executable (`-O2`): indicative only.",
        "- Reference points for this shape ([EMBEDDED.md](EMBEDDED.md)): CMSIS-NN's "
        "`arm_fully_connected_s8` about 7,250 instructions on a Cortex-M3 and 4,550 on a "
        "Cortex-M4; a float MLP converted to C about 172,000 on a Cortex-M3 (soft float).",
        "- All targets build with `-Os` (host `-O2`); compilers: "
        + "; ".join(f"{k}: {v}" for k, v in versions.items()) + ".",
        "",
        "### Cost model (estimates beside measurements)",
        "",
        *estimates_table(model_path, reports),
        "",
    ]
    return "\n".join(out)


def write_section(text: str, path: Path = RESULTS, heading: str = HEADING) -> None:
    """Replace the section ``heading`` (default: the deployment section) of
    docs/RESULTS.md, or add it, leaving the rest."""
    replace_section(text, heading, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="data files for the model's test split (default: "
                             "$MIPNN_DATA_DIR or ../shared/data when present)")
    parser.add_argument("--json", type=Path, help="also write every run as JSON")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    data_dir = args.data_dir
    if data_dir is None:
        import os

        env = os.environ.get("MIPNN_DATA_DIR")
        shared = REPO.parent / "shared" / "data"
        data_dir = Path(env) if env else (shared if shared.exists() else None)
    start = datetime.datetime.now()
    with tempfile.TemporaryDirectory(prefix="mipnn-bench-deploy-") as tmp:
        reports = run(args.model, data_dir, Path(tmp))
        curve_lines = curve(args.model, Path(tmp))
    seconds = (datetime.datetime.now() - start).total_seconds()
    text = section(args.model, reports, seconds, curve_lines)
    print(text)
    if args.json:
        write_report(reports, args.json, args.model)
    if not args.no_write:
        write_section(text)
        print(f"wrote the '{HEADING}' section of {RESULTS}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
