"""From raw feature values to the integer inputs ``x[i]`` in ``[0, L]`` (ARCHITECTURE.md 3).

A feature description (the entries of ``input.features`` in a model file) is one of

* ``{"name", "kind": "numeric", "min", "max", "missing", "scale", "raw_min", "raw_max"}``:
  the column ``name`` (or ``source``, when given) as a raw integer ``round(v * scale)``,
  mapped to ``[0, L]`` by section 8's integer formula over ``[raw_min, raw_max]``
  (``mipnn.trainer.raw``); a missing value is replaced by ``missing`` (the training median)
  first. Without ``scale``, ``raw_min``, ``raw_max`` (a version-1 file) the column is
  quantised in floating point over ``[min, max]`` by :func:`quantise` (section 3);
* ``{"name": "col=value", "kind": "onehot", "source": "col", "value": "value"}``: ``L`` where
  column ``source`` equals ``value`` (compared as canonical strings, see
  :func:`category_strings`), else ``0``; a missing or unseen value gives ``0``.

:func:`fit_features` derives these descriptions from a training frame, :func:`encode` applies
them to any frame. Training, evaluation and the model file all go through these two. For a
version-2 feature list, :func:`encode` is :func:`raw_values` (the frame as the raw integers
a device reads: one column per raw column, category codes for categorical sources) followed
by :func:`encode_raw`, the reference raw encoder the firmware harness also checks the C
against.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from mipnn.trainer.errors import DataError
from mipnn.trainer.raw import (
    INT32_MAX,
    INT32_MIN,
    RawColumn,
    choose_scale,
    has_raw_fields,
    numeric_source,
    raw_columns,
    raw_level,
    raw_range,
    round_scaled,
)


def quantise(values: np.ndarray, lo: float, hi: float, levels: int) -> np.ndarray:
    """Map raw values to integers in ``[0, L]`` (``L = levels``), exactly

    ``x = clamp(floor((v - lo) * L / (hi - lo) + 1/2), 0, L)``

    evaluated in float64 in that order: halves round up (``lo + (hi - lo) / (2 L)`` maps to 1),
    values outside ``[lo, hi]`` clamp to 0 or ``L``, and a constant feature (``hi == lo``) maps
    every value to 0. Returns ``uint8`` of the same shape. NaN is refused (impute first).

    Values are clamped to ``[lo, hi]`` first and, where ``(hi - lo) * L`` would overflow
    float64 (values near 1e308), every operand is scaled by ``2**-9`` (exact: scaling by a
    power of two commutes with rounding), so the result is the formula's, never an
    overflow to infinity that saturates every input.
    """
    if not (isinstance(levels, (int, np.integer)) and 1 <= levels <= 255):
        raise ValueError(f"levels must be an integer in [1, 255], got {levels!r}")
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise ValueError(f"need finite lo <= hi, got lo={lo!r}, hi={hi!r}")
    v = np.asarray(values, dtype=np.float64)
    if np.isnan(v).any():
        raise ValueError("quantise: values contain NaN (impute missing values first)")
    if hi == lo:
        return np.zeros(v.shape, dtype=np.uint8)
    v = np.clip(v, lo, hi)
    with np.errstate(over="ignore"):
        span = hi - lo
        if not math.isfinite(span * float(levels)):
            v, lo, hi = v * 2.0**-9, lo * 2.0**-9, hi * 2.0**-9
            span = hi - lo
        x = np.floor((v - lo) * float(levels) / span + 0.5)
    return np.clip(x, 0, levels).astype(np.uint8)


def _number_string(value: float) -> str:
    """Canonical text of a number: integral values without a fraction (``3.0`` -> ``"3"``)."""
    if math.isfinite(value) and value == math.floor(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))


def _category_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _number_string(float(value))
    return str(value)


def category_strings(series: pd.Series) -> np.ndarray:
    """The values of a column as canonical category strings (object array; None = missing).

    Text stays as it is; numbers lose a zero fraction (``1``, ``1.0`` -> ``"1"``), so a code
    read as int in one file and as float (because of a gap) in another compares equal;
    booleans become ``"True"``/``"False"``.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.array([_category_text(u) for u in uniques] + [None], dtype=object)
    return table[codes]  # code -1 (missing) picks the trailing None


