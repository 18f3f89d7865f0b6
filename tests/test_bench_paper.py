"""bench/paper.py's bookkeeping: run keys per data set version, the report's tables and
its done-when lines (no training here; the runs are synthetic records)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def paper():
    from conftest import load_bench_script

    return load_bench_script("paper.py", "bench_paper")


def _rec(paper, dataset, n, bound, objective, seed, test, version=None, **extra):
    key = paper.run_key(dataset, n, bound, objective, seed, 300.0)
    if version is not None:
        key = f"v{version}|" + key.split("|", 1)[1]
    return key, {"key": key, "dataset": dataset, "n": n, "bound": bound,
                 "objective": objective, "seed": seed, "time_limit": 300.0, "test": test,
                 "test_by_val": test, "train": 0.9, "time": 300.0} | extra


def test_run_keys_carry_each_data_sets_version(paper):
    for dataset, version in paper.VERSIONS.items():
        assert paper.run_key(dataset, 200, 1, "gd", 0, 300).startswith(f"v{version}|{dataset}|")
    # the configuration of a run: the grid's objective, then version, objective, data set
    cfg = paper.run_config("heart", "sat_margin")
    assert cfg["objective"] == "sat_margin" and cfg["margin"] == 2
    assert cfg["select"] == paper.DATASET_CONFIGS[paper.VERSIONS["heart"]]["heart"]["select"]


def test_heart_weight_penalty_only_breaks_ties(paper, shared_data):
    """Heart's MIP objectives carry a weight penalty so small that all of the network's
    weights at full magnitude cost less than one unsatisfied pair or misclassified example;
    the gradient baseline has none (it is the paper's baseline)."""
    from mipnn.trainer.data import load_dataset

    ds = load_dataset("heart", data_dir=shared_data, train_size=40, seed=0)
    n_weights = ds.X_train.shape[1] * paper.HIDDEN + paper.HIDDEN * len(ds.classes)
    for objective in ("sat_margin", "min_hinge", "max_correct"):
        cfg = paper.run_config("heart", objective)
        assert 0 < cfg.get("weight_penalty", 0) * n_weights < 1, objective
    assert "weight_penalty" not in paper.run_config("heart", "gd")
    assert "weight_penalty" not in paper.run_config("adult", "sat_margin")


def test_heart_mip_objectives_train_on_the_teacher_gd_does_not(paper):
    """Heart version 7: the MIP objectives (and the gd_teacher side cell) train on the
    teacher's labels; `gd` stays the paper's baseline; Adult has no teacher."""
    for objective in ("sat_margin", "min_hinge", "max_correct"):
        assert paper.run_config("heart", objective)["teacher"] == "logreg", objective
        assert "teacher" not in paper.run_config("adult", objective)
    assert "teacher" not in paper.run_config("heart", "gd")
    side = paper.run_config("heart", "gd_teacher")
    assert side["objective"] == "gd" and side["teacher"] == "logreg"
    assert side["gd_restarts"] == 1


def test_side_cells_run_only_where_configured(paper):
    assert paper.runs_cell("heart", "gd_teacher") and not paper.runs_cell("adult", "gd_teacher")
    assert paper.runs_cell("adult", "gd_best8") and not paper.runs_cell("heart", "gd_best8")
    assert all(paper.runs_cell(d, "sat_margin") for d in ("heart", "adult"))
    assert not any(c[3] in paper.SIDE_CELLS for c in paper.grid_cells())


def test_done_when_compares_taught_objectives_with_a_taught_gradient_run(paper):
    cache = {}
    for seed in range(5):
        for objective, test in (("sat_margin", 0.82 + 0.01 * (seed % 2)), ("gd", 0.80),
                                ("gd_teacher", 0.81)):
            k, r = _rec(paper, "heart", 200, 1, objective, seed, test)
            cache[k] = r
    text = paper.report(cache)
    assert "| heart | 200 | 1 | gd_teacher | 0,1,2,3,4 | 81.0 +/- 0.0 |" in text
    # 82, 83, 82, 83, 82 % against 81 %: +1.4 points, sample std 0.55, standard error 0.24
    assert ("against one gradient run on the same teacher's labels 81.0 % (paired over 5 "
            "seeds: +1.4 +/- 0.2 points") in text
    assert "gd_teacher" not in text.split("Each MIP objective against")[1].split("\n")[0]


def test_report_current_versions_old_tables_and_checks_against_gd(paper):
    cache = {}
    old = paper.VERSIONS["heart"] - 1
    for seed in range(5):
        for args in [("adult", 200, 1, "sat_margin", seed, 0.81),
                     ("adult", 200, 1, "gd", seed, 0.79),
                     ("heart", 200, 1, "max_correct", seed, 0.82),
                     ("heart", 200, 1, "min_hinge", seed, 0.76 + 0.01 * seed),
                     ("heart", 200, 1, "gd", seed, 0.80)]:
            k, r = _rec(paper, *args, test_by_train_val=args[-1])
            cache[k] = r
        k, r = _rec(paper, "heart", 200, 1, "max_correct", seed, 0.50, version=old)
        cache[k] = r
    text = paper.report(cache)
    current = text.split("### Previous configuration")[0]
    assert "| heart | 200 | 1 | max_correct | 0,1,2,3,4 | 82.0 +/- 0.0 |" in current
    assert "50.0" not in current  # the older version's runs only in their own table
    assert f"### Previous configuration (version {old}), 300 s per run" in text
    assert "- heart N=200 P=1 max_correct: mean test 82.0 +/- 0.0 (standard error) %" in text
    # min_hinge 76..80 % against gd's 80 % on the same seeds: -4..0 points, mean -2.0,
    # sample std 1.58, standard error 0.71
    assert ("- heart N=200 P=1 min_hinge: mean test 78.0 +/- 0.7 (standard error) %" in text)
    assert "< gradient baseline 80.0 % (paired over 5 seeds: -2.0 +/- 0.7 points" in text
    assert "meets the goal 81.4 %" in text
    assert "2 of 3 measured cells at or above; below: heart N=200 P=1 min_hinge 78.0 % < 80.0 %" \
        in text
    # 5 of the grid's 84 cells complete; 63 cells of MIP runs (5 seeds) less the 3 measured
    assert "5 of 84 cells complete; 300 MIP runs left, at most 25.0 core-hours" in text


def test_write_section_replaces_only_its_own_section(paper, tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\n## A\n\na\n\n" + paper.SECTION + "\n\nold\n\n## B\n\nb\n")
    paper.write_section(paper.SECTION + "\n\nnew\n", path)
    text = path.read_text()
    assert "new" in text and "old" not in text
    assert text.index("## A") < text.index(paper.SECTION) < text.index("## B")


def test_mnist_runs_the_papers_cell_only(paper, tmp_path, capsys):
    """`--dataset mnist` plans the paper's MNIST cell (N=100) whatever --n says."""
    args = ["--dataset", "mnist", "--n", "40", "200", "--bound", "1", "--objective",
            "min_hinge", "gd", "--seeds", "0-1", "--cache", str(tmp_path / "c.jsonl"),
            "--results", str(tmp_path / "R.md"), "--dry-run"]
    assert paper.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("4 runs to do")
    assert sorted(out[1:]) == ["mnist 100 1 gd 0", "mnist 100 1 gd 1",
                               "mnist 100 1 min_hinge 0", "mnist 100 1 min_hinge 1"]
    assert paper.PAPER[("mnist", 100, 1, "min_hinge")] == "50.7"


def test_output_into_a_closed_pipe_is_quiet(tmp_path):
    """`bench/paper.py --dry-run | head`: no BrokenPipeError traceback once the reader
    has gone; the exit status is 1, as Python's own recipe for EPIPE has it."""
    import os
    import subprocess

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line
    try:
        proc = subprocess.run(
            [sys.executable, str(REPO / "bench" / "paper.py"), "--dry-run",
             "--cache", str(tmp_path / "c.jsonl"), "--results", str(tmp_path / "R.md")],
            stdout=write_end, stderr=subprocess.PIPE, cwd=REPO, timeout=60)
    finally:
        os.close(write_end)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 1


def test_grid_left_says_complete_when_every_cell_has_its_seeds(paper):
    cells = paper.grid_cells()
    assert len(cells) == 84  # the grid: Heart 3 N x 3 P x 4, Adult 4 N x 3 P x 4
    groups = {(300.0, *c): [{}] * len(paper.SEEDS) for c in cells}
    assert paper._grid_left(groups)[0].endswith(f": all {len(cells)} cells complete.")
    groups[(300.0, "heart", 40, 15, "min_hinge")] = [{}] * (len(paper.SEEDS) - 1)
    text = paper._grid_left(groups)[0]
    assert f"{len(cells) - 1} of {len(cells)} cells complete; 1 MIP run left" in text


def test_partial_cells_are_checked_against_gd_on_their_own_seeds(paper):
    """A cell with one seed measured is compared with gd's run on that seed, not with gd's
    five-seed mean (the seeds are different data splits)."""
    cache = {}
    for seed, gd_test in enumerate((0.85, 0.80, 0.72, 0.77, 0.74)):  # mean 77.6 %
        k, r = _rec(paper, "heart", 120, 1, "gd", seed, gd_test)
        cache[k] = r
    for seed, test in ((2, 0.75), (4, 0.76)):  # 75.5 %: below gd's mean, above its 73 % there
        k, r = _rec(paper, "heart", 120, 1, "sat_margin", seed, test)
        cache[k] = r
    k, r = _rec(paper, "heart", 120, 1, "min_hinge", 1, 0.79)  # 79 % < gd's 80 % on seed 1
    cache[k] = r
    line = paper.report(cache).split("- Each MIP objective against")[1].split("\n")[0]
    assert "1 of 2 measured cells at or above (2 of them partial" in line
    assert "below: heart N=120 P=1 min_hinge 79.0 % < 80.0 % (partial: seeds 1)." in line
    assert "sat_margin" not in line
