"""The highspy route (trainer/highs.py): HiGHS's model statuses mapped onto the solve status,
and a solve ending in each of the statuses a training run meets."""

from __future__ import annotations

import highspy
import numpy as np
import pytest
from conftest import tiny_problem

from mipnn.trainer.formulation import NetworkSpec, build_problem
from mipnn.trainer.highs import highs_status, solve_highs
from mipnn.trainer.solution import zero_start
from mipnn.trainer.solve_result import SolveStatus

MS = highspy.HighsModelStatus


@pytest.mark.parametrize(("model_status", "has_solution", "reached", "status"), [
    (MS.kOptimal, True, False, SolveStatus.OPTIMAL),
    (MS.kInfeasible, False, False, SolveStatus.INFEASIBLE),
    (MS.kTimeLimit, True, False, SolveStatus.FEASIBLE),
    (MS.kTimeLimit, False, False, SolveStatus.NO_SOLUTION_FOUND),
    (MS.kIterationLimit, True, False, SolveStatus.FEASIBLE),
    (MS.kSolutionLimit, True, False, SolveStatus.FEASIBLE),
    (MS.kInterrupt, True, True, SolveStatus.TARGET),
    (MS.kInterrupt, True, False, SolveStatus.INTERRUPTED),
    (MS.kInterrupt, False, False, SolveStatus.NO_SOLUTION_FOUND),
    (MS.kInterrupt, False, True, SolveStatus.NO_SOLUTION_FOUND),
])
def test_model_statuses_map_onto_the_solve_status(model_status, has_solution, reached, status):
    assert highs_status(model_status, has_solution, reached) is status


def test_solves_report_optimal_target_and_infeasible():
    spec, X, y = tiny_problem("sat_margin")
    p = build_problem(spec, X, y)
    res = solve_highs(p, time_limit=60)
    assert res.status is SolveStatus.OPTIMAL and res.status.has_solution
    start = zero_start(p)
    at_target = solve_highs(p, time_limit=60, start=start,
                            target=float(p.cost @ start + p.offset))
    assert at_target.status in (SolveStatus.TARGET, SolveStatus.OPTIMAL)
    # min_w on contradictory labels: no network classifies both copies correctly
    X2 = np.array([[1, 2, 0], [1, 2, 0]])
    hard = build_problem(NetworkSpec(3, (2,), 2, bound=1, levels=3, objective="min_w"),
                         X2, np.array([0, 1]))
    res = solve_highs(hard, time_limit=60)
    assert res.status is SolveStatus.INFEASIBLE and res.solution is None
    assert not res.status.has_solution


def test_the_stall_limit_stops_highs_with_its_best_solution():
    # max_correct on 32 random examples: HiGHS does not prove it in 20 s and goes seconds
    # without a new incumbent or a move of its bound
    spec = NetworkSpec(8, (6,), 2, bound=1, levels=3, objective="max_correct")
    rng = np.random.default_rng(0)
    p = build_problem(spec, rng.integers(0, 4, (32, 8)), rng.integers(0, 2, 32))
    res = solve_highs(p, time_limit=60, stall=0.5, start=zero_start(p))
    assert res.status is SolveStatus.FEASIBLE and res.solution is not None
    assert res.time < 30
    assert highs_status(MS.kInterrupt, True, False, stalled=True) is SolveStatus.FEASIBLE


def test_a_stop_request_interrupts_highs_with_its_start():
    # issue 21, cause 7: the solve ends about a second after the request (bounded here far
    # below its 120 s time limit) with the start or a better incumbent, status INTERRUPTED
    import threading

    from mipnn.trainer.stop import interruptible, request_stop

    spec = NetworkSpec(8, (6,), 2, bound=1, levels=3, objective="max_correct")
    rng = np.random.default_rng(0)
    p = build_problem(spec, rng.integers(0, 4, (32, 8)), rng.integers(0, 2, 32))
    with interruptible():
        threading.Timer(1.0, request_stop).start()
        res = solve_highs(p, time_limit=120, start=zero_start(p))
    assert res.status is SolveStatus.INTERRUPTED and res.solution is not None
    assert res.time < 30
