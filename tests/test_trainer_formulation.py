"""The training MIP (trainer/formulation.py): sizes as in the paper, zero columns, exact big-M
rows (every network in range is a feasible point), parameter bounds, symmetry breaking and
neuron switches."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import net_model
from helpers_models import toy_dataset

from mipnn.trainer.formulation import NetworkSpec, build_problem, default_bounds, order_neurons
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.model import forward
from mipnn.trainer.problem import is_feasible
from mipnn.trainer.solution import start_from_network, zero_start


def test_zero_start_is_feasible_and_zero_columns_get_zero_weights():
    X = np.array([[0, 3, 1], [0, 0, 2], [0, 1, 0]])
    y = np.array([0, 1, 0])
    spec = NetworkSpec(n_inputs=3, hidden=(2,), n_classes=2, bound=3, levels=3)
    p = build_problem(spec, X, y)
    v = zero_start(p)
    act = p.A @ v
    assert np.all(act >= p.row_lower - 1e-9) and np.all(act <= p.row_upper + 1e-9)
    w0 = p.blocks["W0"].index()
    assert np.all(p.col_lower[w0[:, 0]] == 0) and np.all(p.col_upper[w0[:, 0]] == 0)
    assert np.all(p.col_upper[w0[:, 1]] == 3)
    b0 = p.blocks["b0"].index()
    assert np.all(p.col_upper[b0] == 9)  # first-layer bias scaled by L


def test_problem_size_matches_the_paper_formulation():
    rng = np.random.default_rng(0)
    N, n, H, K = 50, 10, 16, 2
    X = rng.integers(0, 256, (N, n))
    y = rng.integers(0, K, N)
    p = build_problem(NetworkSpec(n, (H,), K, 1, 255), X, y)
    # columns: W0, b0, W1, b1, u (N*H), c (N*H*K), q (N*K)
    assert p.n_cols == H * n + H + K * H + K + N * H + N * H * K + N * K
    # rows: 2 sign rows per (n, j), 4 product rows per (n, k, j), 1 margin row per (n, k)
    assert p.n_rows == 2 * N * H + 4 * N * H * K + N * K


@pytest.mark.parametrize("hidden", [(), (4,), (3, 3)])
def test_any_network_within_bounds_is_a_feasible_point(hidden):
    """The big-M rows are exact: every network in range, encoded with its own activations,
    satisfies the MIP, and its objective counts the pairs that miss the margin."""
    from mipnn.trainer.formulation import default_bounds
    from mipnn.trainer.problem import is_feasible
    from mipnn.trainer.solution import start_from_network

    rng = np.random.default_rng(len(hidden))
    X = rng.integers(0, 8, (30, 5))
    y = rng.integers(0, 3, 30)
    spec = NetworkSpec(5, hidden, 3, bound=2, levels=7, margin=2)
    p = build_problem(spec, X, y)
    for _ in range(20):
        net = [(rng.integers(lo, hi + 1), rng.integers(blo, bhi + 1))
               for lo, hi, blo, bhi in default_bounds(spec)]
        v = start_from_network(p, net)
        assert is_feasible(p, v)
        from mipnn.trainer.model import Layer, Model

        layers = [Layer(W, b, "sign") for W, b in net[:-1]] + [Layer(*net[-1], "linear")]
        scores, _ = forward(Model("r", ["a", "b", "c"], 5, 7, layers), X)
        target = np.arange(3)[None, :] == y[:, None]
        unsatisfied = np.sum(~np.where(target, scores >= 2, scores <= -2))
        assert p.cost @ v + p.offset == pytest.approx(unsatisfied)


def test_parameter_bounds_narrow_the_search():
    from mipnn.trainer.solution import network_from_solution

    ds = toy_dataset()
    spec = NetworkSpec(4, (3,), 2, bound=1, levels=3)
    fixed_w0 = np.array([[1, 1, -1, 0], [0, 0, 0, 0], [1, 0, 0, 0]])
    bounds = [(fixed_w0, fixed_w0, np.full(3, -3), np.full(3, 3)),
              (np.full((2, 3), -1), np.full((2, 3), 1), np.full(2, -1), np.full(2, 1))]
    p = build_problem(spec, ds.X_train, ds.y_train, bounds=bounds)
    res = solve_highs(p, time_limit=30, start=_fixed_start(p, fixed_w0))
    assert res.solution is not None
    net = network_from_solution(p, res.solution)
    assert np.array_equal(net[0][0], fixed_w0)


def _fixed_start(p, w0):
    from mipnn.trainer.solution import start_from_network

    return start_from_network(p, [(w0, np.zeros(3, int)), (np.zeros((2, 3), int), np.zeros(2, int))])


@pytest.mark.parametrize("hidden", [(4,), (3, 3)])
def test_ordering_neurons_keeps_the_function_and_satisfies_the_symmetry_rows(hidden):
    rng = np.random.default_rng(5)
    X = rng.integers(0, 8, (20, 5))
    y = rng.integers(0, 3, 20)
    spec = NetworkSpec(5, hidden, 3, bound=2, levels=7)
    p = build_problem(spec, X, y, symmetry=True)
    for _ in range(10):
        net = [(rng.integers(lo, hi + 1), rng.integers(blo, bhi + 1))
               for lo, hi, blo, bhi in default_bounds(spec)]
        ordered = order_neurons(net, 2, int(p.meta["first_active"]))
        m1 = net_model(net, 7, "abc")
        m2 = net_model(ordered, 7, "abc")
        assert np.array_equal(forward(m1, X)[0], forward(m2, X)[0])
        assert is_feasible(p, start_from_network(p, ordered))


def test_switched_off_neurons_force_all_their_weights_to_zero():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, (12, 3))
    y = rng.integers(0, 2, 12)
    spec = NetworkSpec(3, (4,), 2, bound=2, levels=3, prune=0.5)
    p = build_problem(spec, X, y)
    assert is_feasible(p, zero_start(p))
    v = zero_start(p)
    s = p.blocks["s0"].index()
    v[s] = 0  # all neurons off violates "at least K stay on"
    assert not is_feasible(p, v)
    v = zero_start(p)
    v[s[0]] = 0
    v[p.blocks["W0"].index()[0, 1]] = 1  # an off neuron with a weight is infeasible
    assert not is_feasible(p, v)
    assert p.cost[s].tolist() == [0.5] * 4


def test_the_budget_is_inside_the_mip():
    """max_nonzeros: a binary per first-layer weight and sum <= K; max_neurons: the neuron
    switches with sum <= M; the solver's optimum keeps both, and a start within the budget
    is feasible while one beyond it is not."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 4, (30, 5))
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 2).astype(np.int64)
    spec = NetworkSpec(5, (3,), 2, bound=2, levels=3, objective="max_correct",
                       max_nonzeros=4, max_neurons=2)
    p = build_problem(spec, X, y)
    assert p.blocks["nz0"].shape == (3, 5) and "s0" in p.blocks
    assert not np.any(p.cost[p.blocks["s0"].index()])  # M alone charges nothing
    res = solve_highs(p, time_limit=30)
    W = p.values(res.solution, "W0")
    assert np.count_nonzero(np.rint(W)) <= 4
    assert np.rint(p.values(res.solution, "s0")).sum() <= 2
    within = [(np.array([[1, 1, -1, 0, 0], [0] * 5, [0] * 5]), np.array([-2, 0, 0])),
              (np.array([[0, 0, 0], [2, 0, 0]]), np.array([0, -1]))]
    assert is_feasible(p, start_from_network(p, within))
    beyond = [(np.array([[1, 1, -1, 1, 1], [0] * 5, [0] * 5]), np.array([-2, 0, 0])),
              within[1]]
    assert not is_feasible(p, start_from_network(p, beyond))
    linear = NetworkSpec(5, (), 2, bound=2, levels=3, objective="max_correct", max_nonzeros=2)
    q = build_problem(linear, X, y)
    res = solve_highs(q, time_limit=30)
    assert np.count_nonzero(np.rint(q.values(res.solution, "W0"))) <= 2
