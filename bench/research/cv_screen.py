"""Screen a training configuration by K-fold cross-validation on the training set only.

The paper benchmark's test sets have been looked at for the seeds it has used, so a new idea
for a data set like Heart (61 test examples a seed) cannot be chosen on them. This script
estimates, without reading any test label, whether a change helps: for each seed, the N
training examples of that seed's split are cut into K stratified folds; the configuration
and the gradient baseline (one run, the paper's) are each trained on K-1 folds and count
the held-out fold's examples they classify, over all K folds (every training example is
held out once). The paired difference (configuration - gradient baseline, in held-out
examples of N) is what a pre-registered run on fresh seeds would then test.

The configuration is the paper benchmark's for the data set's version (bench/paper.py,
run_config) with the changes given by `--levels` (input resolution L, for both the
configuration and its gradient baseline) and `--set FIELD=VALUE` (TrainConfig fields).
Runs are cached in bench/research/results/cv_screen.jsonl and skipped when found there.

    .venv/bin/python bench/research/cv_screen.py --dataset heart --n 200 --objective sat_margin \
        max_correct --levels 255 15 3 --seeds 60-65 --folds 5 --time-limit 16 --jobs 2
    .venv/bin/python bench/research/cv_screen.py --report-only
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "bench" / "research" / "results" / "cv_screen.jsonl"


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``FIELD=VALUE`` pairs; VALUE is read as JSON when it parses (2, 0.05, true), else text."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise argparse.ArgumentTypeError(f"--set {item!r}: expected FIELD=VALUE")
        try:
            out[name] = json.loads(text)
        except json.JSONDecodeError:
            out[name] = text
    return out


def run_key(rec: dict[str, Any]) -> str:
    sets = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(rec["set"].items()))
    bag = f"|bag{rec['bag']}" if rec.get("bag") else ""
    return (f"v{rec['version']}|{rec['dataset']}|N{rec['n']}|P{rec['bound']}|"
            f"{rec['objective']}|L{rec['levels']}|s{rec['seed']}|K{rec['folds']}|"
            f"t{rec['time_limit']:g}|{sets}{bag}")


def consensus(nets: list[list[tuple[np.ndarray, np.ndarray]]],
              start: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each parameter the mean of ``nets``' rounded to the nearest integer, a tie (half-way)
    to the side of the common start's value: a change from the start survives only where
    more than half the networks (by value) agree on it."""
    out = []
    for li, (W0, b0) in enumerate(start):
        layer = []
        for k, a0 in ((0, W0), (1, b0)):
            mean = np.mean([net[li][k] for net in nets], axis=0)
            lo, hi = np.floor(mean), np.ceil(mean)
            tie = np.isclose(mean - lo, 0.5)
            layer.append(np.where(tie, np.where(a0 <= lo, lo, hi), np.rint(mean))
                         .astype(np.int64))
        out.append((layer[0], layer[1]))
    return out


def _bagged(sub: Any, cfg: Any, bag: int) -> Any:
    """The consensus of ``bag`` MIP runs, each on bag-1 of bag stratified parts of ``sub``'s
    training set, all started from one gradient network on all of it (so their neurons
    stay aligned), sharing ``cfg.time_limit``. Returns the consensus network's Model and
    the gradient network's."""
    from dataclasses import replace

    from sklearn.model_selection import StratifiedKFold

    from mipnn.trainer.model import network_model
    from mipnn.trainer.start import start_network_from_model
    from mipnn.trainer.train import train

    X, y = sub.X_train, sub.y_train
    gd = train(sub, replace(cfg, objective="gd"))
    start = start_network_from_model(gd.model, cfg, sub)
    inner = replace(cfg, time_limit=cfg.time_limit / bag, symmetry=False, simplify=False)
    nets = []
    parts = StratifiedKFold(n_splits=bag, shuffle=True, random_state=cfg.seed)
    for b, (fit, _) in enumerate(parts.split(X, y)):
        part = copy.copy(sub)
        part.X_train, part.y_train = X[fit], y[fit]
        res = train(part, replace(inner, seed=cfg.seed * 10 + b), start_network=start)
        nets.append([(layer.weights, layer.bias) for layer in res.model.layers])
    return (network_model(consensus(nets, start), sub.classes, sub.levels, "bag", None),
            gd.model)


