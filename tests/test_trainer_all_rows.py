"""A run with --all-rows (trainer/all_rows.py): the gradient stage, then the all-rows
neighbourhood MIPs within the time limit; the model keeps the budget and records both."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import batch_dataset

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


@pytest.mark.parametrize("hidden", [(), (3,)])
def test_all_rows_run_keeps_the_budget_and_records_both_stages(hidden):
    ds = batch_dataset(n=300)
    cfg = TrainConfig(hidden=hidden, bound=3, objective="max_correct", mip_scope="rows",
                      max_nonzeros=3, max_neurons=2 if hidden else None, time_limit=4.0,
                      select="val")
    seen = []
    r = train(ds, cfg, on_progress=seen.append)
    t = r.model.training
    assert np.count_nonzero(r.model.layers[0].weights) <= 3
    assert t["budget"]["max_nonzeros"] == 3 and t["selected"] == "val"
    assert t["all_rows"]["correct"] >= t["all_rows"]["start_correct"]
    assert t["start"]["kind"] == "sparse gd" and t["time"] < 8.0
    assert seen and seen[0].train_accuracy == pytest.approx(t["start"]["gd_train_accuracy"])
    if hidden:
        assert len(r.model.layers[0].weights) <= 2
    assert r.train_accuracy == t["accuracy"]["train"]


def test_all_rows_needs_max_correct():
    with pytest.raises(MipnnError, match="max_correct"):
        TrainConfig(hidden=(), mip_scope="rows").check()
    with pytest.raises(MipnnError, match="max-neurons needs"):
        TrainConfig(hidden=(), max_neurons=2).check()
