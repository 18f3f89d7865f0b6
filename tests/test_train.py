"""MIP training: the formulation, HiGHS, and agreement with the integer reference."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import toy_dataset
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.formulation import NetworkSpec, build_problem, mip_scores, zero_start
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.model import forward
from mipnn.trainer.train import TrainConfig, check_mip_agrees, model_name, train


@pytest.mark.parametrize("hidden,bound", [((), 2), ((3,), 1), ((3, 2), 1)])
def test_tiny_separable_solves_to_optimality_with_full_accuracy(hidden, bound):
    # without a hidden layer, P = 2 is needed: margins of +/-1 on both outputs need a
    # score gap of 2 between x0 + x1 - x2 = 1 and = 2
    # the whole limit goes to HiGHS (no large-neighbourhood search, which cannot prove
    # optimality): about 6 s alone, and a loaded machine does not make the test fail
    ds = toy_dataset()
    result = train(ds, TrainConfig(hidden=hidden, bound=bound, time_limit=300, seed=0,
                                   lns=False))
    assert result.solve.status == "optimal"
    assert result.solve.objective == pytest.approx(0.0)
    assert result.train_accuracy == 1.0
    # the accuracy the MIP's own variables imply equals forward's
    assert result.mip_train_accuracy == result.train_accuracy
    # simplify may remove neurons that cannot change any output
    assert result.model.shape[0] == 4 and result.model.shape[-1] == 2
    assert len(result.model.shape) == len(hidden) + 2
    for layer in result.model.layers:
        assert np.abs(layer.weights).max() <= bound


def test_mip_variables_equal_forward_on_a_time_limited_solution():
    """On a problem the solver does not finish, the returned incumbent's hidden binaries
    and output scores (the MIP's view) equal the integer reference exactly."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 16, (60, 6))
    y = rng.integers(0, 3, 60)  # random labels: not separable
    spec = NetworkSpec(n_inputs=6, hidden=(4,), n_classes=3, bound=2, levels=15)
    problem = build_problem(spec, X, y)
    res = solve_highs(problem, time_limit=3, seed=1, start=zero_start(problem))
    assert res.solution is not None
    assert res.status in ("optimal", "time_limit")
    from mipnn.trainer.formulation import network_from_solution
    from mipnn.trainer.model import Layer, Model

    net = network_from_solution(problem, res.solution)
    model = Model("m", ["a", "b", "c"], 6, 15, [
        Layer(net[0][0], net[0][1], "sign"), Layer(net[1][0], net[1][1], "linear")])
    assert check_mip_agrees(problem, res.solution, model, X)
    scores, pred = forward(model, X)
    mip_pred = np.argmax(mip_scores(problem, res.solution, X), axis=1)
    assert np.array_equal(pred, mip_pred)
    # the objective counts unsatisfied (example, class) pairs; each fully satisfied
    # example is classified correctly, so accuracy >= 1 - objective / N is not guaranteed,
    # but the number of fully satisfied examples is a lower bound of the correct ones
    q = np.rint(problem.values(res.solution, "q"))
    assert np.sum(q.all(axis=1)) <= np.sum(pred == y)
    assert res.objective == pytest.approx(60 * 3 - q.sum())


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


def test_bad_config_is_a_user_error():
    with pytest.raises(MipnnError, match="objective"):
        TrainConfig(objective="nope").check()
    with pytest.raises(MipnnError, match="bound"):
        TrainConfig(bound=0).check()


def test_model_name_is_a_c_identifier():
    assert model_name("my-data.csv") == "my_data"
    assert model_name("2023 survey") == "m_2023_survey"
    assert model_name("breast_cancer") == "breast_cancer"


@pytest.mark.parametrize("hidden", [(), (4,), (3, 3)])
def test_any_network_within_bounds_is_a_feasible_point(hidden):
    """The big-M rows are exact: every network in range, encoded with its own activations,
    satisfies the MIP, and its objective counts the pairs that miss the margin."""
    from mipnn.trainer.formulation import default_bounds, is_feasible, start_from_network

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
    from mipnn.trainer.formulation import network_from_solution

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
    from mipnn.trainer.formulation import start_from_network

    return start_from_network(p, [(w0, np.zeros(3, int)), (np.zeros((2, 3), int), np.zeros(2, int))])


@pytest.mark.parametrize("mode", ["weighted", "lexicographic"])
def test_pruning_keeps_few_neurons_and_removes_them_from_the_model(mode):
    ds = toy_dataset()
    cfg = TrainConfig(hidden=(6,), bound=1, time_limit=60, prune=0.1, prune_mode=mode)
    result = train(ds, cfg)
    neurons = result.model.training["neurons"]
    assert neurons["hidden_before"] == [6]
    assert result.model.shape[1] == neurons["hidden_after"][0] < 6
    assert result.train_accuracy == 1.0
    assert result.mip_train_accuracy == result.train_accuracy


def test_guard_counts_every_held_out_example_and_keeps_the_gradient_network_on_a_tie():
    ds = toy_dataset(n=30, seed=3)
    cfg = TrainConfig(hidden=(3,), bound=1, objective="max_correct", time_limit=8,
                      guard_folds=3)
    res = train(ds, cfg)
    guard = res.model.training["guard"]
    assert guard["folds"] == 3 and guard["held_out_examples"] == 30
    assert 0 <= guard["held_out_correct_gd"] <= 30 and 0 <= guard["held_out_correct_mip"] <= 30
    gd = train(ds, TrainConfig(hidden=(3,), bound=1, objective="gd", time_limit=8 / 4))
    X = ds.X_train
    if guard["held_out_correct_mip"] > guard["held_out_correct_gd"]:
        assert guard["kept"] == "mip" and res.model.training["objective"] == "max_correct"
    else:  # the kept network is the gradient start, exactly
        assert guard["kept"] == "gd" and res.model.training["objective"] == "gd"
        assert np.array_equal(forward(res.model, X)[0], forward(gd.model, X)[0])
        assert res.model.training["guard_mip"]["status"] in ("optimal", "time_limit")


def test_guard_folds_user_errors():
    with pytest.raises(MipnnError, match="--guard-folds must be 0"):
        TrainConfig(guard_folds=1).check()
    with pytest.raises(MipnnError, match="needs --warm-start"):
        TrainConfig(guard_folds=3, warm_start=False).check()
    ds = toy_dataset(n=12, seed=0)
    smallest = int(np.bincount(ds.y_train).min())
    with pytest.raises(MipnnError, match=f"the smallest has {smallest}"):
        train(ds, TrainConfig(hidden=(2,), guard_folds=smallest + 1, time_limit=2))
