"""Float models on the benchmark's own splits: how much accuracy the data allows.

The paper benchmark (bench/paper.py) draws N training examples per seed and tests on a
fixed split; with Heart's 61 test examples a 5-seed mean moves by a point or more from one
group of seeds to the next. This script trains float models (scikit-learn, standardised
inputs) on exactly the same integer-encoded training examples and tests on the same test
set, beside one gradient run of the integer network (P=1, 16 hidden neurons, the paper's
baseline, `--objective gd`), so a target such as "81.4 % on Heart" can be read against what
an unconstrained model reaches on those seeds. One column per group of seeds, mean test %.

    .venv/bin/python bench/research/float_baseline.py --dataset heart --n 200 --seeds 0-4 5-9 10-19

`--teacher` adds `mipnn train --teacher logreg`'s teacher (logistic regression, its C chosen
by cross-validation on the training set; trainer/teacher.py) and one gradient run on its
labels, and prints, per group, the paired difference of that run to the plain one.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # bench.paper, the product benchmark
from bench.paper import parse_seed_group  # noqa: E402  (one parser of seed lists)


def models(seed: int) -> dict[str, Any]:
    """The float models, fresh for one seed."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return {
        "logistic regression (C=1)": make_pipeline(StandardScaler(),
                                                   LogisticRegression(max_iter=5000)),
        "logistic regression (C=0.1)": make_pipeline(
            StandardScaler(), LogisticRegression(C=0.1, max_iter=5000)),
        "SVM, RBF kernel": make_pipeline(StandardScaler(), SVC()),
        "random forest (300 trees)": RandomForestClassifier(300, random_state=seed),
    }


TEACHER = "the teacher (logistic regression, C by cross-validation)"
GD = "integer network, one gradient run (gd, P=1)"
GD_TEACHER = "integer network, one gradient run on the teacher's labels"


def split_accuracies(dataset: str, n: int, seed: int, data_dir: Path,
                    with_gd: bool = True, with_teacher: bool = False) -> dict[str, float]:
    """Each model's test accuracy (a fraction) on the benchmark's split for one seed;
    ``with_teacher`` adds the teacher of ``--teacher logreg`` and, with ``with_gd``, one
    gradient run on its labels."""
    from dataclasses import replace

    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.teacher import fit_teacher
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    ds = load_dataset(dataset, data_dir=data_dir, train_size=n, seed=seed)
    out: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; the accuracy is what counts
        for name, model in models(seed).items():
            model.fit(ds.X_train, ds.y_train)
            out[name] = float(np.mean(model.predict(ds.X_test) == ds.y_test))
        if with_teacher:
            model = fit_teacher(ds.X_train, ds.y_train, "logreg", seed)
            out[TEACHER] = float(np.mean(model.predict(ds.X_test) == ds.y_test))
    if with_gd:
        config = TrainConfig(hidden=(16,), bound=1, objective="gd", seed=seed, threads=1)
        out[GD] = float(train(ds, config).test_accuracy)
        if with_teacher:
            out[GD_TEACHER] = float(train(ds, replace(config, teacher="logreg")).test_accuracy)
    return out


def paired_line(results: dict[int, dict[str, float]], name: str, base: str) -> str:
    """``name`` against ``base`` over one group's seeds: the mean paired difference in test
    points +/- its standard error, and how many seeds it is higher and lower in."""
    d = 100 * np.array([r[name] - r[base] for r in results.values()])
    se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
    return (f"{d.mean():+.1f} +/- {se:.1f} points over {d.size} seeds (higher in "
            f"{int((d > 0).sum())}, lower in {int((d < 0).sum())})")


def table(results: dict[str, dict[int, dict[str, float]]]) -> list[str]:
    """Markdown rows: one per model, one column per seed group (mean test %)."""
    groups = list(results)
    names = list(next(iter(next(iter(results.values())).values())))
    lines = ["| model | " + " | ".join(f"seeds {g}" for g in groups) + " |",
             "| --- |" + " ---: |" * len(groups)]
    for name in names:
        cells = [f"{100 * np.mean([r[name] for r in results[g].values()]):.1f}"
                 for g in groups]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="heart")
    ap.add_argument("--n", type=int, default=200, help="training examples (default 200)")
    ap.add_argument("--seeds", nargs="+", default=["0-4"], metavar="GROUP",
                    help="groups of seeds, one column each: 0-4 5-9 10-19 (default 0-4)")
    ap.add_argument("--no-gd", action="store_true", help="float models only")
    ap.add_argument("--teacher", action="store_true",
                    help="add --teacher logreg's teacher and one gradient run on its labels")
    ap.add_argument("--data-dir", default=os.environ.get(
        "MIPNN_DATA_DIR", str(REPO.parent / "shared" / "data")))
    args = ap.parse_args(argv)
    try:
        groups = {g: parse_seed_group(g) for g in args.seeds}
    except argparse.ArgumentTypeError as exc:
        ap.error(str(exc))
    from mipnn.trainer.errors import DataError

    results: dict[str, dict[int, dict[str, float]]] = {}
    try:
        for g, seeds in groups.items():
            results[g] = {s: split_accuracies(args.dataset, args.n, s, Path(args.data_dir),
                                              not args.no_gd, args.teacher)
                          for s in seeds}
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.dataset}, N={args.n}: mean test accuracy % on the benchmark's splits")
    print()
    print("\n".join(table(results)))
    if args.teacher and not args.no_gd:
        print()
        print("one gradient run on the teacher's labels against one on the given labels "
              "(paired, mean +/- standard error):")
        for g, res in results.items():
            print(f"- seeds {g}: {paired_line(res, GD_TEACHER, GD)}")
        if len(results) > 1:
            every = {(g, s): r for g, res in results.items() for s, r in res.items()}
            print(f"- all: {paired_line(every, GD_TEACHER, GD)}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
