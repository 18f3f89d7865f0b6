"""The K-fold guard (trainer/guard.py): every held-out example counted, the gradient network
kept on a tie, and its user errors."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_models import toy_dataset

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import forward
from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


def test_guard_counts_every_held_out_example_and_keeps_the_gradient_network_on_a_tie():
    ds = toy_dataset(n=30, seed=3)
    cfg = TrainConfig(hidden=(3,), bound=1, objective="max_correct", time_limit=8,
                      guard_folds=3)
    res = train(ds, cfg)
    guard = res.model.training["guard"]
    assert guard["folds"] == 3 and guard["held_out_examples"] == 30
    assert 0 <= guard["held_out_correct_gd"] <= 30 and 0 <= guard["held_out_correct_mip"] <= 30
    gd = train(ds, TrainConfig(hidden=(3,), bound=1, objective="gd", time_limit=8 / 4))
    X = ds.X_train
    if guard["held_out_correct_mip"] > guard["held_out_correct_gd"]:
        assert guard["kept"] == "mip" and res.model.training["objective"] == "max_correct"
    else:  # the kept network is the gradient start, exactly
        assert guard["kept"] == "gd" and res.model.training["objective"] == "gd"
        assert np.array_equal(forward(res.model, X)[0], forward(gd.model, X)[0])
        assert res.model.training["guard_mip"]["status"] in ("optimal", "time_limit")


def test_guard_folds_user_errors():
    with pytest.raises(MipnnError, match="--guard-folds must be 0"):
        TrainConfig(guard_folds=1).check()
    with pytest.raises(MipnnError, match="needs --warm-start"):
        TrainConfig(guard_folds=3, warm_start=False).check()
    ds = toy_dataset(n=12, seed=0)
    smallest = int(np.bincount(ds.y_train).min())
    with pytest.raises(MipnnError, match=f"the smallest has {smallest}"):
        train(ds, TrainConfig(hidden=(2,), guard_folds=smallest + 1, time_limit=2))
