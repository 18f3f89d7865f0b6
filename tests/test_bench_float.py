"""bench/research/float_baseline.py: seed groups, the table, and one real float fit."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fb():
    from conftest import load_bench_script

    return load_bench_script("research/float_baseline.py", "bench_float")


def test_seed_groups(fb):
    assert fb.parse_seed_group("3") == [3]
    assert fb.parse_seed_group("0-4") == [0, 1, 2, 3, 4]
    assert fb.parse_seed_group("1,5,7-8") == [1, 5, 7, 8]
    for bad in ("4-0", "a", "1-", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="expected seeds"):
            fb.parse_seed_group(bad)


def test_bad_seed_group_is_a_usage_error(fb, capsys):
    with pytest.raises(SystemExit) as exc:
        fb.main(["--seeds", "9-1"])
    assert exc.value.code == 2
    assert "seed group '9-1'" in capsys.readouterr().err


def test_table_means_per_group(fb):
    results = {"0-1": {0: {"a": 0.8, "b": 0.5}, 1: {"a": 0.9, "b": 0.7}},
               "2": {2: {"a": 0.75, "b": 1.0}}}
    lines = fb.table(results)
    assert lines[0] == "| model | seeds 0-1 | seeds 2 |"
    assert lines[2] == "| a | 85.0 | 75.0 |"
    assert lines[3] == "| b | 60.0 | 100.0 |"


def test_float_models_fit_the_benchmark_split(fb):
    # breast_cancer needs no files; a standardised logistic regression separates it well
    acc = fb.split_accuracies("breast_cancer", 100, 0, REPO, with_gd=False)
    assert set(acc) == set(fb.models(0))
    assert acc["logistic regression (C=1)"] > 0.9


def test_teacher_rows_and_paired_line(fb):
    acc = fb.split_accuracies("breast_cancer", 100, 0, REPO, with_gd=True, with_teacher=True)
    assert {fb.TEACHER, fb.GD, fb.GD_TEACHER} <= set(acc)
    assert acc[fb.TEACHER] > 0.85
    res = {0: {"x": 0.8, "y": 0.7}, 1: {"x": 0.6, "y": 0.7}, 2: {"x": 0.9, "y": 0.8}}
    assert fb.paired_line(res, "x", "y") == (
        "+3.3 +/- 6.7 points over 3 seeds (higher in 2, lower in 1)")
