"""Run a pre-registered comparison on fresh seeds: named `mipnn train` option sets, each on
every seed, a few runs at a time; one JSON record per run in a cache (resumable), then a
table of each set's mean test accuracy and its paired difference to the first set.

    .venv/bin/python bench/research/fresh_seeds.py --seeds 50-59 \
        --common "--dataset heart --train-size 200 -P 1 --threads 1 --time-limit 300" \
        --run "gd=--objective gd" \
        --run "sat_margin teacher=--objective sat_margin --margin 2 --teacher logreg" \
        --cache bench/research/results/heart200_p1_teacher_seeds50-59.jsonl --jobs 2

The first `--run` is the baseline of the paired differences. `--report-only` prints the
table from the cache.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def parse_runs(items: list[str]) -> list[tuple[str, list[str]]]:
    """``NAME=OPTIONS`` pairs, in order; names unique."""
    runs: list[tuple[str, list[str]]] = []
    for item in items:
        name, sep, options = item.partition("=")
        if not sep or not name.strip():
            raise argparse.ArgumentTypeError(f"--run {item!r}: expected NAME=OPTIONS")
        if any(name == n for n, _ in runs):
            raise argparse.ArgumentTypeError(f"--run {name!r} given twice")
        runs.append((name.strip(), shlex.split(options)))
    return runs


def one_run(name: str, argv: list[str], seed: int, mipnn: str) -> dict[str, Any]:
    """``mipnn train ARGV --seed SEED`` into a temporary model file; its record."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m.json"
        t0 = time.perf_counter()
        proc = subprocess.run([mipnn, "train", *argv, "--seed", str(seed), "--quiet",
                               "--out", str(out)], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{name} seed {seed}: exit {proc.returncode}: "
                               f"{proc.stderr.strip().splitlines()[-1:]}")
        model = json.loads(out.read_text())
    training = model["training"]
    return {
        "key": f"{name}|s{seed}", "run": name, "seed": seed, "argv": argv,
        "train": training["accuracy"]["train"], "val": training["accuracy"]["val"],
        "test": training["accuracy"]["test"],
        "nonzero_weights": sum(int(w != 0) for layer in model["layers"]
                               for row in layer["weights"] for w in row),
        "hidden_after": [len(layer["bias"]) for layer in model["layers"][:-1]],
        "status": training.get("status"), "objective_value": training.get("objective_value"),
        "teacher": training.get("teacher"), "time": round(wall, 1),
        "config": training.get("config"),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def report(records: list[dict[str, Any]], names: list[str]) -> str:
    by = {(r["run"], r["seed"]): r for r in records}
    names = names or list(dict.fromkeys(r["run"] for r in records))
    base = names[0]
    lines = [f"| run | seeds | test % | vs {base} (points, +/- standard error) | train % |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name in names:
        seeds = sorted(s for (n, s) in by if n == name)
        if not seeds:
            continue
        test = [100 * by[(name, s)]["test"] for s in seeds]
        train = [100 * by[(name, s)]["train"] for s in seeds]
        paired = [100 * (by[(name, s)]["test"] - by[(base, s)]["test"])
                  for s in seeds if (base, s) in by]
        diff = ""
        if name != base and len(paired) > 1:
            se = statistics.stdev(paired) / math.sqrt(len(paired))
            diff = f"{statistics.mean(paired):+.1f} +/- {se:.1f}"
        lines.append(f"| {name} | {len(seeds)} | {statistics.mean(test):.1f} | {diff} | "
                     f"{statistics.mean(train):.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO))
    from bench.paper import parse_seed_group

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", required=True)
    ap.add_argument("--common", default="", help="options of every run")
    ap.add_argument("--run", action="append", default=[], metavar="NAME=OPTIONS")
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--mipnn", default=str(Path(sys.executable).parent / "mipnn"),
                    help="the mipnn command (default: the one beside this Python)")
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)
    try:
        seeds = parse_seed_group(args.seeds)
        runs = parse_runs(args.run)
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    records = []
    if args.cache.exists():
        records = [json.loads(line) for line in args.cache.read_text().splitlines() if line]
    done = {r["key"] for r in records}
    # seed by seed, so that a stopped comparison has every run of its first seeds
    todo = [(name, shlex.split(args.common) + opts, seed) for seed in seeds
            for name, opts in runs if f"{name}|s{seed}" not in done]
    if not args.report_only and todo:
        if not os.access(args.mipnn, os.X_OK):
            ap.error(f"--mipnn {args.mipnn}: not an executable (run `make venv`)")
        print(f"{len(todo)} runs to do, {len(records)} cached", flush=True)
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {pool.submit(one_run, n, a, s, args.mipnn): (n, s) for n, a, s in todo}
            for fut in as_completed(futures):
                try:
                    rec = fut.result()
                except Exception as exc:  # noqa: BLE001 - report and keep going
                    print(f"FAILED {futures[fut]}: {exc}", file=sys.stderr, flush=True)
                    continue
                with args.cache.open("a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                records.append(rec)
                print(f"{rec['run']} seed {rec['seed']}: test {100 * rec['test']:.1f} %, "
                      f"train {100 * rec['train']:.1f} %, {rec['time']:.0f} s", flush=True)
    print(report(records, [name for name, _ in runs]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
