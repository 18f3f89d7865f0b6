"""The search policy (trainer/search.py): the full MIP runs until it stalls and only then
hands over to large-neighbourhood search, which gives the time it leaves back to the full
MIP; a proven optimum ends the run at once, the search stops at the full MIP's proven
bound, and the routes without callbacks get a share of the time instead of a stall
limit."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import require_package, toy_splits

from mipnn.trainer.data import load_dataset
from mipnn.trainer.formulation import NetworkSpec, build_problem
from mipnn.trainer.problem import objective_value
from mipnn.trainer.routes import solve_function
from mipnn.trainer.search import MIN_STALL, search, stall_window
from mipnn.trainer.solution import zero_start
from mipnn.trainer.solve_result import SolveResult, SolveStatus
from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


def _stalling_instance():
    """max_correct, 8-6-2, 32 random examples: neither solver proves it in 20 s, and both
    go seconds without progress (under the pip Gurobi licence's size)."""
    spec = NetworkSpec(8, (6,), 2, bound=1, levels=3, objective="max_correct")
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 4, (32, 8)), rng.integers(0, 2, 32)
    return spec, X, y, build_problem(spec, X, y)


def never_improving(calls: list):
    """A solve function that returns its start as a feasible solution (it never improves:
    the full MIP and LNS both stall), recording ``(problem, keyword arguments)`` of each
    call in ``calls``."""

    def fake(problem, **kw):
        calls.append((problem, kw))
        sol = kw["start"]
        return SolveResult("fake", SolveStatus.FEASIBLE, sol, objective_value(problem, sol),
                           None, None, 0.0)

    return fake


@pytest.mark.parametrize("solver", ["highspy", "gurobi-direct", "highs"])
def test_a_tiny_instance_ends_proven_optimal_with_lns_on(solver):
    if solver == "gurobi-direct":
        require_package("gurobipy", "pip install 'mipnn[gurobi]'")
    ds = toy_splits()
    t0 = time.perf_counter()
    result = train(ds, TrainConfig(hidden=(2,), time_limit=120, solver=solver, seed=0))
    assert result.solve.status == SolveStatus.OPTIMAL
    assert result.solve.gap == 0.0
    assert "lns" not in result.solve.solver  # proven by the full MIP: no search after it
    assert result.model.training["lns"] is None
    assert [ph["phase"] for ph in result.model.training["search"]] == ["mip"]
    assert time.perf_counter() - t0 < 100  # ended at the proof, not at the time limit


def test_the_stall_window_is_a_share_of_the_time_with_a_floor():
    config = TrainConfig(stall_share=0.25)
    assert stall_window(config, 60.0) == 15.0
    assert TrainConfig().stall_share == 0.5
    assert stall_window(config, 4.0) == MIN_STALL


@pytest.mark.parametrize("solver", ["highspy", "gurobi-direct"])
def test_a_stalled_full_mip_hands_over_to_lns(solver):
    if solver == "gurobi-direct":
        require_package("gurobipy", "pip install 'mipnn[gurobi]'")
    spec, X, y, p = _stalling_instance()
    start = zero_start(p)
    config = TrainConfig(hidden=(6,), objective="max_correct", solver=solver,
                         stall_share=0.05, lns_sub_time=1.0)
    improved = []
    t0 = time.perf_counter()
    result, stats, phases = search(p, spec, X, y, start, solve=solve_function(solver),
                                   config=config, deadline=t0 + 12.0,
                                   on_progress=lambda _p: None,
                                   on_improve=lambda n, v: improved.append(v),
                                   canonical=lambda n: n)
    assert stats is not None and stats.iterations > 0  # LNS ran after the stall
    assert phases[0]["phase"] == "mip" and phases[1]["phase"] == "lns"
    assert phases[0]["status"] == "time_limit" and phases[0]["time"] < 10
    assert result.solver.endswith("+ lns")
    assert result.objective <= stats.start_objective + 1e-9 <= objective_value(p, start)
    assert time.perf_counter() - t0 < 20


def test_a_stalled_search_gives_the_time_left_back_to_the_full_mip():
    spec, X, y, p = _stalling_instance()
    calls = []
    fake = never_improving(calls)
    config = TrainConfig(hidden=(6,), objective="max_correct", stall_share=0.2)
    t0 = time.perf_counter()
    result, stats, phases = search(
        p, spec, X, y, zero_start(p), solve=fake, config=config, deadline=t0 + 15.0,
        on_progress=lambda _p: None, on_improve=lambda n, v: None, canonical=lambda n: n)
    assert [ph["phase"] for ph in phases] == ["mip", "lns", "mip"]
    assert stats.stalled and phases[1]["status"] == "stalled"
    full = [kw for problem, kw in calls if problem is p]
    assert full[0]["stall"] == pytest.approx(3.0, abs=0.1)
    assert "stall" not in full[1] and full[1]["time_limit"] > 5  # the rest, no stall limit
    assert result.status == SolveStatus.FEASIBLE and result.solver == "fake + lns"


def test_routes_without_callbacks_get_a_share_of_the_time():
    spec, X, y, p = _stalling_instance()
    recorded = []
    fake = never_improving(recorded)
    config = TrainConfig(hidden=(6,), objective="max_correct", solver="highs",
                         full_solve_share=0.5)
    t0 = time.perf_counter()
    search(p, spec, X, y, zero_start(p), solve=fake, config=config, deadline=t0 + 4.0,
           on_progress=lambda _p: None, on_improve=lambda n, v: None, canonical=lambda n: n)
    calls = [kw for _problem, kw in recorded]
    assert "stall" not in calls[0] and calls[0]["time_limit"] == pytest.approx(2.0, abs=0.1)
    assert len(calls) > 1  # LNS's sub-MIPs


def test_without_lns_the_full_mip_gets_all_the_time():
    spec, X, y, p = _stalling_instance()
    recorded = []
    fake = never_improving(recorded)
    config = TrainConfig(hidden=(6,), objective="max_correct", lns=False)
    t0 = time.perf_counter()
    result, stats, phases = search(p, spec, X, y, zero_start(p), solve=fake, config=config,
                                   deadline=t0 + 30.0, on_progress=lambda _p: None,
                                   on_improve=lambda n, v: None, canonical=lambda n: n)
    calls = [kw for _problem, kw in recorded]
    assert stats is None and len(calls) == 1 and "stall" not in calls[0]
    assert [ph["phase"] for ph in phases] == ["mip"]
    assert calls[0]["time_limit"] == pytest.approx(30.0, abs=0.5)


def test_search_stops_at_the_proven_bound(shared_data):
    # Heart, 40 examples, sat_margin with margin 2, the full MIP handing over early
    # (stall_share 0.05: 6 s without progress): it ends above 0 unsatisfied pairs with a
    # bound of 0; the neighbourhood search then reaches 0 and must stop there (optimal,
    # equal to the bound) instead of moving sideways until the time limit
    ds = load_dataset("heart", data_dir=shared_data, train_size=40, seed=1)
    res = train(ds, TrainConfig(objective="sat_margin", margin=2, time_limit=120, seed=1,
                                stall_share=0.05))
    assert res.solve.objective == 0.0
    assert res.solve.status == "optimal"
    assert res.model.training["time"] < 60
