"""The solver routes a training run chooses from, by name (``--solver``): which function
solves a MipProblem on each, whether it reports progress while it runs, and the check that
a route can run here before any work starts.

* ``highspy``: HiGHS through highspy directly (:mod:`mipnn.trainer.highs`), the default;
* ``gurobi-direct``: Gurobi through gurobipy directly (:mod:`mipnn.trainer.gurobi`), from
  the same matrix;
* ``highs``, ``gurobi``, ``cplex``, ``scip``, ``cbc``: the same matrix through Pyomo
  (:mod:`mipnn.trainer.pyomo_route`; ``highs`` is HiGHS via Pyomo's appsi interface).

The two direct routes report every incumbent and a heartbeat through callbacks and can stop
a solve on a target objective or when it stalls; the Pyomo routes report only the final
solution, so the search policy (:mod:`mipnn.trainer.search`) gives them a fixed share of the
time instead of a stall limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mipnn.trainer.gurobi import import_gurobipy, solve_gurobi
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.pyomo_route import PYOMO_SOLVERS, pyomo_solver, solve_pyomo
from mipnn.trainer.solve_result import SolveResult

DIRECT_ROUTES = ("highspy", "gurobi-direct")
SOLVERS = (*DIRECT_ROUTES, *PYOMO_SOLVERS)


def has_callbacks(solver: str) -> bool:
    """Whether the route reports incumbents while it runs and can stop on a stall."""
    return solver in DIRECT_ROUTES


def check_solver(solver: str) -> None:
    """Raise SolverError (exit 2) when ``solver``'s route cannot run on this machine: its
    package or executable is missing (highspy is a dependency of mipnn)."""
    if solver == "gurobi-direct":
        import_gurobipy()
    elif solver != "highspy":
        pyomo_solver(solver)


def solve_function(solver: str, options: dict[str, object] | None = None
                   ) -> Callable[..., SolveResult]:
    """The function that solves a MipProblem on ``solver``'s route, with ``options`` (the
    solver's own parameter names, e.g. ``--highs-option``) on every solve. It takes
    ``solve_highs``'s keyword arguments; ``stall`` only matters on the direct routes."""
    opts = dict(options or {}) or None
    if solver == "highspy":

        def run_highs(problem: Any, **kw: Any) -> SolveResult:
            return solve_highs(problem, options=opts, **kw)

        return run_highs
    if solver == "gurobi-direct":

        def run_gurobi(problem: Any, **kw: Any) -> SolveResult:
            return solve_gurobi(problem, options=opts, **kw)

        return run_gurobi

    def run_pyomo(problem: Any, **kw: Any) -> SolveResult:
        kw.pop("stall", None)
        return solve_pyomo(problem, solver=solver, options=opts, **kw)

    return run_pyomo
