"""Any CSV file as a data set (trainer/csv_reader.py): column kinds, missing values,
delimiters, the target column, and a clear error for each problem."""

from __future__ import annotations

import pytest
from conftest import check_arrays, sample_csv, write_text

from mipnn.trainer.data import load_dataset
from mipnn.trainer.errors import DataError


def test_csv_detection_missing_values_and_one_hot(tmp_path, no_env):
    path = sample_csv(tmp_path)
    ds = load_dataset(csv=path, target="label")
    check_arrays(ds)
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
        "csv": "sample.csv",  # the file's name: nothing machine-specific
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
    ds = load_dataset(csv=write_text(tmp_path / "t.csv", "x,y\n" + rows + "\n"), target="y")
    assert ds.classes == ["2", "9", "10"]


def test_csv_semicolons_and_bom(tmp_path, no_env):
    rows = "".join(f"{i};{'ab'[i % 2]};{i % 2}\n" for i in range(20))
    path = tmp_path / "semi.csv"
    path.write_bytes(("\ufeffx;cat;y\n" + rows).encode("utf-8"))
    ds = load_dataset(csv=path, target="y")
    assert [f["name"] for f in ds.features] == ["x", "cat=a", "cat=b"]


def test_csv_rows_without_target_are_dropped(tmp_path, no_env):
    rows = "".join(f"{i},{i % 2}\n" for i in range(20)) + "99,\n"
    ds = load_dataset(csv=write_text(tmp_path / "t.csv", "x,y\n" + rows), target="y")
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
        write_text(path, content)
    with pytest.raises(DataError, match=message) as info:
        load_dataset(csv=path, target=target)
    text = str(info.value)
    assert "\n" not in text
    if content is not None:
        assert str(path.resolve()) in text


def test_csv_directory(tmp_path, no_env):
    with pytest.raises(DataError, match="is a directory"):
        load_dataset(csv=tmp_path, target="y")
