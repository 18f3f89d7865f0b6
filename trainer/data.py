"""Data sets: read raw data, split deterministically, and encode to integer inputs.

Built-in sets (see :func:`available_datasets`): ``breast_cancer`` and ``digits`` (bundled with
scikit-learn, need no files), ``heart`` and ``adult`` (UCI files), ``mnist`` (IDX files). Any CSV file with a named target column
loads too. Files are read from, in this order: the ``data_dir`` argument, the directory in the
environment variable ``MIPNN_DATA_DIR``, or a cache directory (``$XDG_CACHE_HOME/mipnn``, else
``~/.cache/mipnn``) into which missing files are downloaded from UCI and verified (sha256 for
Adult; shape and value ranges for the Cleveland heart file, whose checksum is not published).

Splits, all stratified by class and fixed by ``seed``:

* heart, breast_cancer, CSV: 20 % test; 10 % of the remaining training part is validation;
* adult: ``adult.test`` is the test set; 20 % of ``adult.data`` is validation.

The training part (everything but the test set) is what the features are fitted on (ranges,
medians, category values), before ``train_size`` draws a stratified sample of the training
examples; so a small sample may hold all-zero columns, and the features do not depend on it.

Also ``digits`` (scikit-learn's bundled 8x8 digits, 20 % test) and ``mnist`` (standard IDX
files, never downloaded; with only the t10k files present, the first 5,000 images are the
training pool and the last 5,000 the test set).

Adding a data set: write a reader ``(location, notes) -> _Raw`` and
add a :class:`_Source` entry in :func:`_sources`; the split, encoding, provenance and listing
follow. ``_Raw.test_frame`` carries a given test set (as for Adult).
"""

from __future__ import annotations

import csv as csvlib
import hashlib
import http.client
import io
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mipnn.trainer.encoding import (
    category_sort_key,
    category_strings,
    encode,
    fit_features,
    is_categorical,
)
from mipnn.trainer.errors import DataError

UCI_BASE = "https://archive.ics.uci.edu/ml/machine-learning-databases"
ADULT_URLS = {
    "adult.data": f"{UCI_BASE}/adult/adult.data",
    "adult.test": f"{UCI_BASE}/adult/adult.test",
}
HEART_UCI_URL = f"{UCI_BASE}/heart-disease/processed.cleveland.data"
SHA256 = {
    "adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    # after removing the original first line "|1x3 Cross validator"
    "adult.test": "72567b94f5c1a6f8501377dd80f93892c3848ff071cf91ba47e00b0785a28074",
}
ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
)  # fmt: skip
ADULT_NUMERIC = ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week")
ADULT_CLASSES = ("<=50K", ">50K")
HEART_COLUMNS = (
    "age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang",
    "oldpeak", "slope", "ca", "thal",
)  # fmt: skip
HEART_CATEGORICAL = ("cp", "slope", "thal")
# processed.cleveland.data: allowed values (sets) or ranges (tuples) per column, and rows.
HEART_UCI_CHECKS: dict[str, Any] = {
    "age": (1, 120), "sex": {0, 1}, "cp": {1, 2, 3, 4}, "trestbps": (50, 250),
    "chol": (50, 700), "fbs": {0, 1}, "restecg": {0, 1, 2}, "thalach": (50, 250),
    "exang": {0, 1}, "oldpeak": (0, 10), "slope": {1, 2, 3}, "ca": {0, 1, 2, 3},
    "thal": {3, 6, 7}, "num": {0, 1, 2, 3, 4},
}  # fmt: skip
HEART_UCI_ROWS = 303
TEST_FRACTION = 0.2
VAL_FRACTION = 0.1
ADULT_VAL_FRACTION = 0.2
MANY_CATEGORIES = 50


@dataclass
class Dataset:
    """A loaded, split and encoded data set.

    ``X_*`` are ``uint8 [n, len(features)]`` in ``[0, levels]``; ``y_*`` are ``int64`` indices
    into ``classes`` (the labels as they appear in the data). ``provenance`` reloads exactly
    this split with :func:`load_from_provenance`; ``notes`` are remarks for the user.
    """

    name: str
    classes: list[str]
    features: list[dict]
    levels: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def n_inputs(self) -> int:
        return len(self.features)


