"""How large a training problem may be (trainer/limits.py): the estimate is an upper bound of
the matrix build_problem makes, and a problem too large is refused before anything is
allocated."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mipnn.trainer import limits
from mipnn.trainer.formulation import NetworkSpec, build_problem
from mipnn.trainer.limits import SizeError, check_layer_sizes, check_training_size, mip_nonzeros


def test_the_estimate_bounds_the_matrix_on_every_objective():
    rng = np.random.default_rng(0)
    cases = itertools.product([(), (1,), (6,), (3, 4), (5, 2, 3)], [1, 7, 20], [2, 5],
                              ["sat_margin", "min_hinge", "max_correct", "max_m", "min_w"])
    for hidden, n, K, objective in cases:
        N = 24
        X = rng.integers(0, 256, size=(N, n))
        y = np.arange(N) % K
        for prune, symmetry in ((None, False), (0.1 if hidden else None, True)):
            spec = NetworkSpec(n_inputs=n, hidden=hidden, n_classes=K, bound=127, levels=255,
                               objective=objective, prune=prune, weight_penalty=0.5)
            nnz = build_problem(spec, X, y, symmetry=symmetry).A.nnz
            estimate = mip_nonzeros(N, n, hidden, K)
            assert nnz <= estimate, (hidden, n, K, objective, nnz, estimate)
    # and not far above it for a network of some size
    spec = NetworkSpec(n_inputs=30, hidden=(64,), n_classes=2, bound=1, levels=255)
    X = rng.integers(1, 256, size=(100, 30))
    nnz = build_problem(spec, X, np.arange(100) % 2).A.nnz
    assert nnz <= mip_nonzeros(100, 30, (64,), 2) <= 2 * nnz


def test_a_problem_beyond_the_solver_or_the_memory_is_refused(monkeypatch):
    """Issue 21, cause 5: a hidden layer of 10^9 neurons was a NumPy allocation of 224 GiB
    (or a traceback): refused before anything is allocated, with the reason."""
    with pytest.raises(SizeError, match="HiGHS takes at most 2,147,483,647"):
        check_training_size(569, 30, (10**6,), 2, what="--hidden 1000000")
    monkeypatch.setattr(limits, "memory_limit", lambda: 2**30)
    with pytest.raises(SizeError, match=r"--hidden 4096: .* needs about .* more than the 1.0 GiB"):
        check_training_size(500, 30, (4096,), 2, what="--hidden 4096")
    with pytest.raises(SizeError, match="the gradient baseline needs about"):
        check_training_size(500, 30, (10**6,), 2, mip=False)
    with pytest.raises(SizeError, match="even on the smallest data"):
        check_layer_sizes((10**8,))
    check_training_size(500, 30, (64,), 2)  # the usual sizes pass
    check_training_size(500, 30, (4096,), 2, mip=False)
    monkeypatch.setattr(limits, "memory_limit", lambda: None)  # unknown memory: HiGHS only
    check_training_size(500, 30, (4096,), 2)


def test_the_memory_limit_is_known_here():
    have = limits.memory_limit()
    assert have is None or have > 2**20
