"""The model file contract (ARCHITECTURE.md 2 and 4) and the integer reference."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

import mipnn.codegen
import mipnn.trainer
from mipnn.trainer.errors import ModelFileError
from mipnn.trainer.model import Layer, Model, forward, load_model, model_from_dict, save_model

EXAMPLE = {
    "format": "mipnn.model",
    "version": 1,
    "name": "heart",
    "classes": ["absent", "present"],
    "input": {
        "size": 3,
        "levels": 255,
        "features": [
            {"name": "age", "kind": "numeric", "min": 29.0, "max": 77.0},
            {"name": "cp=0", "kind": "onehot", "source": "cp", "value": "0"},
            {"name": "cp=1", "kind": "onehot", "source": "cp", "value": "1"},
        ],
    },
    "layers": [
        {"weights": [[1, 0, -1], [0, 1, 1]], "bias": [-255, 0], "activation": "sign"},
        {"weights": [[1, -1], [-1, 1]], "bias": [0, 1], "activation": "linear"},
    ],
    "training": {"objective": "sat_margin", "solver": "highs 1.x", "status": "optimal"},
}


def test_packages_resolve_inside_the_repository():
    # PyPI has unrelated packages called trainer and codegen (ARCHITECTURE.md 1)
    repo = Path(__file__).resolve().parents[1]
    assert Path(mipnn.trainer.__file__).resolve().is_relative_to(repo)
    assert Path(mipnn.codegen.__file__).resolve().is_relative_to(repo)


def test_example_from_the_contract_loads_and_round_trips(tmp_path):
    m = model_from_dict(copy.deepcopy(EXAMPLE))
    assert m.shape == [3, 2, 2]
    path = save_model(m, tmp_path / "m.json")
    again = load_model(path)
    assert again.to_dict() == m.to_dict()
    assert json.loads(path.read_text())["layers"][0]["bias"] == [-255, 0]


def test_sign_of_zero_is_plus_one():
    m = Model("z", ["a", "b"], 1, 1, [
        Layer(np.array([[0]]), np.array([0]), "sign"),
        Layer(np.array([[1], [-1]]), np.array([0, 0]), "linear"),
    ])
    scores, cls = forward(m, np.array([[0], [1]]))
    assert scores.tolist() == [[1, -1], [1, -1]]  # hidden z = 0 -> a = +1
    assert cls.tolist() == [0, 0]


def test_ties_go_to_the_lowest_index():
    m = Model("t", ["a", "b", "c"], 2, 5, [
        Layer(np.array([[0, 0], [1, 0], [1, 0]]), np.array([3, 0, 0]), "linear"),
    ])
    scores, cls = forward(m, np.array([[3, 1], [0, 0], [5, 5]]))
    assert scores.tolist() == [[3, 3, 3], [3, 0, 0], [3, 5, 5]]
    assert cls.tolist() == [0, 0, 1]


def test_big_sums_are_exact():
    n = 300
    W = np.full((2, n), 127)
    bias = np.array([2**31 - 1, -(2**31 - 1)])
    m = Model("big", ["a", "b"], n, 255, [Layer(W, bias, "linear")])
    scores, _ = forward(m, np.full((1, n), 255))
    assert scores[0].tolist() == [2**31 - 1 + 127 * 255 * n, -(2**31 - 1) + 127 * 255 * n]


def test_forward_rejects_inputs_out_of_range():
    m = model_from_dict(copy.deepcopy(EXAMPLE))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        forward(m, np.array([[256, 0, 0]]))
    with pytest.raises(ValueError, match="shape"):
        forward(m, np.array([[1, 2]]))


def _broken(path: str, value: object) -> dict:
    data = copy.deepcopy(EXAMPLE)
    node = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = keys[-1]
    if value is KeyError:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("path,value,expected", [
    ("format", "other", "$.format"),
    ("version", 3, "newer"),
    ("version", "1", "$.version"),
    ("name", "", "$.name"),
    ("classes", ["a"], "$.classes"),
    ("classes", ["a", "a"], "distinct"),
    ("input.size", 0, "$.input.size"),
    ("input.levels", 256, "$.input.levels"),
    ("input.features", [], "$.input.features"),
    ("input.features.0.kind", "text", "$.input.features[0].kind"),
    ("input.features.0.max", 1.0, "$.input.features[0].max"),
    ("layers", [], "$.layers"),
    ("layers.0.weights", [[1, 0], [0, 1]], "$.layers[0].weights[0]"),
    ("layers.0.weights", [[1, 0, 128], [0, 1, 1]], "$.layers[0].weights[0][2]"),
    ("layers.0.weights", [[1, 0, 1.5], [0, 1, 1]], "$.layers[0].weights[0][2]"),
    ("layers.0.weights", [[1, 0, True], [0, 1, 1]], "$.layers[0].weights[0][2]"),
    ("layers.0.bias", [0], "$.layers[0].bias"),
    ("layers.0.bias", [0, 2**31], "$.layers[0].bias[1]"),
    ("layers.0.activation", "relu", "$.layers[0].activation"),
    ("layers.0.activation", "linear", "hidden layers must be 'sign'"),
    ("layers.1.activation", "sign", "last layer must be 'linear'"),
    ("layers.1.weights", [[1, -1], [-1, 1], [0, 0]], "classes"),
])
def test_validation_names_the_json_path(tmp_path, path, value, expected):
    f = tmp_path / "bad.json"
    bad = _broken(path, value)
    if path == "layers.1.weights":
        bad["layers"][1]["bias"] = [0, 0, 0]
    f.write_text(json.dumps(bad))
    with pytest.raises(ModelFileError) as err:
        load_model(f)
    assert str(f) in str(err.value)
    assert expected in str(err.value)


@pytest.mark.parametrize("training", [[], "free text", 5, None, [{"data": 1}], {"data": "x"}])
def test_provenance_of_any_type_loads_and_round_trips(tmp_path, training):
    """Issue 21, cause 4: provenance is free-form (ARCHITECTURE.md 4): ``training`` of any
    type loads (an object is read as mipnn's provenance, anything else is kept as it is)."""
    data = _broken("format", "mipnn.model")
    data["training"] = training
    f = tmp_path / "m.json"
    f.write_text(json.dumps(data))
    model = load_model(f)
    assert isinstance(model.training, dict)
    assert json.loads(model.to_json()).get("training") == training
    save_model(model, tmp_path / "again.json")
    assert json.loads((tmp_path / "again.json").read_text()).get("training") == training


def test_long_values_are_cut_in_messages(tmp_path):
    f = tmp_path / "m.json"
    f.write_text(json.dumps(_broken("name", ["x" * 10_000])))
    with pytest.raises(ModelFileError, match=r"\$\.name: .*\.\.\.$") as info:
        load_model(f)
    assert len(str(info.value)) < 200


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "mipnn.model",')
    with pytest.raises(ModelFileError, match="not valid JSON.*line 1"):
        load_model(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(ModelFileError, match=r"\$: expected a JSON object"):
        load_model(bad)


def test_a_model_in_memory_has_the_sha256_of_its_saved_file(tmp_path):
    from mipnn.trainer.model import file_sha256, model_sha256, model_with_sha256

    model = Model(name="m", classes=["a", "b"], input_size=2, levels=3,
                  layers=[Layer(np.array([[1, -1], [0, 1]]), np.array([0, 1]), "linear")])
    path = save_model(model, tmp_path / "m.json")
    assert model_sha256(model) == file_sha256(path)
    loaded, sha = model_with_sha256(path)
    assert sha == file_sha256(path) and loaded.to_json() == model.to_json()
    assert model_with_sha256(model) == (model, model_sha256(model))
    model.layers[0].weights[0, 0] = 500  # an invalid model in memory is refused
    with pytest.raises(ModelFileError, match="weights"):
        model_with_sha256(model)


def test_a_numeric_feature_may_name_the_column_it_reads():
    data = copy.deepcopy(EXAMPLE)
    data["input"]["features"][0] = {"name": "age[30,50]", "kind": "numeric", "min": 30.0,
                                    "max": 50.0, "source": "age"}
    assert model_from_dict(data).features[0]["source"] == "age"
    data["input"]["features"][0]["source"] = 3
    with pytest.raises(ModelFileError, match=r"features\[0\]\.source"):
        model_from_dict(data)
