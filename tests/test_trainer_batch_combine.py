"""Combining batch solutions and the next epoch's bounds (trainer/batch_combine.py)."""

from __future__ import annotations

import numpy as np

from mipnn.trainer.batch_combine import combine, next_bounds
from mipnn.trainer.formulation import NetworkSpec, default_bounds


def test_combine_weights_by_rescaled_validation_accuracy():
    limits = default_bounds(NetworkSpec(2, (), 2, bound=5, levels=1))
    a = [(np.array([[4, 0], [0, 0]]), np.array([0, 0]))]
    b = [(np.array([[0, 0], [0, 4]]), np.array([2, 0]))]
    c = [(np.array([[2, 2], [2, 2]]), np.array([0, 0]))]
    # accuracies 0.9, 0.5, 0.7 -> weights 1, 0, 0.5 (normalised 2/3, 0, 1/3)
    mean = combine([a, b, c], [0.9, 0.5, 0.7], limits)
    assert mean[0][0].tolist() == [[3, 1], [1, 1]]
    # all equal -> plain mean
    assert combine([a, b], [0.6, 0.6], limits)[0][1].tolist() == [1, 0]


def test_next_bounds_shrink_around_the_mean_and_clip():
    spec = NetworkSpec(2, (1,), 2, bound=3, levels=4)
    limits = default_bounds(spec)
    center = [(np.array([[3, -1]]), np.array([5])), (np.array([[0], [2]]), np.array([1, -3]))]
    (wl, wu, bl, bu), (wl1, wu1, bl1, bu1) = next_bounds(center, limits, radius=2, levels=4)
    assert wl.tolist() == [[1, -3]] and wu.tolist() == [[3, 1]]
    assert bl.tolist() == [-3] and bu.tolist() == [12]  # first-layer bias radius r * L
    assert bl1.tolist() == [-1, -3] and bu1.tolist() == [3, -1]
