"""The second route: the same MipProblem (matrix data) as a Pyomo model, for any solver
Pyomo drives (``highs`` through Pyomo's appsi interface, ``gurobi``, ``cplex``, ``scip``,
``cbc``).

The model is a ``ConcreteModel`` with one indexed variable over the columns and one
indexed constraint over the rows of the sparse matrix (CSR), so the formulation is not
written a second time: Pyomo only receives the matrix. The objective is the same ``cost @ v + offset``. Nothing is reformulated:
the optimum is the one ``solve_highs`` finds (tests/test_trainer_pyomo_route.py checks it).
Progress callbacks are not available through this route: only the final solution is
reported. Pyomo's termination conditions map onto
:class:`~mipnn.trainer.solve_result.SolveStatus` (:func:`pyomo_status`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from mipnn.trainer.errors import SolverError
from mipnn.trainer.problem import MipProblem
from mipnn.trainer.solve_result import Progress, SolveResult, SolveStatus

# Pyomo solver name and its time-limit option, per user-facing name
PYOMO_SOLVERS = {
    "highs": ("appsi_highs", "time_limit"),
    "gurobi": ("gurobi", "TimeLimit"),
    "cplex": ("cplex", "timelimit"),
    "scip": ("scip", "limits/time"),
    "cbc": ("cbc", "sec"),
}
_SEED = {"highs": "random_seed", "gurobi": "Seed", "cplex": "randomseed",
         "scip": "randomization/randomseedshift", "cbc": "randomSeed"}
_THREADS = {"highs": "threads", "gurobi": "Threads", "cplex": "threads", "cbc": "threads"}


def pyomo_solver(name: str) -> Any:
    """The Pyomo solver object for ``name``; SolverError (exit 2) when it is unknown or not
    installed."""
    if name not in PYOMO_SOLVERS:
        raise SolverError(f"unknown Pyomo solver {name!r}; expected one of {', '.join(PYOMO_SOLVERS)}")
    import pyomo.environ as pe

    solver = pe.SolverFactory(PYOMO_SOLVERS[name][0])
    try:
        ok = bool(solver.available(exception_flag=False))
    except Exception:  # noqa: BLE001 - a broken installation counts as missing
        ok = False
    if not ok:
        raise SolverError(
            f"solver {name!r} is not installed or not licensed for Pyomo "
            f"({PYOMO_SOLVERS[name][0]}); install it, or use --solver highspy"
        )
    return solver


def pyomo_status(termination: Any, has_solution: bool) -> SolveStatus:
    """The solve status of a Pyomo run from its termination condition: ``optimal`` is
    OPTIMAL, ``infeasible``/``infeasibleOrUnbounded`` INFEASIBLE; otherwise FEASIBLE with a
    solution (a time or iteration limit) and NO_SOLUTION_FOUND without one."""
    from pyomo.opt import TerminationCondition as TC

    if termination == TC.optimal:
        return SolveStatus.OPTIMAL
    if termination in (TC.infeasible, TC.infeasibleOrUnbounded):
        return SolveStatus.INFEASIBLE
    return SolveStatus.FEASIBLE if has_solution else SolveStatus.NO_SOLUTION_FOUND


def to_pyomo(problem: MipProblem) -> tuple[Any, Any]:
    """A Pyomo ``ConcreteModel`` for ``problem`` (one indexed variable over the columns, one
    indexed constraint over the sparse rows) and its variable."""
    import pyomo.environ as pe

    m = pe.ConcreteModel()
    n = problem.n_cols
    lower, upper = problem.col_lower, problem.col_upper

    def bounds(_m: Any, j: int) -> tuple[float | None, float | None]:
        return (float(lower[j]) if np.isfinite(lower[j]) else None,
                float(upper[j]) if np.isfinite(upper[j]) else None)

    def domain(_m: Any, j: int) -> Any:
        return pe.Integers if problem.integrality[j] else pe.Reals

    m.v = pe.Var(range(n), domain=domain, bounds=bounds)
    A = problem.A.tocsr()
    indptr, indices, data = A.indptr, A.indices, A.data
    rlo, rhi = problem.row_lower, problem.row_upper
    v = m.v

    def row(_m: Any, i: int) -> Any:
        lo, hi = indptr[i], indptr[i + 1]
        expr = pe.quicksum(float(data[k]) * v[int(indices[k])] for k in range(lo, hi))
        return (float(rlo[i]) if np.isfinite(rlo[i]) else None, expr,
                float(rhi[i]) if np.isfinite(rhi[i]) else None)

    m.rows = pe.Constraint(range(problem.n_rows), rule=row)
    nz = np.flatnonzero(problem.cost)
    m.obj = pe.Objective(
        expr=pe.quicksum(float(problem.cost[j]) * v[int(j)] for j in nz)
        + problem.offset,
        sense=pe.minimize,
    )
    return m, v


def solve_pyomo(
    problem: MipProblem,
    *,
    solver: str = "highs",
    time_limit: float = 60.0,
    seed: int = 0,
    threads: int = 1,
    start: np.ndarray | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    target: float | None = None,
    options: dict[str, object] | None = None,
    **_ignored: Any,
) -> SolveResult:
    """Solve ``problem`` with a Pyomo solver; same result type as ``solve_highs``.
    ``target`` and ``on_progress`` heartbeats are not supported here; the final solution
    is reported to ``on_progress`` as one incumbent."""
    import pyomo.environ as pe
    from pyomo.opt import TerminationCondition as TC

    opt = pyomo_solver(solver)
    t_setup = time.perf_counter()
    model, v = to_pyomo(problem)
    name = PYOMO_SOLVERS[solver]
    opts: dict[str, object] = {name[1]: float(time_limit)}
    if solver in _SEED:
        opts[_SEED[solver]] = int(seed)
    if solver in _THREADS:
        opts[_THREADS[solver]] = int(threads)
    opts.update(options or {})
    warm = False
    if start is not None:
        for j, value in enumerate(np.asarray(start, dtype=float)):
            v[j].set_value(float(value), skip_validation=True)
        warm = True
    setup_time = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    try:
        kwargs: dict[str, Any] = {"options": opts, "load_solutions": False}
        if warm and solver != "highs":  # appsi_highs takes no warm start through Pyomo
            kwargs["warmstart"] = True
        res = opt.solve(model, **kwargs)
        term = res.solver.termination_condition
        has = len(res.solution) > 0 if solver != "highs" else term in (
            TC.optimal, TC.maxTimeLimit, TC.maxIterations, TC.feasible)
        if has:
            if solver == "highs":
                opt.load_vars()
            else:
                model.load_solution(res.solution(0))
        bound = None
        status = pyomo_status(term, has)
    except (RuntimeError, ValueError, OSError) as exc:
        raise SolverError(f"{solver} via Pyomo failed: {exc}") from None
    elapsed = time.perf_counter() - t0
    solution = None
    objective = None
    if status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE):
        values = [v[j].value for j in range(problem.n_cols)]
        # a column in no row and not in the objective (a weight of an all-zero input) is not
        # sent to the solver: any value in its range is optimal; take the one nearest 0
        unused = np.array([x is None for x in values])
        solution = np.array([0.0 if x is None else x for x in values], dtype=float)
        solution[unused] = np.clip(0.0, problem.col_lower[unused], problem.col_upper[unused])
        objective = float(pe.value(model.obj))
    incumbents = []
    if solution is not None:
        p = Progress(time=elapsed, objective=objective, bound=bound, gap=None,
                     new_incumbent=True, solution=solution)
        incumbents.append(p)
        if on_progress is not None:
            on_progress(p)
    return SolveResult(
        solver=f"{solver} via pyomo", status=status, solution=solution, objective=objective,
        bound=None if bound is None or not np.isfinite(bound) else float(bound), gap=None,
        time=elapsed, incumbents=incumbents, setup_time=setup_time,
    )
