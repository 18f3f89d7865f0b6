"""Learned clamp ranges for numeric columns (``--learn-ranges``): per numeric column, the
range ``[min, max]`` its feature is quantised over (ARCHITECTURE.md 3: values outside clamp
to 0 or ``L``), and optionally extra clamped copies of the column (features that read the
same column over another range, so the model is piecewise linear in it), chosen by the
held-out log-loss of a cheap model.

The cheap model is a logistic regression (scikit-learn, L2, ``C = 1``) on the default
encoding, fitted on 75 % of the given training rows; the other 25 % (stratified, fixed by
the seed) are held out. Then, column by column (backfitting, two sweeps), the column's
share of the logit is refitted alone (with an intercept) for every candidate range, the
rest of the logit held fixed, and the range with the lowest held-out log-loss is kept (the
current range is a candidate, so a column never gets worse on the held-out rows; the second
sweep tries only ranges whose ends are near the first's). Candidate end points are
quantiles (0, 2, 5, 10, 20, ..., 90, 95, 98, 100 %) of the column's training values and of
its values other than the most common one (so a mostly-zero column such as a capital gain
still gets cut points among its non-zero values). An extra copy is added, greedily, where it
lowers the held-out log-loss by at least ``MIN_GAIN`` (at most ``extra_copies`` in all).

Every range is over integers the device sees: candidates are scored on the inputs the
encoding gives at the given ``levels`` (section 8's integer formula for a version-2 feature,
with its ``raw_min``/``raw_max`` set to the chosen range; ``quantise`` for a version-1 one). The result is ordinary numeric features: the first range of
a column keeps the column's name; an extra copy is named ``col[lo,hi]`` and carries
``source = col`` (the column it reads). The validation and test splits play no part.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mipnn.trainer.encoding import encode, quantise
from mipnn.trainer.raw import raw_level, raw_range, round_scaled
from mipnn.trainer.splits import split

QUANTILES = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 1.0)
MIN_GAIN = 5e-4  # held-out mean log-loss an extra copy must save
HOLDOUT = 0.25
SWEEPS = 2


def candidate_points(values: np.ndarray) -> np.ndarray:
    """Candidate range end points of a column: quantiles of its values and of its values
    other than the most common one (each a value of the column; sorted, distinct)."""
    vals, counts = np.unique(values, return_counts=True)
    rest = values[values != vals[np.argmax(counts)]]
    pts = set(np.quantile(values, QUANTILES, method="nearest").tolist())
    if rest.size:
        pts |= set(np.quantile(rest, QUANTILES, method="nearest").tolist())
    return np.array(sorted(pts))


def fit_offset_logistic(offset: np.ndarray, Z: np.ndarray, y: np.ndarray,
                        n_classes: int) -> np.ndarray:
    """Coefficients ``A`` (``[d, n_classes]``; binary: ``[d, 1]``) of the logistic model
    whose logits are ``offset + Z @ A`` (``offset``: ``[n]`` binary, ``[n, K]`` otherwise),
    by damped Newton steps (binary) or L-BFGS (multi-class), with a tiny ridge."""
    d = Z.shape[1]
    if n_classes == 2:
        a = np.zeros(d)
        sign = np.where(y == 1, 1.0, -1.0)
        t = (y == 1).astype(float)

        def loss(v: np.ndarray) -> float:
            return float(np.sum(np.logaddexp(0.0, -sign * (offset + Z @ v))))

        current = loss(a)
        for _ in range(25):
            s = np.clip(offset + Z @ a, -30, 30)
            p = 1.0 / (1.0 + np.exp(-s))
            g = Z.T @ (p - t) + 1e-6 * a
            H = (Z * (p * (1 - p))[:, None]).T @ Z + 1e-6 * np.eye(d)
            step = np.linalg.solve(H, g)
            trial = loss(a - step)
            halvings = 0
            while trial > current + 1e-9 and halvings < 20:  # damped: never uphill
                step, halvings = step / 2, halvings + 1
                trial = loss(a - step)
            if trial > current + 1e-9:
                break
            a, current = a - step, trial
            if np.abs(step).max() < 1e-4:
                break
        return a[:, None]
    from scipy.optimize import minimize

    onehot = np.eye(n_classes)[y]

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        A = flat.reshape(d, n_classes)
        s = offset + Z @ A
        s = s - s.max(axis=1, keepdims=True)
        lse = np.log(np.exp(s).sum(axis=1))
        p = np.exp(s - lse[:, None])
        value = float(np.sum(lse - (s * onehot).sum(axis=1))) + 5e-7 * float(flat @ flat)
        return value, (Z.T @ (p - onehot)).ravel() + 1e-6 * flat

    res = minimize(loss, np.zeros(d * n_classes), jac=True, method="L-BFGS-B",
                   options={"maxiter": 60})
    return res.x.reshape(d, n_classes)


def mean_log_loss(logits: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    """Mean log-loss of logits (``[n]`` binary, ``[n, K]`` otherwise) against labels."""
    if n_classes == 2:
        sign = np.where(y == 1, 1.0, -1.0)
        return float(np.mean(np.logaddexp(0.0, -sign * logits)))
    s = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(s).sum(axis=1))
    return float(np.mean(lse - s[np.arange(len(y)), y]))


def _accuracy(logits: np.ndarray, y: np.ndarray, n_classes: int) -> float:
    pred = (logits > 0).astype(int) if n_classes == 2 else np.argmax(logits, axis=1)
    return float(np.mean(pred == y))


class _Column:
    """One numeric column during the search: its raw values, candidates and ranges."""

    def __init__(self, feature: dict[str, Any], values: np.ndarray, train: np.ndarray) -> None:
        self.feature = feature
        self.values = values
        self.scale = int(feature["scale"]) if "scale" in feature else None
        self.raw = None if self.scale is None else round_scaled(values, self.scale)
        self.points = candidate_points(values[train])
        self.ranges: list[tuple[float, float]] = [(float(feature["min"]),
                                                   float(feature["max"]))]

    def design(self, ranges: list[tuple[float, float]], levels: int) -> np.ndarray:
        """The column's encoded ranges (inputs / L) and a constant (the intercept moves
        with the column's share)."""
        return np.column_stack([self.level(lo, hi, levels) / levels for lo, hi in ranges]
                               + [np.ones(len(self.values))])

    def level(self, lo: float, hi: float, levels: int) -> np.ndarray:
        """The column over ``[lo, hi]`` as the device sees it: section 8's integer formula
        for a version-2 feature, else section 3's :func:`quantise`."""
        if self.raw is None or self.scale is None:
            return quantise(self.values, lo, hi, levels)
        raw_min, raw_max = raw_range(lo, hi, self.scale, str(self.feature["name"]))
        return raw_level(self.raw, raw_min, raw_max, levels)

    def candidates(self, near: tuple[float, float] | None = None) -> list[tuple[float, float]]:
        """Every range between two candidate points; with ``near``, only those whose ends
        are within two points of ``near``'s (the later sweeps' local search)."""
        p = self.points
        pairs = [(i, j) for i in range(len(p)) for j in range(i + 1, len(p))]
        if near is not None:
            a, b = (int(np.argmin(np.abs(p - v))) for v in near)
            pairs = [(i, j) for i, j in pairs if abs(i - a) <= 2 and abs(j - b) <= 2]
        return [(float(p[i]), float(p[j])) for i, j in pairs]


