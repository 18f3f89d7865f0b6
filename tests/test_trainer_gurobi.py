"""The gurobi-direct route (trainer/gurobi.py): the same optima as highspy on every
objective, warm start, progress, target and stall stops, Gurobi's statuses mapped onto the
solve status, and one-line user errors for a missing gurobipy and an instance over the
licence's size. gurobipy is installed in CI (the ``gurobi`` extra): these tests fail there
without it, and skip locally."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import require_package, tiny_problem

from mipnn.trainer.errors import SolverError
from mipnn.trainer.formulation import NetworkSpec, build_problem
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.objectives import OBJECTIVES
from mipnn.trainer.problem import is_feasible, objective_value
from mipnn.trainer.solution import zero_start
from mipnn.trainer.solve_result import SolveStatus


@pytest.fixture
def gurobi():
    require_package("gurobipy", "pip install 'mipnn[gurobi]'; the Makefile's venv has it")
    from mipnn.trainer import gurobi as module

    return module


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_the_direct_route_reaches_highspys_optimum(gurobi, objective):
    spec, X, y = tiny_problem(objective, seed=1)
    p = build_problem(spec, X, y, symmetry=True)
    direct = solve_highs(p, time_limit=60)
    res = gurobi.solve_gurobi(p, time_limit=60)
    assert direct.status == res.status == SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(direct.objective, abs=1e-6)
    assert res.bound == pytest.approx(res.objective, abs=1e-6) and res.gap == 0.0
    assert is_feasible(p, res.solution, tol=1e-6)
    assert objective_value(p, res.solution) == pytest.approx(res.objective, abs=1e-6)
    assert res.solver.startswith("gurobi ")


def test_every_new_incumbent_is_reported_with_its_solution(gurobi):
    spec, X, y = tiny_problem("min_hinge", seed=1)
    p = build_problem(spec, X, y)
    seen = []
    start = zero_start(p)
    res = gurobi.solve_gurobi(p, time_limit=60, start=start, on_progress=seen.append)
    news = [q for q in seen if q.new_incumbent]
    assert news and res.incumbents == news
    values = [q.objective for q in news]
    assert values == sorted(values, reverse=True)  # each better than the one before
    assert values[0] <= objective_value(p, start) + 1e-9  # the start was taken
    for q in news:
        assert is_feasible(p, q.solution, tol=1e-6)
        assert objective_value(p, q.solution) == pytest.approx(q.objective, abs=1e-6)


def test_a_target_objective_stops_the_search(gurobi):
    spec, X, y = tiny_problem("sat_margin")
    p = build_problem(spec, X, y)
    start = zero_start(p)
    res = gurobi.solve_gurobi(p, time_limit=60, start=start, target=objective_value(p, start))
    assert res.status in (SolveStatus.TARGET, SolveStatus.OPTIMAL)
    assert res.objective <= objective_value(p, start) + 1e-9


def test_contradictory_labels_are_infeasible(gurobi):
    X2 = np.array([[1, 2, 0], [1, 2, 0]])
    hard = build_problem(NetworkSpec(3, (2,), 2, bound=1, levels=3, objective="min_w"),
                         X2, np.array([0, 1]))
    res = gurobi.solve_gurobi(hard, time_limit=60)
    assert res.status is SolveStatus.INFEASIBLE and res.solution is None


def test_gurobi_statuses_map_onto_the_solve_status(gurobi):
    from gurobipy import GRB

    status = gurobi.gurobi_status
    assert status(GRB.OPTIMAL, True, False) is SolveStatus.OPTIMAL
    assert status(GRB.INFEASIBLE, False, False) is SolveStatus.INFEASIBLE
    assert status(GRB.INF_OR_UNBD, False, False) is SolveStatus.INFEASIBLE
    assert status(GRB.TIME_LIMIT, True, False) is SolveStatus.FEASIBLE
    assert status(GRB.TIME_LIMIT, False, False) is SolveStatus.NO_SOLUTION_FOUND
    assert status(GRB.INTERRUPTED, True, True) is SolveStatus.TARGET
    assert status(GRB.INTERRUPTED, True, False, stalled=True) is SolveStatus.FEASIBLE
    assert status(GRB.INTERRUPTED, True, False) is SolveStatus.INTERRUPTED
    assert status(GRB.INTERRUPTED, False, True) is SolveStatus.NO_SOLUTION_FOUND


def test_ranged_rows_become_two_constraints(gurobi):
    spec, X, y = tiny_problem("sat_margin")
    p = build_problem(spec, X, y)
    p.row_lower[0], p.row_upper[0] = -5.0, 5.0  # a ranged row
    p.row_lower[1] = p.row_upper[1] = 0.0  # an equality
    A, senses, rhs = gurobi.constraint_rows(p)
    finite = np.isfinite(p.row_lower).sum() + np.isfinite(p.row_upper).sum() - 1
    assert A.shape[0] == len(senses) == len(rhs) == finite
    assert (senses == "=").sum() == 1 and A.shape[1] == p.n_cols


def test_an_instance_over_the_licence_is_a_one_line_user_error(gurobi):
    spec = NetworkSpec(6, (8,), 2, bound=1, levels=3, objective="sat_margin")
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 4, (150, 6)), rng.integers(0, 2, 150)
    p = build_problem(spec, X, y)
    try:
        res = gurobi.solve_gurobi(p, time_limit=5)
    except SolverError as exc:
        text = str(exc)
        assert "\n" not in text and "licence is too small" in text
        assert f"{p.n_cols} variables" in text and "constraints" in text
        return
    # an unrestricted licence solves it: nothing to check about the error
    assert res.status.has_solution


def test_a_missing_gurobipy_is_a_user_error(monkeypatch):
    from mipnn.trainer.gurobi import import_gurobipy, solve_gurobi

    monkeypatch.setitem(sys.modules, "gurobipy", None)  # import fails as if not installed
    with pytest.raises(SolverError, match="pip install gurobipy"):
        import_gurobipy()
    spec, X, y = tiny_problem("sat_margin")
    with pytest.raises(SolverError, match="gurobi-direct needs gurobipy"):
        solve_gurobi(build_problem(spec, X, y), time_limit=5)


def test_an_unknown_option_is_a_user_error(gurobi):
    spec, X, y = tiny_problem("sat_margin")
    with pytest.raises(SolverError, match="refused an option"):
        gurobi.solve_gurobi(build_problem(spec, X, y), time_limit=5,
                            options={"NoSuchParameter": 1})
