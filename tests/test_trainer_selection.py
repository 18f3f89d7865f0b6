"""The selection rules (trainer/selection.py): --select val and train+val never end below the
gradient network, keep the network with the most correct labelled examples, and break ties
towards the later candidate."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import toy_splits

from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


@pytest.mark.parametrize("objective", ["sat_margin", "max_correct", "min_hinge"])
def test_select_val_never_ends_below_the_gradient_network_on_validation(objective):
    # the gradient network before its output-layer polish is a candidate of --select val
    ds = toy_splits(n=80, seed=6)
    base = dict(hidden=(3,), bound=1, time_limit=6, seed=1, gd_restarts=2)
    gd_run = train(ds, TrainConfig(objective="gd", **base))
    mip = train(ds, TrainConfig(objective=objective, select="val", **base))
    assert mip.val_accuracy >= gd_run.val_accuracy
    assert mip.model.training["selected"] == "val"


def test_choosing_on_a_small_validation_split_is_noted(tmp_path, shared_data):
    from mipnn.cli import main

    out = tmp_path / "m.json"
    r = CliRunner().invoke(main, ["train", "--dataset", "heart", "--data-dir", str(shared_data),
                                  "--train-size", "200", "--objective", "gd",
                                  "--gd-restarts", "2", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "validation split has 25 examples" in r.output
    r = CliRunner().invoke(main, ["train", "--dataset", "heart", "--data-dir", str(shared_data),
                                  "--train-size", "200", "--objective", "gd", "-q",
                                  "--out", str(out)])
    assert r.exit_code == 0 and "validation split" not in r.output


@pytest.mark.parametrize("objective", ["sat_margin", "min_hinge"])
def test_select_train_val_keeps_the_network_with_the_most_correct_labelled_examples(objective):
    ds = toy_splits(n=80, seed=6)
    base = dict(hidden=(3,), bound=1, time_limit=6, seed=1)
    gd_run = train(ds, TrainConfig(objective="gd", **base))
    mip = train(ds, TrainConfig(objective=objective, select="train+val", **base))
    assert mip.model.training["selected"] == "train+val"
    n_tr, n_va = len(ds.y_train), len(ds.y_val)

    def correct(train_acc: float, val_acc: float) -> int:
        return round(train_acc * n_tr + val_acc * n_va)

    kept = correct(mip.train_accuracy, mip.val_accuracy)
    # never below the gradient network (a candidate before its polish) ...
    assert kept >= correct(gd_run.train_accuracy, gd_run.val_accuracy)
    # ... nor below any network of the run, and the model file records the same choice
    assert kept == max(correct(c.train_accuracy, c.val_accuracy or 0.0) for c in mip.candidates)
    info = mip.model.training["best_by_train_val"]
    assert correct(info["train"], info["val"]) == kept
    # the model file's objective is the kept network's; the solver's best is kept beside it
    assert mip.model.training["objective_value"] == info["objective"]
    assert mip.model.training["best_objective"] <= info["objective"]


def test_select_candidate_rules_and_ties():
    from mipnn.trainer.selection import Candidate, select_candidate

    net: list = []
    a = Candidate(net, 5.0, 0.1, train_accuracy=0.90, val_accuracy=0.50)
    b = Candidate(net, 4.0, 0.2, train_accuracy=0.80, val_accuracy=0.60)
    c = Candidate(net, 3.0, 0.3, train_accuracy=0.70, val_accuracy=0.60)
    assert select_candidate([a, b, c], "val", 10, 10) is c  # tie: the later one
    assert select_candidate([a, b, c], "train+val", 10, 10) is b  # a, b 14 correct: later
    assert select_candidate([a, b], "train+val", 100, 10) is a  # 95 against 86
    assert select_candidate([a, b, c], "val", 10, 0) is None
    assert select_candidate([], "train+val", 10, 10) is None
    with pytest.raises(ValueError):
        select_candidate([a], "objective", 10, 10)
