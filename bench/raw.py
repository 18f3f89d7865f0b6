"""Raw values on the device (issue 23): the cost of ``NAME_predict_raw`` (raw readings and
category codes in, ARCHITECTURE.md 8) beside ``NAME_predict`` (quantised inputs in), and of
``NAME_encode`` alone, for every strategy on every installed target; prints the table and
writes the "## Raw values on the device (issue 23)" section of docs/RESULTS.md (only that
section).

    .venv/bin/python bench/raw.py [--model bench/models/adult-108-16-2.json]
                                  [--data-dir DIR] [--json FILE] [--no-write]

``make bench-raw`` runs it.
The model is the Adult bench model, a version-1 file, made version 2 by ``version_2``:
its numeric columns are integers, so each gets scale 1 and raw_min/raw_max = its min/max
(the network is unchanged; the encoding of its numeric inputs becomes section 8's exact
integer formula). Every run is also checked bit for bit (the test split as raw values when
the data are found, every int32 edge, random rows); a mismatch fails the benchmark.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.sections import write_section  # noqa: E402
from mipnn.codegen.strategy import STRATEGIES  # noqa: E402
from mipnn.device import (  # noqa: E402
    FirmwareReport,
    golden_vectors,
    list_targets,
    missing_tools,
    raw_golden_vectors,
    run_firmware,
    write_report,
)
from mipnn.trainer.model import Model, file_sha256, load_model, save_model  # noqa: E402

DEFAULT_MODEL = REPO / "bench" / "models" / "adult-108-16-2.json"
RESULTS = REPO / "docs" / "RESULTS.md"
HEADING = "## Raw values on the device (issue 23)"
GOAL = 1.25  # NAME_predict_raw at most this many times NAME_predict (Cortex-M3 and AVR)
RUN_STRATEGIES = (*STRATEGIES, "auto")
MEASURED = 12  # vectors (and raw vectors: the first test rows) whose calls are counted


def version_2(model: Model) -> Model:
    """The model as version 2: every numeric feature, whose training range must be
    integers, gets scale 1 and that range as raw_min/raw_max (ValueError otherwise)."""
    data = json.loads(model.to_json())  # a copy: to_dict shares the feature dicts
    data["version"] = 2
    for f in data["input"]["features"]:
        if f["kind"] != "numeric":
            continue
        if f["min"] != int(f["min"]) or f["max"] != int(f["max"]):
            raise ValueError(f"feature {f['name']!r}: its range is not integers")
        f.update(scale=1, raw_min=int(f["min"]), raw_max=int(f["max"]))
    from mipnn.trainer.model import model_from_dict

    return model_from_dict(data, source="version_2")


def _test_raw(model: Model, data_dir: Path | None, limit: int):  # noqa: ANN202
    """The model's test split as raw values (first ``limit`` rows), or None."""
    if data_dir is None:
        return None, None
    try:
        from mipnn.trainer.data import load_from_provenance

        ds = load_from_provenance(dict(model.training.get("data") or {}), data_dir=data_dir,
                                  features=model.features)
        return ds.X_test[:limit], ds.raw_test[:limit]
    except Exception as exc:  # noqa: BLE001 - the benchmark still runs without them
        print(f"note: test split not loaded ({exc}); edge and random vectors only")
        return None, None


def run(model_path: Path, data_dir: Path | None, workdir: Path) -> list[FirmwareReport]:
    """Every strategy on every installed target (measured), two runs at a time."""
    model = load_model(model_path)
    test_x, test_raw = _test_raw(model, data_dir, 48)
    vectors = golden_vectors(model, test_x, n_random=16)
    raw = raw_golden_vectors(model, test_raw, n_random=16)
    targets = [t for t in list_targets() if not missing_tools(t)]
    jobs = [(t, s) for t in targets for s in RUN_STRATEGIES]

    def one(job: tuple[str, str]) -> FirmwareReport:
        target, strategy = job
        return run_firmware(model_path, target, vectors, workdir=workdir / target,
                            strategy=strategy, raw_vectors=raw, measure_vectors=MEASURED)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, jobs))