def category_sort_key(value: str) -> tuple[int, float, str]:
    """Order of category values: numeric-looking ones first, numerically; then the rest."""
    try:
        number = float(value)
    except ValueError:
        return (1, 0.0, value)
    if math.isnan(number):
        return (1, 0.0, value)
    return (0, number, value)


def is_categorical(series: pd.Series) -> bool:
    """A column is categorical unless its dtype is numeric (booleans count as categorical)."""
    return pd.api.types.is_bool_dtype(series.dtype) or not pd.api.types.is_numeric_dtype(
        series.dtype
    )


def fit_features(
    frame: pd.DataFrame, categorical: list[str] | None = None,
    scales: dict[str, int] | None = None,
) -> list[dict]:
    """Feature descriptions fitted on ``frame`` (the training data, without the target).

    Columns in ``categorical``, and every column whose dtype is not numeric, give one one-hot
    feature per distinct value (``name`` ``"col=value"``, ``value`` the canonical string, in
    :func:`category_sort_key` order); missing values get no category (all-zero one-hot).
    Every other column gives one numeric feature with the column's ``min``/``max`` and, as
    ``missing``, its median (the value a missing entry is imputed with, here or later).
    A numeric feature also gets its raw fields (ARCHITECTURE.md 8): ``scale``, from
    ``scales`` (column name -> S) or else :func:`mipnn.trainer.raw.choose_scale`, and the
    rounded training range ``raw_min``, ``raw_max``; if a column's range exceeds int32 even
    at scale 1, no numeric feature gets them (a version-1 list: no raw values).
    A column with no values at all gives no feature. Columns keep their order in ``frame``.
    Raises DataError for an infinite value, a ``categorical`` or ``scales`` name not in
    ``frame``, a scale given for a categorical column, or a given scale whose range exceeds
    int32.
    """
    categorical = list(categorical or [])
    scales = dict(scales or {})
    names = {str(c) for c in frame.columns}
    for what, given in (("categorical", categorical), ("raw-scale", list(scales))):
        unknown = [c for c in given if str(c) not in names]
        if unknown:
            raise DataError(
                f"{what} column(s) {', '.join(map(repr, unknown))} not in the data; "
                f"columns are: {', '.join(map(str, frame.columns))}"
            )
    features: list[dict[str, Any]] = []
    raw_ok = True
    for col in frame.columns:
        series = frame[col]
        name = str(col)
        if col in categorical or is_categorical(series):
            if name in scales:
                raise DataError(f"column {name!r} is categorical: it has no scale (--raw-scale)")
            values = {v for v in category_strings(series) if v is not None}
            for value in sorted(values, key=category_sort_key):
                features.append(
                    {"name": f"{name}={value}", "kind": "onehot", "source": name, "value": value}
                )
            continue
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
        present = numbers[~np.isnan(numbers)]
        if present.size == 0:
            continue
        if not np.isfinite(present).all():
            raise DataError(f"column {name!r}: expected finite numbers, found an infinite value")
        lo, hi = float(present.min()), float(present.max())
        scale = int(scales[name]) if name in scales else choose_scale(present)
        if scale < 1:
            raise DataError(f"column {name!r}: scale {scale}: expected a positive integer")
        feat: dict[str, Any] = {"name": name, "kind": "numeric", "min": lo, "max": hi,
                                "missing": float(np.median(present))}
        try:
            raw_min, raw_max = raw_range(lo, hi, scale, name)
            feat.update(scale=scale, raw_min=raw_min, raw_max=raw_max)
        except ValueError as exc:
            if name in scales:
                raise DataError(str(exc)) from None
            raw_ok = False  # beyond int32 even at scale 1
        features.append(feat)
    if not raw_ok:
        for feat in features:
            for key in ("scale", "raw_min", "raw_max"):
                feat.pop(key, None)
    return features


