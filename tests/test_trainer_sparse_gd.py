"""The sparse mini-batch gradient stage (trainer/sparse_gd.py): the budget holds (non-zero
first-layer weights, active neurons), the binary form, integer ranges, the exact check."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import net_model

from mipnn.trainer.model import forward
from mipnn.trainer.sparse_gd import (
    SparseGdConfig,
    active_neurons,
    auto_epochs,
    to_network,
    train_sparse_gd,
)


def data(n: int = 400, classes: int = 2, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 16, (n, 12))
    X[:, 11] = 0  # zero everywhere: its weights stay zero
    score = X[:, 0] + 2 * X[:, 1] - X[:, 2] - X[:, 3] + rng.normal(0, 2, n)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y.astype(np.int64)


def test_linear_binary_model_meets_k_and_is_the_two_row_form():
    X, y = data()
    r = train_sparse_gd(X, y, hidden=(), n_classes=2, bound=31, levels=15,
                        config=SparseGdConfig(max_nonzeros=3, epochs=40, seed=0))
    (W, b), = r.network
    assert W.shape == (2, 12) and not W[0].any() and b[0] == 0
    assert np.count_nonzero(W) <= 3 and np.abs(W).max() <= 31 and abs(b[1]) <= 31 * 15
    assert set(np.flatnonzero(W[1])) <= {0, 1, 2, 3}  # the informative inputs
    _, pred = forward(net_model(r.network, levels=15), X)
    assert np.mean(pred == y) == r.train_accuracy > 0.8
    again = train_sparse_gd(X, y, hidden=(), n_classes=2, bound=31, levels=15,
                            config=SparseGdConfig(max_nonzeros=3, epochs=40, seed=0))
    assert np.array_equal(again.network[0][0], W)


@pytest.mark.parametrize("hidden", [(4,), (4, 3)])
def test_hidden_layers_meet_k_and_m(hidden):
    X, y = data(classes=3, seed=1)
    cfg = SparseGdConfig(max_nonzeros=10, max_neurons=len(hidden) + 1, epochs=30, seed=2)
    r = train_sparse_gd(X, y, hidden=hidden, n_classes=3, bound=7, levels=15, config=cfg)
    assert [W.shape for W, _ in r.network][0] == (hidden[0], 12)
    assert r.network[-1][0].shape[0] == 3
    assert np.count_nonzero(r.network[0][0]) <= 10
    assert active_neurons(r.network) <= len(hidden) + 1
    assert not r.network[0][0][:, 11].any()
    for li, (W, b) in enumerate(r.network):
        assert np.abs(W).max() <= 7
        assert np.abs(b).max() <= (7 * 15 if li == 0 else 7)
    _, pred = forward(net_model(r.network, levels=15, classes=("a", "b", "c")), X)
    assert np.mean(pred == y) == r.train_accuracy


def test_multiclass_linear_and_helpers():
    X, y = data(classes=3, seed=3)
    r = train_sparse_gd(X, y, hidden=(), n_classes=3, bound=15, levels=15,
                        config=SparseGdConfig(max_nonzeros=6, epochs=30))
    assert r.network[0][0].shape == (3, 12) and np.count_nonzero(r.network[0][0]) <= 6
    assert auto_epochs(1000, 512) == 600 and auto_epochs(10**6, 512) == 60
    assert auto_epochs(32000, 512) == 64
    net = to_network([(np.array([[1, -2]]), np.array([3]))], 2)
    assert net[0][0].tolist() == [[0, 0], [1, -2]] and net[0][1].tolist() == [0, 3]
    dead = [(np.array([[1, 0], [0, 0], [2, 1]]), np.zeros(3, np.int64)),
            (np.array([[1, 1, 0], [0, 1, 0]]), np.zeros(2, np.int64))]
    assert active_neurons(dead) == 1  # neuron 1 has no inputs, neuron 2 no outputs
