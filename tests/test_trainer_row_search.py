"""The all-rows neighbourhood search (trainer/row_search.py): what each row needs of a
class score or a hidden neuron (checked against the forward pass), and a search that never
gets worse, keeps the budget and never revives a neuron."""

from __future__ import annotations

import time

import numpy as np

from mipnn.trainer.row_search import (
    RowSearchConfig,
    active_hidden,
    class_row_needs,
    forward_all,
    improve_all_rows,
    neuron_needs,
    predict,
)
from mipnn.trainer.sparse_gd import active_neurons


def correct_by_rule(mode, thr, const, f):
    return np.where(mode == 1, f >= thr, np.where(mode == 2, f <= thr, const))


def test_class_row_needs_match_the_argmax_with_its_tie_rule():
    rng = np.random.default_rng(0)
    scores = rng.integers(-3, 4, (300, 4))
    y = rng.integers(0, 4, 300)
    for k in range(4):
        mode, thr, const = class_row_needs(scores, y, k)
        for value in range(-5, 6):
            s = scores.copy()
            s[:, k] = value
            want = predict(s) == y
            assert np.array_equal(correct_by_rule(mode, thr, const, np.full(300, value)), want)


def test_neuron_needs_match_the_forward_pass():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, (200, 5))
    net = [(rng.integers(-2, 3, (3, 5)), rng.integers(-3, 4, 3)),
           (rng.integers(-2, 3, (2, 3)), rng.integers(-2, 3, 2)),
           (rng.integers(-2, 3, (3, 2)), rng.integers(-2, 3, 3))]
    y = rng.integers(0, 3, 200)
    acts, _ = forward_all(net, X)
    for li, j in ((0, 1), (1, 0)):
        mode, thr, const = neuron_needs(net, acts, y, li, j)
        for sign in (1, -1):
            a = acts[li + 1].copy()
            a[:, j] = sign
            for lj in range(li + 1, len(net)):
                z = a @ net[lj][0].T + net[lj][1]
                a = np.where(z >= 0, 1, -1) if lj < len(net) - 1 else z
            z_value = 0 if sign == 1 else -1
            want = predict(a) == y
            got = correct_by_rule(mode, thr, const, np.full(200, z_value))
            assert np.array_equal(got, want)


def test_the_search_never_gets_worse_and_keeps_the_budget():
    rng = np.random.default_rng(2)
    X = rng.integers(0, 8, (500, 10))
    y = ((X[:, 0] + X[:, 1] - X[:, 2]) > 6).astype(np.int64)
    W = np.zeros((2, 10), np.int64)
    W[1, 5] = 1  # a poor start with one weight on a useless input
    net = [(W, np.array([0, -3]))]
    start = np.mean(predict(forward_all(net, X)[1]) == y)
    out, stats = improve_all_rows(X, y, net, bound=7, levels=7, max_nonzeros=3,
                                  deadline=time.perf_counter() + 6.0,
                                  config=RowSearchConfig(sub_time=2.0, n_free=4))
    acc = np.mean(predict(forward_all(out, X)[1]) == y)
    assert acc >= start and stats.correct == round(acc * 500) >= stats.start_correct
    assert np.count_nonzero(out[0][0]) <= 3 and not out[0][0][0].any()
    assert stats.improvements >= 1 and acc > 0.8


def test_hidden_networks_keep_their_active_neurons():
    rng = np.random.default_rng(3)
    X = rng.integers(0, 4, (300, 6))
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    W0 = rng.integers(-2, 3, (3, 6))
    W0[2] = 0  # neuron 2: no inputs (constant)
    net = [(W0, np.zeros(3, np.int64)),
           (np.array([[0, 0, 0], [1, -1, 2]]), np.array([0, 0]))]
    before = active_neurons(net)
    out, _ = improve_all_rows(X, y, net, bound=3, levels=3, max_nonzeros=None,
                              deadline=time.perf_counter() + 4.0,
                              config=RowSearchConfig(sub_time=1.0))
    assert active_neurons(out) <= before
    assert not out[0][0][2].any()  # never revived
    assert active_hidden(out, 0).sum() <= before
