"""The paper's benchmark (issue 3): Heart and Adult, 16 hidden neurons, objectives
sat_margin, min_hinge, max_correct and the gradient baseline (gd), 5 seeds, a time limit
per run (and, on request, the paper's MNIST cell: 784-16-10, 100 examples); writes the
section "## Paper benchmark (issue 3)" of docs/RESULTS.md.

Each finished run is appended to a cache (bench/results/paper.jsonl, one JSON object a line)
and skipped when found there, so the grid (tens of hours) can be resumed across sessions:

    .venv/bin/python bench/paper.py --quick                 # < 10 minutes
    .venv/bin/python bench/paper.py --dataset adult --n 200 --bound 1 --jobs 1
    .venv/bin/python bench/paper.py --dataset mnist --bound 1   # the paper's MNIST cell
    .venv/bin/python bench/paper.py --report-only           # rewrite the section only

A run's seed sets both the data split (the stratified draw of N training examples) and the
solvers' seeds. The training configuration is mipnn.trainer.train.TrainConfig's defaults (warm
start from the gradient baseline with output-layer polish, HiGHS then large-neighbourhood
search) plus the fields of CONFIGS, OBJECTIVE_CONFIGS and DATASET_CONFIGS for the data
set's version (VERSIONS; run_config; the grid and its configurations are in
bench/paper_grid.py). Each run records the test accuracy of the network
kept, of the networks --select val and --select train+val would keep, and (version 5 on)
the accuracies of every candidate network of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.sections import load_cache  # noqa: E402
from bench.sections import write_section as replace_section  # noqa: E402

CACHE = REPO / "bench" / "results" / "paper.jsonl"
RESULTS = REPO / "docs" / "RESULTS.md"
SECTION = "## Paper benchmark (issue 3)"
from bench.paper_grid import (  # noqa: E402
    BOUNDS,
    CONFIG_TEXT,
    CONFIGS,
    DATASET_CONFIGS,
    DATASETS,
    EXTRA_DATASETS,
    HEART_MAX_N,
    HIDDEN,
    MNIST_N,
    NS,
    OBJECTIVE_CONFIGS,
    OBJECTIVES,
    PAPER,
    SEEDS,
    SIDE_CELLS,
    VERSION,
    VERSIONS,
    run_config,
    run_key,
)


def one_run(dataset: str, n: int, bound: int, objective: str, seed: int, time_limit: float,
            data_dir: str) -> dict[str, Any]:
    """Train once and return the record (runs in a worker process, one thread)."""
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.model import accuracy, network_model
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    ds = load_dataset(dataset, data_dir=Path(data_dir), train_size=n, seed=seed)
    extra = run_config(dataset, objective)
    cfg = TrainConfig(hidden=(HIDDEN,), bound=bound, time_limit=time_limit, seed=seed,
                      threads=1, **extra)
    t0 = time.perf_counter()
    r = train(ds, cfg)
    wall = time.perf_counter() - t0
    info = r.model.training
    by_val = info.get("best_by_val") or {}
    by_tv = info.get("best_by_train_val") or {}

    # every network of the run (starts and incumbents): the selection rules compared on it
    candidates = [[round(c.time, 2), c.objective, round(c.train_accuracy, 4),
                   None if c.val_accuracy is None else round(c.val_accuracy, 4),
                   round(accuracy(network_model(c.network, ds.classes, ds.levels),
                                  ds.X_test, ds.y_test), 4)] for c in r.candidates]
    return {
        "key": run_key(dataset, n, bound, objective, seed, time_limit),
        "dataset": dataset, "n": n, "bound": bound, "objective": objective, "seed": seed,
        "time_limit": time_limit, "hidden": HIDDEN,
        "train": r.train_accuracy, "val": r.val_accuracy, "test": r.test_accuracy,
        "test_by_val": by_val.get("test", r.test_accuracy),
        "test_by_train_val": by_tv.get("test", r.test_accuracy),
        "selected": info.get("selected"), "candidates": candidates,
        "objective_value": info.get("objective_value"), "status": info.get("status"),
        "time": round(wall, 2), "build_time": info.get("build_time"),
        "start": info.get("start"), "lns": info.get("lns"), "guard": info.get("guard"),
        "teacher": info.get("teacher"),
        "incumbents": (info.get("trajectory") or {}).get("incumbents"),
        "solver": info.get("solver"),
        "machine": f"{platform.machine()} {os.cpu_count()} cpus",
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def _fmt(values: list[float], scale: float = 100.0, digits: int = 1) -> str:
    a = np.asarray(values, dtype=float) * scale
    if a.size == 1:
        return f"{a[0]:.{digits}f}"
    return f"{a.mean():.{digits}f} +/- {a.std():.{digits}f}"


def _groups(cache: dict[str, dict[str, Any]], version: int
            ) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for rec in cache.values():
        if not rec["key"].startswith(f"v{version}|"):
            continue
        k = (rec["time_limit"], rec["dataset"], rec["n"], rec["bound"], rec["objective"])
        groups.setdefault(k, []).append(rec)
    return groups


def _table(groups: dict[tuple[Any, ...], list[dict[str, Any]]], tl: float) -> list[str]:
    lines = ["| data | N | P | objective | seeds | test % | test (val-sel.) % | "
             "test (train+val-sel.) % | train % | time s | paper test % |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    keys = sorted((k for k in groups if k[0] == tl),
                  key=lambda k: (k[1], k[2], k[3], OBJECTIVES.index(k[4])
                                 if k[4] in OBJECTIVES else 9, k[4]))
    for k in keys:
        recs = sorted(groups[k], key=lambda r: r["seed"])
        seeds = ",".join(str(r["seed"]) for r in recs)
        tv = ([r["test_by_train_val"] for r in recs]
              if all("test_by_train_val" in r for r in recs) else None)
        lines.append(
            f"| {k[1]} | {k[2]} | {k[3]} | {k[4]} | {seeds} | "
            f"{_fmt([r['test'] for r in recs])} | "
            f"{_fmt([r['test_by_val'] for r in recs])} | "
            f"{'-' if tv is None else _fmt(tv)} | "
            f"{_fmt([r['train'] for r in recs])} | "
            f"{_fmt([r['time'] for r in recs], 1.0, 0)} | "
            f"{PAPER.get(k[1:], '-')} |"
        )
    return lines + [""]


def current_groups(cache: dict[str, dict[str, Any]]
                   ) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Each data set's runs of its current configuration version."""
    out: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for dataset, version in VERSIONS.items():
        out |= {k: v for k, v in _groups(cache, version).items() if k[1] == dataset}
    return out