@dataclass(frozen=True)
class _Location:
    """Where a data set's files are read from, and whether missing ones may be downloaded."""

    directory: Path
    origin: str  # "--data-dir", "MIPNN_DATA_DIR" or "cache"
    may_download: bool


@dataclass
class _Raw:
    """A data set as read, before splitting: raw feature columns and string labels.

    ``frame``/``labels`` are all examples, or, when ``test_frame`` is given, the training part.
    """

    frame: pd.DataFrame
    labels: np.ndarray
    classes: list[str]
    where: str  # the file(s), for messages
    categorical: list[str] = field(default_factory=list)
    test_frame: pd.DataFrame | None = None
    test_labels: np.ndarray | None = None
    val_fraction: float = VAL_FRACTION


@dataclass(frozen=True)
class _Source:
    """A built-in data set: how to describe, find and read it."""

    name: str
    description: str
    source: str
    files: tuple[tuple[str, ...], ...]  # each entry: alternatives, any one of them suffices
    read: Callable[[_Location, list[str]], _Raw]
    needs_files: bool = True
    downloadable: bool = True


def _sources() -> dict[str, _Source]:
    return {
        "breast_cancer": _Source(
            "breast_cancer",
            "Wisconsin diagnostic breast cancer: 569 x 30 numeric, malignant/benign",
            "scikit-learn (bundled, no download)",
            (),
            _read_breast_cancer,
            needs_files=False,
        ),
        "heart": _Source(
            "heart",
            "Heart disease (Cleveland): 303 x 13 features (cp, slope, thal categorical), 0/1",
            "UCI ML Repository dataset 45 (heart.csv form, or processed.cleveland.data)",
            (("heart.csv", "processed.cleveland.data"),),
            _read_heart,
        ),
        "adult": _Source(
            "adult",
            "Adult census income: 32,561 train + 16,281 test, 6 numeric + 8 categorical "
            "(108 inputs), <=50K/>50K",
            "UCI ML Repository dataset 2 (adult.data, adult.test)",
            (("adult.data",), ("adult.test",)),
            _read_adult,
        ),
        "digits": _Source(
            "digits",
            "Optical handwritten digits, 8x8: 1,797 x 64 pixels (0-16), classes 0-9",
            "scikit-learn (bundled, no download)",
            (),
            _read_digits,
            needs_files=False,
        ),
        "mnist": _Source(
            "mnist",
            "MNIST handwritten digits, 28x28: 784 pixels (0-255), classes 0-9",
            "the standard IDX files (train-/t10k-images-idx3-ubyte, -labels-idx1-ubyte, "
            "optionally .gz) in the data directory or its mnist/ subdirectory; not downloaded",
            tuple(
                tuple(f"{sub}{stem}{gz}" for sub in ("", "mnist/") for gz in (".gz", ""))
                for stem in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
            ),
            _read_mnist,
            downloadable=False,
        ),
    }


# --------------------------------------------------------------------------- locations


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/mipnn``, else ``~/.cache/mipnn`` (not created here)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "mipnn"


def _locate(data_dir: Path | None) -> _Location:
    if data_dir is not None:
        return _Location(Path(data_dir).expanduser(), "--data-dir", False)
    env = os.environ.get("MIPNN_DATA_DIR")
    if env:
        return _Location(Path(env).expanduser(), "MIPNN_DATA_DIR", False)
    return _Location(cache_dir(), "cache", True)


def _not_found(loc: _Location, what: str) -> DataError:
    if loc.origin == "--data-dir":
        hint = "the directory given with --data-dir"
    else:
        hint = "the directory in MIPNN_DATA_DIR"
    if not loc.directory.is_dir():
        return DataError(f"{loc.directory}: no such directory ({hint})")
    return DataError(f"{loc.directory}: no {what} ({hint})")


# --------------------------------------------------------------------------- downloads


