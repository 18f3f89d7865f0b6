"""The search policy of one training run: how the time left after the start is found is
split between the full MIP and large-neighbourhood search (LNS), so that a run does not end
worse than the plain solver would in the same time.

1. The full MIP runs first, from the start, with all the time that is left, until it
   **stalls**: no new incumbent and no move of its dual bound for ``stall_share`` of that
   time (at least :data:`MIN_STALL` seconds). Until then the run is exactly the plain
   solver's, so on a small instance it keeps the solver's proof of optimality; a proven
   optimum (or the target objective) ends the run at once.
2. Only a stalled full MIP hands over to LNS (:func:`mipnn.trainer.lns.lns`), which
   improves its best network and stops as soon as it reaches the full MIP's proven bound
   (then the run is optimal: nothing can be better), or when it stalls too (no strict
   improvement for the same window).
3. The time LNS leaves goes back to the full MIP, from LNS's best network and without a
   stall limit: a second chance to improve or prove what LNS could not.

The routes without callbacks (Pyomo) cannot notice a stall of the full MIP: they give it
``full_solve_share`` of the time in step 1 instead. Without LNS (``--no-lns``, no hidden
layer, or no start) the full MIP gets all the time. A stop request (Ctrl-C,
:mod:`mipnn.trainer.stop`) ends the search after the phase it interrupts, with the best
network so far (status INTERRUPTED).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from mipnn.trainer.formulation import NetworkSpec
from mipnn.trainer.lns import LnsConfig, LnsStats, lns
from mipnn.trainer.problem import MipProblem, objective_value
from mipnn.trainer.routes import has_callbacks
from mipnn.trainer.solution import network_from_solution, start_from_network
from mipnn.trainer.solve_result import Progress, SolveResult, SolveStatus
from mipnn.trainer.stop import stop_requested
from mipnn.trainer.train_config import TrainConfig

Network = list[tuple[np.ndarray, np.ndarray]]
MIN_STALL = 2.0  # seconds: the shortest stall window of the full MIP


def stall_window(config: TrainConfig, budget: float) -> float:
    """How long the full MIP may go without progress before LNS takes over."""
    return max(MIN_STALL, config.stall_share * budget)


def search(
    problem: MipProblem,
    spec: NetworkSpec,
    X: np.ndarray,
    y: np.ndarray,
    start: np.ndarray | None,
    *,
    solve: Callable[..., SolveResult],
    config: TrainConfig,
    deadline: float,
    on_progress: Callable[[Progress], None],
    on_improve: Callable[[Network, float], None],
    canonical: Callable[[Network], Network],
) -> tuple[SolveResult, LnsStats | None, list[dict[str, Any]]]:
    """Minimise ``problem`` (the network ``spec`` on ``X``, ``y``) from ``start`` until
    ``time.perf_counter()`` reaches ``deadline``, by the policy of this module. The full
    MIP's progress goes to ``on_progress`` (times from the call), every network LNS
    improves to ``on_improve`` (as ``canonical`` orders it). Returns the result (``solver``
    ends in ``+ lns`` when LNS ran; its time counts from the call), LNS's statistics (None
    when it did not run) and the phases run (kind, seconds, objective after it, status)."""
    t0 = time.perf_counter()
    budget = deadline - t0
    use_lns = config.lns and bool(config.hidden) and start is not None
    phases: list[dict[str, Any]] = []

    def full_mip(first: np.ndarray | None, limit: float, stall: float | None) -> SolveResult:
        t = time.perf_counter()

        def shifted(p: Progress) -> None:
            on_progress(replace(p, time=p.time + (t - t0)))

        res = solve(problem, time_limit=max(1.0, limit), seed=config.seed,
                    threads=config.threads, start=first, on_progress=shifted,
                    target=config.target_objective, **({} if stall is None else
                                                       {"stall": stall}))
        phases.append({"phase": "mip", "time": round(time.perf_counter() - t, 3),
                       "objective": res.objective, "status": res.status.value})
        return res

    if not use_lns:
        return full_mip(start, budget, None), None, phases
    window = stall_window(config, budget)
    if has_callbacks(config.solver):
        result = full_mip(start, budget, window)
    else:
        result = full_mip(start, budget * config.full_solve_share, None)
    if result.status in (SolveStatus.OPTIMAL, SolveStatus.TARGET, SolveStatus.INFEASIBLE):
        return result, None, phases
    if stop_requested():  # Ctrl-C (mipnn.trainer.stop): the full MIP's best, no LNS
        return result, None, phases
    assert start is not None
    best = result.solution if result.solution is not None else start
    if objective_value(problem, best) > objective_value(problem, start) + 1e-9:
        best = start  # a solver may end worse than a start it was not given back
    # stop at the full MIP's proven bound: nothing can be better (at small N the search
    # reaches it early, e.g. every training pair satisfied, and would only move sideways)
    bound = result.bound if result.bound is not None and np.isfinite(result.bound) else None
    target = max((t for t in (config.target_objective, bound) if t is not None), default=None)
    t_lns = time.perf_counter()
    net, _, stats = lns(
        spec, X, y, network_from_solution(problem, best), deadline=deadline, solve=solve,
        config=LnsConfig(sub_time=config.lns_sub_time, seed=config.seed,
                         threads=config.threads),
        on_improve=lambda n, v: on_improve(canonical(n), v), target=target, stall=window,
    )
    final = start_from_network(problem, canonical(net))
    if objective_value(problem, final) <= objective_value(problem, best) + 1e-9:
        best = final
    phases.append({"phase": "lns", "time": round(time.perf_counter() - t_lns, 3),
                   "objective": objective_value(problem, best),
                   "status": "stalled" if stats.stalled else "stopped"})
    proven = bound is not None and objective_value(problem, best) <= bound + 1e-9
    reached = target is not None and objective_value(problem, best) <= target + 1e-9
    if (not (proven or reached) and deadline - time.perf_counter() >= MIN_STALL
            and not stop_requested()):
        again = full_mip(best, deadline - time.perf_counter(), None)
        if again.solution is not None and (objective_value(problem, again.solution)
                                           <= objective_value(problem, best) + 1e-9):
            best = again.solution
        if again.bound is not None and (bound is None or again.bound > bound):
            bound = again.bound
        if again.status == SolveStatus.OPTIMAL:
            bound = objective_value(problem, best)
    value = objective_value(problem, best)
    status = SolveStatus.FEASIBLE
    if bound is not None and value <= bound + 1e-9:
        status = SolveStatus.OPTIMAL  # equal to a proven lower bound
    elif config.target_objective is not None and value <= config.target_objective + 1e-9:
        status = SolveStatus.TARGET
    elif stop_requested():
        status = SolveStatus.INTERRUPTED
    return SolveResult(
        solver=result.solver + " + lns", status=status, solution=best, objective=value,
        bound=bound, gap=0.0 if status == SolveStatus.OPTIMAL else None,
        time=time.perf_counter() - t0, incumbents=result.incumbents,
        setup_time=result.setup_time,
    ), stats, phases
