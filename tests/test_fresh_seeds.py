"""bench/research/fresh_seeds.py: option sets, pairing by seed, and one real (cheap) run."""

from __future__ import annotations

import argparse

import pytest


@pytest.fixture(scope="module")
def fresh():
    from conftest import load_bench_script

    return load_bench_script("research/fresh_seeds.py", "bench_fresh_seeds")


def test_runs_parse_in_order_and_names_are_unique(fresh):
    runs = fresh.parse_runs(["gd=--objective gd", "mc t=--objective max_correct --teacher logreg"])
    assert runs == [("gd", ["--objective", "gd"]),
                    ("mc t", ["--objective", "max_correct", "--teacher", "logreg"])]
    for bad in (["gd"], ["=--objective gd"], ["a=x", "a=y"]):
        with pytest.raises(argparse.ArgumentTypeError):
            fresh.parse_runs(bad)


def test_report_pairs_by_seed_with_the_first_run(fresh):
    recs = [{"run": "gd", "seed": 1, "test": 0.80, "train": 0.9},
            {"run": "gd", "seed": 2, "test": 0.70, "train": 0.9},
            {"run": "mc", "seed": 1, "test": 0.83, "train": 1.0},
            {"run": "mc", "seed": 2, "test": 0.69, "train": 1.0}]
    table = fresh.report(recs, ["gd", "mc"])
    gd_row, mc_row = table.splitlines()[2:]
    assert gd_row.startswith("| gd | 2 | 75.0 |  |")
    # paired (+3, -1) points: mean +1.0, standard error 2.0
    assert mc_row == "| mc | 2 | 76.0 | +1.0 +/- 2.0 | 100.0 |"


def test_one_real_run_is_recorded(fresh, tmp_path):
    import sys
    from pathlib import Path

    mipnn = Path(sys.executable).parent / "mipnn"  # the project's console script
    assert mipnn.exists(), f"{mipnn}: the project is not installed in this environment"
    rec = fresh.one_run("gd", ["--dataset", "breast_cancer", "--train-size", "30",
                               "--hidden", "3", "--objective", "gd"], 3, str(mipnn))
    assert rec["key"] == "gd|s3" and rec["config"]["seed"] == 3
    assert 0.5 <= rec["test"] <= 1.0 and rec["hidden_after"][0] <= 3
