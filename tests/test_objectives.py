"""Issue 3: every objective, both solver routes, the gradient baseline, warm start, symmetry
breaking, LNS, and models from each objective running bit-exactly on the host."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import require_tools
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.formulation import (
    HARD_OBJECTIVES,
    OBJECTIVES,
    NetworkSpec,
    build_problem,
    default_bounds,
    hinge_breakpoints,
    hinge_value,
    is_feasible,
    network_from_solution,
    objective_value,
    order_neurons,
    start_from_network,
)
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.model import Layer, Model, accuracy, forward, save_model
from mipnn.trainer.train import TrainConfig, train


def tiny(objective: str, seed: int = 0, n: int = 8):
    """A tiny instance; labels of a random network for the objectives that must fit every
    example, random labels (not separable in general) for the others."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, (n, 3))
    X[:, 2] = 0  # a column zero in every example
    spec = NetworkSpec(3, (2,), 2, bound=1, levels=3, objective=objective)
    if objective in HARD_OBJECTIVES:
        y = (X[:, 0] > X[:, 1]).astype(np.int64)
    else:
        y = rng.integers(0, 2, n)
    return spec, X, y


def _model(net, levels=3, classes=("a", "b")):
    layers = [Layer(W, b, "sign") for W, b in net[:-1]] + [Layer(*net[-1], "linear")]
    return Model("t", list(classes), net[0][0].shape[1], levels, layers)


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_every_objective_solves_a_tiny_instance_to_optimality(objective):
    spec, X, y = tiny(objective)
    p = build_problem(spec, X, y, symmetry=True)
    res = solve_highs(p, time_limit=60)
    assert res.status == "optimal"
    net = network_from_solution(p, res.solution)
    assert np.all(net[0][0][:, 2] == 0)  # zero column, zero weights
    model = _model(net)
    _, pred = forward(model, X)
    value = objective_value(p, start_from_network(p, order_neurons(net, 1, 0)))
    assert value == pytest.approx(res.objective)
    if objective == "max_correct":
        assert res.objective == pytest.approx(np.sum(pred != y))
    if objective in HARD_OBJECTIVES:
        assert np.all(pred == y)


def _installed_pyomo_solvers() -> list[str]:
    """The Pyomo solvers this machine has (tests are parametrised over them, as
    python-mip's are: a solver that is not installed gets no test, not a skip)."""
    from mipnn.trainer.errors import SolverError
    from mipnn.trainer.pyomo_route import _PYOMO, pyomo_solver

    found = []
    for solver in _PYOMO:
        try:
            pyomo_solver(solver)
        except SolverError:
            continue
        found.append(solver)
    return found


def test_highs_is_available_through_pyomo():
    # HiGHS comes with highspy: the Pyomo route must always have at least it
    assert "highs" in _installed_pyomo_solvers()


@pytest.mark.parametrize("solver", _installed_pyomo_solvers())
@pytest.mark.parametrize("objective", OBJECTIVES)
def test_both_routes_reach_the_same_optimum(objective, solver):
    from mipnn.trainer.pyomo_route import solve_pyomo

    spec, X, y = tiny(objective, seed=1)
    p = build_problem(spec, X, y, symmetry=True)
    direct = solve_highs(p, time_limit=60)
    via = solve_pyomo(p, solver=solver, time_limit=60)
    assert direct.status == via.status == "optimal"
    assert via.objective == pytest.approx(direct.objective, abs=1e-6)
    assert is_feasible(p, via.solution, tol=1e-5)


def test_missing_pyomo_solver_is_a_user_error():
    from mipnn.trainer.pyomo_route import pyomo_solver

    with pytest.raises(MipnnError, match="unknown Pyomo solver"):
        pyomo_solver("nope")


def test_hinge_epigraph_is_exact_at_small_integers_and_breakpoints():
    bp = hinge_breakpoints(200)
    assert bp[0] == 0 and bp[-1] >= 200 and len(bp) <= 18
    h = np.arange(0, 201)
    g = hinge_value(h, bp)
    assert np.all(g >= h**2)
    assert np.array_equal(g[:5], h[:5] ** 2)
    inside = bp[bp <= 200].astype(int)
    assert np.array_equal(g[inside], inside**2)


def toy(n=40, seed=0, levels=3):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, levels + 1, (n, 4)).astype(np.uint8)
    X[:, 3] = 0
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 1).astype(np.int64)
    return SimpleNamespace(
        name="toy", classes=["no", "yes"], levels=levels,
        features=[{"name": f"x{i}", "kind": "numeric", "min": 0.0, "max": float(levels)}
                  for i in range(4)],
        X_train=X[:24], y_train=y[:24], X_val=X[24:32], y_val=y[24:32], X_test=X[32:],
        y_test=y[32:], provenance={},
    )


