"""Data sets: load one (a built-in set or any CSV file), split it deterministically, and
encode it to integer inputs, as a :class:`Dataset` whose provenance reloads exactly the same
split (:func:`load_from_provenance`); or make one of examples held in memory
(:func:`dataset_from_frame`, the estimator's).

The readers are in :mod:`mipnn.trainer.datasets` (built-in sets, with their downloads) and
:mod:`mipnn.trainer.csv_reader`; the splits in :mod:`mipnn.trainer.splits`; the feature
fitting and encoding in :mod:`mipnn.trainer.encoding`. Splits, all stratified by class and
fixed by ``seed``:

* heart, breast_cancer, digits, CSV: 20 % test; 10 % of the remaining training part is
  validation;
* adult: ``adult.test`` is the test set; 20 % of ``adult.data`` is validation;
* mnist: the t10k files are the test set (or, with only those, their last 5,000 images).

``val_fraction`` overrides the validation share; 0 trains on the whole training part (no
validation set: e.g. to refit a configuration chosen on the validation set on all the data).
``learn_ranges`` chooses the numeric columns' clamp ranges (and up to ``extra_copies``
clamped copies) on the training rows (:mod:`mipnn.trainer.clamp_search`).

The training part (everything but the test set) is what the features are fitted on (ranges,
medians, category values), before ``train_size`` draws a stratified sample of the training
examples; so a small sample may hold all-zero columns, and the features do not depend on it.

The provenance records nothing machine-specific: the data set's name (a CSV file's name, not
its path) and the options that rebuild the split (``seed``, ``train_size``, ``levels``,
``target``). The data directory is given again when the split is reloaded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mipnn.trainer.clamp_search import learn_ranges as learn_ranges_of
from mipnn.trainer.csv_reader import read_csv
from mipnn.trainer.datasets import sources as dataset_sources
from mipnn.trainer.download import locate
from mipnn.trainer.encoding import encode, encoding_notes, fit_features, raw_values
from mipnn.trainer.errors import DataError
from mipnn.trainer.provenance import read_provenance
from mipnn.trainer.raw import has_raw_fields
from mipnn.trainer.raw_data import VAL_FRACTION
from mipnn.trainer.splits import draw, label_indices, split

TEST_FRACTION = 0.2


@dataclass
class Dataset:
    """A loaded, split and encoded data set.

    ``X_*`` are ``uint8 [n, len(features)]`` in ``[0, levels]``; ``y_*`` are ``int64`` indices
    into ``classes`` (the labels as they appear in the data). ``provenance`` reloads exactly
    this split with :func:`load_from_provenance`; ``notes`` are remarks for the user.
    ``raw_test`` is the test set as the raw integers a device reads (ARCHITECTURE.md 8;
    :func:`mipnn.trainer.encoding.raw_values`), for version-2 features, else None.
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
    raw_test: np.ndarray | None = None
    ranges: dict[str, Any] | None = None  # the range search's report (learn_ranges)

    @property
    def n_inputs(self) -> int:
        return len(self.features)


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
    raw_scales: dict[str, int] | None = None,
    val_fraction: float | None = None,
    learn_ranges: bool = False,
    extra_copies: int = 0,
) -> Dataset:
    """Load, split and encode a data set: a built-in ``name`` or ``csv=PATH, target=COL``
    (neither: ``breast_cancer``, which needs no files).

    ``train_size=N`` draws N of the training examples (stratified; the validation and test
    sets and the fitted features do not change). ``features`` (from a saved model) are used
    instead of fitting, so evaluation encodes exactly as training did. ``raw_scales``
    (column -> scale) overrides the scale chosen for a numeric column's raw values
    (ARCHITECTURE.md 8) when the features are fitted. ``val_fraction`` (default: the data
    set's) is the validation share of the training part; 0: none. ``learn_ranges``: the
    numeric features' clamp ranges, and up to ``extra_copies`` extra clamped copies, are
    chosen on the training rows (the report is in ``notes`` and ``Dataset.ranges``); ignored
    when ``features`` are given. Every problem the user can fix raises DataError.
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
    if val_fraction is not None and (
        isinstance(val_fraction, bool) or not 0.0 <= float(val_fraction) < 1.0
    ):
        raise DataError(f"val_fraction: expected a number in [0, 1), found {val_fraction!r}")

    notes: list[str] = []
    provenance: dict[str, Any]
    if csv is not None:
        path = Path(csv).expanduser().resolve()
        raw, csv_notes = read_csv(path, target)
        notes.extend(csv_notes)
        display = path.stem
        provenance = {"csv": path.name, "target": target}  # the name: nothing machine-specific
    else:
        name = name or "breast_cancer"
        sources = dataset_sources()
        if name not in sources:
            raise DataError(
                f"unknown data set {name!r}; expected one of {', '.join(sources)} "
                "(or --csv PATH --target COL)"
            )
        raw = sources[name].read(locate(data_dir), notes)
        display = name
        provenance = {"dataset": name}
    provenance.update({"seed": seed, "train_size": train_size, "levels": levels})
    if val_fraction is not None:
        provenance["val_fraction"] = float(val_fraction)

    where = raw.where
    y_all = label_indices(raw.labels, raw.classes, where)
    if raw.test_frame is None:
        pool, test = split(y_all, TEST_FRACTION, seed, raw.classes, where, "data")
        pool_frame = raw.frame.iloc[pool].reset_index(drop=True)
        test_frame = raw.frame.iloc[test].reset_index(drop=True)
        y_pool, y_test = y_all[pool], y_all[test]
    else:
        assert raw.test_labels is not None
        pool_frame, y_pool = raw.frame, y_all
        test_frame = raw.test_frame
        y_test = label_indices(raw.test_labels, raw.classes, where)
    share = raw.val_fraction if val_fraction is None else float(val_fraction)
    if share > 0:
        train, val = split(y_pool, share, seed, raw.classes, where, "training part")
    else:
        train, val = np.arange(len(y_pool)), np.zeros(0, dtype=np.int64)

    ranges = None
    if features is None:
        features = fit_features(pool_frame, raw.categorical, raw_scales)
        if not features:
            raise DataError(f"{where}: no usable feature columns")
        if not has_raw_fields(features):
            notes.append("a numeric column exceeds the int32 range of a raw reading even at "
                         "scale 1: the model takes no raw values (a version-1 model file)")
        if learn_ranges:
            features, ranges = learn_ranges_of(
                features, pool_frame.iloc[train].reset_index(drop=True), y_pool[train],
                len(raw.classes), levels, extra_copies=extra_copies, seed=seed)
            notes.append(
                f"learned clamp ranges of the numeric columns ({ranges['extra_copies']} extra "
                f"copies): held-out log-loss of a logistic regression {ranges['log_loss'][0]}"
                f" -> {ranges['log_loss'][1]}")
    else:
        features = [dict(f) for f in features]
    notes.extend(encoding_notes(features, [pool_frame, test_frame]))
    X_pool = encode(features, levels, pool_frame, source=where)
    X_test = encode(features, levels, test_frame, source=where)
    raw_test = None
    if has_raw_fields(features):
        raw_test = raw_values(features, test_frame, source=where)

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
            train = train[draw(y_pool[train], train_size, seed, len(raw.classes))]
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
        raw_test=raw_test,
        ranges=ranges,
    )


def dataset_from_frame(
    frame: pd.DataFrame,
    y: np.ndarray,
    classes: list[str],
    *,
    name: str = "model",
    levels: int = 255,
    seed: int = 0,
    val_fraction: float = VAL_FRACTION,
    raw_scales: dict[str, int] | None = None,
) -> Dataset:
    """A Dataset of examples held in memory (the estimator's ``fit``): raw feature columns
    ``frame`` and class indices ``y`` into ``classes``. The features are fitted on all of
    ``frame`` (``raw_scales`` as in :func:`load_dataset`) and encoded as for a CSV file
    (one-hot for every non-numeric column); a
    stratified ``val_fraction`` of the examples is the validation split (none when
    ``val_fraction`` is 0 or a class has too few examples to split, with a note); there is
    no test split and no provenance (the data are not in a file)."""
    y = np.asarray(y, dtype=np.int64)
    features = fit_features(frame, None, raw_scales)
    if not features:
        raise DataError(f"{name}: no usable feature columns")
    notes = encoding_notes(features, [frame])
    X = encode(features, levels, frame, source=name)
    train, val = np.arange(len(y)), np.arange(0)
    if val_fraction > 0:
        try:
            train, val = split(y, val_fraction, seed, classes, name, "training data")
        except DataError as exc:
            notes.append(f"no validation split: {exc}")
    return Dataset(
        name=name, classes=list(classes), features=features, levels=levels,
        X_train=X[train], y_train=y[train], X_val=X[val], y_val=y[val],
        X_test=X[:0], y_test=y[:0], provenance={}, notes=notes,
    )


def load_from_provenance(
    provenance: Any, data_dir: Path | None = None, features: list[dict] | None = None,
    levels: int | None = None,
) -> Dataset:
    """Reload exactly the split recorded in ``provenance`` (``Dataset.provenance``, as stored
    in a model file; any value is checked by :func:`mipnn.trainer.provenance.read_provenance`,
    so a malformed one raises DataError). The files are found as :func:`load_dataset` finds
    them: ``data_dir``, else ``MIPNN_DATA_DIR``, else the cache; a CSV file (recorded by its
    name) in ``data_dir``, ``MIPNN_DATA_DIR`` or the working directory. Files written before
    provenance stopped recording paths may hold an absolute ``data_dir`` (used when no
    ``data_dir`` is given) and an absolute CSV path (used as it is). ``features`` as in
    :func:`load_dataset`; ``levels`` (a model's ``input.levels``) encode the data, else the
    recorded levels do."""
    record = read_provenance(provenance)
    if levels is None:
        if record.levels is None:
            raise DataError("provenance: 'levels': missing, or not an integer in [1, 255]")
        levels = record.levels
    if data_dir is None and record.data_dir is not None:
        data_dir = Path(record.data_dir)  # an older file's absolute directory
    return load_dataset(
        record.dataset,
        csv=_recorded_csv(record.csv, data_dir) if record.csv is not None else None,
        target=record.target,
        data_dir=data_dir,
        train_size=record.train_size,
        seed=record.seed,
        levels=levels,
        features=features,
        val_fraction=record.val_fraction,
    )


def _recorded_csv(recorded: str, data_dir: Path | None = None) -> Path:
    """The CSV file a provenance names. A file name (what provenance records) is looked for
    in ``data_dir``, in ``MIPNN_DATA_DIR`` and in the working directory, in this order; an
    absolute path (older model files) is used as it is. DataError when no place has it."""
    path = Path(recorded).expanduser()
    if path.is_absolute():
        return path
    places = [(Path(data_dir).expanduser(), "--data-dir")] if data_dir is not None else []
    env = os.environ.get("MIPNN_DATA_DIR")
    if env:
        places.append((Path(env).expanduser(), "MIPNN_DATA_DIR"))
    places.append((Path.cwd(), "the working directory"))
    for directory, _ in places:
        if (directory / path).is_file():
            return directory / path
    looked = ", ".join(f"{directory} ({how})" for directory, how in places)
    raise DataError(
        f"{recorded}: the CSV file the model was trained on is not in {looked}; pass "
        "--csv PATH, or --data-dir DIR holding it"
    )