def report(cache: dict[str, dict[str, Any]]) -> str:
    """The RESULTS.md section, from every cached run: the current configuration's tables,
    then the previous versions' 300 s tables for comparison."""
    groups = current_groups(cache)
    versions = sorted(set(VERSIONS.values()))
    config = " ".join(f"Version {v} ({', '.join(d.capitalize() for d in VERSIONS if VERSIONS[d] == v)}"
                      f"): {CONFIG_TEXT[v]}." for v in versions)
    lines = [
        SECTION,
        "",
        "Written by `bench/paper.py` from `bench/results/paper.jsonl`. Every figure below was "
        "measured on this project's 2-core machine (one thread per run, two runs at a time; "
        "other work shared the machine), HiGHS 1.16, 16 hidden neurons. "
        f"Configuration: {config} "
        "Accuracies in %, mean +/- std over the seeds listed (std over seeds, population). "
        "`test` is the test accuracy of the model the configuration keeps; `test (val-sel.)` "
        "and `test (train+val-sel.)` are, from the same runs, the test accuracy of the "
        "network `--select val` and `--select train+val` would have kept (- : not recorded "
        "by that version). Cells with fewer than 5 seeds are partial; cells not listed were "
        "not measured. Paper: Gurobi, hours per run, on a server.",
        "",
    ]
    for tl in sorted({k[0] for k in groups}, reverse=True):
        lines += [f"### Time limit {tl:g} s per run", ""]
        lines += _table(groups, tl)
    lines += _done_when(groups)
    for old in sorted((v for v in CONFIGS if v < VERSION), reverse=True):
        og = {k: recs for k, recs in _groups(cache, old).items()
              if k[0] == 300 and VERSIONS.get(k[1]) != old}
        if og:
            lines += [f"### Previous configuration (version {old}), 300 s per run", "",
                      f"Configuration: {CONFIG_TEXT[old]}.", ""]
            lines += _table(og, 300)
    lines += _grid_left(groups)
    missing = [k for k in PAPER if not any(g[1:] == k and g[0] == 300 for g in groups)]
    if missing:
        lines.append("Paper cells without a 300 s measurement in the current configuration: "
                     + ", ".join(f"{d} N={n} P={p} {o}" for d, n, p, o in missing) + ".")
        lines.append("")
    return "\n".join(lines)