@pytest.mark.parametrize("objective", [*OBJECTIVES, "gd"])
def test_reported_accuracy_is_forwards_and_the_model_runs_bit_exact_on_the_host(
        objective, tmp_path):
    from mipnn.device import run_firmware

    ds = toy()
    cfg = TrainConfig(hidden=(3,), bound=1, objective=objective, time_limit=6, seed=0)
    result = train(ds, cfg)
    model = result.model
    assert result.train_accuracy == accuracy(model, ds.X_train, ds.y_train)
    assert result.mip_train_accuracy == result.train_accuracy
    assert result.test_accuracy == accuracy(model, ds.X_test, ds.y_test)
    assert model.training["accuracy"]["train"] == result.train_accuracy
    assert model.training["objective"] == objective
    assert model.training["trajectory"]["incumbents"] >= 1
    for layer in model.layers:
        assert np.abs(layer.weights).max(initial=0) <= 1
    if objective in HARD_OBJECTIVES:
        assert result.train_accuracy == 1.0
    path = save_model(model, tmp_path / f"{objective}.json")
    require_tools("gcc", "make")
    X = np.vstack([ds.X_test, np.zeros((1, 4), np.uint8), np.full((1, 4), 3, np.uint8)])
    report = run_firmware(path, "host", X, workdir=tmp_path / "build")
    assert report.ok, report.describe_mismatches(limit=3)


def test_hard_objective_on_contradictory_data_is_a_clear_error():
    ds = toy()
    ds.X_train = np.vstack([ds.X_train[:4], ds.X_train[:4]])
    ds.y_train = np.concatenate([np.zeros(4, np.int64), np.ones(4, np.int64)])
    for objective in HARD_OBJECTIVES:
        with pytest.raises(MipnnError, match="classifies every training example"):
            train(ds, TrainConfig(hidden=(2,), objective=objective, time_limit=5))


def test_gradient_baseline_keeps_integer_ranges_and_zero_columns():
    from mipnn.trainer.gd import GdConfig, train_gd

    ds = toy()
    r = train_gd(ds.X_train, ds.y_train, hidden=(4,), n_classes=2, bound=2, levels=3,
                 config=GdConfig(epochs=50, seed=1))
    (W0, b0), (W1, b1) = r.network
    assert W0.shape == (4, 4) and W1.shape == (2, 4)
    assert np.abs(W0).max() <= 2 and np.abs(W1).max() <= 2 and np.abs(b1).max() <= 2
    assert np.abs(b0).max() <= 2 * 3  # first bias scaled by L
    assert np.all(W0[:, 3] == 0)
    _, pred = forward(_model(r.network, levels=3), ds.X_train)
    assert np.mean(pred == ds.y_train) == r.train_accuracy
    again = train_gd(ds.X_train, ds.y_train, hidden=(4,), n_classes=2, bound=2, levels=3,
                     config=GdConfig(epochs=50, seed=1))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(r.network, again.network, strict=True))


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
        m1 = _model(net, 7, "abc")
        m2 = _model(ordered, 7, "abc")
        assert np.array_equal(forward(m1, X)[0], forward(m2, X)[0])
        assert is_feasible(p, start_from_network(p, ordered))


def test_lns_never_ends_worse_than_its_start_and_target_stops_highs():
    import time

    from mipnn.trainer.lns import lns

    rng = np.random.default_rng(2)
    X = rng.integers(0, 4, (30, 4))
    y = rng.integers(0, 2, 30)
    spec = NetworkSpec(4, (4,), 2, bound=1, levels=3, objective="sat_margin")
    start = [(rng.integers(-1, 2, (4, 4)), rng.integers(-3, 4, 4)),
             (rng.integers(-1, 2, (2, 4)), rng.integers(-1, 2, 2))]
    p = build_problem(spec, X, y)
    before = objective_value(p, start_from_network(p, start))
    net, value, stats = lns(spec, X, y, start, deadline=time.perf_counter() + 4,
                            solve=solve_highs)
    assert value <= before and stats.iterations >= 1
    assert objective_value(p, start_from_network(p, net)) == pytest.approx(value)
    res = solve_highs(p, time_limit=30, start=start_from_network(p, start), target=before)
    assert res.status in ("target", "optimal")
    assert res.objective <= before


