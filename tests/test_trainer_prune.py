"""Neuron-count optimisation and function-preserving simplification."""

from __future__ import annotations

import numpy as np
import pytest

from mipnn.trainer.formulation import NetworkSpec, build_problem
from mipnn.trainer.model import Layer, Model, forward
from mipnn.trainer.problem import is_feasible
from mipnn.trainer.prune import simplify


def _random_model(rng, sizes, p_zero=0.5):
    layers = []
    for li in range(len(sizes) - 1):
        W = rng.integers(-3, 4, (sizes[li + 1], sizes[li])) * (rng.random((sizes[li + 1], sizes[li])) > p_zero)
        b = rng.integers(-20, 21, sizes[li + 1])
        layers.append(Layer(W, b, "sign" if li < len(sizes) - 2 else "linear"))
    return Model("r", [str(k) for k in range(sizes[-1])], sizes[0], 15, layers)


@pytest.mark.parametrize("seed", range(30))
def test_simplify_preserves_every_score(seed):
    rng = np.random.default_rng(seed)
    sizes = [6, int(rng.integers(1, 6)), int(rng.integers(1, 6)), 3][: 3 + seed % 2]
    sizes[-1] = 3
    m = _random_model(rng, sizes, p_zero=rng.choice([0.3, 0.7, 0.9]))
    # make some neurons constant or dead on purpose
    m.layers[0].weights[0] = 0
    m.layers[1].weights[:, -1] = 0
    s, report = simplify(m)
    X = rng.integers(0, 16, (200, 6))
    assert np.array_equal(forward(m, X)[0], forward(s, X)[0])
    assert report["hidden_before"] == sizes[1:-1]
    assert all(h >= 1 for h in report["hidden_after"])
    if sizes[1] > 1:  # neuron 0 is constant; a lone neuron stays
        assert report["removed"][0] >= 1
    s.validate()


def test_a_pruned_model_is_smaller_and_bit_exact_in_firmware(tmp_path):
    from types import SimpleNamespace

    from conftest import require_tools

    from mipnn.device import golden_vectors, run_firmware
    from mipnn.trainer.model import save_model
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    require_tools("gcc", "make")
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, (24, 4))
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 1).astype(np.int64)
    ds = SimpleNamespace(name="toy", classes=["no", "yes"], levels=3, features=None,
                         X_train=X, y_train=y, X_val=X[:0], y_val=y[:0], X_test=X[:8],
                         y_test=y[:8], provenance={})
    res = train(ds, TrainConfig(hidden=(6,), bound=1, time_limit=30, prune=0.1))
    assert res.model.shape[1] < 6
    path = save_model(res.model, tmp_path / "pruned.json")
    report = run_firmware(path, "host", golden_vectors(res.model, X), workdir=tmp_path)
    assert report.ok


@pytest.mark.parametrize("seed", range(10))
def test_silencing_dead_neurons_is_exact_and_lowers_a_pruned_start(seed):
    from mipnn.trainer.problem import objective_value
    from mipnn.trainer.prune import silence_dead_neurons
    from mipnn.trainer.solution import start_from_network

    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, (30, 5))
    y = rng.integers(0, 2, 30)
    m = _random_model(rng, [5, 6, 4, 2], p_zero=0.3)
    m.layers[2].weights[0, [0, 2, 3]] = 1  # the others of the second hidden layer are live
    m.layers[2].weights[:, 1] = 0  # neuron 1 of the second hidden layer is dead
    m.layers[1].weights[:, 0] = 0  # and neuron 0 of the first
    m.layers[1].weights[1, 3] = 2  # neuron 3 of the first feeds only the dead neuron
    m.layers[1].weights[[0, 2, 3], 3] = 0
    for lay in m.layers:  # within the problem's bounds, so both starts are feasible
        lay.bias[:] = np.clip(lay.bias, -3, 3)
    net = [(lay.weights, lay.bias) for lay in m.layers]
    quiet = silence_dead_neurons(net)
    assert [W.shape for W, _ in quiet] == [W.shape for W, _ in net]
    silenced = Model("q", m.classes, 5, 15, [Layer(W, b, lay.activation)
                                              for (W, b), lay in zip(quiet, m.layers, strict=True)])
    assert np.array_equal(forward(m, X)[0], forward(silenced, X)[0])
    assert not quiet[1][0][1].any() and quiet[1][1][1] == 0
    assert not quiet[0][0][[0, 3]].any() and not quiet[0][1][[0, 3]].any()  # cascade
    spec = NetworkSpec(5, (6, 4), 2, bound=3, levels=3, prune=1.0)
    p = build_problem(spec, X, y)
    v_raw, v_quiet = start_from_network(p, net), start_from_network(p, quiet)
    assert is_feasible(p, v_raw) and is_feasible(p, v_quiet)
    assert v_quiet[p.blocks["s0"].index()].sum() <= 4
    assert v_quiet[p.blocks["s1"].index()][1] == 0
    assert objective_value(p, v_quiet) <= objective_value(p, v_raw) - 3.0