def grid_cells() -> list[tuple[str, int, int, str]]:
    """The issue's grid: (data set, N, P, objective), without the side cells (SIDE_CELLS)."""
    return [(d, n, p, o) for d in DATASETS for n in NS if not (d == "heart" and n > HEART_MAX_N)
            for p in BOUNDS for o in OBJECTIVES if o not in SIDE_CELLS]


def runs_cell(dataset: str, objective: str) -> bool:
    """Whether the data set's version runs this objective's cell: a side cell only where it
    differs from gd (gd_best8 with more than one gradient run) and is configured."""
    version = VERSIONS[dataset]
    if objective == "gd_best8":
        return DATASET_CONFIGS.get(version, {}).get(dataset, {}).get("gd_restarts") != 1
    if objective in SIDE_CELLS:
        return objective in OBJECTIVE_CONFIGS.get(version, {})
    return True


def _grid_left(groups: dict[tuple[Any, ...], list[dict[str, Any]]]) -> list[str]:
    """How much of the issue's grid (300 s, 5 seeds) has no run yet, and what it costs."""
    cells = grid_cells()
    done = {k[1:]: len(v) for k, v in groups.items() if k[0] == 300}
    full = sum(1 for c in cells if done.get(c, 0) >= len(SEEDS))
    mip_runs = sum(max(0, len(SEEDS) - done.get(c, 0)) for c in cells if c[3] != "gd")
    grid = (f"The issue's grid (Heart N <= {HEART_MAX_N}, Adult N in {list(NS)}, P in {list(BOUNDS)}, "
            f"3 MIP objectives and gd, {len(SEEDS)} seeds, 300 s)")
    if full == len(cells):
        return [f"{grid}: all {len(cells)} cells complete.", ""]
    runs = "1 MIP run" if mip_runs == 1 else f"{mip_runs} MIP runs"
    return [f"{grid}: {full} of {len(cells)} cells complete; {runs} left, at most "
            f"{mip_runs * 300 / 3600:.1f} core-hours (a run stops early when HiGHS proves it "
            "optimal).", ""]


def _mean(recs: list[dict[str, Any]]) -> float:
    return float(100 * np.mean([r["test"] for r in recs]))


def _se(values: np.ndarray) -> float:
    """The standard error of a mean (sample standard deviation / sqrt(n))."""
    return float(values.std(ddof=1) / np.sqrt(values.size))


def _paired(recs: list[dict[str, Any]], base: list[dict[str, Any]]) -> str:
    """The mean test-accuracy difference to a baseline over the seeds both have, with its
    standard error (the seeds share their data split, so the pairing removes the split's
    share of the noise); '' with fewer than 2 common seeds."""
    b = {r["seed"]: r["test"] for r in base}
    d = 100 * np.array([r["test"] - b[r["seed"]] for r in recs if r["seed"] in b])
    if d.size < 2:
        return ""
    return (f" (paired over {d.size} seeds: {d.mean():+.1f} +/- {_se(d):.1f} points, "
            "mean +/- standard error)")


