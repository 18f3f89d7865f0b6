"""Solutions and networks (trainer/solution.py): the MIP's own variables of a time-limited
incumbent equal the integer reference exactly."""

from __future__ import annotations

import numpy as np
import pytest

from mipnn.trainer.formulation import NetworkSpec, build_problem
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.model import forward
from mipnn.trainer.solution import check_mip_agrees, mip_scores, zero_start


def test_mip_variables_equal_forward_on_a_time_limited_solution():
    """On a problem the solver does not finish, the returned incumbent's hidden binaries
    and output scores (the MIP's view) equal the integer reference exactly."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 16, (60, 6))
    y = rng.integers(0, 3, 60)  # random labels: not separable
    spec = NetworkSpec(n_inputs=6, hidden=(4,), n_classes=3, bound=2, levels=15)
    problem = build_problem(spec, X, y)
    res = solve_highs(problem, time_limit=3, seed=1, start=zero_start(problem))
    assert res.solution is not None
    assert res.status in ("optimal", "time_limit")
    from mipnn.trainer.model import Layer, Model
    from mipnn.trainer.solution import network_from_solution

    net = network_from_solution(problem, res.solution)
    model = Model("m", ["a", "b", "c"], 6, 15, [
        Layer(net[0][0], net[0][1], "sign"), Layer(net[1][0], net[1][1], "linear")])
    assert check_mip_agrees(problem, res.solution, model, X)
    scores, pred = forward(model, X)
    mip_pred = np.argmax(mip_scores(problem, res.solution, X), axis=1)
    assert np.array_equal(pred, mip_pred)
    # the objective counts unsatisfied (example, class) pairs; each fully satisfied
    # example is classified correctly, so accuracy >= 1 - objective / N is not guaranteed,
    # but the number of fully satisfied examples is a lower bound of the correct ones
    q = np.rint(problem.values(res.solution, "q"))
    assert np.sum(q.all(axis=1)) <= np.sum(pred == y)
    assert res.objective == pytest.approx(60 * 3 - q.sum())
