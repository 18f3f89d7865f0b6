"""Raw golden vectors (ARCHITECTURE.md 8): the raw rows the firmware harness runs through
``NAME_predict_raw`` and ``NAME_encode`` of a version-2 model, the parsing of its ``raw``
lines, and their comparison with the Python reference (``encode_raw``, then ``forward``),
bit for bit: the class, every score and every input the encoder wrote.

The rows, deterministic for a seed: the test split as raw values (when given), then per
raw column every edge (INT32_MIN, INT32_MAX, 0, +/-1, ``raw_min - 1``, ``raw_min``,
``raw_max``, ``raw_max + 1`` and the middle of each input's range; for a categorical
column every code and the unknown codes -1, n, n + 1 and the int32 limits), combined so
that every column visits each of its edges, then random rows (in and around each range,
and anywhere in int32)."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from mipnn.device.errors import FirmwareError
from mipnn.trainer.encoding import encode_raw
from mipnn.trainer.model import Model, forward
from mipnn.trainer.raw import INT32_MAX, INT32_MIN, raw_columns

_RAW_LINE = re.compile(r"raw (\d+) class (-?\d+) scores((?: -?\d+)*) x ([0-9a-f]*)\Z")


def column_edges(model: Model) -> list[tuple[list[int], int, int]]:
    """Per raw column of ``model``: its edge values (see the module docstring) and the
    range random values are drawn from (the inputs' ranges and a little beyond; -1 to n
    for a categorical column)."""
    assert model.features is not None
    out = []
    for col in raw_columns(model.features):
        vals = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX}
        if col.kind == "numeric":
            lows, highs = [], []
            for i in col.features:
                lo, hi = int(model.features[i]["raw_min"]), int(model.features[i]["raw_max"])
                vals |= {lo - 1, lo, lo + 1, (lo + hi) // 2, hi - 1, hi, hi + 1}
                lows.append(lo)
                highs.append(hi)
            margin = max(2, (max(highs) - min(lows)) // 16)
            span = (max(INT32_MIN, min(lows) - margin), min(INT32_MAX, max(highs) + margin))
        else:
            n = len(col.values)
            vals |= {*range(n), n, n + 1}
            span = (-1, n)
        out.append((sorted(v for v in vals if INT32_MIN <= v <= INT32_MAX), *span))
    return out


def raw_golden_vectors(
    model: Model, test_raw: np.ndarray | None = None, n_random: int = 64, seed: int = 0,
    limit: int | None = None,
) -> np.ndarray:
    """Raw golden vectors ``int64 [V, N_RAW]`` for a version-2 ``model``: the rows of
    ``test_raw`` (its first ``limit``), the edge rows, then ``n_random`` random rows."""
    if not model.has_raw_inputs or model.features is None:
        raise FirmwareError("raw golden vectors need a version-2 model with input features")
    edges = column_edges(model)
    parts = []
    if test_raw is not None:
        test_raw = np.asarray(test_raw, dtype=np.int64)
        if test_raw.ndim != 2 or test_raw.shape[1] != len(edges):  # one per raw column
            raise FirmwareError(f"raw test vectors must have shape [m, {len(edges)}], "
                                f"got {test_raw.shape}")
        parts.append(test_raw[: max(0, limit)] if limit is not None else test_raw)
    n_edge = max(len(e) for e, _, _ in edges)
    parts.append(np.array([[e[(k + c) % len(e)] for c, (e, _, _) in enumerate(edges)]
                           for k in range(n_edge)], dtype=np.int64))
    if n_random > 0:
        rng = np.random.default_rng(seed)
        cols = []
        for _, lo, hi in edges:
            near = rng.integers(lo, hi, size=n_random, endpoint=True)
            anywhere = rng.integers(INT32_MIN, INT32_MAX, size=n_random, endpoint=True)
            cols.append(np.where(rng.random(n_random) < 0.9, near, anywhere))
        parts.append(np.stack(cols, axis=1))
    rows = np.concatenate(parts).astype(np.int64)
    return np.clip(rows, INT32_MIN, INT32_MAX)


class RawOutput(NamedTuple):
    """What the harness printed for the raw vectors."""

    classes: np.ndarray  # int64 [V]
    scores: np.ndarray  # int64 [V, K]
    inputs: np.ndarray  # int64 [V, n]: what NAME_encode wrote


class RawMismatch(NamedTuple):
    """A raw vector whose firmware result differs from the reference."""

    index: int
    expected_class: int
    expected_scores: tuple[int, ...]
    got_class: int
    got_scores: tuple[int, ...]
    input_position: int | None  # the first input NAME_encode got wrong
    expected_input: int
    got_input: int

    def describe(self) -> str:
        """One line, e.g. ``raw vector 3: ERROR at pos 1: Act: 5 Ref: 7; class ...``."""
        parts = []
        for k, (want, got) in enumerate(zip(self.expected_scores, self.got_scores,
                                            strict=True)):
            if want != got:
                parts.append(f"ERROR at pos {k}: Act: {got} Ref: {want}")
                break
        if self.input_position is not None:
            parts.append(f"encode ERROR at x[{self.input_position}]: Act: {self.got_input} "
                         f"Ref: {self.expected_input}")
        parts.append(f"class Act: {self.got_class} Ref: {self.expected_class}")
        return f"raw vector {self.index}: " + "; ".join(parts)


def parse_raw_lines(lines: list[str], n_raw: int, n_classes: int, n_inputs: int,
                    first_line: int, text: str) -> RawOutput:
    """The ``n_raw`` raw lines at the start of ``lines`` (the line number of the first is
    ``first_line``, for messages); FirmwareError for a missing or malformed line."""
    classes = np.zeros(n_raw, dtype=np.int64)
    scores = np.zeros((n_raw, n_classes), dtype=np.int64)
    inputs = np.zeros((n_raw, n_inputs), dtype=np.int64)
    for v in range(n_raw):
        if v >= len(lines):
            raise FirmwareError(f"the firmware output stops after {v} of {n_raw} raw vectors "
                                f"(crash or early exit)\n{text[-2000:]}")
        match = _RAW_LINE.match(lines[v])
        if not match or int(match.group(1)) != v:
            raise FirmwareError(f"unexpected firmware output line {first_line + v}: "
                                f"{lines[v]!r} (expected the line of raw vector {v})")
        values = [int(s) for s in match.group(3).split()]
        hexes = match.group(4)
        if len(values) != n_classes or len(hexes) != 2 * n_inputs:
            raise FirmwareError(f"raw vector {v}: {len(values)} scores and "
                                f"{len(hexes) // 2} inputs printed, expected {n_classes} and "
                                f"{n_inputs}: {lines[v]!r}")
        classes[v] = int(match.group(2))
        scores[v] = values
        inputs[v] = list(bytes.fromhex(hexes))
    return RawOutput(classes, scores, inputs)


def compare_raw(model: Model, raw: np.ndarray, got: RawOutput) -> list[RawMismatch]:
    """The raw vectors whose class, scores or encoded inputs differ from the reference:
    ``encode_raw`` of the model's features, then ``forward``."""
    assert model.features is not None
    X = encode_raw(model.features, model.levels, np.asarray(raw, dtype=np.int64))
    want_scores, want_classes = forward(model, X)
    want_scores = np.atleast_2d(want_scores)
    bad_x = np.any(X != got.inputs, axis=1)
    bad = np.flatnonzero(np.any(want_scores != got.scores, axis=1)
                         | (want_classes != got.classes) | bad_x)
    out = []
    for v in bad:
        pos = int(np.flatnonzero(X[v] != got.inputs[v])[0]) if bad_x[v] else None
        out.append(RawMismatch(
            index=int(v), expected_class=int(want_classes[v]),
            expected_scores=tuple(int(s) for s in want_scores[v]),
            got_class=int(got.classes[v]), got_scores=tuple(int(s) for s in got.scores[v]),
            input_position=pos,
            expected_input=int(X[v][pos]) if pos is not None else 0,
            got_input=int(got.inputs[v][pos]) if pos is not None else 0))
    return out
