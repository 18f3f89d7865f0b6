"""Batch training from the command line's side (mipnn/batch_cli.py): the gradient start."""

from __future__ import annotations

import numpy as np
from conftest import batch_dataset
from mipnn.trainer.formulation import NetworkSpec


def test_the_gradient_start_takes_mini_batches_on_a_large_set(monkeypatch):
    """Beyond full_batch_max examples the start uses every example in batches of 256
    (full-batch steps are too few there); below it, one full-batch run."""
    import mipnn.trainer.gd as gd

    from mipnn.batch_cli import _gradient_start

    ds = batch_dataset(n=600)
    spec = NetworkSpec(ds.X_train.shape[1], (4,), 2, 3, ds.levels)
    seen = []
    real = gd.train_gd

    def spy(X, y, **kw):
        seen.append((len(y), kw["config"].batch_size))
        return real(X, y, **kw)

    monkeypatch.setattr(gd, "train_gd", spy)
    net = _gradient_start(ds, spec, seed=0, time_limit=5.0, full_batch_max=100)
    assert seen == [(len(ds.y_train), 256)]
    assert [W.shape for W, _ in net] == [(4, ds.X_train.shape[1]), (2, 4)]
    assert all(np.abs(W).max() <= 3 for W, _ in net)
    _gradient_start(ds, spec, seed=0, time_limit=5.0)
    assert seen[-1] == (len(ds.y_train), None)
