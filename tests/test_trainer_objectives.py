"""The objectives (trainer/objectives.py): each solves a tiny instance to optimality, the hinge
epigraph is exact where it must be, the weight penalty adds exactly lambda * sum |W|, and the
paper's sat_margin threshold as an integer margin."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import net_model, tiny_problem

from mipnn.trainer.formulation import build_problem, order_neurons
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.model import forward
from mipnn.trainer.objectives import (
    HARD_OBJECTIVES,
    OBJECTIVES,
    hinge_breakpoints,
    hinge_value,
    paper_margin,
    resolve_margin,
)
from mipnn.trainer.problem import is_feasible, objective_value
from mipnn.trainer.solution import network_from_solution, start_from_network


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_objective_solves_a_tiny_instance_to_optimality(objective):
    spec, X, y = tiny_problem(objective)
    p = build_problem(spec, X, y, symmetry=True)
    res = solve_highs(p, time_limit=60)
    assert res.status == "optimal"
    net = network_from_solution(p, res.solution)
    assert np.all(net[0][0][:, 2] == 0)  # zero column, zero weights
    model = net_model(net)
    _, pred = forward(model, X)
    value = objective_value(p, start_from_network(p, order_neurons(net, 1, 0)))
    assert value == pytest.approx(res.objective)
    if objective == "max_correct":
        assert res.objective == pytest.approx(np.sum(pred != y))
    if objective in HARD_OBJECTIVES:
        assert np.all(pred == y)


def test_hinge_epigraph_is_exact_at_small_integers_and_breakpoints():
    bp = hinge_breakpoints(200)
    assert bp[0] == 0 and bp[-1] >= 200 and len(bp) <= 18
    h = np.arange(0, 201)
    g = hinge_value(h, bp)
    assert np.all(g >= h**2)
    assert np.array_equal(g[:5], h[:5] ** 2)
    inside = bp[bp <= 200].astype(int)
    assert np.array_equal(g[inside], inside**2)


@pytest.mark.parametrize("objective", ["sat_margin", "max_correct", "min_hinge", "max_m"])
def test_weight_penalty_adds_exactly_lambda_times_sum_abs_w(objective):
    """With --weight-penalty the objective is the accuracy objective plus LAMBDA * sum |W|,
    exact at the optimum, and the optimum keeps the best accuracy term when LAMBDA is small
    (a tie-break) while a large LAMBDA trades accuracy for fewer weights."""
    spec, X, y = tiny_problem(objective, seed=2)
    plain = solve_highs(build_problem(spec, X, y, symmetry=True), time_limit=60)
    lam = 1e-3
    p = build_problem(replace(spec, weight_penalty=lam), X, y, symmetry=True)
    res = solve_highs(p, time_limit=60)
    assert plain.status == res.status == "optimal"
    net = network_from_solution(p, res.solution)
    sum_w = sum(int(np.abs(W).sum()) for W, _ in net)
    start = start_from_network(p, order_neurons(net, 1, 0))
    assert is_feasible(p, start)
    assert objective_value(p, start) == pytest.approx(res.objective, abs=1e-6)
    # the accuracy term is still optimal; the penalty is lambda * sum |W| exactly
    assert res.objective - lam * sum_w == pytest.approx(plain.objective, abs=1e-6)
    # fewest weights among the optima: no optimum of the plain problem has fewer
    q = build_problem(replace(spec, objective="min_w"), X, y) if objective == "max_m" else None
    if q is not None:
        best_w = solve_highs(q, time_limit=60)
        assert sum_w >= best_w.objective - 1e-6


def test_large_weight_penalty_gives_the_zero_network_unless_accuracy_pays():
    spec, X, y = tiny_problem("max_correct", seed=3)
    p = build_problem(replace(spec, weight_penalty=100.0), X, y)
    res = solve_highs(p, time_limit=60)
    assert res.status == "optimal"
    net = network_from_solution(p, res.solution)
    assert all(not W.any() for W, _ in net)


def test_weight_penalty_through_the_cli_and_a_bad_value(tmp_path):
    from mipnn.cli import main

    out = tmp_path / "m.json"
    r = CliRunner().invoke(main, ["train", "--train-size", "60", "--hidden", "4",
                                  "--time-limit", "5", "--weight-penalty", "0.5",
                                  "--out", str(out), "-q"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["train", "--weight-penalty", "-1", "--out", str(out)])
    assert r.exit_code == 2 and "--weight-penalty" in r.output


@pytest.mark.parametrize(("hidden", "bound", "margin"), [
    ((16,), 1, 5),  # (16 + 1) * 1 / 4 = 4.25: scores are integers, so >= 5
    ((16,), 3, 13),  # 12.75
    ((16,), 15, 64),  # 63.75
    ((3,), 1, 1),  # exactly 1: >= 1
    ((7,), 2, 4),  # exactly 4
    ((32, 16), 1, 5),  # the last hidden layer feeds the output
])
def test_the_papers_margin_is_the_threshold_rounded_up(hidden, bound, margin):
    assert paper_margin(hidden, bound) == margin
    rho = (hidden[-1] + 1) * bound / 4
    # on integer scores, s >= rho exactly when s >= the margin (and -s likewise)
    for s in range(-100, 101):
        assert (s >= rho) == (s >= margin) and (s <= -rho) == (s <= -margin)
    assert resolve_margin("paper", hidden, bound) == margin
    assert resolve_margin(2, hidden, bound) == 2


def test_the_papers_margin_needs_a_hidden_layer():
    with pytest.raises(ValueError, match="hidden layer"):
        paper_margin((), 1)
