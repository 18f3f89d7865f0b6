"""The built-in data sets: a reader for each (with its files' download and checks), and the
listing of what can be loaded from where (``mipnn datasets``).

``breast_cancer`` and ``digits`` come bundled with scikit-learn and need no files. ``heart``
reads ``heart.csv`` or the UCI original ``processed.cleveland.data`` (downloaded into the
cache when allowed, checked for shape and value ranges since its checksum is not published);
``adult`` reads ``adult.data`` and ``adult.test`` (downloaded and checked against their
sha256); ``mnist`` reads the standard IDX files, never downloaded (with only the t10k files
present, the first 5,000 images are the training pool and the last 5,000 the test set).
Where files are read from: :mod:`mipnn.trainer.download`.

Adding a data set: write a reader ``(location, notes) -> RawData`` and add a :class:`Source`
entry in :func:`sources`; the split, encoding, provenance and listing follow.
``RawData.test_frame`` carries a given test set (as for Adult), ``RawData.val_fraction`` a
validation share other than 10 %.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mipnn.trainer.download import Location, download, locate, not_found
from mipnn.trainer.encoding import category_strings
from mipnn.trainer.errors import DataError, one_line
from mipnn.trainer.raw_data import RawData

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
ADULT_VAL_FRACTION = 0.2  # of adult.data; adult.test is the test set


@dataclass(frozen=True)
class Source:
    """A built-in data set: how to describe, find and read it."""

    name: str
    description: str
    source: str
    files: tuple[tuple[str, ...], ...]  # each entry: alternatives, any one of them suffices
    read: Callable[[Location, list[str]], RawData]
    needs_files: bool = True
    downloadable: bool = True


def sources() -> dict[str, Source]:
    return {
        "breast_cancer": Source(
            "breast_cancer",
            "Wisconsin diagnostic breast cancer: 569 x 30 numeric, malignant/benign",
            "scikit-learn (bundled, no download)",
            (),
            _read_breast_cancer,
            needs_files=False,
        ),
        "heart": Source(
            "heart",
            "Heart disease (Cleveland): 303 x 13 features (cp, slope, thal categorical), 0/1",
            "UCI ML Repository dataset 45 (heart.csv form, or processed.cleveland.data)",
            (("heart.csv", "processed.cleveland.data"),),
            _read_heart,
        ),
        "adult": Source(
            "adult",
            "Adult census income: 32,561 train + 16,281 test, 6 numeric + 8 categorical "
            "(108 inputs), <=50K/>50K",
            "UCI ML Repository dataset 2 (adult.data, adult.test)",
            (("adult.data",), ("adult.test",)),
            _read_adult,
        ),
        "digits": Source(
            "digits",
            "Optical handwritten digits, 8x8: 1,797 x 64 pixels (0-16), classes 0-9",
            "scikit-learn (bundled, no download)",
            (),
            _read_digits,
            needs_files=False,
        ),
        "mnist": Source(
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


def _read_breast_cancer(loc: Location, notes: list[str]) -> RawData:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    names = [str(n) for n in bunch.target_names]
    labels = np.asarray(names, dtype=object)[bunch.target.to_numpy()]
    return RawData(bunch.data.copy(), labels, names, "breast_cancer (scikit-learn)")


def _read_digits(loc: Location, notes: list[str]) -> RawData:
    from sklearn.datasets import load_digits

    bunch = load_digits(as_frame=True)
    labels = bunch.target.astype(str).to_numpy(dtype=object)
    return RawData(bunch.data.astype(np.int64), labels, [str(k) for k in range(10)],
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
        raise DataError(f"{path}: cannot read ({one_line(exc)})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes")
    dims = data[3]
    header = 4 + 4 * dims
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims))
    if len(data) != header + int(np.prod(shape)):
        raise DataError(f"{path}: IDX header says {shape}, but the file has "
                        f"{len(data) - header} data bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def _read_mnist(loc: Location, notes: list[str]) -> RawData:
    """MNIST from the standard IDX files: train-* as the training pool and t10k-* as the
    test set; with only the t10k files, the first 5,000 images are the training pool and
    the last 5,000 the test set (said in a note)."""
    found = {stem: _find_idx(loc.directory, stem) for stem in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    if found["t10k-images-idx3-ubyte"] is None or found["t10k-labels-idx1-ubyte"] is None:
        if loc.origin != "cache":
            raise not_found(loc, "MNIST files t10k-images-idx3-ubyte[.gz] and "
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
        return RawData(frame, labels, classes, str(found["train-images-idx3-ubyte"].parent),
                    test_frame=test_frame, test_labels=test_labels)
    where = str(found["t10k-images-idx3-ubyte"].parent)  # type: ignore[union-attr]
    notes.append(
        f"mnist: only the t10k files found in {where}: the first {MNIST_POOL:,} images are "
        f"the training pool, the last {len(test_frame) - MNIST_POOL:,} the test set"
    )
    return RawData(test_frame.iloc[:MNIST_POOL].reset_index(drop=True), test_labels[:MNIST_POOL],
                classes, where, test_frame=test_frame.iloc[MNIST_POOL:].reset_index(drop=True),
                test_labels=test_labels[MNIST_POOL:])


def _read_heart(loc: Location, notes: list[str]) -> RawData:
    """``heart.csv`` (the 14-column form) if present, else the UCI original
    ``processed.cleveland.data`` (downloaded into the cache when allowed), kept in its own
    codes (cp 1-4, slope 1-3, thal 3/6/7) with target ``num > 0``."""
    csv_path = loc.directory / "heart.csv"
    uci_path = loc.directory / "processed.cleveland.data"
    if csv_path.is_file():
        return _read_heart_csv(csv_path, notes)
    if not uci_path.is_file():
        if not loc.may_download:
            raise not_found(loc, "heart.csv or processed.cleveland.data")
        download(
            HEART_UCI_URL,
            uci_path,
            notes,
            check=lambda data: _heart_uci_frame(data, uci_path, True),
        )
    frame = _heart_uci_frame(uci_path.read_bytes(), uci_path, False)
    labels = np.where(frame.pop("num").to_numpy() > 0, "1", "0").astype(object)
    notes.append(f"heart: read the UCI original {uci_path} (target '1' = num > 0, disease)")
    return RawData(frame, labels, ["0", "1"], str(uci_path), categorical=list(HEART_CATEGORICAL))


def _read_heart_csv(path: Path, notes: list[str]) -> RawData:
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({one_line(exc)})") from None
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
    return RawData(frame, labels, ["0", "1"], str(path), categorical=list(HEART_CATEGORICAL))


def _heart_uci_frame(data: bytes, path: Path, downloaded: bool) -> pd.DataFrame:
    """Parse and check processed.cleveland.data: 14 columns, '?' missing, known ranges."""
    columns = [*HEART_COLUMNS, "num"]
    try:
        frame = pd.read_csv(io.BytesIO(data), header=None, na_values=["?"], skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({one_line(exc)})") from None
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


def _read_adult(loc: Location, notes: list[str]) -> RawData:
    paths = {}
    for name in ("adult.data", "adult.test"):
        path = loc.directory / name
        if not path.is_file():
            if not loc.may_download:
                raise not_found(loc, name)
            download(ADULT_URLS[name], path, notes, sha256=SHA256[name],
                     prepare=_drop_cross_validator_line if name == "adult.test" else None)
        paths[name] = path
    train, train_labels = _adult_frame(paths["adult.data"])
    test, test_labels = _adult_frame(paths["adult.test"])
    notes.append(f"adult: read adult.data and adult.test from {loc.directory}")
    return RawData(
        train,
        train_labels,
        list(ADULT_CLASSES),
        f"{paths['adult.data']}, {paths['adult.test']}",
        test_frame=test,
        test_labels=test_labels,
        val_fraction=ADULT_VAL_FRACTION,
    )


def _drop_cross_validator_line(data: bytes) -> bytes:
    """``adult.test`` as UCI serves it starts with the line ``|1x3 Cross validator``; the
    published checksum is of the file without it."""
    if data.startswith(b"|"):
        return data.split(b"\n", 1)[1] if b"\n" in data else b""
    return data


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
        raise DataError(f"{path}: not a readable Adult file ({one_line(exc)})") from None
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


def available_datasets(data_dir: Path | None = None) -> list[dict]:
    """The built-in data sets and where each would be read from (for ``mipnn datasets``).

    Each entry: ``name``, ``description``, ``source``, ``location`` (directory, or the
    library), ``origin`` (``--data-dir``, ``MIPNN_DATA_DIR``, ``cache`` or ``bundled``),
    ``present`` (all files there), ``files`` (the file names looked for) and ``status`` (one
    line for a person).
    """
    loc = locate(data_dir)
    out: list[dict] = []
    for src in sources().values():
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
