"""``--teacher``: training on a float teacher's labels of the training set."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from helpers_models import toy_dataset

from mipnn.cli import main
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import forward
from mipnn.trainer.teacher import teacher_labels
from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


def _noisy(n: int = 60, flips: int = 6):
    ds = toy_dataset(n=n, seed=5)
    y = ds.y_train.copy()
    rng = np.random.default_rng(1)
    y[rng.choice(n, flips, replace=False)] ^= 1  # label noise the teacher can undo
    ds.y_train = y
    return ds


def test_the_teacher_relabels_noise_and_says_so():
    ds = _noisy()
    labels, info = teacher_labels(ds.X_train, ds.y_train, "logreg", seed=0)
    assert labels.shape == ds.y_train.shape and set(labels) <= {0, 1}
    assert info["relabelled"] == int(np.sum(labels != ds.y_train)) > 0
    assert info["examples"] == 60 and info["folds"] == 5 and 1e-3 <= info["C"] <= 1e2
    again, _ = teacher_labels(ds.X_train, ds.y_train, "logreg", seed=0)
    np.testing.assert_array_equal(labels, again)  # deterministic


def test_teacher_user_errors():
    ds = toy_dataset(n=20)
    with pytest.raises(MipnnError, match="one class only"):
        teacher_labels(ds.X_train, np.zeros(20, dtype=np.int64), "logreg")
    one = np.zeros(20, dtype=np.int64)
    one[3] = 1
    with pytest.raises(MipnnError, match="at least 2 training examples"):
        teacher_labels(ds.X_train, one, "logreg")
    with pytest.raises(MipnnError, match="--teacher must be one of"):
        TrainConfig(teacher="svm").check()
    with pytest.raises(MipnnError, match="cannot be combined"):
        TrainConfig(teacher="logreg", guard_folds=3).check()


@pytest.mark.parametrize("objective", ["gd", "max_correct"])
def test_training_on_teacher_labels_reports_accuracy_on_the_given_ones(objective):
    ds = _noisy()
    messages: list[str] = []
    res = train(ds, TrainConfig(hidden=(3,), objective=objective, teacher="logreg",
                                time_limit=3), on_message=messages.append)
    labels, info = teacher_labels(ds.X_train, ds.y_train, "logreg", seed=0)
    _, pred = forward(res.model, ds.X_train)
    assert res.train_accuracy == pytest.approx(float(np.mean(pred == ds.y_train)))
    training = res.model.training
    assert training["accuracy"]["train"] == res.train_accuracy
    assert training["teacher"]["train_accuracy_on_teacher_labels"] == pytest.approx(
        float(np.mean(pred == labels)))
    assert training["teacher"]["relabelled"] == info["relabelled"]
    assert training["config"]["teacher"] == "logreg"
    assert any(m.startswith("teacher: logreg") for m in messages)


def test_teacher_on_the_command_line(tmp_path):
    runner = CliRunner()
    out = tmp_path / "t.json"
    res = runner.invoke(main, ["train", "--dataset", "breast_cancer", "--train-size", "40",
                               "--hidden", "3", "--objective", "gd", "--teacher", "logreg",
                               "--out", str(out)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "teacher: logreg" in res.output and out.exists()
    for extra, message in ((["--guard-folds", "2"], "cannot be combined"),
                           (["--batch-size", "10"], "--teacher is not combined with batch")):
        r = runner.invoke(main, ["train", "--dataset", "breast_cancer", "--train-size", "40",
                                 "--teacher", "logreg", *extra, "--out",
                                 str(tmp_path / "x.json")], catch_exceptions=False)
        assert r.exit_code == 2 and message in r.stderr, r.output
        assert "Traceback" not in r.output