def _fmt(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _pair(r: FirmwareReport) -> tuple[int | None, int | None, int | None]:
    """(predict, predict_raw, encode): instructions, or AVR cycles."""
    if r.cycles is not None:
        return r.cycles, r.raw_cycles, r.encode_cycles
    return r.instructions, r.raw_instructions, r.encode_instructions


def ratio(r: FirmwareReport) -> float | None:
    """NAME_predict_raw over NAME_predict (None when not counted)."""
    plain, raw, _ = _pair(r)
    return None if not plain or raw is None else raw / plain


def table(reports: list[FirmwareReport]) -> list[str]:
    """One row per run."""
    lines = ["| target | strategy | predict | predict_raw | raw / predict | encode | "
             "model flash B (with raw entry points) | vectors (raw) | bit-exact |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in sorted(reports, key=lambda r: (r.target, RUN_STRATEGIES.index(r.requested_strategy))):
        plain, raw, enc = _pair(r)
        unit = " cycles" if r.cycles is not None else ""
        q = ratio(r)
        strategy = r.strategy if r.requested_strategy != "auto" else f"auto: {r.strategy}"
        lines.append(
            f"| {r.target} | {strategy} | {_fmt(plain)}{unit if plain else ''} | "
            f"{_fmt(raw)}{unit if raw else ''} | {'-' if q is None else f'{q:.2f}'} | "
            f"{_fmt(enc)}{unit if enc else ''} | {_fmt(r.model_flash_bytes)} | "
            f"{r.n_vectors} ({r.raw_vectors}) | {'yes' if r.ok else 'NO'} |")
    return lines


def section(model_path: Path, reports: list[FirmwareReport], seconds: float) -> str:
    """The RESULTS.md section: how it was measured, the done-when figures, the table."""
    targets = sorted({r.target for r in reports})
    out = [
        HEADING,
        "",
        f"Written by `bench/raw.py`, {len(reports)} firmware runs in {seconds:.0f} s on this "
        f"project's 2-core machine, {datetime.date.today().isoformat()}. Model: "
        f"`{model_path.relative_to(REPO) if model_path.is_relative_to(REPO) else model_path}` "
        f"(sha256 `{file_sha256(model_path)[:16]}...`), made version 2 by `version_2` in "
        "`bench/raw.py`: its six numeric Adult columns are integers, so each has scale 1 and "
        "its training range as raw_min/raw_max (the network is unchanged). Targets: "
        f"{', '.join(targets)}.",
        "",
        "`predict` is `NAME_predict` on quantised inputs, `predict_raw` is `NAME_predict_raw` "
        "on one `int32_t` per raw column (14: 6 numeric, 8 category codes), `encode` is "
        "`NAME_encode` alone; instructions per call counted from QEMU's exec log (calls from "
        "the harness only), exact cycles on the AVR (simavr), the largest over the measured "
        f"vectors (the first {MEASURED} of each set, test rows when the data are found). "
        "`unrolled` and `xnor` compute `predict_raw` as their own program: a "
        "`switch` per category code adds that code's first-layer weights times L (no one-hot "
        "byte is written or read), numeric inputs are encoded into locals; `int8`, `int16` "
        "and `compact` keep flash small and call `predict` on `encode`'s output. The model "
        "flash includes all three functions (the harness calls them all).",
        "",
        "### Done when",
        "",
        "| target | strategy (auto) | predict | predict_raw | raw / predict | required | |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for target in ("cortex-m3", "avr"):
        auto = [r for r in reports if r.target == target and r.requested_strategy == "auto"]
        for r in auto:
            plain, raw, _ = _pair(r)
            q = ratio(r)
            met = q is not None and q <= GOAL and r.ok
            unit = " cycles" if r.cycles is not None else ""
            out.append(f"| {target} | {r.strategy} | {_fmt(plain)}{unit} | {_fmt(raw)}{unit} | "
                       f"{'-' if q is None else f'{q:.2f}'} | <= {GOAL} | "
                       f"{'met' if met else 'NOT met'} |")
    out += ["", "### Every target and strategy", "", *table(reports), ""]
    return "\n".join(out)


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
    with tempfile.TemporaryDirectory(prefix="mipnn-bench-raw-") as tmp:
        path = save_model(version_2(load_model(args.model)), Path(tmp) / "adult.json")
        reports = run(path, data_dir, Path(tmp))
    seconds = (datetime.datetime.now() - start).total_seconds()
    text = section(args.model, reports, seconds)
    print(text)
    if args.json:
        write_report(reports, args.json, args.model)
    if not args.no_write:
        write_section(text, HEADING, RESULTS)
        print(f"wrote the '{HEADING}' section of {RESULTS}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