def one_run(dataset: str, n: int, bound: int, objective: str, levels: int, seed: int,
            folds: int, time_limit: float, sets: dict[str, Any], data_dir: str,
            bag: int = 0) -> dict[str, Any]:
    """Held-out examples classified over ``folds`` folds of the training set (a worker).
    ``sets`` changes TrainConfig fields on top of the benchmark's (``{}`` for gd); ``bag``
    > 0 keeps the consensus of that many sub-sample runs (``_bagged``) instead of one run."""
    from dataclasses import replace

    from sklearn.model_selection import StratifiedKFold

    from bench.paper import HIDDEN, VERSIONS, run_config
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.model import accuracy
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    ds = load_dataset(dataset, data_dir=Path(data_dir), train_size=n, seed=seed,
                      levels=levels)
    extra = run_config(dataset, objective) | sets
    cfg = TrainConfig(hidden=(HIDDEN,), bound=bound, time_limit=time_limit, seed=seed,
                      threads=1, **extra)
    cfg.check()
    X, y = ds.X_train, ds.y_train
    correct = start_correct = 0
    bagged = bool(bag) and objective != "gd"
    t0 = time.perf_counter()
    split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for part, (fit, out) in enumerate(split.split(X, y)):
        sub = copy.copy(ds)
        sub.X_train, sub.y_train = X[fit], y[fit]
        fold_cfg = replace(cfg, seed=seed * 1000 + part)
        if bagged:
            model, start = _bagged(sub, fold_cfg, bag)
            start_correct += int(round(accuracy(start, X[out], y[out]) * len(out)))
        else:
            model = train(sub, fold_cfg).model
        correct += int(round(accuracy(model, X[out], y[out]) * len(out)))
    rec = {"version": VERSIONS[dataset], "dataset": dataset, "n": n, "bound": bound,
           "objective": objective, "levels": levels, "seed": seed, "folds": folds,
           "time_limit": time_limit, "set": sets, "bag": bag,
           "held_out_correct": correct, "held_out": int(len(y)),
           # the common start of a consensus: equals the paired gradient run's count
           **({"start_held_out_correct": start_correct} if bagged else {}),
           "time": round(time.perf_counter() - t0, 1),
           "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
    rec["key"] = run_key(rec)
    return rec


def seed_text(seeds: list[int]) -> str:
    """``[60, 61, 62, 65]`` -> ``"60-62,65"``."""
    runs: list[list[int]] = []
    for s in sorted(seeds):
        if runs and runs[-1][1] == s - 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def report(cache: dict[str, dict[str, Any]]) -> str:
    """One row per configuration: held-out accuracy and the paired difference to the
    gradient baseline at the same configuration version, data set, N, P, L, seed, folds and
    time limit (the data column names the version: `heart v7`)."""
    def pairing(r: dict[str, Any]) -> tuple:
        return (r["dataset"], r["n"], r["bound"], r["levels"], r["seed"], r["folds"],
                r["time_limit"], r["version"])

    gd = {pairing(r): r for r in cache.values()
          if r["objective"] == "gd" and not r["set"]}
    groups: dict[tuple, list[tuple[dict, dict]]] = {}
    for r in cache.values():
        if r["objective"] == "gd" and not r["set"]:
            continue
        base = gd.get(pairing(r))
        if base is None:
            continue
        changes = [f"{k}={v}" for k, v in sorted(r["set"].items())]
        if r.get("bag"):
            changes.append(f"consensus of {r['bag']} sub-sample runs")
        sets = ", ".join(changes) or "-"
        key = (f"{r['dataset']} v{r['version']}", r["n"], r["bound"], r["objective"], sets,
               r["levels"], r["folds"], r["time_limit"])
        groups.setdefault(key, []).append((r, base))
    lines = ["| data | N | P | objective | changes | L | K | s per fold | seeds | held-out % "
             "| gradient % | difference (examples of N) |",
             "| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    # the gradient baseline's own rows (every L measured, with or without a configuration)
    gd_groups: dict[tuple, list[dict]] = {}
    for r in gd.values():
        gd_groups.setdefault((f"{r['dataset']} v{r['version']}", r["n"], r["bound"], "gd",
                              "-", r["levels"], r["folds"], r["time_limit"]), []).append(r)
    for key in sorted(gd_groups):
        runs = sorted(gd_groups[key], key=lambda r: r["seed"])
        n = runs[0]["held_out"]
        seeds = seed_text([r["seed"] for r in runs])
        mean = sum(r["held_out_correct"] for r in runs) / len(runs)
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | gd | - | {key[5]} | {key[6]} | "
                     f"{key[7]:g} | {seeds} | {100 * mean / n:.1f} | | |")
    for key in sorted(groups):
        pairs = sorted(groups[key], key=lambda p: p[0]["seed"])
        n = pairs[0][0]["held_out"]
        mine = [p[0]["held_out_correct"] for p in pairs]
        base = [p[1]["held_out_correct"] for p in pairs]
        diff = [a - b for a, b in zip(mine, base, strict=True)]
        mean = statistics.mean(diff)
        if len(diff) > 1:
            se = statistics.stdev(diff) / math.sqrt(len(diff))
            spread = f"{mean:+.1f} +/- {se:.1f}"
        else:
            spread = f"{mean:+.1f} (one seed)"
        seeds = seed_text([p[0]["seed"] for p in pairs])
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {key[4]} | {key[5]} | {key[6]} | "
            f"{key[7]:g} | {seeds} | {100 * sum(mine) / len(mine) / n:.1f} | "
            f"{100 * sum(base) / len(base) / n:.1f} | {spread} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from bench.paper import (
        DATASETS,
        EXTRA_DATASETS,
        VERSIONS,
        load_cache,
        parse_seed_group,
        run_cached,
    )

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=DATASETS + EXTRA_DATASETS, default="heart")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--bound", type=int, default=1)
    ap.add_argument("--objective", nargs="+", default=["sat_margin", "max_correct"])
    ap.add_argument("--levels", nargs="+", type=int, default=[255])
    ap.add_argument("--set", nargs="*", default=[], metavar="FIELD=VALUE",
                    help="TrainConfig fields changed for the objectives given (gd among "
                         "them: a changed gradient run, beside the plain one it is paired "
                         "with)")
    ap.add_argument("--seeds", default="60-65")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--bag", type=int, default=0, metavar="B",
                    help="MIP objectives: keep the consensus (rounded mean) of B runs, each "
                         "on B-1 of B parts of the fold's training examples, all started "
                         "from its gradient network (0: one run)")
    ap.add_argument("--time-limit", type=float, default=16.0, help="seconds per fold run")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--data-dir", default=os.environ.get(
        "MIPNN_DATA_DIR", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)
    try:
        seeds = parse_seed_group(args.seeds)
        sets = parse_sets(args.set)
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    from dataclasses import fields

    from mipnn.trainer.errors import MipnnError
    from mipnn.trainer.train_config import TrainConfig

    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(sets) - known)
    if unknown:
        ap.error(f"--set {', '.join(unknown)}: not a TrainConfig field; fields are: "
                 f"{', '.join(sorted(known))}")
    try:
        for objective in args.objective:
            TrainConfig(objective=objective, **sets).check()
    except (MipnnError, TypeError, ValueError) as exc:
        ap.error(f"--set: {exc}")
    if args.folds < 2:
        ap.error(f"--folds {args.folds}: expected at least 2")
    if args.bag == 1 or args.bag < 0:
        ap.error(f"--bag {args.bag}: expected 0 (off) or at least 2")
    cache = load_cache(args.cache)
    todo = []
    if not args.report_only:
        # the plain gradient baseline first; `--objective gd` with --set is a configuration
        runs = [("gd", {}, 0)] + [(o, sets, 0 if o == "gd" else args.bag)
                                  for o in args.objective if o != "gd" or sets]
        for objective, changes, bag in runs:
            for levels in args.levels:
                for seed in seeds:
                    spec = {"version": VERSIONS[args.dataset], "dataset": args.dataset,
                            "n": args.n, "bound": args.bound, "objective": objective,
                            "levels": levels, "seed": seed, "folds": args.folds,
                            "time_limit": args.time_limit, "set": changes, "bag": bag}
                    if run_key(spec) not in cache:
                        todo.append((args.dataset, args.n, args.bound, objective, levels,
                                     seed, args.folds, args.time_limit, spec["set"],
                                     args.data_dir, spec["bag"]))
    print(f"{len(todo)} runs to do, {len(cache)} cached", flush=True)

    def finished(rec: dict[str, Any]) -> None:
        print(f"{rec['objective']} L={rec['levels']} seed {rec['seed']}: "
              f"{rec['held_out_correct']}/{rec['held_out']} held out, {rec['time']:.0f} s",
              flush=True)

    run_cached(one_run, todo, args.jobs, args.cache, cache, finished)
    print(report(cache))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `| head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