def scale_summary(features: list[dict]) -> str | None:
    """One line saying how a device supplies each decimal column (a numeric raw column
    whose scale is not 1), e.g. ``temp x100, humidity x10000``; None when there is none."""
    if not has_raw_fields(features):
        return None
    scaled = [f"{c.name} x{c.scale}" for c in raw_columns(features)
              if c.kind == "numeric" and c.scale != 1]
    return ", ".join(scaled) or None


def _series(frame: pd.DataFrame, col: str, feat: dict, source: str) -> pd.Series:
    columns = {str(c): c for c in frame.columns}
    if col not in columns:
        raise DataError(
            f"{source}: no column {col!r} (needed by feature {feat.get('name')!r}); "
            f"columns are: {', '.join(columns)}"
        )
    return frame[columns[col]]


def _numbers(series: pd.Series, col: str, feat: dict, source: str) -> np.ndarray:
    """A numeric column as float64, missing values replaced by the feature's ``missing``."""
    if is_categorical(series):
        converted = pd.to_numeric(series, errors="coerce")
        bad = converted.isna() & series.notna()
        if bad.any():
            example = series[bad].iloc[0]
            raise DataError(f"{source}: column {col!r}: expected numbers, found {example!r}")
        series = converted
    v = series.to_numpy(dtype=np.float64, na_value=np.nan)
    gaps = np.isnan(v)
    if gaps.any():
        if "missing" not in feat:
            raise DataError(
                f"{source}: column {col!r}: {int(gaps.sum())} missing value(s) and "
                "the feature records no imputed value ('missing')"
            )
        v = np.where(gaps, float(feat["missing"]), v)
    return v


def _raw_columns(features: list[dict]) -> list[RawColumn]:
    if not has_raw_fields(features):
        raise DataError("these features have no raw values (a version-1 model: its numeric "
                        "features have no scale, raw_min, raw_max)")
    try:
        return raw_columns(features)
    except ValueError as exc:
        raise DataError(str(exc)) from None


def encode(
    features: list[dict], levels: int, frame: pd.DataFrame, *, source: str = "data"
) -> np.ndarray:
    """Apply feature descriptions to a raw frame: ``uint8 [n, len(features)]`` in ``[0, L]``.

    Numeric: missing values take the feature's ``missing`` value; then, for version-2
    features, the raw integer ``round(v * scale)`` and section 8's formula (this is
    ``encode_raw(features, levels, raw_values(features, frame))``), for version-1 features
    :func:`quantise`. One-hot: ``L`` where the column equals ``value``, else 0 (missing or
    unseen values: 0). Raises DataError (its message starts with ``source``, e.g. the file
    name) when a source column is absent, a numeric column holds text, or a value is
    missing and the feature records no imputed value.
    """
    if has_raw_fields(features) and any(f.get("kind") == "numeric" for f in features):
        return encode_raw(features, levels, raw_values(features, frame, source=source))
    n = len(frame)
    X = np.zeros((n, len(features)), dtype=np.uint8)
    codes: dict[str, tuple[np.ndarray, dict[str, int]]] = {}
    for j, feat in enumerate(features):
        kind = feat.get("kind")
        if kind == "numeric":
            col = numeric_source(feat)
            v = _numbers(_series(frame, col, feat, source), col, feat, source)
            X[:, j] = quantise(v, feat["min"], feat["max"], levels)
        elif kind == "onehot":
            col = str(feat.get("source"))
            if col not in codes:
                series = _series(frame, col, feat, source)
                col_codes, uniques = pd.factorize(category_strings(series), use_na_sentinel=True)
                codes[col] = (col_codes, {str(u): k for k, u in enumerate(uniques)})
            col_codes, lookup = codes[col]
            if feat.get("value") in lookup:
                X[:, j] = np.where(col_codes == lookup[feat["value"]], levels, 0)
        else:
            raise DataError(f"{source}: feature {feat.get('name')!r}: unknown kind {kind!r}")
    return X


