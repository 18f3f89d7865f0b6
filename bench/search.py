"""The search-policy benchmark (issue 24): on small instances (Heart and Adult, N=40), the
default search (the full MIP until it stalls, then large-neighbourhood search), the full MIP
alone (``--no-lns``), plain HiGHS (no warm start, no LNS) and the default pipeline on Gurobi
(``--solver gurobi-direct``), each with the same time limit; and default against
``--no-lns`` on the paper grid's small cells (N=40, 16 hidden neurons, P=1). Writes the
section "## Search policy (issue 24)" of docs/RESULTS.md: proven optima and final objectives.

Runs go one at a time with one thread (the machine is shared: a parallel run would perturb
the others), each recorded with the load average before it; every finished run is appended
to bench/results/search.jsonl and skipped when found there, so the benchmark resumes:

    .venv/bin/python bench/search.py                     # everything missing (about an hour)
    .venv/bin/python bench/search.py --rerun-loaded 2.5  # rerun runs started at load > 2.5

Before each run it waits (up to a minute) for the load average to fall below 2.5.
    .venv/bin/python bench/search.py --report-only       # rewrite the section only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.sections import load_cache as load_records  # noqa: E402
from bench.sections import write_section as replace_section  # noqa: E402

CACHE = REPO / "bench" / "results" / "search.jsonl"
RESULTS = REPO / "docs" / "RESULTS.md"
SECTION = "## Search policy (issue 24)"
N = 40
SEEDS = (0, 1)
TIME_LIMIT = 60.0
# (data set, hidden, P, levels, objective, margin): small instances, both seeds
SMALL = (
    ("heart", 4, 1, 1, "sat_margin", 2),  # the instance
    ("heart", 4, 1, 1, "max_correct", 1),
    ("heart", 3, 1, 1, "min_hinge", 1),
    ("heart", 4, 3, 1, "sat_margin", "paper"),
    ("heart", 2, 1, 255, "sat_margin", 2),
    ("adult", 4, 1, 255, "sat_margin", 2),
    ("adult", 4, 1, 255, "max_correct", 1),
    ("adult", 2, 3, 255, "min_hinge", 1),
)
# the paper grid's small cells (bench/paper.py: 16 hidden, N=40; sat_margin with margin 2,
# symmetry breaking), seed 0: over the pip Gurobi licence, so default against --no-lns
PAPER_CELLS = tuple((d, 16, 1, 255, o, 2 if o == "sat_margin" else 1)
                    for d in ("heart", "adult") for o in ("sat_margin", "max_correct",
                                                          "min_hinge"))
# method -> TrainConfig fields on top of the defaults
METHODS: dict[str, dict[str, Any]] = {
    "default": {},
    "no-lns": {"lns": False},
    "plain HiGHS": {"lns": False, "warm_start": False},
    "Gurobi direct": {"solver": "gurobi-direct"},
}
PAPER_METHODS = ("default", "no-lns")


def todo() -> list[tuple[tuple[Any, ...], int, str]]:
    """Every (instance, seed, method) of the benchmark, instance by instance."""
    out = []
    for cell in SMALL:
        for seed in SEEDS:
            out += [(cell, seed, m) for m in METHODS]
    for cell in PAPER_CELLS:
        out += [(cell, 0, m) for m in PAPER_METHODS]
    return out


def run_key(cell: tuple[Any, ...], seed: int, method: str) -> str:
    dataset, hidden, bound, levels, objective, margin = cell
    return (f"{dataset} N={N} H={hidden} P={bound} L={levels} {objective} m={margin} "
            f"seed={seed} {method} {TIME_LIMIT:g}s")


def one_run(cell: tuple[Any, ...], seed: int, method: str, data_dir: Path) -> dict[str, Any]:
    """Train once (one thread) and return the record; a solver error (e.g. the Gurobi
    licence refusing the instance) is recorded, not raised."""
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.errors import SolverError
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    dataset, hidden, bound, levels, objective, margin = cell
    ds = load_dataset(dataset, data_dir=data_dir, train_size=N, seed=seed, levels=levels)
    cfg = TrainConfig(hidden=(hidden,), bound=bound, objective=objective, margin=margin,
                      time_limit=TIME_LIMIT, seed=seed, threads=1,
                      symmetry=cell in PAPER_CELLS, **METHODS[method])
    rec: dict[str, Any] = {"key": run_key(cell, seed, method), "cell": list(cell),
                           "seed": seed, "method": method, "time_limit": TIME_LIMIT,
                           "load_before": round(os.getloadavg()[0], 2)}
    t0 = time.perf_counter()
    try:
        r = train(ds, cfg)
    except SolverError as exc:
        return rec | {"error": str(exc), "time": round(time.perf_counter() - t0, 2)}
    info = r.model.training
    return rec | {
        "status": info["status"], "objective": info["best_objective"], "bound": info["bound"],
        "time": round(time.perf_counter() - t0, 2), "solver": info["solver"],
        "train": r.train_accuracy, "test": r.test_accuracy, "mip": info["mip"],
        "margin": info["margin"], "lns": info["lns"], "search": info["search"],
        "start": info["start"]["objective"],
        "load_after": round(os.getloadavg()[0], 2),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def load_cache(path: Path = CACHE) -> dict[str, dict[str, Any]]:
    """The recorded runs by key (a rerun replaces an earlier record of its key)."""
    return load_records(path)


def cell_text(rec: dict[str, Any] | None) -> str:
    """A run as a table cell: ``**0** (21 s)`` proven optimal, ``4`` not proven, ``-``
    not run, ``licence`` when Gurobi's size-limited licence refused the instance."""
    if rec is None:
        return "-"
    if "error" in rec:
        return "licence" if "licence is too small" in rec["error"] else "error"
    value = f"{rec['objective']:.4g}" if abs(rec["objective"]) > 1e-9 else "0"
    flag = " (load)" if rec.get("load_before", 0) > LOADED else ""
    if rec["status"] == "optimal":
        return f"**{value}** ({rec['time']:.0f} s){flag}"
    return f"{value}{flag}"


