"""The Pyomo route (trainer/pyomo_route.py), parametrised over the installed solvers as
python-mip's tests are: the same optimum as highspy, a clear error for a missing solver, and
the termination conditions mapped onto the solve status."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import require_package, tiny_problem
from pyomo.opt import TerminationCondition as TC

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.formulation import NetworkSpec, build_problem
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.objectives import OBJECTIVES
from mipnn.trainer.problem import is_feasible, objective_value
from mipnn.trainer.pyomo_route import pyomo_status
from mipnn.trainer.solution import zero_start
from mipnn.trainer.solve_result import SolveStatus


def _installed_pyomo_solvers() -> list[str]:
    """The Pyomo solvers this machine has, and always Gurobi (tests are parametrised over
    them, as python-mip's are: a solver that is not installed gets no test, not a skip;
    Gurobi is installed in CI, so its tests must run there: ``require_gurobi``)."""
    from mipnn.trainer.errors import SolverError
    from mipnn.trainer.pyomo_route import PYOMO_SOLVERS, pyomo_solver

    found = []
    for solver in PYOMO_SOLVERS:
        try:
            pyomo_solver(solver)
        except SolverError:
            if solver != "gurobi":
                continue
        found.append(solver)
    return found


def require_gurobi(solver: str) -> None:
    """For Gurobi: skip locally without gurobipy, fail under CI=true (CI installs it)."""
    if solver == "gurobi":
        require_package("gurobipy", "pip install 'mipnn[gurobi]'; the Makefile's venv has it")


def test_highs_is_available_through_pyomo():
    # HiGHS comes with highspy: the Pyomo route must always have at least it
    assert "highs" in _installed_pyomo_solvers()


@pytest.mark.parametrize("solver", _installed_pyomo_solvers())
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_both_routes_reach_the_same_optimum(objective, solver):
    from mipnn.trainer.pyomo_route import solve_pyomo

    require_gurobi(solver)
    spec, X, y = tiny_problem(objective, seed=1)
    p = build_problem(spec, X, y, symmetry=True)
    direct = solve_highs(p, time_limit=60)
    via = solve_pyomo(p, solver=solver, time_limit=60)
    assert direct.status == via.status == "optimal"
    assert via.objective == pytest.approx(direct.objective, abs=1e-6)
    assert via.bound == pytest.approx(via.objective, abs=1e-6) and via.gap == 0.0
    assert is_feasible(p, via.solution, tol=1e-5)


@pytest.mark.parametrize("solver", _installed_pyomo_solvers())
def test_a_time_limit_ends_with_the_best_solution_and_its_bound(solver):
    from mipnn.trainer.pyomo_route import solve_pyomo

    require_gurobi(solver)
    # max_correct on 32 random examples (under the pip Gurobi licence's size): no solver
    # here proves it in 2 s
    spec = NetworkSpec(8, (6,), 2, bound=1, levels=3, objective="max_correct")
    rng = np.random.default_rng(0)
    p = build_problem(spec, rng.integers(0, 4, (32, 8)), rng.integers(0, 2, 32))
    start = zero_start(p)
    t0 = time.perf_counter()
    try:
        res = solve_pyomo(p, solver=solver, time_limit=2, start=start)
    except MipnnError as exc:  # e.g. CPLEX's pip Community Edition: 1,000 rows at most
        if "size limit" not in str(exc).lower():
            raise
        pytest.skip(f"{solver}'s licence is too small for this instance: {exc}")
    assert time.perf_counter() - t0 < 30
    assert res.status is SolveStatus.FEASIBLE and is_feasible(p, res.solution, tol=1e-5)
    assert res.objective <= objective_value(p, start) + 1e-9
    assert res.bound is None or res.bound <= res.objective + 1e-9


def test_missing_pyomo_solver_is_a_user_error():
    from mipnn.trainer.pyomo_route import pyomo_solver

    with pytest.raises(MipnnError, match="unknown Pyomo solver"):
        pyomo_solver("nope")


@pytest.mark.parametrize(("termination", "has_solution", "status"), [
    (TC.optimal, True, SolveStatus.OPTIMAL),
    (TC.optimal, False, SolveStatus.NO_SOLUTION_FOUND),
    (TC.infeasible, False, SolveStatus.INFEASIBLE),
    (TC.infeasibleOrUnbounded, False, SolveStatus.INFEASIBLE),
    (TC.maxTimeLimit, True, SolveStatus.FEASIBLE),
    (TC.maxIterations, True, SolveStatus.FEASIBLE),
    (TC.feasible, True, SolveStatus.FEASIBLE),
    (TC.maxTimeLimit, False, SolveStatus.NO_SOLUTION_FOUND),
    (TC.error, False, SolveStatus.NO_SOLUTION_FOUND),
])
def test_termination_conditions_map_onto_the_solve_status(termination, has_solution, status):
    assert pyomo_status(termination, has_solution) is status


def test_a_solve_via_pyomo_reports_the_status_enum():
    from mipnn.trainer.pyomo_route import solve_pyomo

    spec, X, y = tiny_problem("sat_margin", seed=1)
    res = solve_pyomo(build_problem(spec, X, y), solver="highs", time_limit=60)
    assert res.status is SolveStatus.OPTIMAL and res.solution is not None
