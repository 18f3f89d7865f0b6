"""Solve a MipProblem with HiGHS through highspy directly (no modelling layer), with
progress callbacks, a target objective that stops the search, and HiGHS's model status
mapped onto :class:`~mipnn.trainer.solve_result.SolveStatus`."""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable

import numpy as np
from mipnn.trainer.errors import SolverError
from mipnn.trainer.problem import MipProblem
from mipnn.trainer.solve_result import Progress, SolveResult, SolveStatus, StallWatch


def new_highs() -> object:
    """A ``highspy.Highs`` instance, without the banner its constructor prints on stdout."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def check_highs_options(options: dict[str, object]) -> None:
    """SolverError for an extra option (``--highs-option``) HiGHS refuses (an unknown name, a
    value of the wrong type or out of its range), before any work."""
    import highspy

    h = new_highs()
    h.setOptionValue("output_flag", False)  # type: ignore[attr-defined]
    for key, value in options.items():
        if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:  # type: ignore[attr-defined]
            raise SolverError(f"HiGHS refused the option {key}={value!r} (unknown name or value)")


def highs_version() -> str:
    return f"highs {new_highs().version()}"  # type: ignore[attr-defined]


def highs_status(model_status: object, has_solution: bool, reached_target: bool,
                 stalled: bool = False) -> SolveStatus:
    """The solve status of a HiGHS run: ``kOptimal`` is OPTIMAL and ``kInfeasible``
    INFEASIBLE; otherwise a run without a primal solution is NO_SOLUTION_FOUND, one
    interrupted (``kInterrupt``) is TARGET when mipnn's target objective stopped it, FEASIBLE
    when mipnn's stall limit did (a limit, like the time limit) and INTERRUPTED when
    something else did, and any other limit with a solution is FEASIBLE."""
    import highspy

    MS = highspy.HighsModelStatus
    if model_status == MS.kOptimal:
        return SolveStatus.OPTIMAL
    if model_status == MS.kInfeasible:
        return SolveStatus.INFEASIBLE
    if not has_solution:
        return SolveStatus.NO_SOLUTION_FOUND
    if model_status == MS.kInterrupt:
        if reached_target:
            return SolveStatus.TARGET
        return SolveStatus.FEASIBLE if stalled else SolveStatus.INTERRUPTED
    return SolveStatus.FEASIBLE


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) and abs(value) < 1e30 else None


def solve_highs(
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
    """Minimise ``problem`` with HiGHS. ``start`` is a full starting solution (the caller
    guarantees feasibility); ``on_progress`` receives every new incumbent, plus a
    heartbeat every ``heartbeat`` seconds. ``target``: stop (status TARGET) as soon as
    an incumbent's objective is at most this value. ``stall``: stop (status FEASIBLE)
    after that many seconds without a new incumbent or a move of the dual bound (checked
    when HiGHS polls for interrupts, so not during a long root LP)."""
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - highspy is a core dependency
        raise SolverError("highspy is not installed: pip install highspy") from exc

    t_setup = time.perf_counter()
    h = new_highs()
    h.setOptionValue("output_flag", bool(log))
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("random_seed", int(seed) % 2**31)  # HiGHS takes [0, 2**31 - 1]
    h.setOptionValue("threads", int(threads))
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-6)
    for key, value in (options or {}).items():
        if h.setOptionValue(key, value) != highspy.HighsStatus.kOk:
            raise SolverError(f"HiGHS refused the option {key}={value!r} (unknown name or value)")

    # The array overload of passModel (column-wise matrix, integrality as ints) copies each
    # array once; building a HighsLp first, or a Python list of enum values for the
    # integrality, made the hand-off several times slower (docs/research/TRAINING-notebook.md).
    A = problem.A
    status = h.passModel(
        problem.n_cols, problem.n_rows, int(A.nnz),
        int(highspy.MatrixFormat.kColwise), int(highspy.ObjSense.kMinimize),
        float(problem.offset),
        np.ascontiguousarray(problem.cost, dtype=float),
        np.ascontiguousarray(problem.col_lower, dtype=float),
        np.ascontiguousarray(problem.col_upper, dtype=float),
        np.where(np.isinf(problem.row_lower), -highspy.kHighsInf, problem.row_lower),
        np.where(np.isinf(problem.row_upper), highspy.kHighsInf, problem.row_upper),
        A.indptr.astype(np.int32), A.indices.astype(np.int32),
        np.ascontiguousarray(A.data, dtype=float),
        np.asarray(problem.integrality, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the model (passModel failed)")

    incumbents: list[Progress] = []
    last_beat = [0.0]
    reached = [False]
    watch = StallWatch(stall)

    def improving(_e: object) -> None:
        e = _e
        out = e.data_out  # type: ignore[attr-defined]
        sol = np.array(out.mip_solution, dtype=float)
        p = Progress(
            time=time.perf_counter() - t0,
            objective=_finite(out.objective_function_value),
            bound=_finite(out.mip_dual_bound),
            gap=_finite(out.mip_gap),
            new_incumbent=True,
            solution=sol,
        )
        incumbents.append(p)
        watch.incumbent(p.time)
        if on_progress is not None:
            on_progress(p)
        if target is not None and p.objective is not None and p.objective <= target + 1e-9:
            reached[0] = True
            e.interrupt()  # type: ignore[attr-defined]

    def interrupt(_e: object) -> None:
        if reached[0] or watch.stopped:
            _e.interrupt()  # type: ignore[attr-defined]
            return
        now = time.perf_counter() - t0
        out = _e.data_out  # type: ignore[attr-defined]
        watch.dual_bound(now, _finite(out.mip_dual_bound))
        if watch.stalled(now):
            watch.stopped = True
            _e.interrupt()  # type: ignore[attr-defined]
            return
        if on_progress is None or now - last_beat[0] < heartbeat:
            return
        last_beat[0] = now
        on_progress(
            Progress(
                time=now,
                objective=_finite(out.mip_primal_bound),
                bound=_finite(out.mip_dual_bound),
                gap=_finite(out.mip_gap),
                new_incumbent=False,
            )
        )

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipInterrupt.subscribe(interrupt)

    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float)
        sol.value_valid = True
        h.setSolution(sol)
    setup_time = time.perf_counter() - t_setup

    t0 = time.perf_counter()
    h.run()
    elapsed = time.perf_counter() - t0
    model_status = h.getModelStatus()
    info = h.getInfo()
    has_primal = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    solution = np.array(h.getSolution().col_value, dtype=float) if has_primal else None
    status = highs_status(model_status, solution is not None, reached[0], watch.stopped)
    return SolveResult(
        solver=f"highs {h.version()}",
        status=status,
        solution=solution,
        objective=_finite(info.objective_function_value) if solution is not None else None,
        bound=_finite(info.mip_dual_bound),
        gap=_finite(info.mip_gap) if solution is not None else None,
        time=elapsed,
        incumbents=incumbents,
        setup_time=setup_time,
    )
