"""The gradient baseline (trainer/gd.py): integer ranges, zero columns, seeded mini-batches."""

from __future__ import annotations

import numpy as np
from conftest import net_model, toy_splits

from mipnn.trainer.model import forward


def test_gradient_baseline_keeps_integer_ranges_and_zero_columns():
    from mipnn.trainer.gd import GdConfig, train_gd

    ds = toy_splits()
    r = train_gd(ds.X_train, ds.y_train, hidden=(4,), n_classes=2, bound=2, levels=3,
                 config=GdConfig(epochs=50, seed=1))
    (W0, b0), (W1, b1) = r.network
    assert W0.shape == (4, 4) and W1.shape == (2, 4)
    assert np.abs(W0).max() <= 2 and np.abs(W1).max() <= 2 and np.abs(b1).max() <= 2
    assert np.abs(b0).max() <= 2 * 3  # first bias scaled by L
    assert np.all(W0[:, 3] == 0)
    _, pred = forward(net_model(r.network, levels=3), ds.X_train)
    assert np.mean(pred == ds.y_train) == r.train_accuracy
    again = train_gd(ds.X_train, ds.y_train, hidden=(4,), n_classes=2, bound=2, levels=3,
                     config=GdConfig(epochs=50, seed=1))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(r.network, again.network, strict=True))


def test_mini_batch_gradient_baseline_is_seeded_and_checks_its_last_steps():
    from mipnn.trainer.gd import GdConfig, train_gd

    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, (600, 5))
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 2).astype(np.int64)
    cfg = GdConfig(epochs=15, seed=4, batch_size=32)
    a = train_gd(X, y, hidden=(4,), n_classes=2, bound=2, levels=3, config=cfg)
    b = train_gd(X, y, hidden=(4,), n_classes=2, bound=2, levels=3, config=cfg)
    assert all(np.array_equal(u[0], v[0]) and np.array_equal(u[1], v[1])
               for u, v in zip(a.network, b.network, strict=True))
    _, pred = forward(net_model(a.network, levels=3), X)
    assert np.mean(pred == y) == a.train_accuracy
    assert a.train_accuracy > 0.8  # a learnable rule: mini-batch steps learn it
    full = train_gd(X, y, hidden=(4,), n_classes=2, bound=2, levels=3,
                    config=GdConfig(epochs=15, seed=4))
    assert a.train_accuracy >= full.train_accuracy  # 15 epochs: 285 steps against 15
