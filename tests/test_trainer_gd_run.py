"""The gradient baseline as a run (trainer/gd_run.py): restarts keep the best validation
accuracy, and a MIP run records the choice of its start."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import net_model, toy_splits

from mipnn.trainer.model import forward
from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


def test_gradient_restarts_keep_the_run_with_the_best_validation_accuracy():
    from mipnn.trainer.gd import GdConfig, train_gd

    ds = toy_splits(n=80, seed=5)
    one = train(ds, TrainConfig(hidden=(3,), bound=1, objective="gd", time_limit=8, seed=2))
    assert one.model.training["restarts"]["restarts"] == 1
    three = train(ds, TrainConfig(hidden=(3,), bound=1, objective="gd", time_limit=8, seed=2,
                                  gd_restarts=3))
    info = three.model.training["restarts"]
    assert info["restarts"] == 3 and len(info["scores"]) == 3
    assert info["scores"][0] == pytest.approx(one.val_accuracy, abs=1e-4)  # run 0 = the seed's
    assert three.val_accuracy == pytest.approx(max(info["scores"]), abs=1e-4)
    assert info["scores"][info["chosen"]] == max(info["scores"])
    # the kept run is one of the three independent runs, recomputed here
    seeds = [2] + [int(np.random.SeedSequence([2, r]).generate_state(1)[0]) for r in (1, 2)]
    nets = [train_gd(ds.X_train, ds.y_train, hidden=(3,), n_classes=2, bound=1, levels=3,
                     config=GdConfig(seed=s, time_limit=1.0)).network for s in seeds]
    chosen = nets[info["chosen"]]
    _, pred = forward(net_model(chosen, levels=3), ds.X_val)
    assert np.mean(pred == ds.y_val) == pytest.approx(three.val_accuracy)
    # a MIP objective starts from the kept run and records the choice
    mip = train(ds, TrainConfig(hidden=(3,), bound=1, time_limit=8, seed=2, gd_restarts=3))
    assert mip.model.training["start"]["gd_restarts"]["chosen"] == info["chosen"]