LOADED = 2.5  # load average (2 cores) above which a run is flagged and may be rerun


def _instance_name(cell: tuple[Any, ...], seed: int) -> str:
    dataset, hidden, bound, levels, objective, margin = cell
    m = f", margin {margin}" if objective == "sat_margin" else ""
    return f"{dataset} H={hidden} P={bound} L={levels} {objective}{m}, seed {seed}"


def _summary(rows: list[tuple[tuple[Any, ...], int]], cache: dict[str, dict[str, Any]],
             methods: tuple[str, ...]) -> list[str]:
    out = []
    for m in methods:
        recs = [cache.get(run_key(c, s, m)) for c, s in rows]
        done = [r for r in recs if r is not None and "error" not in r]
        proven = sum(r["status"] == "optimal" for r in done)
        out.append(f"- {m}: {proven} of {len(done)} runs proven optimal"
                   + (f" ({len(recs) - len(done)} not run or refused)"
                      if len(done) < len(recs) else ""))
    worse = fewer = 0
    for c, s in rows:
        a, b = cache.get(run_key(c, s, "default")), cache.get(run_key(c, s, "no-lns"))
        if a is None or b is None or "error" in a or "error" in b:
            continue
        worse += a["objective"] > b["objective"] + 1e-9
        fewer += b["status"] == "optimal" and a["status"] != "optimal"
    out.append(f"- default against --no-lns: ends at a worse objective on {worse}, "
               f"unproven where --no-lns proved on {fewer} of {len(rows)} instances")
    return out


