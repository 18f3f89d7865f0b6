"""The solver routes (trainer/routes.py): every route reaches highspy's optimum on every
objective through the function a training run uses (gurobi-direct, Pyomo with Gurobi,
Pyomo with HiGHS; Gurobi is installed in CI, so those fail there without it), which routes
report progress, and a route that cannot run is a user error before any work."""

from __future__ import annotations

import sys

import pytest
from conftest import require_package, tiny_problem

from mipnn.trainer.errors import SolverError
from mipnn.trainer.formulation import build_problem
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.objectives import OBJECTIVES
from mipnn.trainer.problem import is_feasible
from mipnn.trainer.routes import SOLVERS, check_solver, has_callbacks, solve_function
from mipnn.trainer.solve_result import SolveStatus


@pytest.mark.parametrize("solver", ["gurobi-direct", "gurobi", "highs"])
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_route_reaches_highspys_optimum(objective, solver):
    if "gurobi" in solver:
        require_package("gurobipy", "pip install 'mipnn[gurobi]'; the Makefile's venv has it")
    spec, X, y = tiny_problem(objective, seed=2)
    p = build_problem(spec, X, y)
    direct = solve_highs(p, time_limit=60)
    res = solve_function(solver)(p, time_limit=60, seed=0, threads=1, stall=30.0)
    assert direct.status == res.status == SolveStatus.OPTIMAL
    assert res.objective == pytest.approx(direct.objective, abs=1e-6)
    assert res.bound == pytest.approx(res.objective, abs=1e-6)
    assert is_feasible(p, res.solution, tol=1e-6)


def test_the_direct_routes_report_progress_and_the_pyomo_routes_do_not():
    assert SOLVERS[:2] == ("highspy", "gurobi-direct")
    assert [s for s in SOLVERS if has_callbacks(s)] == ["highspy", "gurobi-direct"]


def test_a_route_that_cannot_run_is_a_user_error(monkeypatch):
    check_solver("highspy")
    check_solver("highs")  # HiGHS via Pyomo comes with highspy
    monkeypatch.setitem(sys.modules, "gurobipy", None)
    with pytest.raises(SolverError, match="gurobi-direct needs gurobipy"):
        check_solver("gurobi-direct")
    with pytest.raises(SolverError, match="unknown Pyomo solver"):
        check_solver("xpress")


def test_options_reach_the_solver():
    spec, X, y = tiny_problem("sat_margin")
    with pytest.raises(SolverError, match="refused the option"):
        solve_function("highspy", {"no_such_option": 1})(build_problem(spec, X, y),
                                                          time_limit=5)