def _fetch(url: str) -> bytes:
    """The bytes at ``url`` (the one network access; tests replace it)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def _download(
    url: str, dest: Path, notes: list[str], check: Callable[[bytes], None] | None = None
) -> Path:
    """Download ``url`` to ``dest`` (atomically), verify it, and return ``dest``.

    ``adult.test`` loses its original first line ``|1x3 Cross validator`` before the check.
    Files with a known sha256 are checked against it; ``check`` validates the others. A file
    failing its check is removed and raises DataError, as does a network failure.
    """
    try:
        data = _fetch(url)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"could not download {url} ({reason}); pass --data-dir DIR or set MIPNN_DATA_DIR "
            f"to a directory holding {dest.name}"
        ) from None
    if dest.name == "adult.test" and data.startswith(b"|"):
        data = data.split(b"\n", 1)[1] if b"\n" in data else b""
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(data)
    except OSError as exc:
        raise DataError(
            f"{dest.parent}: cannot write the downloaded {dest.name} ({exc.strerror}); pass "
            "--data-dir DIR or set MIPNN_DATA_DIR"
        ) from None
    try:
        expected = SHA256.get(dest.name)
        if expected is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != expected:
                raise DataError(
                    f"{dest}: downloaded from {url}, sha256 {actual} but expected {expected}; "
                    "the file was removed"
                )
        if check is not None:
            check(data)
    except DataError:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    notes.append(f"downloaded {dest.name} to {dest.parent}")
    return dest


# --------------------------------------------------------------------------- readers


def _read_breast_cancer(loc: _Location, notes: list[str]) -> _Raw:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    names = [str(n) for n in bunch.target_names]
    labels = np.asarray(names, dtype=object)[bunch.target.to_numpy()]
    return _Raw(bunch.data.copy(), labels, names, "breast_cancer (scikit-learn)")


def _read_digits(loc: _Location, notes: list[str]) -> _Raw:
    from sklearn.datasets import load_digits

    bunch = load_digits(as_frame=True)
    labels = bunch.target.astype(str).to_numpy(dtype=object)
    return _Raw(bunch.data.astype(np.int64), labels, [str(k) for k in range(10)],
                "digits (scikit-learn)")


MNIST_SIDE = 28
MNIST_POOL = 5000  # with only the t10k files: the first 5,000 images train, the last test


def _find_idx(directory: Path, stem: str) -> Path | None:
    for sub in (directory, directory / "mnist"):
        for name in (f"{stem}.gz", stem):
            if (sub / name).is_file():
                return sub / name
    return None


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (optionally gzip-compressed) of unsigned bytes as an array."""
    import gzip

    try:
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({_one_line(exc)})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes")
    dims = data[3]
    header = 4 + 4 * dims
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    if len(data) != header + int(np.prod(shape)):
        raise DataError(f"{path}: IDX header says {shape}, but the file has "
                        f"{len(data) - header} data bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _read_mnist(loc: _Location, notes: list[str]) -> _Raw:
    """MNIST from the standard IDX files: train-* as the training pool and t10k-* as the
    test set; with only the t10k files, the first 5,000 images are the training pool and
    the last 5,000 the test set (said in a note)."""
    found = {stem: _find_idx(loc.directory, stem) for stem in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    if found["t10k-images-idx3-ubyte"] is None or found["t10k-labels-idx1-ubyte"] is None:
        if loc.origin != "cache":
            raise _not_found(loc, "MNIST files t10k-images-idx3-ubyte[.gz] and "
                             "t10k-labels-idx1-ubyte[.gz] (MNIST is not downloaded)")
        raise DataError(
            f"{loc.directory}: no MNIST files; put the IDX files (t10k-*, optionally train-*) "
            "in a directory and pass --data-dir DIR or set MIPNN_DATA_DIR"
        )

    def pair(images: Path, labels: Path) -> tuple[pd.DataFrame, np.ndarray]:
        X = read_idx(images)
        y = read_idx(labels)
        if X.ndim != 3 or X.shape[1:] != (MNIST_SIDE, MNIST_SIDE) or y.ndim != 1 \
                or len(y) != len(X) or y.max(initial=0) > 9:
            raise DataError(f"{images}, {labels}: expected n 28x28 images and n labels 0-9")
        columns = [f"px{r:02d}_{c:02d}" for r in range(MNIST_SIDE) for c in range(MNIST_SIDE)]
        frame = pd.DataFrame(X.reshape(len(X), -1).astype(np.int64), columns=columns)
        return frame, y.astype(str).astype(object)

    test_frame, test_labels = pair(found["t10k-images-idx3-ubyte"],  # type: ignore[arg-type]
                                   found["t10k-labels-idx1-ubyte"])  # type: ignore[arg-type]
    classes = [str(k) for k in range(10)]
    if found["train-images-idx3-ubyte"] and found["train-labels-idx1-ubyte"]:
        frame, labels = pair(found["train-images-idx3-ubyte"], found["train-labels-idx1-ubyte"])
        notes.append(f"mnist: {len(frame):,} training and {len(test_frame):,} test images "
                     f"from {found['train-images-idx3-ubyte'].parent}")
        return _Raw(frame, labels, classes, str(found["train-images-idx3-ubyte"].parent),
                    test_frame=test_frame, test_labels=test_labels)
    where = str(found["t10k-images-idx3-ubyte"].parent)  # type: ignore[union-attr]
    notes.append(
        f"mnist: only the t10k files found in {where}: the first {MNIST_POOL:,} images are "
        f"the training pool, the last {len(test_frame) - MNIST_POOL:,} the test set"
    )
    return _Raw(test_frame.iloc[:MNIST_POOL].reset_index(drop=True), test_labels[:MNIST_POOL],
                classes, where, test_frame=test_frame.iloc[MNIST_POOL:].reset_index(drop=True),
                test_labels=test_labels[MNIST_POOL:])


def _read_heart(loc: _Location, notes: list[str]) -> _Raw:
    """``heart.csv`` (the 14-column form) if present, else the UCI original
    ``processed.cleveland.data`` (downloaded into the cache when allowed), kept in its own
    codes (cp 1-4, slope 1-3, thal 3/6/7) with target ``num > 0``."""
    csv_path = loc.directory / "heart.csv"
    uci_path = loc.directory / "processed.cleveland.data"
    if csv_path.is_file():
        return _read_heart_csv(csv_path, notes)
    if not uci_path.is_file():
        if not loc.may_download:
            raise _not_found(loc, "heart.csv or processed.cleveland.data")
        _download(
            HEART_UCI_URL,
            uci_path,
            notes,
            check=lambda data: _heart_uci_frame(data, uci_path, True),
        )
    frame = _heart_uci_frame(uci_path.read_bytes(), uci_path, False)
    labels = np.where(frame.pop("num").to_numpy() > 0, "1", "0").astype(object)
    notes.append(f"heart: read the UCI original {uci_path} (target '1' = num > 0, disease)")
    return _Raw(frame, labels, ["0", "1"], str(uci_path), categorical=list(HEART_CATEGORICAL))


def _read_heart_csv(path: Path, notes: list[str]) -> _Raw:
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({_one_line(exc)})") from None
    expected = [*HEART_COLUMNS, "target"]
    if [str(c).strip() for c in frame.columns] != expected:
        raise DataError(
            f"{path}: expected the columns {', '.join(expected)}; "
            f"found {', '.join(map(str, frame.columns))}"
        )
    frame.columns = expected
    labels = category_strings(frame.pop("target"))
    bad = sorted({str(v) for v in labels} - {"0", "1"})
    if bad:
        raise DataError(f"{path}: column 'target': expected 0 or 1, found {', '.join(bad)}")
    notes.append(f"heart: read {path}")
    return _Raw(frame, labels, ["0", "1"], str(path), categorical=list(HEART_CATEGORICAL))


def _heart_uci_frame(data: bytes, path: Path, downloaded: bool) -> pd.DataFrame:
    """Parse and check processed.cleveland.data: 14 columns, '?' missing, known ranges."""
    columns = [*HEART_COLUMNS, "num"]
    try:
        frame = pd.read_csv(io.BytesIO(data), header=None, na_values=["?"], skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({_one_line(exc)})") from None
    if frame.shape[1] != len(columns):
        raise DataError(
            f"{path}: expected {len(columns)} columns ({', '.join(columns)}), found {frame.shape[1]}"
        )
    if downloaded and len(frame) != HEART_UCI_ROWS:
        raise DataError(f"{path}: expected {HEART_UCI_ROWS} rows, found {len(frame)}")
    frame.columns = columns
    for col, allowed in HEART_UCI_CHECKS.items():
        values = pd.to_numeric(frame[col], errors="coerce")
        if (values.isna() & frame[col].notna()).any():
            raise DataError(f"{path}: column {col!r}: expected numbers or '?'")
        present = values.dropna()
        if isinstance(allowed, set):
            ok = present.isin(allowed).all()
            what = f"one of {sorted(allowed)}"
        else:
            ok = present.between(*allowed).all()
            what = f"values in [{allowed[0]}, {allowed[1]}]"
        if not ok:
            raise DataError(f"{path}: column {col!r}: expected {what}")
        frame[col] = values
    if frame["num"].isna().any():
        raise DataError(f"{path}: column 'num' (the target): expected 0-4, found '?'")
    return frame


def _read_adult(loc: _Location, notes: list[str]) -> _Raw:
    paths = {}
    for name in ("adult.data", "adult.test"):
        path = loc.directory / name
        if not path.is_file():
            if not loc.may_download:
                raise _not_found(loc, name)
            _download(ADULT_URLS[name], path, notes)
        paths[name] = path
    train, train_labels = _adult_frame(paths["adult.data"])
    test, test_labels = _adult_frame(paths["adult.test"])
    notes.append(f"adult: read adult.data and adult.test from {loc.directory}")
    return _Raw(
        train,
        train_labels,
        list(ADULT_CLASSES),
        f"{paths['adult.data']}, {paths['adult.test']}",
        test_frame=test,
        test_labels=test_labels,
        val_fraction=ADULT_VAL_FRACTION,
    )


def _adult_frame(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    """One Adult file: 15 fields separated by ", "; '?' stays a category value."""
    try:
        frame = pd.read_csv(
            path,
            header=None,
            names=list(ADULT_COLUMNS),
            skipinitialspace=True,
            keep_default_na=False,
            na_values=[""],  # only a missing field is missing; "?" is a category
            comment="|",  # the original first line of adult.test, if still there
            skip_blank_lines=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable Adult file ({_one_line(exc)})") from None
    if len(frame) == 0 or frame.isna().any().any():
        raise DataError(
            f"{path}: expected {len(ADULT_COLUMNS)} fields per line separated by ', ' "
            f"({', '.join(ADULT_COLUMNS)})"
        )
    for col in ADULT_NUMERIC:
        if not pd.api.types.is_numeric_dtype(frame[col].dtype):
            raise DataError(f"{path}: column {col!r}: expected integers")
    labels = frame.pop("income").astype(str).str.rstrip(".").to_numpy(dtype=object)
    bad = sorted(set(labels) - set(ADULT_CLASSES))
    if bad:
        raise DataError(
            f"{path}: column 'income': expected <=50K or >50K, found {', '.join(bad[:5])}"
        )
    return frame, labels


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _read_csv(path: Path, target: str | None) -> tuple[_Raw, list[str]]:
    """Any CSV with a header row: the target column's values are the class labels."""
    notes: list[str] = []
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a CSV file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(65536)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not a text CSV file in UTF-8 ({exc.reason} at byte {exc.start})"
        ) from None
    if not sample.strip():
        raise DataError(f"{path}: the file is empty")
    try:
        delimiter = csvlib.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t").delimiter
    except csvlib.Error:
        delimiter = ","
    try:
        frame = pd.read_csv(
            path, sep=delimiter, encoding="utf-8-sig", skipinitialspace=True, na_values=["?"]
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{path}: not parseable as CSV ({_one_line(exc)})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    columns = ", ".join(frame.columns)
    if target is None:
        raise DataError(f"{path}: no target column given (--target COL); columns are: {columns}")
    if target not in frame.columns:
        raise DataError(f"{path}: no column {target!r} (the target); columns are: {columns}")
    if len(frame) == 0:
        raise DataError(f"{path}: a header but no data rows")
    unlabelled = frame[target].isna()
    if unlabelled.all():
        raise DataError(f"{path}: column {target!r} (the target) has no values")
    if unlabelled.any():
        frame = frame[~unlabelled].reset_index(drop=True)
        notes.append(
            f"{int(unlabelled.sum())} rows without a value in target column {target!r} dropped"
        )
    labels = category_strings(frame.pop(target))
    classes = sorted(set(labels), key=category_sort_key)
    if len(classes) < 2:
        raise DataError(
            f"{path}: column {target!r} (the target) has only one class ({classes[0]!r}); "
            "expected at least 2"
        )
    empty = [c for c in frame.columns if frame[c].isna().all()]
    if empty:
        frame = frame.drop(columns=empty)
        notes.append(f"column(s) {', '.join(empty)} have no values: ignored")
    if frame.shape[1] == 0:
        raise DataError(f"{path}: no feature columns besides the target {target!r}")
    cats = [c for c in frame.columns if is_categorical(frame[c])]
    numeric = frame.shape[1] - len(cats)
    detail = ", ".join(f"{c}: {frame[c].nunique()} values" for c in cats)
    notes.append(
        f"{path.name}: {numeric} numeric column(s), {len(cats)} categorical (one-hot)"
        + (f" ({detail})" if detail else "")
    )
    for c in cats:
        if frame[c].nunique() > MANY_CATEGORIES:
            notes.append(
                f"column {c!r} has {frame[c].nunique()} distinct values, one input each; "
                "drop it from the CSV if it is an identifier or free text"
            )
    return _Raw(frame, labels, classes, str(path)), notes


# --------------------------------------------------------------------------- splits


def _check_stratifiable(y: np.ndarray, classes: list[str], where: str, what: str) -> None:
    counts = np.bincount(y, minlength=len(classes))
    for k, count in enumerate(counts):
        if count < 2:
            raise DataError(
                f"{where}: class {classes[k]!r} has {count} example(s) in the {what}; "
                "a stratified split needs at least 2 of each class"
            )


def _split(
    y: np.ndarray, fraction: float, seed: int, classes: list[str], where: str, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Stratified split of ``arange(len(y))``: (kept, held out ``fraction``)."""
    from sklearn.model_selection import train_test_split

    _check_stratifiable(y, classes, where, what)
    try:
        kept, held = train_test_split(
            np.arange(len(y)), test_size=fraction, stratify=y, random_state=seed
        )
    except ValueError as exc:
        raise DataError(
            f"{where}: too few examples for a stratified split of the {what} ({_one_line(exc)})"
        ) from None
    return np.asarray(kept), np.asarray(held)


def _draw(y: np.ndarray, n: int, seed: int, n_classes: int) -> np.ndarray:
    """``n`` positions of ``y`` drawn without replacement, stratified: each class present in
    ``y`` gets at least one, the rest proportionally (largest remainders, ties to the lower
    class index). Deterministic in ``seed``."""
    counts = np.bincount(y, minlength=n_classes)
    present = np.flatnonzero(counts)
    quota = n * counts / counts.sum()
    alloc = np.where(counts > 0, np.clip(np.floor(quota), 1, counts), 0).astype(np.int64)
    while alloc.sum() < n:
        room = present[alloc[present] < counts[present]]
        k = room[np.argmax((quota - alloc)[room])]
        alloc[k] += 1
    while alloc.sum() > n:
        room = present[alloc[present] > 1]
        k = room[np.argmin((quota - alloc)[room])]
        alloc[k] -= 1
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(y == k), size=int(alloc[k]), replace=False) for k in present
    ]
    return rng.permutation(np.concatenate(chosen))


def _label_indices(labels: np.ndarray, classes: list[str], where: str) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    try:
        return np.fromiter((index[v] for v in labels), dtype=np.int64, count=len(labels))
    except KeyError as exc:
        raise DataError(
            f"{where}: unexpected class label {exc.args[0]!r}; expected one of {classes}"
        ) from None


def _data_notes(features: list[dict], frames: list[pd.DataFrame]) -> list[str]:
    """Missing values and unseen category values in the columns the features use."""
    notes: list[str] = []
    seen: set[str] = set()
    categories: dict[str, set[str]] = {}
    for feat in features:
        if feat.get("kind") == "onehot":
            categories.setdefault(feat["source"], set()).add(feat["value"])
    for feat in features:
        col = feat["name"] if feat.get("kind") == "numeric" else feat.get("source")
        if col in seen or any(col not in f.columns for f in frames):
            continue
        seen.add(col)
        gaps = sum(int(f[col].isna().sum()) for f in frames)
        if feat.get("kind") == "numeric":
            if gaps:
                notes.append(
                    f"{gaps} missing value(s) in column {col} imputed with median "
                    f"{float(feat.get('missing', float('nan')))}"
                )
            continue
        if gaps:
            notes.append(f"{gaps} missing value(s) in column {col} encoded as all-zero one-hot")
        unseen: dict[str, int] = {}
        for f in frames:
            counts = pd.Series(category_strings(f[col]), dtype=object).value_counts()
            for v, count in counts[~counts.index.isin(list(categories[col]))].items():
                unseen[str(v)] = unseen.get(str(v), 0) + int(count)
        if unseen:
            examples = ", ".join(repr(v) for v in sorted(unseen, key=category_sort_key)[:3])
            notes.append(
                f"{sum(unseen.values())} value(s) in column {col} not seen in training "
                f"({examples}{', ...' if len(unseen) > 3 else ''}) encoded as all-zero one-hot"
            )
    return notes


# --------------------------------------------------------------------------- public API


def load_dataset(
    name: str | None = None,
    *,
    csv: Path | None = None,
    target: str | None = None,
    data_dir: Path | None = None,
    train_size: int | None = None,
    seed: int = 0,
    levels: int = 255,
    features: list[dict] | None = None,
) -> Dataset:
    """Load, split and encode a data set: a built-in ``name`` or ``csv=PATH, target=COL``
    (neither: ``breast_cancer``, which needs no files).

    ``train_size=N`` draws N of the training examples (stratified; the validation and test
    sets and the fitted features do not change). ``features`` (from a saved model) are used
    instead of fitting, so evaluation encodes exactly as training did. Every problem the
    user can fix raises DataError.
    """
    if name is not None and csv is not None:
        raise DataError("give either a data set name or a CSV file (--csv), not both")
    if csv is None and target is not None:
        raise DataError(f"a target column ({target!r}) only applies to a CSV file (--csv)")
    if not isinstance(levels, int) or isinstance(levels, bool) or not 1 <= levels <= 255:
        raise DataError(f"levels: expected an integer in [1, 255], found {levels!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise DataError(f"seed: expected an integer in [0, 2**32 - 1], found {seed!r}")
    if train_size is not None and (
        not isinstance(train_size, int) or isinstance(train_size, bool) or train_size < 1
    ):
        raise DataError(f"train_size: expected a positive integer, found {train_size!r}")

    notes: list[str] = []
    provenance: dict[str, Any]
    if csv is not None:
        path = Path(csv).expanduser().resolve()
        raw, csv_notes = _read_csv(path, target)
        notes.extend(csv_notes)
        display = path.stem
        provenance = {"csv": str(path), "target": target}
    else:
        name = name or "breast_cancer"
        sources = _sources()
        if name not in sources:
            raise DataError(
                f"unknown data set {name!r}; expected one of {', '.join(sources)} "
                "(or --csv PATH --target COL)"
            )
        raw = sources[name].read(_locate(data_dir), notes)
        display = name
        provenance = {"dataset": name}
    provenance.update({"seed": seed, "train_size": train_size, "levels": levels})
    if data_dir is not None:
        provenance["data_dir"] = str(Path(data_dir).expanduser().resolve())

    where = raw.where
    y_all = _label_indices(raw.labels, raw.classes, where)
    if raw.test_frame is None:
        pool, test = _split(y_all, TEST_FRACTION, seed, raw.classes, where, "data")
        pool_frame = raw.frame.iloc[pool].reset_index(drop=True)
        test_frame = raw.frame.iloc[test].reset_index(drop=True)
        y_pool, y_test = y_all[pool], y_all[test]
    else:
        assert raw.test_labels is not None
        pool_frame, y_pool = raw.frame, y_all
        test_frame = raw.test_frame
        y_test = _label_indices(raw.test_labels, raw.classes, where)
    train, val = _split(y_pool, raw.val_fraction, seed, raw.classes, where, "training part")

    if features is None:
        features = fit_features(pool_frame, raw.categorical)
        if not features:
            raise DataError(f"{where}: no usable feature columns")
    else:
        features = [dict(f) for f in features]
    notes.extend(_data_notes(features, [pool_frame, test_frame]))
    X_pool = encode(features, levels, pool_frame, source=where)
    X_test = encode(features, levels, test_frame, source=where)

    if train_size is not None:
        available = len(train)
        n_present = int(np.count_nonzero(np.bincount(y_pool[train])))
        if train_size > available:
            raise DataError(
                f"train_size {train_size} is larger than the {available} training examples "
                f"of {display}"
            )
        if train_size < n_present:
            raise DataError(
                f"train_size {train_size} is too small to hold one example of each of the "
                f"{n_present} classes of {display}"
            )
        if train_size < available:
            train = train[_draw(y_pool[train], train_size, seed, len(raw.classes))]
            notes.append(
                f"training on {train_size:,} of {available:,} training examples (stratified sample)"
            )

    return Dataset(
        name=display,
        classes=list(raw.classes),
        features=features,
        levels=levels,
        X_train=X_pool[train],
        y_train=y_pool[train],
        X_val=X_pool[val],
        y_val=y_pool[val],
        X_test=X_test,
        y_test=y_test,
        provenance=provenance,
        notes=notes,
    )


def load_from_provenance(
    provenance: dict, data_dir: Path | None = None, features: list[dict] | None = None
) -> Dataset:
    """Reload exactly the split recorded in ``provenance`` (``Dataset.provenance``, as stored
    in a model file). ``data_dir`` overrides the recorded one; ``features`` as in
    :func:`load_dataset`."""
    if not isinstance(provenance, dict):
        raise DataError("provenance: expected an object with 'dataset' or 'csv'")
    has_csv = provenance.get("csv") is not None
    if has_csv == (provenance.get("dataset") is not None):
        raise DataError("provenance: expected exactly one of 'dataset' and 'csv'")
    if data_dir is None and provenance.get("data_dir") is not None:
        data_dir = Path(provenance["data_dir"])
    for key in ("seed", "levels"):
        if key not in provenance:
            raise DataError(f"provenance: missing {key!r}")
    return load_dataset(
        None if has_csv else provenance["dataset"],
        csv=Path(provenance["csv"]) if has_csv else None,
        target=provenance.get("target"),
        data_dir=data_dir,
        train_size=provenance.get("train_size"),
        seed=provenance["seed"],
        levels=provenance["levels"],
        features=features,
    )


def available_datasets(data_dir: Path | None = None) -> list[dict]:
    """The built-in data sets and where each would be read from (for ``mipnn datasets``).

    Each entry: ``name``, ``description``, ``source``, ``location`` (directory, or the
    library), ``origin`` (``--data-dir``, ``MIPNN_DATA_DIR``, ``cache`` or ``bundled``),
    ``present`` (all files there), ``files`` (the file names looked for) and ``status`` (one
    line for a person).
    """
    loc = _locate(data_dir)
    out: list[dict] = []
    for src in _sources().values():
        if not src.needs_files:
            out.append(
                {
                    "name": src.name,
                    "description": src.description,
                    "source": src.source,
                    "location": "scikit-learn",
                    "origin": "bundled",
                    "present": True,
                    "files": [],
                    "status": "available (bundled with scikit-learn)",
                }
            )
            continue
        present = all(any((loc.directory / f).is_file() for f in alts) for alts in src.files)
        if present:
            status = f"present in {loc.directory}"
        elif loc.may_download and src.downloadable:
            status = f"downloaded to {loc.directory} on first use"
        else:
            status = f"missing from {loc.directory} (from {loc.origin})"
        out.append(
            {
                "name": src.name,
                "description": src.description,
                "source": src.source,
                "location": str(loc.directory),
                "origin": loc.origin,
                "present": present,
                "files": [" or ".join(alts) for alts in src.files],
                "status": status,
            }
        )
    return out