def report(cache: dict[str, dict[str, Any]]) -> str:
    recs = list(cache.values())
    loads = [r["load_before"] for r in recs if "load_before" in r]
    lines = [
        SECTION, "",
        "Written by `bench/search.py` from `bench/results/search.jsonl`. Each run: `mipnn "
        f"train` with N={N} training examples, a {TIME_LIMIT:g} s time limit (gradient start "
        "included), one thread, one run at a time on this project's shared 2-core machine "
        f"(load average before the runs: {min(loads, default=0):.1f} to "
        f"{max(loads, default=0):.1f}; a cell marked (load) started above {LOADED}). "
        "Methods: `default` (gradient warm start, the full MIP until it stalls for 50 % of "
        "the time, then large-neighbourhood search up to the full MIP's bound or its own stall, then the full MIP again), `no-lns` "
        "(`--no-lns`: the full MIP gets all the time), `plain HiGHS` (`--no-warm-start "
        "--no-lns`: the all-zero network starts HiGHS), `Gurobi direct` (`--solver "
        "gurobi-direct`, the default pipeline on Gurobi with PyPI's size-limited licence). "
        "A cell is the final (best) objective; **bold** with the run's time: proven optimal; "
        "`licence`: over the licence's 2,000 variables or constraints. A rerun replaces "
        "a cell (`--rerun-loaded`); bench/results/search.jsonl keeps every run.", "",
        "Small instances (levels L: inputs in [0, L]):", "",
        "| instance | " + " | ".join(METHODS) + " |",
        "| --- |" + " --- |" * len(METHODS),
    ]
    small = [(c, s) for c in SMALL for s in SEEDS]
    for c, s in small:
        cells = [cell_text(cache.get(run_key(c, s, m))) for m in METHODS]
        lines.append(f"| {_instance_name(c, s)} | " + " | ".join(cells) + " |")
    lines += ["", *_summary(small, cache, tuple(METHODS)), "",
              "The paper grid's small cells (16 hidden neurons, N=40, P=1, symmetry breaking "
              "as bench/paper.py; over the pip Gurobi licence):", "",
              "| instance | " + " | ".join(PAPER_METHODS) + " |",
              "| --- |" + " --- |" * len(PAPER_METHODS)]
    paper = [(c, 0) for c in PAPER_CELLS]
    for c, s in paper:
        cells = [cell_text(cache.get(run_key(c, s, m))) for m in PAPER_METHODS]
        lines.append(f"| {_instance_name(c, s)} | " + " | ".join(cells) + " |")
    lines += ["", *_summary(paper, cache, PAPER_METHODS)]
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = RESULTS) -> None:
    """Replace (or append) this benchmark's section of RESULTS.md, leaving the others."""
    replace_section(text, SECTION, path)


def wait_for_load(limit: float, timeout: float = 60.0) -> None:
    """Wait (at most ``timeout`` s) until the 1-minute load average is below ``limit``."""
    t0 = time.monotonic()
    while os.getloadavg()[0] >= limit and time.monotonic() - t0 < timeout:
        time.sleep(5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path,
                    default=Path(os.environ.get("MIPNN_DATA_DIR", REPO.parent / "shared" / "data")))
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--rerun-loaded", type=float, metavar="LOAD",
                    help="rerun the recorded runs that started at a load average above LOAD")
    ap.add_argument("--only", metavar="TEXT", help="run only the keys containing TEXT")
    ap.add_argument("--wait-load", type=float, default=LOADED, metavar="LOAD",
                    help="before each run, wait up to a minute for the load average to "
                         "fall below LOAD")
    args = ap.parse_args(argv)
    cache = load_cache()
    if not args.report_only:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        for cell, seed, method in todo():
            key = run_key(cell, seed, method)
            old = cache.get(key)
            rerun = (args.rerun_loaded is not None and old is not None
                     and old.get("load_before", 0) > args.rerun_loaded)
            if (old is not None and not rerun) or (args.only and args.only not in key):
                continue
            wait_for_load(args.wait_load)
            rec = one_run(cell, seed, method, args.data_dir)
            cache[key] = rec
            with CACHE.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"{key}: {cell_text(rec)}" + (f" [{rec['time']:.0f} s]" if 'time' in rec else ""),
                  flush=True)
            write_section(report(cache))
    write_section(report(cache))
    print(report(cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
