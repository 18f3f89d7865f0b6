"""Golden input vectors: the inputs compiled into the firmware image and run on the target
(rows of the test split, edge cases, random vectors), deterministic for a seed, as many as
fit a target's flash (with a version-2 model's raw vectors, mipnn.device.rawcheck), and
the check that a set of vectors is valid input for a model."""

from __future__ import annotations

import numpy as np

from mipnn.device.errors import FirmwareError
from mipnn.device.rawcheck import raw_golden_vectors
from mipnn.device.targets import MAX_RANDOM_VECTORS, vector_budget
from mipnn.trainer.model import Model


def golden_vectors(
    model: Model,
    test_X: np.ndarray | None = None,
    n_random: int = 64,
    seed: int = 0,
    limit: int | None = None,
) -> np.ndarray:
    """Golden input vectors, ``uint8 [V, n]``, deterministic for a given seed.

    In order: the rows of ``test_X`` (the first ``limit`` of them when ``limit`` is given),
    then edge cases (all 0, all L, alternating 0/L both ways, all L//2, one-hot L at the
    first, middle and last input, all L but one 0), then ``n_random`` vectors drawn
    uniformly from ``[0, L]``.
    """
    n, big = model.input_size, model.levels
    if not 0 <= n_random <= MAX_RANDOM_VECTORS:
        raise FirmwareError(f"random vectors: expected a number in [0, {MAX_RANDOM_VECTORS:,}], "
                            f"got {n_random}")
    parts: list[np.ndarray] = []
    if test_X is not None:
        tx = np.asarray(test_X)
        if tx.ndim != 2 or tx.shape[1] != n:
            raise FirmwareError(f"test vectors must have shape [m, {n}], got {tx.shape}")
        if limit is not None:
            tx = tx[: max(0, limit)]
        if tx.size and (not np.all(np.equal(np.mod(tx, 1), 0)) or tx.min() < 0 or tx.max() > big):
            raise FirmwareError(f"test vectors must be integers in [0, {big}]")
        parts.append(tx.astype(np.int64))
    alternating = np.arange(n) % 2 == 0
    edges = [
        np.zeros(n, dtype=np.int64),
        np.full(n, big, dtype=np.int64),
        np.where(alternating, 0, big),
        np.where(alternating, big, 0),
        np.full(n, big // 2, dtype=np.int64),
    ]
    for pos in sorted({0, n // 2, n - 1}):
        one_hot = np.zeros(n, dtype=np.int64)
        one_hot[pos] = big
        edges.append(one_hot)
    all_but_one = np.full(n, big, dtype=np.int64)
    all_but_one[0] = 0
    edges.append(all_but_one)
    parts.append(np.stack(edges))
    if n_random > 0:
        rng = np.random.default_rng(seed)
        parts.append(rng.integers(0, big, size=(n_random, n), endpoint=True))
    return np.concatenate(parts).astype(np.uint8)


def check_vectors(model: Model, vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as ``int64 [V, n]`` after checking that they are at least one row of
    ``model.input_size`` integers in ``[0, model.levels]`` (FirmwareError if not)."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] < 1 or vectors.shape[1] != model.input_size:
        raise FirmwareError(
            f"golden vectors must have shape [V >= 1, {model.input_size}], got {vectors.shape}"
        )
    if (
        not np.issubdtype(vectors.dtype, np.integer)
        or vectors.min() < 0
        or vectors.max() > model.levels
    ):
        raise FirmwareError(f"golden vectors must be integers in [0, {model.levels}]")
    return vectors.astype(np.int64)


def target_vectors(
    model: Model, test_X: np.ndarray | None, target: str, limit: int, n_random: int = 64,
    seed: int = 0, test_raw: np.ndarray | None = None,
) -> tuple[np.ndarray, str | None]:
    """The golden vectors of ``model`` for ``target``: ``golden_vectors(model, test_X,
    n_random, seed, limit)``, with fewer rows of ``test_X`` when they do not fit half the
    target's flash (:func:`mipnn.device.targets.vector_budget`; a version-2 model's
    vectors share it with the raw ones, see :func:`target_raw_vectors`), and then a note
    saying how many were kept (else None)."""
    X = golden_vectors(model, test_X, n_random=n_random, seed=seed, limit=limit)
    kept_rows = _kept_test_rows(model, target, limit, n_random, seed, test_raw)
    if kept_rows >= limit:
        return X, None
    kept = golden_vectors(model, test_X, n_random=n_random, seed=seed, limit=kept_rows)
    if len(kept) == len(X):
        return X, None
    return kept, (f"{target}: {len(kept)} of {len(X)} vectors (the rest do not fit half "
                  "its flash)")


def target_raw_vectors(
    model: Model, test_raw: np.ndarray | None, target: str, limit: int, n_random: int = 64,
    seed: int = 0,
) -> np.ndarray | None:
    """The raw golden vectors of a version-2 ``model`` for ``target`` (None for a
    version-1 model): ``raw_golden_vectors`` with the test rows ``test_raw`` that fit half
    the target's flash beside the other vectors (as many as :func:`target_vectors` keeps)."""
    if not model.has_raw_inputs:
        return None
    rows = _kept_test_rows(model, target, limit, n_random, seed, test_raw)
    return raw_golden_vectors(model, test_raw, n_random=n_random, seed=seed, limit=rows)


def _kept_test_rows(model: Model, target: str, limit: int, n_random: int, seed: int,
                    test_raw: np.ndarray | None) -> int:
    """How many test rows fit half the target's flash: each costs its inputs, and for a
    version-2 model its raw row too (4 bytes per raw column), beside the edge and random
    vectors."""
    width = model.input_size
    extra_bytes = width * len(golden_vectors(model, None, n_random=n_random, seed=seed))
    if model.has_raw_inputs:
        raw_extra = raw_golden_vectors(model, None, n_random=n_random, seed=seed)
        width += 4 * raw_extra.shape[1]
        extra_bytes += raw_extra.size * 4
    budget = vector_budget(target, width)
    if budget is None:
        return limit
    return max(0, min(limit, budget - -(-extra_bytes // width)))
