"""One training run (trainer/pipeline.py): optimal on tiny separable data, the reported
accuracies are forward's, every objective's model runs bit-exactly on the host, hard
objectives fail clearly, pruning (the search policy has tests/test_trainer_search.py)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_tools, toy_splits
from helpers_models import toy_dataset

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import accuracy, save_model
from mipnn.trainer.objectives import HARD_OBJECTIVES, OBJECTIVES
from mipnn.trainer.pipeline import model_name
from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


@pytest.mark.parametrize("hidden,bound", [((), 2), ((3,), 1), ((3, 2), 1)])
def test_tiny_separable_solves_to_optimality_with_full_accuracy(hidden, bound):
    # without a hidden layer, P = 2 is needed: margins of +/-1 on both outputs need a
    # score gap of 2 between x0 + x1 - x2 = 1 and = 2
    # the whole limit goes to HiGHS (no large-neighbourhood search, which cannot prove
    # optimality): about 6 s alone, and a loaded machine does not make the test fail
    ds = toy_dataset()
    result = train(ds, TrainConfig(hidden=hidden, bound=bound, time_limit=300, seed=0,
                                   lns=False))
    assert result.solve.status == "optimal"
    assert result.solve.objective == pytest.approx(0.0)
    assert result.train_accuracy == 1.0
    # the accuracy the MIP's own variables imply equals forward's
    assert result.mip_train_accuracy == result.train_accuracy
    # simplify may remove neurons that cannot change any output
    assert result.model.shape[0] == 4 and result.model.shape[-1] == 2
    assert len(result.model.shape) == len(hidden) + 2
    for layer in result.model.layers:
        assert np.abs(layer.weights).max() <= bound


def test_model_name_is_a_c_identifier():
    assert model_name("my-data.csv") == "my_data"
    assert model_name("2023 survey") == "m_2023_survey"
    assert model_name("breast_cancer") == "breast_cancer"


@pytest.mark.parametrize("mode", ["weighted", "lexicographic"])
def test_pruning_keeps_few_neurons_and_removes_them_from_the_model(mode):
    ds = toy_dataset()
    cfg = TrainConfig(hidden=(6,), bound=1, time_limit=60, prune=0.1, prune_mode=mode)
    result = train(ds, cfg)
    neurons = result.model.training["neurons"]
    assert neurons["hidden_before"] == [6]
    assert result.model.shape[1] == neurons["hidden_after"][0] < 6
    assert result.train_accuracy == 1.0
    assert result.mip_train_accuracy == result.train_accuracy


@pytest.mark.parametrize("objective", [*OBJECTIVES, "gd"])
def test_reported_accuracy_is_forwards_and_the_model_runs_bit_exact_on_the_host(
        objective, tmp_path):
    from mipnn.device import run_firmware

    ds = toy_splits()
    cfg = TrainConfig(hidden=(3,), bound=1, objective=objective, time_limit=6, seed=0)
    result = train(ds, cfg)
    model = result.model
    assert result.train_accuracy == accuracy(model, ds.X_train, ds.y_train)
    assert result.mip_train_accuracy == result.train_accuracy
    assert result.test_accuracy == accuracy(model, ds.X_test, ds.y_test)
    assert model.training["accuracy"]["train"] == result.train_accuracy
    assert model.training["objective"] == objective
    assert model.training["trajectory"]["incumbents"] >= 1
    for layer in model.layers:
        assert np.abs(layer.weights).max(initial=0) <= 1
    if objective in HARD_OBJECTIVES:
        assert result.train_accuracy == 1.0
    path = save_model(model, tmp_path / f"{objective}.json")
    require_tools("gcc", "make")
    X = np.vstack([ds.X_test, np.zeros((1, 4), np.uint8), np.full((1, 4), 3, np.uint8)])
    report = run_firmware(path, "host", X, workdir=tmp_path / "build")
    assert report.ok, report.describe_mismatches(limit=3)


def test_hard_objective_on_contradictory_data_is_a_clear_error():
    ds = toy_splits()
    ds.X_train = np.vstack([ds.X_train[:4], ds.X_train[:4]])
    ds.y_train = np.concatenate([np.zeros(4, np.int64), np.ones(4, np.int64)])
    for objective in HARD_OBJECTIVES:
        with pytest.raises(MipnnError, match="classifies every training example"):
            train(ds, TrainConfig(hidden=(2,), objective=objective, time_limit=5))
