"""Model construction and hand-off time to HiGHS (issue 3): Adult, 16 hidden neurons, P=1,
N = 200, 800, 3200, every objective. Fastest of 5 repetitions (the machine is shared:
the minimum is the least disturbed measurement).

    .venv/bin/python bench/build_time.py [--data-dir DIR] [--pyomo]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.formulation import NetworkSpec, build_problem
    from mipnn.trainer.highs import solve_highs

    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=os.environ.get(
        "MIPNN_DATA_DIR", str(REPO.parent / "shared" / "data")))
    ap.add_argument("--n", nargs="+", type=int, default=[200, 800, 3200])
    ap.add_argument("--objective", nargs="+",
                    default=["sat_margin", "max_correct", "min_hinge", "min_w", "max_m"])
    ap.add_argument("--bound", type=int, default=1)
    ap.add_argument("--pyomo", action="store_true", help="also time the Pyomo route's build")
    args = ap.parse_args(argv)
    print("| objective | N | P | rows | cols | nonzeros | build s | hand-off s | total s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for objective in args.objective:
        for n in args.n:
            ds = load_dataset("adult", data_dir=Path(args.data_dir), train_size=n, seed=0)
            spec = NetworkSpec(ds.X_train.shape[1], (16,), 2, args.bound, 255,
                               objective=objective)
            builds, hands = [], []
            for _ in range(5):
                t0 = time.perf_counter()
                p = build_problem(spec, ds.X_train, ds.y_train, symmetry=True)
                builds.append(time.perf_counter() - t0)
                r = solve_highs(p, time_limit=1e-3)
                hands.append(r.setup_time)
            b, h = float(np.min(builds)), float(np.min(hands))
            print(f"| {objective} | {n} | {args.bound} | {p.n_rows:,} | {p.n_cols:,} | "
                  f"{p.A.nnz:,} | {b:.3f} | {h:.3f} | {b + h:.3f} |", flush=True)
            if args.pyomo and n == args.n[0]:
                from mipnn.trainer.pyomo_route import to_pyomo

                t0 = time.perf_counter()
                to_pyomo(p)
                print(f"|   (Pyomo ConcreteModel build, N={n}: {time.perf_counter() - t0:.2f} s) "
                      "| | | | | | | | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
