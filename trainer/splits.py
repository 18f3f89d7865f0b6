"""Deterministic stratified splits (test, validation) and the stratified sample of the
training examples that ``train_size`` draws, all fixed by the seed; labels become class
indices here."""

from __future__ import annotations

import numpy as np

from mipnn.trainer.errors import DataError, one_line


def _check_stratifiable(y: np.ndarray, classes: list[str], where: str, what: str) -> None:
    counts = np.bincount(y, minlength=len(classes))
    for k, count in enumerate(counts):
        if count < 2:
            raise DataError(
                f"{where}: class {classes[k]!r} has {count} example(s) in the {what}; "
                "a stratified split needs at least 2 of each class"
            )


def split(
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
            f"{where}: too few examples for a stratified split of the {what} ({one_line(exc)})"
        ) from None
    return np.asarray(kept), np.asarray(held)


def draw(y: np.ndarray, n: int, seed: int, n_classes: int) -> np.ndarray:
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


def label_indices(labels: np.ndarray, classes: list[str], where: str) -> np.ndarray:
    """The index in ``classes`` of every label; DataError (naming ``where``) for a label
    that is not a class."""
    index = {c: i for i, c in enumerate(classes)}
    try:
        return np.fromiter((index[v] for v in labels), dtype=np.int64, count=len(labels))
    except KeyError as exc:
        raise DataError(
            f"{where}: unexpected class label {exc.args[0]!r}; expected one of {classes}"
        ) from None
