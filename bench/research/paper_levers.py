"""Each training lever's effect (issue 3, docs/research/TRAINING-notebook.md): Heart and
Adult, N=200, P=1, 16 hidden neurons, sat_margin (and max_correct for the target), a short
time limit, a few seeds. Runs are cached in bench/research/results/paper_levers.jsonl and
skipped when found.

    .venv/bin/python bench/research/paper_levers.py [--time-limit 45] [--seeds 0,1] [--config NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from bench.sections import load_cache  # noqa: E402

CACHE = REPO / "bench" / "research" / "results" / "paper_levers.jsonl"

# name -> TrainConfig keyword arguments (besides hidden, bound, objective, time, seed)
CONFIGS: dict[str, dict[str, Any]] = {
    "cold": dict(warm_start=False, symmetry=False, lns=False),
    "cold+symmetry": dict(warm_start=False, symmetry=True, lns=False),
    "cold, loose big-M": dict(warm_start=False, symmetry=False, lns=False, tight_big_m=False),
    "warm (gd start, no polish)": dict(warm_start=True, polish_start=False, symmetry=False,
                                       lns=False),
    "warm + polish": dict(warm_start=True, symmetry=False, lns=False),
    "warm + polish + lns": dict(warm_start=True, symmetry=False, lns=True),
    "default (warm + polish + symmetry + lns)": dict(),
    "default + heuristic effort 0.3": dict(highs_options=(("mip_heuristic_effort", 0.3),)),
}


def main(argv: list[str] | None = None) -> int:
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=45.0)
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--dataset", nargs="+", default=["heart", "adult"])
    ap.add_argument("--objective", default="sat_margin")
    ap.add_argument("--config", nargs="+", default=list(CONFIGS))
    ap.add_argument("--data-dir", default=os.environ.get(
        "MIPNN_DATA_DIR", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--report-only", action="store_true")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    cache = load_cache(CACHE)
    for name in args.config if not args.report_only else []:
        for dataset in args.dataset:
            for seed in seeds:
                key = f"{dataset}|{args.objective}|{name}|s{seed}|t{args.time_limit:g}"
                if key in cache:
                    continue
                ds = load_dataset(dataset, data_dir=Path(args.data_dir), train_size=200,
                                  seed=seed)
                cfg = TrainConfig(hidden=(16,), bound=1, objective=args.objective,
                                  time_limit=args.time_limit, seed=seed, **CONFIGS[name])
                t0 = time.perf_counter()
                r = train(ds, cfg)
                info = r.model.training
                rec = {"key": key, "dataset": dataset, "objective": args.objective,
                       "config": name, "seed": seed, "time_limit": args.time_limit,
                       "value": info["objective_value"], "train": r.train_accuracy,
                       "test": r.test_accuracy, "time": round(time.perf_counter() - t0, 2),
                       "status": info["status"], "start": info.get("start"),
                       "lns": info.get("lns"),
                       "first_incumbent_s": (info["trajectory"]["first"] or {}).get("time")}
                with CACHE.open("a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                cache[key] = rec
                print(f"{dataset} {name} seed {seed}: objective {rec['value']:g}, train "
                      f"{100 * rec['train']:.1f}, test {100 * rec['test']:.1f}", flush=True)
    print("| data | configuration | seeds | objective | train % | test % |")
    print("| --- | --- | --- | --- | --- | --- |")
    for dataset in args.dataset:
        for name in args.config:
            recs = [r for r in cache.values() if r["dataset"] == dataset
                    and r["config"] == name and r["objective"] == args.objective
                    and r["time_limit"] == args.time_limit]
            if not recs:
                continue
            recs.sort(key=lambda r: r["seed"])
            vals = "/".join(f"{r['value']:g}" for r in recs)
            print(f"| {dataset} | {name} | {','.join(str(r['seed']) for r in recs)} | {vals} | "
                  f"{100 * np.mean([r['train'] for r in recs]):.1f} | "
                  f"{100 * np.mean([r['test'] for r in recs]):.1f} |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