def _done_when(groups: dict[tuple[Any, ...], list[dict[str, Any]]]) -> list[str]:
    """The issue's acceptance figures, from the 300 s runs (partial cells say so)."""
    out = ["### Done-when check (issue 3; 300 s)", ""]
    for dataset, goal in (("adult", 80.2), ("heart", 81.4)):
        cells = {k[4]: groups[k] for k in groups
                 if k[0] == 300 and k[1] == dataset and k[2] == 200 and k[3] == 1}
        gd = cells.get("gd")
        gd_mean = _mean(gd) if gd else None
        start = cells.get("gd_best8")
        start_mean = _mean(start) if start else None
        taught = cells.get("gd_teacher")
        mip = {o: recs for o, recs in cells.items() if not o.startswith("gd")}
        if not mip:
            out.append(f"- {dataset} N=200 P=1: no MIP objective measured yet (goal {goal} %).")
            continue
        for o, recs in sorted(mip.items()):
            tests = 100 * np.array([r["test"] for r in recs])
            mean = float(tests.mean())
            part = "" if len(recs) >= 5 else f" (partial: {len(recs)} of 5 seeds)"
            vs_gd = "-" if not gd or gd_mean is None else (
                f"{'>=' if mean >= gd_mean else '<'} gradient baseline {gd_mean:.1f} %"
                + _paired(recs, gd))
            if start_mean is not None:
                vs_gd += (f"; {'>=' if mean >= start_mean else '<'} its start (best of 8 "
                          f"gradient runs) {start_mean:.1f} %")
            if taught and run_config(dataset, o).get("teacher"):
                vs_gd += (f"; against one gradient run on the same teacher's labels "
                          f"{_mean(taught):.1f} %" + _paired(recs, taught))
            ok = "meets" if mean >= goal else "misses"
            kept = run_config(dataset, o).get("select", "objective")
            se = f" +/- {_se(tests):.1f} (standard error)" if tests.size > 1 else ""
            out.append(f"- {dataset} N=200 P=1 {o}: mean test {mean:.1f}{se} % (model: --select "
                       f"{kept}){part}; {ok} the goal {goal} % for the best objective; "
                       f"{vs_gd}.")
        missing = [o for o in ("sat_margin", "min_hinge", "max_correct") if o not in mip]
        if missing:
            out.append(f"- {dataset} N=200 P=1: not measured at 300 s yet: {', '.join(missing)}.")
    # every measured cell: each MIP objective against the gradient baseline, same N and P
    below, compared, partial = [], 0, 0
    for k in sorted(groups):
        if k[0] != 300 or k[4].startswith("gd"):
            continue
        # on the seeds the cell has: a partial cell against gd's full mean would compare
        # different data splits
        seeds = {r["seed"] for r in groups[k]}
        gd = [r for r in groups.get((*k[:4], "gd"), []) if r["seed"] in seeds]
        if not gd:
            continue
        compared += 1
        part = "" if len(seeds) >= 5 else f" (partial: seeds {','.join(map(str, sorted(seeds)))})"
        partial += bool(part)
        if _mean(groups[k]) < _mean(gd):
            below.append(f"{k[1]} N={k[2]} P={k[3]} {k[4]} {_mean(groups[k]):.1f} % < "
                         f"{_mean(gd):.1f} %{part}")
    counted = f" ({partial} of them partial, each against gd on its own seeds)" if partial else ""
    out.append(f"- Each MIP objective against the gradient baseline at the same N and P: "
               f"{compared - len(below)} of {compared} measured cells at or above{counted}"
               + (f"; below: {'; '.join(below)}." if below else "."))
    out.append("")
    return out


def write_section(text: str, path: Path = RESULTS) -> None:
    """Replace (or append) this benchmark's section of RESULTS.md, leaving the others."""
    replace_section(text, SECTION, path)


