"""The second route: the same MipProblem (matrix data) as a Pyomo model, for any solver
Pyomo drives (``highs`` through Pyomo's appsi interface, ``gurobi``, ``cplex``, ``scip``,
``cbc``).

The model is a ``ConcreteModel`` with one indexed variable over the columns and one
indexed constraint over the rows of the sparse matrix (CSR), so the formulation is not
written a second time: Pyomo only receives the matrix. The objective is the same
``cost @ v + offset``. Nothing is reformulated: the optimum is the one ``solve_highs`` finds
(tests/test_trainer_pyomo_route.py checks it on every objective and every installed solver).

Each user-facing name has Pyomo interfaces to try in order (:data:`PYOMO_SOLVERS`): the
solver's own executable first (``gurobi_cl``, ``cplex``, ``scip``, ``cbc``), then its Python
package (``gurobipy``, ``cplex``, ``pyscipopt``), so a ``pip install`` is enough. Every
interface is called the same way: ``solve(load_solutions=False)``, then
``model.solutions.load_from(results)`` when the results hold a solution (Pyomo 6.10 has no
``model.load_solution``), the dual bound read back from ``results.problem.lower_bound``,
and the time limit, seed, thread count and a zero relative gap set through each solver's
own option names (:data:`OPTION_NAMES`). Warm starts go to the interfaces that take them.
Progress callbacks are not available through this route: only the final solution is
reported. Pyomo's termination conditions map onto
:class:`~mipnn.trainer.solve_result.SolveStatus` (:func:`pyomo_status`).

A stop request (Ctrl-C, :mod:`mipnn.trainer.stop`) ends the wait for a solve within about a
second (:func:`~mipnn.trainer.stop.run_stoppable`: the solve runs in a thread of its own),
with the start as the answer: without callbacks nothing can interrupt a solver Pyomo has
started, so one left behind runs on in its thread to its time limit (``mipnn train`` exits
without waiting for it), unless it received the Ctrl-C itself (a terminal sends it to the
whole process group, so a solver executable such as cbc stops and reports its best, which
is kept when it returns within the grace). A solver that dies of the signal gives the start
back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mipnn.trainer.errors import SolverError, one_line
from mipnn.trainer.problem import MipProblem, objective_value
from mipnn.trainer.solve_result import Progress, SolveResult, SolveStatus, stopped_result
from mipnn.trainer.stop import run_stoppable, stop_requested

# Pyomo interfaces per user-facing name, tried in order: the executable, then the package
PYOMO_SOLVERS: dict[str, tuple[str, ...]] = {
    "highs": ("appsi_highs",),
    "gurobi": ("gurobi", "gurobi_direct"),
    "cplex": ("cplex", "cplex_direct"),
    "scip": ("scip", "scip_direct"),
    "cbc": ("cbc",),
}
PACKAGES = {"highs": "highspy", "gurobi": "gurobipy", "cplex": "cplex", "scip": "pyscipopt",
            "cbc": "the coinor-cbc system package"}
# each solver's option names: (time limit, seed, threads, relative gap); None: not set
OPTION_NAMES: dict[str, tuple[str, str | None, str | None, str | None]] = {
    "highs": ("time_limit", "random_seed", "threads", "mip_rel_gap"),
    "gurobi": ("TimeLimit", "Seed", "Threads", "MIPGap"),
    "cplex": ("timelimit", "randomseed", "threads", "mip_tolerances_mipgap"),
    "scip": ("limits/time", "randomization/randomseedshift", None, "limits/gap"),
    "cbc": ("sec", "randomCbcSeed", "threads", "ratio"),
}
# further options: integers read strictly (trainer/solution.py) need a tight integrality
# tolerance, as the highspy route has by default
EXTRA_OPTIONS: dict[str, dict[str, object]] = {
    "gurobi": {"IntFeasTol": 1e-6, "MIPGapAbs": 1e-6},
    "cplex": {"mip_tolerances_integrality": 1e-6, "mip_tolerances_absmipgap": 1e-6},
    "cbc": {"integerTolerance": 1e-6, "allowableGap": 1e-6},
    "highs": {"mip_abs_gap": 1e-6},
    "scip": {"limits/absgap": 1e-6},
}


def pyomo_solver(name: str) -> Any:
    """The Pyomo solver object for ``name`` (the first available interface of
    :data:`PYOMO_SOLVERS`); SolverError (exit 2) when it is unknown or not installed."""
    if name not in PYOMO_SOLVERS:
        raise SolverError(f"unknown Pyomo solver {name!r}; expected one of {', '.join(PYOMO_SOLVERS)}")
    import pyomo.environ as pe

    for interface in PYOMO_SOLVERS[name]:
        solver = pe.SolverFactory(interface)
        try:
            ok = bool(solver.available(exception_flag=False))
        except Exception:  # noqa: BLE001 - a broken installation counts as missing
            ok = False
        if ok:
            return solver
    raise SolverError(
        f"solver {name!r} is not installed or not licensed for Pyomo (tried "
        f"{', '.join(PYOMO_SOLVERS[name])}; install {PACKAGES[name]}), or use --solver highspy"
    )


def pyomo_status(termination: Any, has_solution: bool) -> SolveStatus:
    """The solve status of a Pyomo run from its termination condition: ``optimal`` is
    OPTIMAL, ``infeasible``/``infeasibleOrUnbounded`` INFEASIBLE; otherwise FEASIBLE with a
    solution (a time or iteration limit) and NO_SOLUTION_FOUND without one."""
    from pyomo.opt import TerminationCondition as TC

    if termination == TC.optimal:
        return SolveStatus.OPTIMAL if has_solution else SolveStatus.NO_SOLUTION_FOUND
    if termination in (TC.infeasible, TC.infeasibleOrUnbounded):
        return SolveStatus.INFEASIBLE
    return SolveStatus.FEASIBLE if has_solution else SolveStatus.NO_SOLUTION_FOUND


def pyomo_options(solver: str, time_limit: float, seed: int, threads: int,
                  options: dict[str, object] | None = None) -> dict[str, object]:
    """The options for ``solver``: time limit, seed, threads, a zero relative gap (an
    ``optimal`` status is a proof, as on the highspy route), a tight integrality tolerance,
    then ``options`` (the user's, by the solver's own names) over them."""
    limit, seed_name, threads_name, gap_name = OPTION_NAMES[solver]
    opts: dict[str, object] = {limit: float(time_limit)}
    if seed_name is not None:
        opts[seed_name] = int(seed)
    if threads_name is not None:
        opts[threads_name] = int(threads)
    if gap_name is not None:
        opts[gap_name] = 0.0
    opts.update(EXTRA_OPTIONS.get(solver, {}))
    opts.update(options or {})
    return opts


def to_pyomo(problem: MipProblem) -> tuple[Any, Any]:
    """A Pyomo ``ConcreteModel`` for ``problem`` (one indexed variable over the columns, one
    indexed constraint over the sparse rows) and its variable; once a stop is requested
    (Ctrl-C) the remaining rows are skipped, and the caller does not solve it."""
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
        if stop_requested():  # Ctrl-C: the model is not solved; the rest is built at once
            return pe.Constraint.Skip
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
    ``target``, ``stall`` and ``on_progress`` heartbeats are not supported here (no
    callbacks); the final solution is reported to ``on_progress`` as one incumbent."""

    opt = pyomo_solver(solver)
    t_setup = t0 = time.perf_counter()
    setup_time = 0.0

    def stopped() -> SolveResult:  # Ctrl-C: the start is the answer
        return stopped_result(f"{solver} via pyomo", problem, start, [],
                              time.perf_counter() - t0, setup_time)

    if stop_requested():
        return stopped()
    model, v = to_pyomo(problem)  # seconds for thousands of rows; skips them on a stop
    opts = pyomo_options(solver, time_limit, seed, threads, options)
    warm = start is not None and bool(getattr(opt, "warm_start_capable", lambda: False)())
    if start is not None:
        for j, value in enumerate(np.asarray(start, dtype=float)):
            v[j].set_value(float(value), skip_validation=True)
    setup_time = time.perf_counter() - t_setup
    t0 = time.perf_counter()
    if stop_requested():
        return stopped()
    try:
        kwargs: dict[str, Any] = {"options": opts, "load_solutions": False}
        if warm:
            kwargs["warmstart"] = True
        done, res = run_stoppable(lambda: opt.solve(model, **kwargs), "pyomo")
        if not done:  # Ctrl-C and the solver went on: left to end by itself (module doc)
            return stopped()
        term = res.solver.termination_condition
        has = len(res.solution) > 0
        if has:
            model.solutions.load_from(res)
        status = pyomo_status(term, has)
        bound = _finite(res.problem.lower_bound)
    except Exception as exc:  # noqa: BLE001 - any failure inside Pyomo or the solver
        if stop_requested():  # the solver died of the Ctrl-C
            return stopped()
        raise SolverError(f"{solver} via Pyomo failed: {one_line(exc)}") from None
    if stop_requested() and status.has_solution and status != SolveStatus.OPTIMAL:
        status = SolveStatus.INTERRUPTED
    elapsed = time.perf_counter() - t0
    solution = None
    objective = None
    if status.has_solution:
        values = [v[j].value for j in range(problem.n_cols)]
        # a column in no row and not in the objective (a weight of an all-zero input) is not
        # sent to the solver: any value in its range is optimal; take the one nearest 0
        unused = (np.diff(problem.A.tocsc().indptr) == 0) & (problem.cost == 0)
        missing = [j for j, x in enumerate(values) if x is None and not unused[j]]
        if missing:
            raise SolverError(f"{solver} via Pyomo returned no value for column {missing[0]}")
        solution = np.array([0.0 if x is None else x for x in values], dtype=float)
        solution[unused] = np.clip(0.0, problem.col_lower[unused], problem.col_upper[unused])
        objective = objective_value(problem, solution)
        if bound is not None:
            bound = min(bound, objective)  # a bound read back a rounding error above
    if status == SolveStatus.OPTIMAL and objective is not None:
        bound = objective if bound is None else bound
    gap = None
    if objective is not None and bound is not None:
        gap = 0.0 if objective - bound <= 1e-6 else (objective - bound) / max(abs(objective), 1e-10)
    incumbents = []
    if solution is not None:
        p = Progress(time=elapsed, objective=objective, bound=bound, gap=gap,
                     new_incumbent=True, solution=solution)
        incumbents.append(p)
        if on_progress is not None:
            on_progress(p)
    return SolveResult(
        solver=f"{solver} via pyomo", status=status, solution=solution, objective=objective,
        bound=bound, gap=gap, time=elapsed, incumbents=incumbents, setup_time=setup_time,
    )


def _finite(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and abs(x) < 1e30 else None
