"""Loading a data set (trainer/data.py): built-in sets and CSV files split and encoded, the
options checked, features reused from a model, and provenance that reloads the same split and
records nothing machine-specific."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO, check_arrays, same_split, sample_csv

from mipnn.trainer.data import load_dataset, load_from_provenance
from mipnn.trainer.errors import DataError


def test_breast_cancer_shapes(no_env):
    ds = load_dataset("breast_cancer")
    check_arrays(ds)
    assert ds.name == "breast_cancer" and ds.classes == ["malignant", "benign"]
    assert ds.n_inputs == 30 and ds.features[0]["name"] == "mean radius"
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (409, 46, 114)
    total = np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test]))
    assert total.tolist() == [212, 357]
    assert ds.provenance == {
        "dataset": "breast_cancer",
        "seed": 0,
        "train_size": None,
        "levels": 255,
    }
    # no name and no CSV: breast_cancer, the offline default
    assert same_split(load_dataset(), ds)


def test_heart_shapes(shared_data):
    ds = load_dataset("heart", data_dir=shared_data)
    check_arrays(ds)
    assert ds.classes == ["0", "1"]
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (217, 25, 61)
    names = [f["name"] for f in ds.features]
    assert ds.n_inputs == 21  # 10 numeric + cp 4 + slope 3 + thal 4
    assert names[:3] == ["age", "sex", "cp=0"] and "thal=3" in names and "ca" in names
    assert "data_dir" not in ds.provenance  # nothing machine-specific, even when passed
    assert any("heart.csv" in note for note in ds.notes)


def test_adult_shapes(shared_data):
    # (how long loading takes is a benchmark's business, not a unit test's)
    ds = load_dataset("adult", data_dir=shared_data)
    check_arrays(ds)
    assert ds.classes == ["<=50K", ">50K"]
    assert ds.n_inputs == 108
    assert sum(f["kind"] == "numeric" for f in ds.features) == 6
    names = {f["name"] for f in ds.features}
    assert {"workclass=?", "native-country=Holand-Netherlands", "sex=Male"} <= names
    assert len(ds.y_train) + len(ds.y_val) == 32561 and len(ds.y_val) == 6513
    assert len(ds.y_test) == 16281  # adult.test, labels without the trailing '.'
    assert np.bincount(ds.y_test).tolist() == [12435, 3846]


def test_levels_bound_the_inputs(shared_data):
    ds = load_dataset("heart", data_dir=shared_data, levels=3)
    assert ds.X_train.max() == 3 and ds.levels == 3
    assert set(np.unique(ds.X_train)) <= {0, 1, 2, 3}


@pytest.mark.parametrize("bad", [{"levels": 0}, {"levels": 256}, {"seed": -1}, {"train_size": 0}])
def test_bad_options(bad, no_env):
    with pytest.raises(DataError, match=next(iter(bad))):
        load_dataset("breast_cancer", **bad)


def test_unknown_name_and_both_sources(no_env, tmp_path):
    with pytest.raises(DataError, match="unknown data set 'iris'.*breast_cancer, heart, adult"):
        load_dataset("iris")
    with pytest.raises(DataError, match="not both"):
        load_dataset("heart", csv=tmp_path / "x.csv", target="y")
    with pytest.raises(DataError, match="only applies to a CSV"):
        load_dataset("heart", target="y")


def test_features_from_a_model_reproduce_the_encoding(shared_data):
    ds = load_dataset("heart", data_dir=shared_data, seed=2)
    saved = json.loads(json.dumps(ds.features))
    again = load_dataset("heart", data_dir=shared_data, seed=2, features=saved, levels=255)
    assert same_split(ds, again)


def test_features_naming_a_missing_column(shared_data):
    feats = [{"name": "weight", "kind": "numeric", "min": 0.0, "max": 1.0}]
    with pytest.raises(DataError, match=r"heart\.csv: no column 'weight'"):
        load_dataset("heart", data_dir=shared_data, features=feats)


def test_unseen_categories_are_reported(shared_data, tmp_path, no_env):
    path = sample_csv(tmp_path)
    ds = load_dataset(csv=path, target="label")
    feats = [f for f in ds.features if f.get("source") != "colour"]
    feats.append({"name": "colour=red", "kind": "onehot", "source": "colour", "value": "red"})
    other = load_dataset(csv=path, target="label", features=feats)
    assert any("not seen in training ('blue', 'green')" in n for n in other.notes)


def test_load_from_provenance_builtin(shared_data, monkeypatch):
    ds = load_dataset("heart", data_dir=shared_data, seed=9, train_size=50, levels=31)
    prov = json.loads(json.dumps(ds.provenance))
    again = load_from_provenance(prov, data_dir=shared_data)  # the directory is given again
    assert same_split(ds, again) and again.levels == 31
    assert again.provenance == ds.provenance
    monkeypatch.setenv("MIPNN_DATA_DIR", str(shared_data))  # or found as load_dataset finds it
    assert same_split(load_from_provenance(prov), ds)


def test_load_from_provenance_of_an_older_file_with_an_absolute_data_dir(shared_data,
                                                                         monkeypatch):
    # model files written before provenance stopped recording paths still load
    monkeypatch.delenv("MIPNN_DATA_DIR", raising=False)
    ds = load_dataset("heart", data_dir=shared_data, seed=3)
    old = dict(ds.provenance, data_dir=str(shared_data.resolve()))
    again = load_from_provenance(old)
    assert same_split(again, ds) and "data_dir" not in again.provenance


def test_load_from_provenance_csv_and_features(tmp_path, no_env, monkeypatch):
    ds = load_dataset(csv=sample_csv(tmp_path), target="label", seed=4, train_size=10)
    monkeypatch.chdir(tmp_path)  # the recorded file name is found in the working directory
    again = load_from_provenance(json.loads(json.dumps(ds.provenance)), features=ds.features)
    assert same_split(ds, again)


def test_a_recorded_csv_file_is_found_by_name_or_by_its_old_absolute_path(tmp_path, no_env,
                                                                         monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    ds = load_dataset(csv=sample_csv(data), target="label", seed=2)
    prov = json.loads(json.dumps(ds.provenance))
    assert prov["csv"] == "sample.csv"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(DataError, match=r"sample\.csv: the CSV file the model was trained on "
                                        r"is not in .*--csv PATH, or --data-dir DIR"):
        load_from_provenance(prov)
    assert same_split(load_from_provenance(prov, data_dir=data), ds)
    monkeypatch.setenv("MIPNN_DATA_DIR", str(data))
    assert same_split(load_from_provenance(prov), ds)
    monkeypatch.delenv("MIPNN_DATA_DIR")
    old = dict(prov, csv=str((data / "sample.csv").resolve()))  # an older file's path
    assert same_split(load_from_provenance(old), ds)


def test_load_from_provenance_data_dir_override(shared_data, monkeypatch):
    monkeypatch.delenv("MIPNN_DATA_DIR", raising=False)
    ds = load_dataset("heart", data_dir=shared_data)
    prov = dict(ds.provenance, data_dir="/nonexistent")
    assert same_split(load_from_provenance(prov, data_dir=shared_data), ds)


@pytest.mark.parametrize(
    "prov", [[], {}, {"dataset": "heart", "csv": "x.csv"}, {"dataset": "heart", "seed": 0}]
)
def test_load_from_provenance_malformed(prov):
    with pytest.raises(DataError, match="provenance"):
        load_from_provenance(prov)


# --------------------------------------------------------------------------- no absolute paths


def _looks_absolute(text: str) -> bool:
    return (PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute()
            or text.startswith("~"))


def _absolute_paths(value, where: str = "$") -> list[str]:
    """The JSON paths of every string in ``value`` that is an absolute file path."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _absolute_paths(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _absolute_paths(v, f"{where}[{i}]")]
    return [f"{where} = {value!r}"] if isinstance(value, str) and _looks_absolute(value) else []


