"""Issue 25's screen on the validation split: which budgeted configuration to deploy, and
what each part of the method contributes, with no test label read for the choice.

For each data set and configuration (encoding: min-max or learned clamp ranges with up to
C extra copies; K non-zero first-layer weights; hidden layers; the MIP stage: none, the
all-rows neighbourhood MIPs or the full MIP with LNS, for S seconds), trains with the product API on mipnn's
training split (validation held out: 20 % of adult.data, 10 % elsewhere) for each seed,
and records the training, validation and (for the write-up only) test accuracy in
``bench/research/results/budget_screen.jsonl`` (one line per run; finished runs are
skipped on a rerun).

    .venv/bin/python bench/research/budget_screen.py --dataset adult --ks 32,48,64,80,96,111 \
        --encodings minmax,0,3 --seeds 0,1,2 [--mip 0,60] [--hidden 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from mipnn.trainer.data import load_dataset  # noqa: E402
from mipnn.trainer.train import train  # noqa: E402
from mipnn.trainer.train_config import TrainConfig  # noqa: E402

OUT = REPO / "bench" / "research" / "results" / "budget_screen.jsonl"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="adult")
    p.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--ks", default="64")
    p.add_argument("--encodings", default="minmax,3", help="minmax or COPIES, comma-separated")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--mip", default="0", help="MIP seconds (0: gradient only)")
    p.add_argument("--route", choices=("rows", "full"), default="rows",
                   help="the MIP stage: all-rows neighbourhoods or the full MIP with LNS")
    p.add_argument("--hidden", default="0", help="hidden sizes to try, e.g. 0,2,4")
    p.add_argument("--levels", type=int, default=63)
    p.add_argument("--bound", type=int, default=127)
    p.add_argument("--val-fraction", type=float, default=None)
    a = p.parse_args()
    done = set()
    if OUT.exists():
        for line in OUT.read_text().splitlines():
            r = json.loads(line)
            done.add(r["key"])
    for enc in a.encodings.split(","):
        for seed in map(int, a.seeds.split(",")):
            ds = None
            for h in map(int, a.hidden.split(",")):
                for k in map(int, a.ks.split(",")):
                    for mip in map(float, a.mip.split(",")):
                        route = "" if a.route == "rows" or not mip else "|full"
                        key = (f"{a.dataset}|L{a.levels}|P{a.bound}|enc={enc}|K{k}|h{h}|"
                               f"mip{mip:g}|seed{seed}|vf{a.val_fraction}{route}")
                        if key in done:
                            continue
                        if ds is None:
                            ds = load_dataset(a.dataset, data_dir=a.data_dir, levels=a.levels,
                                              seed=seed, val_fraction=a.val_fraction,
                                              learn_ranges=enc != "minmax",
                                              extra_copies=0 if enc == "minmax" else int(enc))
                        cfg = TrainConfig(
                            hidden=(h,) if h else (), bound=a.bound,
                            objective="max_correct" if mip else "gd",
                            mip_scope="rows" if mip and a.route == "rows" else "full",
                            max_nonzeros=k,
                            time_limit=mip if mip else 600.0, seed=seed)
                        t0 = time.perf_counter()
                        r = train(ds, cfg)
                        rec = {"key": key, "dataset": a.dataset, "levels": a.levels,
                               "bound": a.bound, "encoding": enc, "K": k, "hidden": h,
                               "mip_seconds": mip, "route": a.route if mip else None,
                               "seed": seed, "train": r.train_accuracy,
                               "val": r.val_accuracy, "test": r.test_accuracy,
                               "nonzeros": int(sum((lay.weights != 0).sum()
                                                   for lay in r.model.layers[:1])),
                               "seconds": round(time.perf_counter() - t0, 2),
                               "all_rows": r.model.training.get("all_rows")}
                        OUT.parent.mkdir(parents=True, exist_ok=True)
                        with OUT.open("a") as fh:
                            fh.write(json.dumps(rec) + "\n")
                        print(f"{key}: train {r.train_accuracy:.4f} val {r.val_accuracy:.4f} "
                              f"test {r.test_accuracy:.4f} ({rec['seconds']} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