def parse_seed_group(text: str) -> list[int]:
    """``"3"`` -> [3], ``"0-4"`` -> [0, 1, 2, 3, 4], ``"1,5,7"`` -> [1, 5, 7]."""
    seeds: list[int] = []
    for part in text.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        try:
            if sep:
                a, b = int(lo), int(hi)
                if b < a:
                    raise ValueError
                seeds.extend(range(a, b + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"seed group {text!r}: expected seeds such as 3, 0-4 or 1,5,7") from None
    return seeds


def run_cached(fn: Callable[..., dict[str, Any]], todo: list[tuple], jobs: int,
               cache_path: Path, cache: dict[str, dict[str, Any]],
               finished: Callable[[dict[str, Any]], None]) -> None:
    """Run ``fn(*args)`` for each tuple of ``todo`` in ``jobs`` worker processes; append each
    record (a dict with a ``key``) to ``cache_path`` and ``cache`` as it comes, then call
    ``finished(record)``. A run that raises is reported on stderr and the others go on."""
    if not todo:
        return
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(fn, *args): args for args in todo}
        for fut in as_completed(futures):
            try:
                rec = fut.result()
            except Exception as exc:  # noqa: BLE001 - report and keep going
                print(f"FAILED {futures[fut]}: {type(exc).__name__}: {exc}", file=sys.stderr,
                      flush=True)
                continue
            with cache_path.open("a") as fh:
                fh.write(json.dumps(rec) + "\n")
            cache[rec["key"]] = rec
            finished(rec)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="N=40 and 200, P=1, seed 0, 30 s per run: under 10 minutes")
    ap.add_argument("--dataset", nargs="+", choices=DATASETS + EXTRA_DATASETS,
                    default=list(DATASETS),
                    help=f"default: the issue's grid ({', '.join(DATASETS)}); mnist runs "
                         f"N={MNIST_N} only (the paper's cell), whatever --n says")
    ap.add_argument("--n", nargs="+", type=int, default=list(NS))
    ap.add_argument("--bound", nargs="+", type=int, default=list(BOUNDS))
    ap.add_argument("--objective", nargs="+", default=list(OBJECTIVES))
    ap.add_argument("--seeds", default="0-4", help="e.g. 0-4 or 0,2")
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--data-dir", default=os.environ.get(
        "MIPNN_DATA_DIR", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--dry-run", action="store_true", help="list the runs to do")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.bound, args.seeds, args.time_limit = [40, 200], [1], "0", 30.0
    try:
        seeds = parse_seed_group(args.seeds)
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    cache = load_cache(args.cache)
    todo = []
    if not args.report_only:
        for dataset in args.dataset:
            for n in [MNIST_N] if dataset == "mnist" else args.n:
                if dataset == "heart" and n > HEART_MAX_N:
                    continue
                for bound in args.bound:
                    for objective in args.objective:
                        if not runs_cell(dataset, objective):
                            continue  # e.g. gd_best8 with one gradient run: the same as gd
                        for seed in seeds:
                            key = run_key(dataset, n, bound, objective, seed, args.time_limit)
                            if key not in cache:
                                todo.append((dataset, n, bound, objective, seed))
    # cheap gradient runs first, then by cell
    todo.sort(key=lambda r: (not r[3].startswith("gd"),))
    print(f"{len(todo)} runs to do, {len(cache)} cached", flush=True)
    if args.dry_run:
        for r in todo:
            print(*r)
        return 0

    def finished(rec: dict[str, Any]) -> None:
        print(f"{rec['dataset']} N={rec['n']} P={rec['bound']} {rec['objective']} "
              f"seed {rec['seed']}: train {100 * rec['train']:.1f} test "
              f"{100 * rec['test']:.1f} (val-sel. {100 * rec['test_by_val']:.1f}) "
              f"in {rec['time']:.0f} s", flush=True)
        write_section(report(cache), args.results)

    run_cached(one_run, [(*r, args.time_limit, args.data_dir) for r in todo], args.jobs,
               args.cache, cache, finished)
    write_section(report(cache), args.results)
    print(f"wrote the section of {args.results}", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `--dry-run | head`: the reader has had enough
        # Python flushes stdout again at exit; point it at devnull so that is quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
