"""bench/research/cv_screen.py: K-fold screening on the training set, paired with the gradient
baseline (bookkeeping on synthetic records, and one real cheap run)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def screen():
    from conftest import load_bench_script

    return load_bench_script("research/cv_screen.py", "bench_cv_screen")


def _rec(screen, objective, seed, correct, levels=255, sets=None, version=6):
    rec = {"version": version, "dataset": "heart", "n": 200, "bound": 1, "objective": objective,
           "levels": levels, "seed": seed, "folds": 5, "time_limit": 16.0,
           "set": sets or {}, "held_out_correct": correct, "held_out": 200}
    rec["key"] = screen.run_key(rec)
    return rec


def test_seed_text_and_sets(screen):
    assert screen.seed_text([65, 60, 61, 62]) == "60-62,65"
    assert screen.seed_text([3, 5, 6, 7, 9]) == "3,5-7,9"
    assert screen.parse_sets(["margin=4", "select=objective", "prune=0.5"]) == {
        "margin": 4, "select": "objective", "prune": 0.5}
    with pytest.raises(Exception, match="FIELD=VALUE"):
        screen.parse_sets(["margin"])


def test_report_pairs_each_configuration_with_the_gradient_run_of_its_seed(screen):
    recs = [_rec(screen, "gd", 60, 160), _rec(screen, "gd", 61, 150),
            _rec(screen, "sat_margin", 60, 163), _rec(screen, "sat_margin", 61, 149),
            # a changed configuration is its own row, paired with the same gradient runs
            _rec(screen, "sat_margin", 60, 170, sets={"margin": 4}),
            # no gradient run at L=15 for seed 60: left out, not paired with L=255's
            _rec(screen, "sat_margin", 60, 100, levels=15),
            # another configuration version: not paired with version 6's gradient runs
            _rec(screen, "sat_margin", 60, 120, version=7)]
    assert len({r["key"] for r in recs}) == len(recs)
    table = screen.report({r["key"]: r for r in recs})
    rows = [line for line in table.splitlines() if line.startswith("| heart")]
    assert len(rows) == 3, table
    assert all(row.startswith("| heart v6 |") for row in rows)
    gd_row, plain, margin4 = rows
    assert "| gd |" in gd_row and "| 60-61 | 77.5 |" in gd_row
    # (163 - 160, 149 - 150) = (+3, -1): mean +1.0, standard error 2.0
    assert "| sat_margin | - |" in plain and plain.endswith("| 78.0 | 77.5 | +1.0 +/- 2.0 |")
    assert "margin=4" in margin4 and margin4.endswith("| 85.0 | 80.0 | +10.0 (one seed) |")


def test_one_run_counts_every_training_example_once(screen, shared_data):
    rec = screen.one_run("heart", 40, 1, "gd", 7, 0, 4, 2.0, {}, str(shared_data))
    again = screen.one_run("heart", 40, 1, "gd", 7, 0, 4, 2.0, {}, str(shared_data))
    assert rec["held_out"] == 40
    assert 20 <= rec["held_out_correct"] <= 40  # at least half: the classes are near 50/50
    assert again["held_out_correct"] == rec["held_out_correct"]  # seeded folds and runs
    from bench.paper import VERSIONS

    assert rec["key"].startswith(f"v{VERSIONS['heart']}|heart|N40|P1|gd|L7|s0|K4|t2|")


def test_bad_changes_are_refused_before_any_run(screen, tmp_path, capsys):
    cache = tmp_path / "cv.jsonl"
    for argv, message in ((["--set", "marg=3"], "marg: not a TrainConfig field"),
                          (["--set", "select=best"], "--select must be one of"),
                          (["--folds", "1"], "--folds 1: expected at least 2")):
        with pytest.raises(SystemExit) as exc:
            screen.main([*argv, "--cache", str(cache)])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
    assert not cache.exists()  # nothing ran


def test_consensus_keeps_a_change_only_where_most_runs_agree(screen):
    import numpy as np

    start = [(np.array([[0, 1, -1]]), np.array([10]))]
    nets = [[(np.array([[1, 1, 0]]), np.array([13]))],
            [(np.array([[1, 0, 0]]), np.array([11]))],
            [(np.array([[0, 1, 1]]), np.array([12]))],
            [(np.array([[1, -1, -1]]), np.array([12]))]]
    (W, b), = screen.consensus(nets, start)
    # means 0.75 -> 1; 0.25 -> 0; -0.25 -> 0; bias 12 -> 12
    assert W.tolist() == [[1, 0, 0]] and b.tolist() == [12]
    # half-way ties go to the start's side
    (W, b), = screen.consensus(nets[:2], [(np.array([[0, 0, 0]]), np.array([12]))])
    assert W.tolist() == [[1, 0, 0]] and b.tolist() == [12]  # 0.5 -> 0, 12 -> 12
    (W, b), = screen.consensus(nets[1:3], [(np.array([[1, 1, 0]]), np.array([12]))])
    assert W.tolist() == [[1, 1, 0]] and b.tolist() == [12]  # 0.5 -> 1 (start), 11.5 -> 12


def test_a_consensus_run_starts_from_the_paired_gradient_network(screen, shared_data):
    from bench.paper import run_config

    # the common start is a gradient run on the labels the MIP trains on: the teacher's
    # where the benchmark's configuration has one (Heart, version 7)
    teacher = run_config("heart", "sat_margin").get("teacher")
    sets = {"teacher": teacher} if teacher else {}
    gd = screen.one_run("heart", 40, 1, "gd", 7, 0, 2, 2.0, sets, str(shared_data))
    bag = screen.one_run("heart", 40, 1, "sat_margin", 7, 0, 2, 2.0, {}, str(shared_data),
                         2)
    assert bag["bag"] == 2 and bag["key"].endswith("|bag2")
    assert bag["start_held_out_correct"] == gd["held_out_correct"]
    assert bag["held_out"] == 40 and 0 <= bag["held_out_correct"] <= 40
