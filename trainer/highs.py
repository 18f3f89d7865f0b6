"""Solve a MipProblem with HiGHS through highspy directly (no modelling layer), with
progress callbacks, a target objective that stops the search, and HiGHS's model status
mapped onto :class:`~mipnn.trainer.solve_result.SolveStatus`.

A stop request (Ctrl-C, :mod:`mipnn.trainer.stop`) interrupts the solve from HiGHS's MIP,
simplex and interior-point interrupt callbacks; the solve then returns its incumbent with
status INTERRUPTED. HiGHS does not poll them everywhere: inside a MIP it calls neither LP
callback (not in the root LP either), and its presolve, root LP and feasibility jump can run
for tens of seconds without a poll (measured: 25 s on breast_cancer with 32 hidden
neurons). So inside :func:`~mipnn.trainer.stop.interruptible` HiGHS runs in a thread of its
own (it releases the GIL) while the caller waits: a solve that has not returned
:data:`~mipnn.trainer.stop.STOP_GRACE` seconds after the request is left to end by itself (its callbacks
interrupt it at their next call; the next solve waits for it), and its best incumbent so
far (or the start) is returned."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from mipnn.trainer.errors import SolverError
from mipnn.trainer.problem import MipProblem
from mipnn.trainer.solve_result import (
    Progress,
    SolveResult,
    SolveStatus,
    StallWatch,
    stopped_result,
)
from mipnn.trainer.stop import run_stoppable, stop_requested


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


def run_highs(h: object, cancel: list[bool]) -> bool:
    """``h.run()``; True when it returned. Inside interruptible (mipnn.trainer.stop) HiGHS
    runs in a thread of its own while this thread waits (HiGHS releases the GIL), and a
    stop request leaves it behind after :data:`~mipnn.trainer.stop.STOP_GRACE` seconds:
    ``cancel[0]`` is set (its callbacks then interrupt it at their next call) and False is
    returned."""
    import highspy

    def run() -> None:
        try:
            h.run()  # type: ignore[attr-defined]
        finally:
            if threading.current_thread() is not threading.main_thread():
                highspy._Highs.resetThreadScheduler(False)  # as highspy's startSolve does

    def leave() -> None:
        cancel[0] = True

    done, _ = run_stoppable(run, "highs", on_leave=leave)
    return done


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
    cancel = [False]  # set when the solve is left behind after a stop request

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
        if reached[0] or watch.stopped or stop_requested() or cancel[0]:
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

    def stop_lp(_e: object) -> None:
        if stop_requested() or cancel[0]:
            _e.interrupt()  # type: ignore[attr-defined]

    h.cbMipImprovingSolution.subscribe(improving)
    h.cbMipInterrupt.subscribe(interrupt)
    # HiGHS calls these in an LP solve; inside a MIP (its root LP too) it polls only the MIP
    # callback, which is why run_highs can leave a solve behind (module docstring)
    h.cbSimplexInterrupt.subscribe(stop_lp)
    h.cbIpmInterrupt.subscribe(stop_lp)

    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float)
        sol.value_valid = True
        h.setSolution(sol)
    setup_time = time.perf_counter() - t_setup

    t0 = time.perf_counter()
    if stop_requested():  # Ctrl-C before the solve: the start is the answer
        return stopped_result(f"highs {h.version()}", problem, start, incumbents, 0.0,
                              setup_time)
    if not run_highs(h, cancel):
        return stopped_result(f"highs {h.version()}", problem, start, incumbents,
                              time.perf_counter() - t0, setup_time)
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
