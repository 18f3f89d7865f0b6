"""Learned clamp ranges (trainer/clamp_search.py): the range of a step-like column moves to
the step, extra copies are ordinary numeric features with a source, nothing gets worse on
the held-out rows, and the encoder reads a copy's source column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mipnn.trainer.clamp_search import (
    candidate_points,
    fit_offset_logistic,
    learn_ranges,
    mean_log_loss,
)
from mipnn.trainer.encoding import encode, fit_features


def step_frame(n: int = 1500, seed: int = 0):
    rng = np.random.default_rng(seed)
    gain = np.where(rng.random(n) < 0.8, 0.0, rng.uniform(0, 100000, n))
    age = rng.uniform(17, 90, n)
    noise = rng.normal(size=n)
    logit = 3.0 * (gain > 7000) + 0.08 * np.minimum(age, 45) - 3.0 + 0.3 * noise
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return pd.DataFrame({"gain": gain, "age": age, "noise": noise}), y


def test_the_range_moves_to_the_step_and_copies_have_a_source():
    frame, y = step_frame()
    feats = fit_features(frame)
    out, report = learn_ranges(feats, frame, y, 2, 63, extra_copies=2, seed=0)
    gain = next(f for f in out if f["name"] == "gain")
    assert gain["max"] < 30000  # clamped near the step at 7,000, not the full 100,000
    assert report["log_loss"][1] <= report["log_loss"][0]
    assert report["extra_copies"] <= 2 and report["held_out_rows"] == 375
    copies = [f for f in out if "source" in f and f["kind"] == "numeric"]
    assert len(copies) == report["extra_copies"]
    names = [f["name"] for f in out]
    assert len(set(names)) == len(names)
    for c in copies:
        assert c["source"] in ("gain", "age", "noise") and c["name"].startswith(c["source"] + "[")
    X = encode(out, 63, frame)
    assert X.shape == (len(frame), len(out))
    for j, f in enumerate(out):  # each copy quantises its source column over its own range
        col = frame[f.get("source", f["name"])].to_numpy()
        inside = (col >= f["min"]) & (col <= f["max"])
        assert np.all(X[col <= f["min"], j] == 0) and np.all(X[col >= f["max"], j] == 63)
        assert inside.any()


def test_without_copies_the_features_keep_their_names_and_order():
    frame, y = step_frame(600, seed=1)
    feats = fit_features(frame)
    out, report = learn_ranges(feats, frame, y, 2, 15, extra_copies=0)
    assert [f["name"] for f in out] == [f["name"] for f in feats]
    assert report["extra_copies"] == 0 and set(report["ranges"]) == {"gain", "age", "noise"}


def test_helpers():
    pts = candidate_points(np.array([0, 0, 0, 0, 5, 6, 7, 8, 9, 100.0]))
    assert pts[0] == 0 and pts[-1] == 100 and 7 in pts and len(pts) == len(set(pts))
    rng = np.random.default_rng(0)
    Z = rng.random((400, 1))
    y = (rng.random(400) < 1 / (1 + np.exp(-(4 * Z[:, 0] - 2)))).astype(np.int64)
    a = fit_offset_logistic(np.full(400, -2.0), Z, y, 2)
    assert a.shape == (1, 1) and 2 < a[0, 0] < 6
    y3 = rng.integers(0, 3, 400)
    A = fit_offset_logistic(np.zeros((400, 3)), Z, y3, 3)
    assert A.shape == (1, 3)
    assert abs(mean_log_loss(np.zeros(4), np.array([0, 1, 0, 1]), 2) - np.log(2)) < 1e-12
    assert abs(mean_log_loss(np.zeros((2, 3)), np.array([0, 2]), 3) - np.log(3)) < 1e-12
