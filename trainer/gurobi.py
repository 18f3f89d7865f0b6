"""Solve a MipProblem with Gurobi through gurobipy directly, from the same sparse matrix the
highspy route hands to HiGHS (``addMVar``/``addMConstr``, no modelling layer): warm start
(the ``Start`` attribute), time limit, seed, threads, progress through a callback (every new
incumbent with its solution, a heartbeat every few seconds), a target objective and a stall
limit that stop the search, a stop request (Ctrl-C, :mod:`mipnn.trainer.stop`) that
terminates it from the callback Gurobi calls in every phase, and Gurobi's status mapped onto
:class:`~mipnn.trainer.solve_result.SolveStatus`.

``mipnn train --solver gurobi-direct`` uses it for the whole pipeline (polish of the start,
the full MIP, the large-neighbourhood search's sub-MIPs). gurobipy is optional
(``pip install 'mipnn[gurobi]'``); PyPI's wheel carries a size-limited licence (2,000
variables and 2,000 constraints), and an instance over it is a one-line user error naming
its size (:func:`solve_gurobi`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mipnn.trainer.errors import SolverError, one_line
from mipnn.trainer.problem import MipProblem
from mipnn.trainer.solve_result import (
    Progress,
    SolveResult,
    SolveStatus,
    StallWatch,
    stopped_result,
)
from mipnn.trainer.stop import request_stop, stop_requested

SIZE_LIMIT_ERROR = 10010  # GRB_ERROR_SIZE_LIMIT_EXCEEDED
PIP_LICENCE_LIMIT = 2000  # variables and constraints of the licence PyPI's wheel carries
MAX_SEED = 2_000_000_000  # Gurobi's Seed parameter is in [0, 2e9]


def import_gurobipy() -> Any:
    """The gurobipy module; SolverError (exit 2) when it is not installed."""
    try:
        import gurobipy
    except ImportError:
        raise SolverError("--solver gurobi-direct needs gurobipy: pip install gurobipy "
                          "(or pip install 'mipnn[gurobi]'), or use --solver highspy") from None
    return gurobipy


def gurobi_version() -> str:
    """``gurobi X.Y.Z`` of the installed gurobipy."""
    gp = import_gurobipy()
    return "gurobi " + ".".join(str(p) for p in gp.gurobi.version())


def gurobi_status(status: int, has_solution: bool, reached_target: bool,
                  stalled: bool = False) -> SolveStatus:
    """The solve status of a Gurobi run: ``OPTIMAL`` is OPTIMAL, ``INFEASIBLE`` and
    ``INF_OR_UNBD`` INFEASIBLE (the MIP's variables are bounded); otherwise a run without a
    solution is NO_SOLUTION_FOUND, one interrupted is TARGET when mipnn's target objective
    stopped it, FEASIBLE when mipnn's stall limit did (a limit, like the time limit), and
    INTERRUPTED when something else did (Ctrl-C); any other limit with a solution is
    FEASIBLE."""
    from gurobipy import GRB

    if status == GRB.OPTIMAL:
        return SolveStatus.OPTIMAL
    if status in (GRB.INFEASIBLE, GRB.INF_OR_UNBD):
        return SolveStatus.INFEASIBLE
    if not has_solution:
        return SolveStatus.NO_SOLUTION_FOUND
    if status == GRB.INTERRUPTED:
        if reached_target:
            return SolveStatus.TARGET
        return SolveStatus.FEASIBLE if stalled else SolveStatus.INTERRUPTED
    return SolveStatus.FEASIBLE


def constraint_rows(problem: MipProblem) -> tuple[Any, np.ndarray, np.ndarray]:
    """The rows of ``problem`` as Gurobi constraints ``A v (sense) rhs``: an equality where
    both bounds are equal, one ``>=`` and/or one ``<=`` row otherwise (a ranged row is two
    constraints; a row without finite bounds is dropped). Returns (CSR matrix, senses, rhs)."""
    import scipy.sparse as sp

    A = problem.A.tocsr()
    lo, hi = problem.row_lower, problem.row_upper
    eq = np.isfinite(lo) & (lo == hi)
    ge = np.isfinite(lo) & ~eq
    le = np.isfinite(hi) & ~eq
    parts = [(eq, "=", lo), (ge, ">", lo), (le, "<", hi)]
    mats = [A[mask] for mask, _, _ in parts]
    senses = np.concatenate([np.full(int(m.sum()), s) for m, s, _ in parts])
    rhs = np.concatenate([b[m] for m, _, b in parts])
    return sp.vstack(mats, format="csr"), senses, rhs


def _gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    if objective - bound <= 1e-9:
        return 0.0
    return (objective - bound) / abs(objective) if objective != 0 else None


def _finite(value: float) -> float | None:
    return float(value) if value is not None and abs(value) < 1e30 else None


def solve_gurobi(
    problem: MipProblem,
    *,
    time_limit: float = 60.0,
    seed: int = 0,
    threads: int = 1,
    start: np.ndarray | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    heartbeat: float = 10.0,
    log: bool = False,
    options: dict[str, object] | None = None,
    target: float | None = None,
    stall: float | None = None,
) -> SolveResult:
    """Minimise ``problem`` with Gurobi; same arguments and result as ``solve_highs``.
    ``start`` is a full starting solution; ``on_progress`` receives every new incumbent
    (with its solution) and a heartbeat every ``heartbeat`` seconds; ``target`` stops the
    search (status TARGET) at an incumbent at most this value; ``stall`` stops it (status
    FEASIBLE) after that many seconds without a new incumbent or a move of the bound.
    ``options`` are Gurobi parameters by name. SolverError (exit 2) when gurobipy is missing,
    its licence refuses the instance (the message gives the instance's size), or Gurobi
    refuses an option."""
    gp = import_gurobipy()
    from gurobipy import GRB

    t_setup = time.perf_counter()
    A, senses, rhs = constraint_rows(problem)
    try:
        env = gp.Env(empty=True)
        env.setParam("OutputFlag", 1 if log else 0)
        env.start()
    except gp.GurobiError as exc:
        raise SolverError(f"Gurobi could not start (licence?): {one_line(exc)}") from None
    with env, gp.Model(env=env) as model:
        try:
            for name, value in (("TimeLimit", float(time_limit)), ("Seed", int(seed) % MAX_SEED),
                                ("Threads", int(threads)), ("MIPGap", 0.0),
                                ("MIPGapAbs", 1e-6), ("IntFeasTol", 1e-6),
                                *(options or {}).items()):
                model.setParam(name, value)
        except gp.GurobiError as exc:
            raise SolverError(f"Gurobi refused an option: {one_line(exc)}") from None
        vtype = np.where(problem.integrality, GRB.INTEGER, GRB.CONTINUOUS)
        x = model.addMVar(problem.n_cols, lb=problem.col_lower, ub=problem.col_upper,
                          obj=problem.cost, vtype=vtype)
        if A.shape[0]:
            model.addMConstr(A, x, senses, rhs)
        model.ObjCon = float(problem.offset)
        if start is not None:
            x.Start = np.asarray(start, dtype=float)
        setup_time = time.perf_counter() - t_setup

        incumbents: list[Progress] = []
        watch = StallWatch(stall)
        reached = [False]
        last_beat = [0.0]

        def callback(m: Any, where: int) -> None:
            if stop_requested():  # Ctrl-C (mipnn.trainer.stop): Gurobi polls in every phase
                m.terminate()
                return
            if where == GRB.Callback.MIPSOL:
                now = m.cbGet(GRB.Callback.RUNTIME)
                obj = _finite(m.cbGet(GRB.Callback.MIPSOL_OBJ))
                bnd = _finite(m.cbGet(GRB.Callback.MIPSOL_OBJBND))
                best = _finite(m.cbGet(GRB.Callback.MIPSOL_OBJBST))
                if obj is None or (best is not None and obj > best + 1e-9):
                    return  # not better than the incumbent: not a new incumbent
                p = Progress(time=now, objective=obj, bound=bnd, gap=_gap(obj, bnd),
                             new_incumbent=True,
                             solution=np.array(m.cbGetSolution(x), dtype=float))
                incumbents.append(p)
                watch.incumbent(now)
                if on_progress is not None:
                    on_progress(p)
                if target is not None and obj <= target + 1e-9:
                    reached[0] = True
                    m.terminate()
            elif where == GRB.Callback.MIP:
                now = m.cbGet(GRB.Callback.RUNTIME)
                bnd = _finite(m.cbGet(GRB.Callback.MIP_OBJBND))
                watch.dual_bound(now, bnd)
                if watch.stalled(now) and not watch.stopped:
                    watch.stopped = True
                    m.terminate()
                if on_progress is not None and now - last_beat[0] >= heartbeat:
                    last_beat[0] = now
                    best = _finite(m.cbGet(GRB.Callback.MIP_OBJBST))
                    on_progress(Progress(time=now, objective=best, bound=bnd,
                                         gap=_gap(best, bnd), new_incumbent=False))

        t0 = time.perf_counter()
        if stop_requested():
            return stopped_result(gurobi_version(), problem, start, incumbents, 0.0,
                                  setup_time)
        try:
            model.optimize(callback)
        except gp.GurobiError as exc:
            if exc.errno == SIZE_LIMIT_ERROR:
                raise SolverError(
                    f"Gurobi's licence is too small for this instance: it has "
                    f"{problem.n_cols} variables and {len(rhs)} constraints (the pip "
                    f"licence allows {PIP_LICENCE_LIMIT:,} of each); use fewer training "
                    "examples or hidden neurons, a full Gurobi licence, or --solver highspy"
                ) from None
            raise SolverError(f"Gurobi failed: {one_line(exc)}") from None
        elapsed = time.perf_counter() - t0
        has = model.SolCount > 0
        solution = np.array(x.X, dtype=float) if has else None
        objective = _finite(model.ObjVal) if has else None
        try:
            bound = _finite(model.ObjBound)
        except gp.GurobiError:  # no bound after an infeasibility proof
            bound = None
        status = gurobi_status(model.Status, has, reached[0], watch.stopped)
        if model.Status == GRB.INTERRUPTED and not (reached[0] or watch.stopped):
            request_stop()  # Gurobi caught a Ctrl-C itself: the rest of the run stops too
        version = gurobi_version()
    return SolveResult(
        solver=version, status=status, solution=solution, objective=objective, bound=bound,
        gap=_gap(objective, bound) if has else None, time=elapsed, incumbents=incumbents,
        setup_time=setup_time,
    )