def test_no_model_file_or_fixture_records_an_absolute_path():
    files = [p for p in sorted((REPO / "bench" / "models").rglob("*")) if p.is_file()]
    files += [p for p in sorted((REPO / "tests").rglob("*"))
              if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert any(p.suffix == ".json" for p in files)
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".jsonl":
            values = [json.loads(line) for line in text.splitlines() if line.strip()]
        elif path.suffix == ".json":
            values = [json.loads(text)]
        else:
            values = text.split()
        found += [f"{path.relative_to(REPO)}: {p}" for p in _absolute_paths(values)]
    assert not found, "\n".join(found)


def test_a_freshly_trained_model_records_no_absolute_path(tmp_path, no_env):
    from mipnn.cli import main

    data = tmp_path / "data"
    data.mkdir()
    csv = sample_csv(data).resolve()
    runner = CliRunner()
    for args in (["--dataset", "breast_cancer", "--data-dir", str(data.resolve())],
                 ["--csv", str(csv), "--target", "label"]):
        out = tmp_path / "m.json"
        r = runner.invoke(main, ["train", *args, "--train-size", "30", "--hidden", "2",
                                 "--objective", "gd", "-q", "--out", str(out)],
                          catch_exceptions=False)
        assert r.exit_code == 0, r.output
        text = out.read_text(encoding="utf-8")
        assert not _absolute_paths(json.loads(text)), _absolute_paths(json.loads(text))
        assert str(tmp_path) not in text and str(Path.home()) not in text


def test_a_frame_in_memory_is_encoded_as_a_csv_file_is(tmp_path):
    """dataset_from_frame (the estimator's fit) fits and encodes the features as the CSV
    path does: the same descriptions for the same frame, a stratified validation split,
    no test split and no provenance."""
    import pandas as pd

    from mipnn.trainer.csv_reader import read_csv
    from mipnn.trainer.data import dataset_from_frame
    from mipnn.trainer.encoding import fit_features

    csv = sample_csv(tmp_path)
    raw, _ = read_csv(csv, "label")
    frame = pd.read_csv(csv, na_values=["?"]).drop(columns="label")
    y = np.array([raw.classes.index(v) for v in raw.labels])
    ds = dataset_from_frame(frame, y, raw.classes, levels=15, seed=3)
    assert ds.features == fit_features(raw.frame, raw.categorical)
    assert any(f["kind"] == "onehot" for f in ds.features)
    assert len(ds.y_val) == round(0.1 * len(y)) and len(ds.y_test) == 0
    assert sorted([*ds.y_train, *ds.y_val]) == sorted(y)
    assert ds.provenance == {} and ds.X_train.max() <= 15
    tiny = dataset_from_frame(frame.iloc[:3], np.array([0, 1, 1]), ["a", "b"])
    assert len(tiny.y_val) == 0 and len(tiny.y_train) == 3
    assert tiny.notes[-1].startswith("no validation split:")
    none = dataset_from_frame(frame, y, raw.classes, val_fraction=0)
    assert len(none.y_val) == 0 and len(none.y_train) == len(y)


def test_val_fraction_zero_trains_on_the_whole_training_part(shared_data):
    ds = load_dataset("heart", data_dir=shared_data, val_fraction=0)
    assert len(ds.y_val) == 0 and len(ds.y_train) == 242
    assert ds.provenance["val_fraction"] == 0.0
    again = load_from_provenance(ds.provenance, data_dir=shared_data, features=ds.features)
    assert same_split(ds, again)
    half = load_dataset("heart", data_dir=shared_data, val_fraction=0.5)
    assert len(half.y_val) == 121
    with pytest.raises(DataError, match="val_fraction"):
        load_dataset("heart", data_dir=shared_data, val_fraction=1.0)


def test_learned_ranges_are_numeric_features_with_a_source(no_env):
    ds = load_dataset("breast_cancer", levels=15, learn_ranges=True, extra_copies=2)
    assert ds.ranges is not None and ds.ranges["extra_copies"] <= 2
    names = [f["name"] for f in ds.features]
    assert len(names) == len(set(names)) == ds.X_train.shape[1]
    copies = [f for f in ds.features if "source" in f]
    assert len(copies) == ds.ranges["extra_copies"]
    assert any("learned clamp ranges" in n for n in ds.notes)
    again = load_dataset("breast_cancer", levels=15, features=ds.features)  # no new search
    assert same_split(ds, again) and again.ranges is None
