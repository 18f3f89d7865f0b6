"""One batch-training run from a data set (trainer/batch_run.py): the gradient start of the
mipnn variant's first epoch, and the saved model with its training record."""

from __future__ import annotations

import numpy as np
from conftest import batch_dataset

from mipnn.trainer.batch import BatchConfig
from mipnn.trainer.formulation import NetworkSpec
from mipnn.trainer.model import forward


def test_the_gradient_start_takes_mini_batches_on_a_large_set(monkeypatch):
    """Beyond full_batch_max examples the start uses every example in batches of 256
    (full-batch steps are too few there); below it, one full-batch run."""
    import mipnn.trainer.batch_run as batch_run

    ds = batch_dataset(n=600)
    spec = NetworkSpec(ds.X_train.shape[1], (4,), 2, 3, ds.levels)
    seen = []
    real = batch_run.train_gd

    def spy(X, y, **kw):
        seen.append((len(y), kw["config"].batch_size))
        return real(X, y, **kw)

    monkeypatch.setattr(batch_run, "train_gd", spy)
    net = batch_run.gradient_start(ds, spec, seed=0, time_limit=5.0, full_batch_max=100)
    assert seen == [(len(ds.y_train), 256)]
    assert [W.shape for W, _ in net] == [(4, ds.X_train.shape[1]), (2, 4)]
    assert all(np.abs(W).max() <= 3 for W, _ in net)
    batch_run.gradient_start(ds, spec, seed=0, time_limit=5.0)
    assert seen[-1] == (len(ds.y_train), None)


def test_the_batch_model_records_its_run_and_its_accuracies(tmp_path):
    from mipnn.trainer.batch_run import train_batch_model

    ds = batch_dataset(n=200)
    spec = NetworkSpec(ds.X_train.shape[1], (3,), 2, 1, ds.levels)
    config = BatchConfig(batch_size=50, epochs=1, time_limit=2.0,
                         checkpoint=tmp_path / "c.json")
    model, result = train_batch_model(ds, spec, config)
    info = model.training
    assert info["status"] == "batch" and info["batch"]["mips_solved"] == result.mips_solved
    assert info["config"] == {"hidden": [3], "bound": 1, "margin": 1, "seed": 0}
    _, pred = forward(model, ds.X_test)
    assert info["accuracy"]["test"] == float(np.mean(pred == ds.y_test))
    assert info["examples"]["train"] == len(ds.y_train)
