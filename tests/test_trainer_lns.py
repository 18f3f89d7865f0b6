"""Large-neighbourhood search and output descent (trainer/lns.py): never worse than the start."""

from __future__ import annotations

import numpy as np
import pytest

from mipnn.trainer.formulation import NetworkSpec, build_problem
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.problem import objective_value
from mipnn.trainer.solution import start_from_network


def test_lns_never_ends_worse_than_its_start_and_target_stops_highs():
    import time

    from mipnn.trainer.lns import lns

    rng = np.random.default_rng(2)
    X = rng.integers(0, 4, (30, 4))
    y = rng.integers(0, 2, 30)
    spec = NetworkSpec(4, (4,), 2, bound=1, levels=3, objective="sat_margin")
    start = [(rng.integers(-1, 2, (4, 4)), rng.integers(-3, 4, 4)),
             (rng.integers(-1, 2, (2, 4)), rng.integers(-1, 2, 2))]
    p = build_problem(spec, X, y)
    before = objective_value(p, start_from_network(p, start))
    net, value, stats = lns(spec, X, y, start, deadline=time.perf_counter() + 4,
                            solve=solve_highs)
    assert value <= before and stats.iterations >= 1
    assert objective_value(p, start_from_network(p, net)) == pytest.approx(value)
    res = solve_highs(p, time_limit=30, start=start_from_network(p, start), target=before)
    assert res.status in ("target", "optimal")
    assert res.objective <= before


def test_output_descent_improves_a_badly_scaled_start_without_a_solver():
    from mipnn.trainer.lns import descend_output

    rng = np.random.default_rng(4)
    X = rng.integers(0, 4, (30, 4))
    y = rng.integers(0, 2, 30)
    spec = NetworkSpec(4, (4,), 2, bound=2, levels=3, objective="min_hinge")
    p = build_problem(spec, X, y)
    net = [(rng.integers(-2, 3, (4, 4)), rng.integers(-6, 7, 4)),
           (np.full((2, 4), 2), np.array([2, -2]))]  # large scores: a costly start
    before = objective_value(p, start_from_network(p, net))
    better, value = descend_output(p, net)
    assert value < before
    assert np.array_equal(better[0][0], net[0][0])  # hidden layer untouched
    assert objective_value(p, start_from_network(p, better)) == pytest.approx(value)