def learn_ranges(
    features: list[dict[str, Any]], frame: pd.DataFrame, y: np.ndarray, n_classes: int,
    levels: int, *, extra_copies: int = 0, seed: int = 0,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Features with learned clamp ranges (and up to ``extra_copies`` extra copies) for the
    numeric columns of ``features``, searched on ``frame``/``y`` (the training rows: raw
    values, class indices); and a report (the held-out log-loss and accuracy of the cheap
    model before and after, the ranges per column)."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=np.int64)
    classes = [str(k) for k in range(n_classes)]
    fit, held = split(y, HOLDOUT, seed, classes, "range search", "training rows")
    X = encode(features, levels, frame).astype(float) / levels
    base = LogisticRegression(C=1.0, max_iter=3000).fit(X[fit], y[fit])
    coef = base.coef_.T  # [n_features, 1 or K]
    share = {j: X[:, [j]] @ coef[[j]] for j in range(X.shape[1])}
    logits = X @ coef + base.intercept_
    numeric = {j: f for j, f in enumerate(features)
               if f.get("kind") == "numeric" and float(f["max"]) > float(f["min"])}
    columns = {}
    for j, feat in numeric.items():
        col = str(feat.get("source", feat["name"]))
        values = frame[col].to_numpy(dtype=np.float64, na_value=np.nan)
        values = np.where(np.isnan(values), float(feat.get("missing", feat["min"])), values)
        columns[j] = _Column(feat, values, fit)

    def squeeze(v: np.ndarray) -> np.ndarray:
        return v[:, 0] if n_classes == 2 else v

    def score(offset: np.ndarray, Z: np.ndarray) -> tuple[float, np.ndarray]:
        A = fit_offset_logistic(squeeze(offset[fit]), Z[fit], y[fit], n_classes)
        part = Z @ A
        return mean_log_loss(squeeze(offset[held] + part[held]), y[held], n_classes), part

    before = (mean_log_loss(squeeze(logits[held]), y[held], n_classes),
              _accuracy(squeeze(logits[held]), y[held], n_classes))
    copies_left = max(0, int(extra_copies))
    for sweep in range(SWEEPS):
        for j, column in columns.items():
            offset = logits - share[j]
            ranges = list(column.ranges)
            for pos in range(len(ranges)):  # re-choose each range, the others fixed
                best = None
                near = ranges[pos] if sweep else None
                for cand in column.candidates(near) + [ranges[pos]]:
                    trial = ranges[:pos] + [cand] + ranges[pos + 1:]
                    loss, _ = score(offset, column.design(trial, levels))
                    if best is None or loss < best[0] - 1e-12:
                        best = (loss, trial)
                assert best is not None
                ranges = best[1]
            current, part = score(offset, column.design(ranges, levels))
            while sweep == 0 and copies_left > 0:
                best = None
                for cand in column.candidates():
                    if cand in ranges:
                        continue
                    loss, p2 = score(offset, column.design(ranges + [cand], levels))
                    if best is None or loss < best[0]:
                        best = (loss, cand, p2)
                if best is None or current - best[0] < MIN_GAIN:
                    break
                current, part = best[0], best[2]
                ranges.append(best[1])
                copies_left -= 1
            column.ranges = ranges
            share[j] = part
            logits = offset + part
    after = (mean_log_loss(squeeze(logits[held]), y[held], n_classes),
             _accuracy(squeeze(logits[held]), y[held], n_classes))
    out: list[dict[str, Any]] = []
    chosen: dict[str, list[list[float]]] = {}
    for j, feat in enumerate(features):
        if j not in columns:
            out.append(dict(feat))
            continue
        col = str(feat.get("source", feat["name"]))
        chosen[col] = [[lo, hi] for lo, hi in columns[j].ranges]
        for k, (lo, hi) in enumerate(columns[j].ranges):
            g = dict(feat, min=lo, max=hi)
            if "scale" in feat:  # a version-2 feature: its raw range follows
                g["raw_min"], g["raw_max"] = raw_range(lo, hi, int(feat["scale"]), col)
            if k:
                g["name"] = f"{col}[{lo:.10g},{hi:.10g}]"
                g["source"] = col
            out.append(g)
    report = {
        "method": "clamp ranges by held-out log-loss of a logistic regression "
                  "(trainer/clamp_search.py)",
        "held_out_rows": int(len(held)),
        "log_loss": [round(before[0], 5), round(after[0], 5)],
        "accuracy": [round(before[1], 5), round(after[1], 5)],
        "ranges": chosen,
        "extra_copies": int(extra_copies) - copies_left,
    }
    return out, report