def test_cli_trains_each_kind_and_plots(tmp_path):
    from mipnn.cli import main

    runner = CliRunner()
    out = tmp_path / "m.json"
    png = tmp_path / "t.png"
    r = runner.invoke(main, ["train", "--dataset", "breast_cancer", "--train-size", "30",
                             "--hidden", "2", "--objective", "max_correct", "--time-limit", "4",
                             "--plot", str(png), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert png.stat().st_size > 1000 and out.exists()
    assert "accuracy: train" in r.output
    r = runner.invoke(main, ["train", "--dataset", "breast_cancer", "--train-size", "30",
                             "--objective", "gd", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["train", "--dataset", "breast_cancer", "--solver", "cplex",
                             "--out", str(out)])
    from mipnn.trainer.pyomo_route import pyomo_solver

    try:
        pyomo_solver("cplex")
    except MipnnError:
        assert r.exit_code == 2 and "cplex" in r.output
        assert "Traceback" not in r.output


def test_digits_and_mnist_data_sets(shared_data):
    from mipnn.trainer.data import load_dataset

    d = load_dataset("digits", train_size=50, seed=0)
    assert d.X_train.shape == (50, 64) and d.classes == [str(k) for k in range(10)]
    m = load_dataset("mnist", data_dir=shared_data, train_size=60, seed=0)
    assert m.X_train.shape == (60, 784) and len(m.y_test) == 5000
    assert any("first 5,000" in note for note in m.notes)
    assert m.X_train.max() <= 255


def test_output_descent_improves_a_badly_scaled_start_without_a_solver():
    from mipnn.trainer.lns import descend_output

    rng = np.random.default_rng(4)
    X = rng.integers(0, 4, (30, 4))
    y = rng.integers(0, 2, 30)
    spec = NetworkSpec(4, (4,), 2, bound=2, levels=3, objective="min_hinge")
    p = build_problem(spec, X, y)
    net = [(rng.integers(-2, 3, (4, 4)), rng.integers(-6, 7, 4)),
           (np.full((2, 4), 2), np.array([2, -2]))]  # large scores: a costly start
    before = objective_value(p, start_from_network(p, net))
    better, value = descend_output(p, net)
    assert value < before
    assert np.array_equal(better[0][0], net[0][0])  # hidden layer untouched
    assert objective_value(p, start_from_network(p, better)) == pytest.approx(value)


@pytest.mark.parametrize("objective", ["sat_margin", "max_correct", "min_hinge", "max_m"])
def test_weight_penalty_adds_exactly_lambda_times_sum_abs_w(objective):
    """With --weight-penalty the objective is the accuracy objective plus LAMBDA * sum |W|,
    exact at the optimum, and the optimum keeps the best accuracy term when LAMBDA is small
    (a tie-break) while a large LAMBDA trades accuracy for fewer weights."""
    spec, X, y = tiny(objective, seed=2)
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
    spec, X, y = tiny("max_correct", seed=3)
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


def test_mini_batch_gradient_baseline_is_seeded_and_checks_its_last_steps():
    from mipnn.trainer.gd import GdConfig, train_gd

    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, (600, 5))
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 2).astype(np.int64)
    cfg = GdConfig(epochs=15, seed=4, batch_size=32)
    a = train_gd(X, y, hidden=(4,), n_classes=2, bound=2, levels=3, config=cfg)
    b = train_gd(X, y, hidden=(4,), n_classes=2, bound=2, levels=3, config=cfg)
    assert all(np.array_equal(u[0], v[0]) and np.array_equal(u[1], v[1])
               for u, v in zip(a.network, b.network, strict=True))
    _, pred = forward(_model(a.network, levels=3), X)
    assert np.mean(pred == y) == a.train_accuracy
    assert a.train_accuracy > 0.8  # a learnable rule: mini-batch steps learn it
    full = train_gd(X, y, hidden=(4,), n_classes=2, bound=2, levels=3,
                    config=GdConfig(epochs=15, seed=4))
    assert a.train_accuracy >= full.train_accuracy  # 15 epochs: 285 steps against 15


def test_gradient_restarts_keep_the_run_with_the_best_validation_accuracy():
    from mipnn.trainer.gd import GdConfig, train_gd

    ds = toy(n=80, seed=5)
    one = train(ds, TrainConfig(hidden=(3,), bound=1, objective="gd", time_limit=8, seed=2))
    assert one.model.training["restarts"]["restarts"] == 1
    three = train(ds, TrainConfig(hidden=(3,), bound=1, objective="gd", time_limit=8, seed=2,
                                  gd_restarts=3))
    info = three.model.training["restarts"]
    assert info["restarts"] == 3 and len(info["scores"]) == 3
    assert info["scores"][0] == pytest.approx(one.val_accuracy, abs=1e-4)  # run 0 = the seed's
    assert three.val_accuracy == pytest.approx(max(info["scores"]), abs=1e-4)
    assert info["scores"][info["chosen"]] == max(info["scores"])
    # the kept run is one of the three independent runs, recomputed here
    seeds = [2] + [int(np.random.SeedSequence([2, r]).generate_state(1)[0]) for r in (1, 2)]
    nets = [train_gd(ds.X_train, ds.y_train, hidden=(3,), n_classes=2, bound=1, levels=3,
                     config=GdConfig(seed=s, time_limit=1.0)).network for s in seeds]
    chosen = nets[info["chosen"]]
    _, pred = forward(_model(chosen, levels=3), ds.X_val)
    assert np.mean(pred == ds.y_val) == pytest.approx(three.val_accuracy)
    # a MIP objective starts from the kept run and records the choice
    mip = train(ds, TrainConfig(hidden=(3,), bound=1, time_limit=8, seed=2, gd_restarts=3))
    assert mip.model.training["start"]["gd_restarts"]["chosen"] == info["chosen"]


@pytest.mark.parametrize("objective", ["sat_margin", "max_correct", "min_hinge"])
def test_select_val_never_ends_below_the_gradient_network_on_validation(objective):
    # the gradient network before its output-layer polish is a candidate of --select val
    ds = toy(n=80, seed=6)
    base = dict(hidden=(3,), bound=1, time_limit=6, seed=1, gd_restarts=2)
    gd_run = train(ds, TrainConfig(objective="gd", **base))
    mip = train(ds, TrainConfig(objective=objective, select="val", **base))
    assert mip.val_accuracy >= gd_run.val_accuracy
    assert mip.model.training["selected"] == "val"


def test_choosing_on_a_small_validation_split_is_noted(tmp_path, shared_data):
    from mipnn.cli import main

    out = tmp_path / "m.json"
    r = CliRunner().invoke(main, ["train", "--dataset", "heart", "--data-dir", str(shared_data),
                                  "--train-size", "200", "--objective", "gd",
                                  "--gd-restarts", "2", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "validation split has 25 examples" in r.output
    r = CliRunner().invoke(main, ["train", "--dataset", "heart", "--data-dir", str(shared_data),
                                  "--train-size", "200", "--objective", "gd", "-q",
                                  "--out", str(out)])
    assert r.exit_code == 0 and "validation split" not in r.output


@pytest.mark.parametrize("objective", ["sat_margin", "min_hinge"])
def test_select_train_val_keeps_the_network_with_the_most_correct_labelled_examples(objective):
    ds = toy(n=80, seed=6)
    base = dict(hidden=(3,), bound=1, time_limit=6, seed=1)
    gd_run = train(ds, TrainConfig(objective="gd", **base))
    mip = train(ds, TrainConfig(objective=objective, select="train+val", **base))
    assert mip.model.training["selected"] == "train+val"
    n_tr, n_va = len(ds.y_train), len(ds.y_val)

    def correct(train_acc: float, val_acc: float) -> int:
        return round(train_acc * n_tr + val_acc * n_va)

    kept = correct(mip.train_accuracy, mip.val_accuracy)
    # never below the gradient network (a candidate before its polish) ...
    assert kept >= correct(gd_run.train_accuracy, gd_run.val_accuracy)
    # ... nor below any network of the run, and the model file records the same choice
    assert kept == max(correct(c.train_accuracy, c.val_accuracy or 0.0) for c in mip.candidates)
    info = mip.model.training["best_by_train_val"]
    assert correct(info["train"], info["val"]) == kept
    # the model file's objective is the kept network's; the solver's best is kept beside it
    assert mip.model.training["objective_value"] == info["objective"]
    assert mip.model.training["best_objective"] <= info["objective"]


def test_select_candidate_rules_and_ties():
    from mipnn.trainer.train import Candidate, select_candidate

    net: list = []
    a = Candidate(net, 5.0, 0.1, train_accuracy=0.90, val_accuracy=0.50)
    b = Candidate(net, 4.0, 0.2, train_accuracy=0.80, val_accuracy=0.60)
    c = Candidate(net, 3.0, 0.3, train_accuracy=0.70, val_accuracy=0.60)
    assert select_candidate([a, b, c], "val", 10, 10) is c  # tie: the later one
    assert select_candidate([a, b, c], "train+val", 10, 10) is b  # a, b 14 correct: later
    assert select_candidate([a, b], "train+val", 100, 10) is a  # 95 against 86
    assert select_candidate([a, b, c], "val", 10, 0) is None
    assert select_candidate([], "train+val", 10, 10) is None
    with pytest.raises(ValueError):
        select_candidate([a], "objective", 10, 10)


def test_search_stops_at_the_proven_bound(shared_data):
    # Heart, 40 examples, sat_margin with margin 2: HiGHS's share of the time (10 %) ends
    # above 0 unsatisfied pairs with a bound of 0; the neighbourhood search then reaches 0
    # and must stop there (optimal, equal to the bound) instead of moving sideways until
    # the time limit
    from mipnn.trainer.data import load_dataset

    ds = load_dataset("heart", data_dir=shared_data, train_size=40, seed=1)
    res = train(ds, TrainConfig(objective="sat_margin", margin=2, time_limit=120, seed=1))
    assert res.solve.objective == 0.0
    assert res.solve.status == "optimal"
    assert res.model.training["time"] < 60