def encoding_notes(features: list[dict], frames: list[pd.DataFrame]) -> list[str]:
    """Notes for the user on how :func:`encode` treats ``frames``: missing values (imputed
    or all-zero one-hot) and category values not seen in training (all-zero one-hot), per
    column the features use."""
    notes: list[str] = []
    seen: set[str] = set()
    categories: dict[str, set[str]] = {}
    for feat in features:
        if feat.get("kind") == "onehot":
            categories.setdefault(feat["source"], set()).add(feat["value"])
    for feat in features:
        col = numeric_source(feat) if feat.get("kind") == "numeric" else feat.get("source")
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


def raw_values(features: list[dict], frame: pd.DataFrame, *, source: str = "data"
               ) -> np.ndarray:
    """A frame as the raw integers a device reads (ARCHITECTURE.md 8): ``int64 [n,
    N_RAW]``, one column per raw column of the (version-2) ``features``, in order. Numeric:
    missing values take the first reading feature's ``missing``, then ``round(v * scale)``
    (ties away from zero, from the decimal text), saturated to int32. Categorical: the code
    of the value (its position among the source's one-hot features), -1 when missing or
    unseen. Raises DataError as :func:`encode` does."""
    cols = _raw_columns(features)
    out = np.zeros((len(frame), len(cols)), dtype=np.int64)
    for c, col in enumerate(cols):
        first = features[col.features[0]]
        series = _series(frame, col.name, first, source)
        if col.kind == "numeric":
            out[:, c] = round_scaled(_numbers(series, col.name, first, source), col.scale)
        else:
            lookup = {v: k for k, v in enumerate(col.values)}
            out[:, c] = [lookup.get(v, -1) if v is not None else -1
                         for v in category_strings(series)]
    return out


def encode_raw(features: list[dict], levels: int, raw: pd.DataFrame | np.ndarray
               ) -> np.ndarray:
    """The reference raw encoder (ARCHITECTURE.md 8): the inputs ``uint8 [n,
    len(features)]`` of raw int32 values, exactly what ``NAME_encode`` computes.

    ``raw`` is a 2-D array with one column per raw column (``raw_columns`` order), or a
    DataFrame with a column named after each raw column (others are ignored). Numeric:
    section 8's integer formula per reading feature; categorical: ``L`` in the column of
    code ``k`` (0 for any other code). Raises DataError for a version-1 feature list, a
    missing column, or values that are not int32 integers."""
    cols = _raw_columns(features)
    if isinstance(raw, pd.DataFrame):
        missing = [c.name for c in cols if c.name not in {str(k) for k in raw.columns}]
        if missing:
            raise DataError(f"raw values: no column {missing[0]!r}; the raw columns are: "
                            f"{', '.join(c.name for c in cols)}")
        by_name = {str(k): k for k in raw.columns}
        raw = raw[[by_name[c.name] for c in cols]].to_numpy()
    arr = np.asarray(raw)
    if arr.ndim != 2 or arr.shape[1] != len(cols):
        raise DataError(f"raw values: expected shape [n, {len(cols)}] (one column per raw "
                        f"column), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or np.any(arr != np.rint(arr)):
            raise DataError("raw values: expected integers")
    if arr.size and (arr.min() < INT32_MIN or arr.max() > INT32_MAX):
        raise DataError("raw values: expected int32 integers (an int32_t reading)")
    arr = arr.astype(np.int64)
    X = np.zeros((len(arr), len(features)), dtype=np.uint8)
    for c, col in enumerate(cols):
        r = arr[:, c]
        if col.kind == "numeric":
            for i in col.features:
                f = features[i]
                X[:, i] = raw_level(r, f["raw_min"], f["raw_max"], levels)
        else:
            for k, i in enumerate(col.features):
                X[:, i] = np.where(r == k, levels, 0)
    return X
