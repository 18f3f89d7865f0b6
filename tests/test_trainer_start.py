"""``--start``: a MIP run that starts from a model file's network instead of the gradient
baseline's (library: start_network_from_model + train(start_network=...); command line)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from helpers_models import toy_dataset

from mipnn.cli import main
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import Layer, Model, forward
from mipnn.trainer.prune import simplify
from mipnn.trainer.start import start_network_from_model
from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


def _model(layers: list[tuple[list, list]], levels: int = 3) -> Model:
    acts = ["sign"] * (len(layers) - 1) + ["none"]
    return Model(name="m", classes=["no", "yes"], input_size=len(layers[0][0][0]),
                 levels=levels,
                 layers=[Layer(np.array(W), np.array(b), a)
                         for (W, b), a in zip(layers, acts, strict=True)])


def _as_model(net, levels: int = 3) -> Model:
    return _model([(W.tolist(), b.tolist()) for W, b in net], levels)


def test_padding_and_unfolded_constant_neurons_change_no_output():
    # neuron 2 is constant (+1): simplify folds its outgoing weights into the output bias,
    # which leaves [-1, 1]; the padded neurons must take the excess back, exactly
    full = _model([([[1, -1, 0, 1], [0, 1, 1, -1], [0, 0, 0, 0]], [-2, 1, 3]),
                   ([[1, 1, 1], [-1, 1, -1]], [1, -1])])
    small, report = simplify(full)
    assert report["hidden_after"] == [2]
    assert int(np.abs(small.layers[1].bias).max()) == 2  # outside P = 1
    ds = toy_dataset(n=30)
    net = start_network_from_model(small, TrainConfig(hidden=(5,), bound=1), ds)
    assert [W.shape for W, _ in net] == [(5, 4), (2, 5)]
    assert all(np.abs(W).max() <= 1 for W, _ in net) and np.abs(net[1][1]).max() <= 1
    X = np.random.default_rng(0).integers(0, 4, (200, 4))
    for model in (full, small):
        scores, _ = forward(model, X)
        np.testing.assert_array_equal(scores, forward(_as_model(net), X)[0])
    # no padded neuron left to take the excess: a clear error, naming the source
    with pytest.raises(MipnnError, match=r"start\.json: layer 2 has a bias of magnitude 2"):
        start_network_from_model(small, TrainConfig(hidden=(2,), bound=1), ds, "start.json")


def test_a_model_that_cannot_start_the_run_is_refused():
    ds = toy_dataset()
    model = _model([([[1, 0, 0, 1]] * 3, [0, 0, 0]), ([[1, 1, 1], [0, 0, 0]], [0, 0])])
    cases = [
        (TrainConfig(hidden=(2,)), r"hidden layers \[3\] do not fit --hidden 2"),
        (TrainConfig(hidden=(4, 2)), "do not fit --hidden 4,2"),
        (TrainConfig(hidden=()), "do not fit --hidden 0"),
    ]
    for config, message in cases:
        with pytest.raises(MipnnError, match=message):
            start_network_from_model(model, config, ds)
    wide = _model([([[3, 0, 0, 1]] * 3, [0, 0, 0]), ([[1, 1, 1], [0, 0, 0]], [0, 0])])
    with pytest.raises(MipnnError, match=r"weight of magnitude 3, outside \[-1, 1\]"):
        start_network_from_model(wide, TrainConfig(hidden=(3,)), ds)
    for attr, value, message in (("levels", 7, r"inputs are in \[0, 3\]"),
                                  ("classes", ["a", "b"], "classes")):
        other = toy_dataset()
        setattr(other, attr, value)
        with pytest.raises(MipnnError, match=message):
            start_network_from_model(model, TrainConfig(hidden=(3,)), other)
    with pytest.raises(MipnnError, match="gradient baseline"):
        train(ds, TrainConfig(hidden=(3,), objective="gd"), start_network=[])


@pytest.mark.parametrize("objective", ["sat_margin", "max_correct"])
def test_a_continued_run_starts_where_the_first_one_ended(objective):
    ds = toy_dataset(n=40, seed=3)
    first = train(ds, TrainConfig(hidden=(3,), objective=objective, time_limit=3, seed=1))
    net = start_network_from_model(first.model, TrainConfig(hidden=(3,)), ds)
    config = TrainConfig(hidden=(3,), objective=objective, time_limit=3, seed=2)
    second = train(ds, config, start_network=net)
    start = second.model.training["start"]
    assert start["kind"].startswith("model")
    assert start["gd_train_accuracy"] is None  # no gradient run
    assert start["objective"] <= first.model.training["objective_value"] + 1e-9
    assert second.solve.objective <= start["objective"] + 1e-9
    assert second.train_accuracy == pytest.approx(float(np.mean(
        forward(second.model, ds.X_train)[1] == ds.y_train)))


def test_start_on_the_command_line(tmp_path):
    runner = CliRunner()
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    common = ["train", "--dataset", "breast_cancer", "--train-size", "40", "--hidden", "4",
              "--time-limit", "4", "--seed", "1"]
    res = runner.invoke(main, [*common, "--out", str(first)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, [*common, "--objective", "max_correct", "--start", str(first),
                               "--out", str(second)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert f"start: the network of {first}" in res.output
    data = json.loads(second.read_text())
    # the start file by its name: model files never record absolute paths
    assert data["training"]["start"]["model_file"]["path"] == first.name
    assert data["training"]["start"]["kind"].startswith("model")
    assert data["input"]["features"] == json.loads(first.read_text())["input"]["features"]

    def error(*args: str, fragment: str) -> None:
        r = runner.invoke(main, [*args, "--out", str(tmp_path / "x.json")],
                          catch_exceptions=False)
        assert r.exit_code == 2, r.output
        assert "Traceback" not in r.output and fragment in r.stderr, r.stderr
        assert not (tmp_path / "x.json").exists()

    error(*common, "--objective", "gd", "--start", str(first), fragment="gradient baseline")
    error(*common, "--start", str(first), "--levels", "15", fragment="--levels 15")
    error(*common, "--hidden", "4,2", "--start", str(first),
          fragment="do not fit --hidden 4,2")
    error(*common, "--start", str(tmp_path / "nope.json"), fragment="nope.json")
    error(*common, "--start", str(first), "--batch-size", "10",
          fragment="--start applies to one MIP")
    csv = tmp_path / "other.csv"
    csv.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(30)))
    error("train", "--csv", str(csv), "--target", "label", "--start", str(first),
          fragment="its input features do not fit this data")


def test_the_start_file_is_checked_against_the_options_and_recorded_by_name(tmp_path):
    from mipnn.trainer.model import file_sha256, network_model, save_model
    from mipnn.trainer.start import load_start_model, start_file_record

    net = [(np.array([[1, 0, 0, 1]]), np.array([0])), (np.array([[1], [-1]]), np.zeros(2))]
    path = save_model(network_model(net, ["no", "yes"], 3), tmp_path / "start.json")
    assert load_start_model(path, TrainConfig(), None).levels == 3
    assert load_start_model(path, TrainConfig(), 3).levels == 3
    with pytest.raises(MipnnError, match="--levels 7 would encode the data differently"):
        load_start_model(path, TrainConfig(), 7)
    with pytest.raises(MipnnError, match="gradient baseline"):
        load_start_model(path, TrainConfig(objective="gd"), None)
    assert start_file_record(path) == {"path": "start.json", "sha256": file_sha256(path)}
