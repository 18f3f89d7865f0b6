"""The built-in data sets (trainer/datasets.py): where their files are read from, the listing,
the UCI originals and their checks, and downloads into the cache."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import check_arrays, same_split, serve, uci_heart, write_text

from mipnn.trainer.data import load_dataset
from mipnn.trainer.datasets import ADULT_URLS, HEART_UCI_URL, available_datasets
from mipnn.trainer.errors import DataError


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


def test_adult_download_verifies_and_caches(shared_data, no_env, monkeypatch):
    original_test = b"|1x3 Cross validator\n" + (shared_data / "adult.test").read_bytes()
    fetched = serve(
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
    assert len(fetched) == 2 and fetched[0] == ADULT_URLS["adult.data"]
    again = load_dataset("adult")  # from the cache, no download
    assert len(fetched) == 2 and same_split(ds, again)
    assert not any(n.startswith("downloaded") for n in again.notes)


def test_heart_uci_original_in_data_dir(shared_data, tmp_path, no_env):
    (tmp_path / "processed.cleveland.data").write_bytes(uci_heart(shared_data))
    ds = load_dataset("heart", data_dir=tmp_path)
    check_arrays(ds)
    assert ds.classes == ["0", "1"]
    assert np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test])).tolist() == [165, 138]
    names = [f["name"] for f in ds.features]
    assert ds.n_inputs == 20 and "cp=4" in names and "thal=7" in names and "ca" in names
    notes = " | ".join(ds.notes)
    assert "5 missing value(s) in column ca imputed with median 0.0" in notes
    assert "2 missing value(s) in column thal encoded as all-zero one-hot" in notes
    assert "num > 0" in notes


def test_heart_download_checks_shape_and_ranges(shared_data, no_env, monkeypatch):
    serve(monkeypatch, {"processed.cleveland.data": uci_heart(shared_data, bad=True)})
    with pytest.raises(DataError, match=r"processed\.cleveland\.data: column 'sex': expected"):
        load_dataset("heart")
    assert not any(no_env.iterdir())
    short = b"\n".join(uci_heart(shared_data).split(b"\n")[:100])
    serve(monkeypatch, {"processed.cleveland.data": short})
    with pytest.raises(DataError, match="expected 303 rows, found 100"):
        load_dataset("heart")
    fetched = serve(monkeypatch, {"processed.cleveland.data": uci_heart(shared_data)})
    ds = load_dataset("heart")
    assert fetched == [HEART_UCI_URL] and ds.n_inputs == 20
    assert (no_env / "processed.cleveland.data").is_file()


def test_adult_file_with_wrong_fields(tmp_path, no_env):
    write_text(tmp_path / "adult.data", "39, State-gov, 77516\n")
    write_text(tmp_path / "adult.test", "")
    with pytest.raises(DataError, match=r"adult\.data: expected 15 fields"):
        load_dataset("adult", data_dir=tmp_path)


def test_digits_and_mnist_data_sets(shared_data):
    from mipnn.trainer.data import load_dataset

    d = load_dataset("digits", train_size=50, seed=0)
    assert d.X_train.shape == (50, 64) and d.classes == [str(k) for k in range(10)]
    m = load_dataset("mnist", data_dir=shared_data, train_size=60, seed=0)
    assert m.X_train.shape == (60, 784) and len(m.y_test) == 5000
    assert any("first 5,000" in note for note in m.notes)
    assert m.X_train.max() <= 255
