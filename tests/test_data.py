"""Data sets: loading, shapes, seeded stratified splits, CSV handling, downloads, provenance."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mipnn.trainer import data as data_mod
from mipnn.trainer.data import Dataset, available_datasets, load_dataset, load_from_provenance
from mipnn.trainer.errors import DataError


def _check_arrays(ds: Dataset) -> None:
    n = len(ds.features)
    for X, y in ((ds.X_train, ds.y_train), (ds.X_val, ds.y_val), (ds.X_test, ds.y_test)):
        assert X.dtype == np.uint8 and X.ndim == 2 and X.shape[1] == n
        assert len(X) == len(y) and int(X.max(initial=0)) <= ds.levels
        assert y.dtype == np.int64 and set(np.unique(y)) <= set(range(len(ds.classes)))


def _same_split(a: Dataset, b: Dataset) -> bool:
    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
    ) and (a.features == b.features)


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """No MIPNN_DATA_DIR; the cache under tmp_path; the network replaced by a failure."""
    monkeypatch.delenv("MIPNN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def offline(url):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(data_mod, "_fetch", offline)
    return tmp_path / "cache" / "mipnn"


# --------------------------------------------------------------------------- built-in sets


def test_breast_cancer_shapes(no_env):
    ds = load_dataset("breast_cancer")
    _check_arrays(ds)
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
    assert _same_split(load_dataset(), ds)


def test_heart_shapes(shared_data):
    ds = load_dataset("heart", data_dir=shared_data)
    _check_arrays(ds)
    assert ds.classes == ["0", "1"]
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (217, 25, 61)
    names = [f["name"] for f in ds.features]
    assert ds.n_inputs == 21  # 10 numeric + cp 4 + slope 3 + thal 4
    assert names[:3] == ["age", "sex", "cp=0"] and "thal=3" in names and "ca" in names
    assert ds.provenance["data_dir"] == str(shared_data.resolve())
    assert any("heart.csv" in note for note in ds.notes)


def test_adult_shapes(shared_data):
    # (how long loading takes is a benchmark's business, not a unit test's)
    ds = load_dataset("adult", data_dir=shared_data)
    _check_arrays(ds)
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


def test_data_dir_without_the_files(tmp_path, no_env):
    with pytest.raises(DataError, match="no adult.data .*--data-dir"):
        load_dataset("adult", data_dir=tmp_path)
    with pytest.raises(DataError, match="no such directory"):
        load_dataset("heart", data_dir=tmp_path / "nope")


def test_env_data_dir(shared_data, monkeypatch, tmp_path):
    monkeypatch.setenv("MIPNN_DATA_DIR", str(shared_data))
    ds = load_dataset("heart")
    assert "data_dir" not in ds.provenance  # only recorded when passed explicitly
    monkeypatch.setenv("MIPNN_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="MIPNN_DATA_DIR"):
        load_dataset("heart")


# --------------------------------------------------------------------------- splits


def test_splits_are_deterministic_by_seed(shared_data):
    a = load_dataset("heart", data_dir=shared_data, seed=3)
    b = load_dataset("heart", data_dir=shared_data, seed=3)
    c = load_dataset("heart", data_dir=shared_data, seed=4)
    assert _same_split(a, b)
    assert not np.array_equal(a.X_test, c.X_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_splits_are_stratified(shared_data):
    ds = load_dataset("heart", data_dir=shared_data)
    rates = [np.mean(y) for y in (ds.y_train, ds.y_val, ds.y_test)]
    assert max(rates) - min(rates) < 0.05


def test_train_size_draws_a_stratified_sample(shared_data):
    full = load_dataset("heart", data_dir=shared_data, seed=1)
    small = load_dataset("heart", data_dir=shared_data, seed=1, train_size=20)
    assert small.X_train.shape == (20, 21)
    assert np.bincount(small.y_train).tolist() == [9, 11]  # 99/118 of 217 scaled to 20
    # validation, test and the fitted features do not depend on the sample
    assert small.features == full.features
    assert np.array_equal(small.X_val, full.X_val) and np.array_equal(small.X_test, full.X_test)
    # the sample consists of training rows
    full_rows = {row.tobytes() for row in full.X_train}
    assert all(row.tobytes() in full_rows for row in small.X_train)
    assert small.provenance["train_size"] == 20
    assert any("20 of 217" in note for note in small.notes)
    again = load_dataset("heart", data_dir=shared_data, seed=1, train_size=20)
    assert _same_split(small, again)


def test_train_size_limits(shared_data):
    assert np.bincount(
        load_dataset("heart", data_dir=shared_data, train_size=2).y_train
    ).tolist() == [1, 1]
    assert len(load_dataset("heart", data_dir=shared_data, train_size=217).y_train) == 217
    with pytest.raises(DataError, match="train_size 218 is larger than the 217"):
        load_dataset("heart", data_dir=shared_data, train_size=218)
    with pytest.raises(DataError, match="too small .* 2 classes"):
        load_dataset("heart", data_dir=shared_data, train_size=1)


def test_adult_small_sample_keeps_all_columns(shared_data):
    ds = load_dataset("adult", data_dir=shared_data, train_size=100, seed=5)
    assert ds.X_train.shape == (100, 108)
    assert np.bincount(ds.y_train).tolist() == [76, 24]
    assert (ds.X_train.max(axis=0) == 0).any()  # rare categories absent from the sample


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=2, max_size=5), st.data())
def test_draw_property(counts, draw):
    y = np.repeat(np.arange(len(counts)), counts)
    np.random.default_rng(0).shuffle(y)
    n = draw.draw(st.integers(len(counts), len(y)))
    picked = data_mod._draw(y, n, seed=7, n_classes=len(counts))
    assert len(picked) == n and len(set(picked.tolist())) == n
    got = np.bincount(y[picked], minlength=len(counts))
    assert (got >= 1).all() and (got <= counts).all()
    assert (np.abs(got - n * np.array(counts) / len(y)) < 1 + len(counts)).all()


# --------------------------------------------------------------------------- CSV


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _sample_csv(tmp_path: Path, rows: int = 60) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "height": rng.normal(170, 10, rows).round(1),
            "colour": rng.choice(["red", "green", "blue"], rows),
            "count": rng.integers(0, 5, rows).astype(float),
            "label": rng.choice(["yes", "no"], rows),
        }
    )
    frame.loc[[3, 7], "height"] = np.nan
    frame.loc[[5], "colour"] = np.nan
    frame.loc[[9], "count"] = np.nan
    path = tmp_path / "sample.csv"
    text = frame.to_csv(index=False).replace(",,", ",?,", 1)  # one '?' marks a gap too
    return _write(path, text)


def test_csv_detection_missing_values_and_one_hot(tmp_path, no_env):
    path = _sample_csv(tmp_path)
    ds = load_dataset(csv=path, target="label")
    _check_arrays(ds)
    assert ds.name == "sample" and ds.classes == ["no", "yes"]
    kinds = {f["name"]: f["kind"] for f in ds.features}
    assert kinds == {
        "height": "numeric",
        "colour=blue": "onehot",
        "colour=green": "onehot",
        "colour=red": "onehot",
        "count": "numeric",
    }
    notes = " | ".join(ds.notes)
    assert "2 missing value(s) in column height imputed with median" in notes
    assert "1 missing value(s) in column colour encoded as all-zero one-hot" in notes
    assert "1 missing value(s) in column count imputed with median" in notes
    assert "2 numeric column(s), 1 categorical" in notes
    assert ds.provenance == {
        "csv": str(path.resolve()),
        "target": "label",
        "seed": 0,
        "train_size": None,
        "levels": 255,
    }
    # 60 rows: 12 test, 48 -> 5 validation, 43 training
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (43, 5, 12)
    height = next(f for f in ds.features if f["name"] == "height")
    assert "missing" in height


def test_csv_numeric_target_classes_sorted_numerically(tmp_path, no_env):
    rows = "\n".join(f"{i},{[2, 10, 9][i % 3]}" for i in range(30))
    ds = load_dataset(csv=_write(tmp_path / "t.csv", "x,y\n" + rows + "\n"), target="y")
    assert ds.classes == ["2", "9", "10"]


def test_csv_semicolons_and_bom(tmp_path, no_env):
    rows = "".join(f"{i};{'ab'[i % 2]};{i % 2}\n" for i in range(20))
    path = tmp_path / "semi.csv"
    path.write_bytes(("\ufeffx;cat;y\n" + rows).encode("utf-8"))
    ds = load_dataset(csv=path, target="y")
    assert [f["name"] for f in ds.features] == ["x", "cat=a", "cat=b"]


def test_csv_rows_without_target_are_dropped(tmp_path, no_env):
    rows = "".join(f"{i},{i % 2}\n" for i in range(20)) + "99,\n"
    ds = load_dataset(csv=_write(tmp_path / "t.csv", "x,y\n" + rows), target="y")
    assert sum(len(y) for y in (ds.y_train, ds.y_val, ds.y_test)) == 20
    assert any("1 rows without a value in target column 'y' dropped" in n for n in ds.notes)


@pytest.mark.parametrize(
    ("content", "target", "message"),
    [
        (None, "y", "no such file"),
        ("", "y", "the file is empty"),
        ("\n\n", "y", "the file is empty"),
        ("x,y\n", "y", "a header but no data rows"),
        ("x,y\n1,2\n3,4,5,6\n", "y", "not parseable as CSV"),
        (b"x,y\n\xff\xfe,1\n", "y", "not a text CSV file in UTF-8"),
        ("x,y\n1,0\n2,1\n", "label", r"no column 'label' \(the target\); columns are: x, y"),
        ("x,y\n1,0\n2,1\n", None, "no target column given"),
        ("x,y\n1,a\n2,a\n3,a\n", "y", r"only one class \('a'\)"),
        ("y\n0\n1\n0\n1\n", "y", "no feature columns"),
        ("x,y\n1,0\n2,0\n3,1\n", "y", "class '1' has 1 example"),
    ],
)
def test_csv_errors(tmp_path, no_env, content, target, message):
    path = tmp_path / "bad.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        _write(path, content)
    with pytest.raises(DataError, match=message) as info:
        load_dataset(csv=path, target=target)
    text = str(info.value)
    assert "\n" not in text
    if content is not None:
        assert str(path.resolve()) in text


def test_csv_directory(tmp_path, no_env):
    with pytest.raises(DataError, match="is a directory"):
        load_dataset(csv=tmp_path, target="y")


# --------------------------------------------------------------------------- saved features


def test_features_from_a_model_reproduce_the_encoding(shared_data):
    ds = load_dataset("heart", data_dir=shared_data, seed=2)
    saved = json.loads(json.dumps(ds.features))
    again = load_dataset("heart", data_dir=shared_data, seed=2, features=saved, levels=255)
    assert _same_split(ds, again)


def test_features_naming_a_missing_column(shared_data):
    feats = [{"name": "weight", "kind": "numeric", "min": 0.0, "max": 1.0}]
    with pytest.raises(DataError, match=r"heart\.csv: no column 'weight'"):
        load_dataset("heart", data_dir=shared_data, features=feats)


def test_unseen_categories_are_reported(shared_data, tmp_path, no_env):
    path = _sample_csv(tmp_path)
    ds = load_dataset(csv=path, target="label")
    feats = [f for f in ds.features if f.get("source") != "colour"]
    feats.append({"name": "colour=red", "kind": "onehot", "source": "colour", "value": "red"})
    other = load_dataset(csv=path, target="label", features=feats)
    assert any("not seen in training ('blue', 'green')" in n for n in other.notes)


# --------------------------------------------------------------------------- provenance


def test_load_from_provenance_builtin(shared_data):
    ds = load_dataset("heart", data_dir=shared_data, seed=9, train_size=50, levels=31)
    prov = json.loads(json.dumps(ds.provenance))
    again = load_from_provenance(prov)
    assert _same_split(ds, again) and again.levels == 31
    assert again.provenance == ds.provenance


def test_load_from_provenance_csv_and_features(tmp_path, no_env):
    ds = load_dataset(csv=_sample_csv(tmp_path), target="label", seed=4, train_size=10)
    again = load_from_provenance(json.loads(json.dumps(ds.provenance)), features=ds.features)
    assert _same_split(ds, again)


def test_load_from_provenance_data_dir_override(shared_data, monkeypatch):
    monkeypatch.delenv("MIPNN_DATA_DIR", raising=False)
    ds = load_dataset("heart", data_dir=shared_data)
    prov = dict(ds.provenance, data_dir="/nonexistent")
    assert _same_split(load_from_provenance(prov, data_dir=shared_data), ds)


@pytest.mark.parametrize(
    "prov", [[], {}, {"dataset": "heart", "csv": "x.csv"}, {"dataset": "heart", "seed": 0}]
)
def test_load_from_provenance_malformed(prov):
    with pytest.raises(DataError, match="provenance"):
        load_from_provenance(prov)


# --------------------------------------------------------------------------- listing


def test_available_datasets(shared_data, tmp_path, no_env):
    listed = {d["name"]: d for d in available_datasets(shared_data)}
    assert set(listed) >= {"breast_cancer", "heart", "adult"}
    assert listed["adult"]["present"] and listed["heart"]["present"]
    assert listed["breast_cancer"]["present"] and listed["breast_cancer"]["origin"] == "bundled"
    empty = {d["name"]: d for d in available_datasets(tmp_path)}
    assert not empty["adult"]["present"] and "missing from" in empty["adult"]["status"]
    cached = {d["name"]: d for d in available_datasets()}
    assert cached["adult"]["origin"] == "cache" and cached["adult"]["location"] == str(no_env)
    assert "downloaded" in cached["adult"]["status"]
    for entry in listed.values():
        assert {"name", "description", "source", "location", "present", "status"} <= set(entry)


# --------------------------------------------------------------------------- downloads


def _serve(monkeypatch, files: dict[str, bytes]) -> list[str]:
    """Replace the network by ``files`` (URL basename -> bytes); return the fetched URLs."""
    fetched: list[str] = []

    def fake(url):
        fetched.append(url)
        name = url.rsplit("/", 1)[1]
        if name not in files:
            raise urllib.error.URLError(f"not served: {name}")
        return files[name]

    monkeypatch.setattr(data_mod, "_fetch", fake)
    return fetched


def test_adult_download_verifies_and_caches(shared_data, no_env, monkeypatch):
    original_test = b"|1x3 Cross validator\n" + (shared_data / "adult.test").read_bytes()
    fetched = _serve(
        monkeypatch,
        {"adult.data": (shared_data / "adult.data").read_bytes(), "adult.test": original_test},
    )
    ds = load_dataset("adult")
    assert ds.n_inputs == 108 and len(ds.y_test) == 16281
    assert sorted(p.name for p in no_env.iterdir()) == ["adult.data", "adult.test"]
    assert (no_env / "adult.test").read_bytes() == (shared_data / "adult.test").read_bytes()
    assert [n for n in ds.notes if n.startswith("downloaded")] == [
        f"downloaded adult.data to {no_env}",
        f"downloaded adult.test to {no_env}",
    ]
    assert len(fetched) == 2 and fetched[0] == data_mod.ADULT_URLS["adult.data"]
    again = load_dataset("adult")  # from the cache, no download
    assert len(fetched) == 2 and _same_split(ds, again)
    assert not any(n.startswith("downloaded") for n in again.notes)


def test_download_checksum_mismatch_removes_the_file(shared_data, no_env, monkeypatch):
    good = (shared_data / "adult.data").read_bytes()
    _serve(monkeypatch, {"adult.data": good.replace(b"State-gov", b"State-gox", 1)})
    with pytest.raises(DataError, match=r"adult\.data: downloaded from .*sha256 .* removed"):
        load_dataset("adult")
    assert not any(no_env.iterdir())


def test_download_network_failure(no_env):
    with pytest.raises(DataError, match="could not download .*--data-dir.*MIPNN_DATA_DIR"):
        load_dataset("heart")


def _uci_heart(shared_data: Path, *, bad: bool = False) -> bytes:
    """processed.cleveland.data-like bytes built from heart.csv: UCI codes, '?' gaps."""
    h = pd.read_csv(shared_data / "heart.csv", encoding="utf-8-sig")
    lines = []
    for i, r in enumerate(h.itertuples(index=False)):
        fields = [
            r.age, r.sex, r.cp + 1, r.trestbps, r.chol, r.fbs, r.restecg, r.thalach,
            r.exang, r.oldpeak, r.slope + 1,
        ]  # fmt: skip
        values = [f"{float(v)}" for v in fields]
        values.append("?" if r.ca == 4 else f"{float(r.ca)}")
        values.append({0: "?", 1: "6.0", 2: "3.0", 3: "7.0"}[r.thal])
        values.append("0" if r.target == 1 else str(1 + i % 4))
        lines.append(",".join(values))
    if bad:
        lines[10] = lines[10].replace(",", ",9.0,", 1).rsplit(",", 1)[0]  # age,9.0(sex),...
    return ("\n".join(lines) + "\n").encode()


def test_heart_uci_original_in_data_dir(shared_data, tmp_path, no_env):
    (tmp_path / "processed.cleveland.data").write_bytes(_uci_heart(shared_data))
    ds = load_dataset("heart", data_dir=tmp_path)
    _check_arrays(ds)
    assert ds.classes == ["0", "1"]
    assert np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test])).tolist() == [165, 138]
    names = [f["name"] for f in ds.features]
    assert ds.n_inputs == 20 and "cp=4" in names and "thal=7" in names and "ca" in names
    notes = " | ".join(ds.notes)
    assert "5 missing value(s) in column ca imputed with median 0.0" in notes
    assert "2 missing value(s) in column thal encoded as all-zero one-hot" in notes
    assert "num > 0" in notes


def test_heart_download_checks_shape_and_ranges(shared_data, no_env, monkeypatch):
    _serve(monkeypatch, {"processed.cleveland.data": _uci_heart(shared_data, bad=True)})
    with pytest.raises(DataError, match=r"processed\.cleveland\.data: column 'sex': expected"):
        load_dataset("heart")
    assert not any(no_env.iterdir())
    short = b"\n".join(_uci_heart(shared_data).split(b"\n")[:100])
    _serve(monkeypatch, {"processed.cleveland.data": short})
    with pytest.raises(DataError, match="expected 303 rows, found 100"):
        load_dataset("heart")
    fetched = _serve(monkeypatch, {"processed.cleveland.data": _uci_heart(shared_data)})
    ds = load_dataset("heart")
    assert fetched == [data_mod.HEART_UCI_URL] and ds.n_inputs == 20
    assert (no_env / "processed.cleveland.data").is_file()


def test_adult_file_with_wrong_fields(tmp_path, no_env):
    _write(tmp_path / "adult.data", "39, State-gov, 77516\n")
    _write(tmp_path / "adult.test", "")
    with pytest.raises(DataError, match=r"adult\.data: expected 15 fields"):
        load_dataset("adult", data_dir=tmp_path)
