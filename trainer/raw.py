"""Raw values (ARCHITECTURE.md 8): what a device reads, and the integer arithmetic that
turns it into the inputs ``x[i]``.

A version-2 numeric feature carries ``scale`` S, ``raw_min`` and ``raw_max``: the device
supplies ``r = round(v * S)`` (ties away from zero) as an ``int32_t`` and the input is,
with ``d = raw_max - raw_min``, ``x = 0`` if ``d == 0`` else
``floor(((clamp(r, raw_min, raw_max) - raw_min) * 2L + d) / (2d))`` (:func:`raw_level`).
Several numeric features may read one raw column (their ``source``, default their own
name): they share its scale, each with its own range. A categorical source (the one-hot
features sharing a ``source``) is one raw column holding a code: ``k`` is its ``k``-th
value in feature order, any other code an unseen category. Raw columns are listed in
order of first appearance (:func:`raw_columns`).

:func:`choose_scale` picks S for a column of training values, :func:`round_scaled`
computes ``round(v * S)`` as a person or a fixed-point parser would from the decimal text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
SCALE_MAX = 10**6  # the largest power of ten chosen automatically
RAW_FIELDS = ("scale", "raw_min", "raw_max")
_INTEGRAL_TOLERANCE = 1e-9  # relative: v * S within this of an integer counts as one


@dataclass
class RawColumn:
    """One raw column: a ``numeric`` source (its ``scale``; ``features``: the indices of
    the features reading it) or a ``categorical`` source (``features``: its one-hot
    features in code order, ``values``: their category values)."""

    name: str
    kind: str  # numeric | categorical
    scale: int = 1
    features: list[int] = field(default_factory=list)
    values: list[str] = field(default_factory=list)


def _shown(text: str, limit: int = 60) -> str:
    """``repr(text)`` cut to ``limit`` characters, for an error message."""
    out = repr(text)
    return out if len(out) <= limit else out[: limit - 3] + "..."


def numeric_source(feature: dict[str, Any]) -> str:
    """The raw column a numeric feature reads: its ``source``, else its own name."""
    return str(feature.get("source", feature.get("name")))


def has_raw_fields(features: list[dict[str, Any]] | None) -> bool:
    """Whether every numeric feature carries ``scale``, ``raw_min`` and ``raw_max`` (a
    version-2 feature list; True for a list without numeric features, False for None)."""
    if features is None:
        return False
    return all(all(k in f for k in RAW_FIELDS) for f in features if f.get("kind") == "numeric")


def raw_columns(features: list[dict[str, Any]]) -> list[RawColumn]:
    """The raw columns of a feature list, in order of first appearance. Raises ValueError
    (naming the feature index) when a name is both a numeric and a categorical source,
    when features sharing a numeric source disagree on its scale, or when a categorical
    source lists a value twice."""
    columns: dict[tuple[str, str], RawColumn] = {}
    kinds: dict[str, str] = {}
    for i, feat in enumerate(features):
        numeric = feat.get("kind") == "numeric"
        name = numeric_source(feat) if numeric else str(feat.get("source"))
        kind = "numeric" if numeric else "categorical"
        if kinds.setdefault(name, kind) != kind:
            raise ValueError(f"feature {i}: column {_shown(name)} is read both as a number "
                             "and as a category")
        col = columns.setdefault((kind, name), RawColumn(name, kind))
        if numeric:
            scale = int(feat.get("scale", 1))
            if col.features and scale != col.scale:
                raise ValueError(f"feature {i}: scale {scale} differs from {col.scale}, the "
                                 f"scale of the other features reading column {_shown(name)}")
            col.scale = scale
        else:
            value = str(feat.get("value"))
            if value in col.values:
                raise ValueError(f"feature {i}: value {_shown(value)} of column "
                                 f"{_shown(name)} is listed twice")
            col.values.append(value)
        col.features.append(i)
    return list(columns.values())


def raw_level(r: np.ndarray, raw_min: int, raw_max: int, levels: int) -> np.ndarray:
    """Section 8's integer formula, exactly: ``uint8`` inputs for raw integers ``r``."""
    r = np.asarray(r, dtype=np.int64)
    d = int(raw_max) - int(raw_min)
    if d == 0:
        return np.zeros(r.shape, dtype=np.uint8)
    t = np.clip(r, raw_min, raw_max) - int(raw_min)
    return ((t * (2 * levels) + d) // (2 * d)).astype(np.uint8)


def _is_integral(values: np.ndarray) -> bool:
    scale = np.maximum(1.0, np.abs(values))
    return bool(np.all(np.abs(values - np.rint(values)) <= _INTEGRAL_TOLERANCE * scale))


def choose_scale(values: np.ndarray) -> int:
    """The scale of a column from its (finite) training values: the smallest power of
    ten, 1 to 10**6, that makes every value an integer (within float rounding); if none
    does, the largest that keeps every ``|round(v * S)|`` within int32. 1 if even that is
    none (the range check then refuses the column)."""
    v = np.asarray(values, dtype=np.float64)
    top = float(np.abs(v).max()) if v.size else 0.0
    best = 1
    scale = 1
    while scale <= SCALE_MAX:
        if top * scale > INT32_MAX:
            break
        best = scale
        if _is_integral(v * scale):
            return scale
        scale *= 10
    return best


def _round_decimal(value: float, scale: int) -> int:
    """``round(value * scale)``, ties away from zero, from the shortest decimal text of
    ``value`` (``2.675`` is 2.675, not the binary 2.67499999...)."""
    exact = Decimal(repr(float(value))) * scale
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def round_scaled(values: np.ndarray, scale: int) -> np.ndarray:
    """``round(v * S)`` for each value (nearest integer, ties away from zero), as the
    decimal text of ``v`` gives it, saturated to ``[INT32_MIN, INT32_MAX]`` (the range of
    an ``int32_t`` reading). NaN is refused (impute first)."""
    v = np.asarray(values, dtype=np.float64)
    if np.isnan(v).any():
        raise ValueError("round_scaled: values contain NaN (impute missing values first)")
    y = np.clip(v * scale, -(2.0**62), 2.0**62)
    out = np.sign(y) * np.floor(np.abs(y) + 0.5)
    frac = np.abs(y) - np.floor(np.abs(y))
    near_tie = np.flatnonzero((np.abs(frac - 0.5) < 1e-6) & (np.abs(y) < 2.0**53))
    out = out.astype(np.int64)
    for k in near_tie:
        out.flat[k] = _round_decimal(float(v.flat[k]), scale)
    return np.clip(out, INT32_MIN, INT32_MAX)


def raw_range(lo: float, hi: float, scale: int, name: str) -> tuple[int, int]:
    """``(raw_min, raw_max)``: the rounded training range ``[lo, hi]`` at ``scale``.
    Raises ValueError when it does not fit int32."""
    for v in (lo, hi):
        if not math.isfinite(v) or abs(v * scale) > INT32_MAX:
            raise ValueError(
                f"column {_shown(name)}: value {v:g} at scale {scale} is beyond the int32 range of "
                "a raw reading; choose a smaller scale (--raw-scale) or rescale the column")
    r = round_scaled(np.array([lo, hi]), scale)
    return int(r[0]), int(r[1])
