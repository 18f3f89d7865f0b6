"""The selection rules (``--select``): which of a run's networks becomes the model. The
default keeps the solver's best objective; ``val`` keeps the network with the best validation
accuracy and ``train+val`` the one with the most correct training and validation examples
together, among every network the run produced (its starts and incumbents)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SELECT_RULES = ("objective", "val", "train+val")


@dataclass(frozen=True)
class Candidate:
    """A network the run produced (a starting network or an incumbent), with its
    objective value, time (s from the start of the run) and accuracies."""

    network: list[tuple[np.ndarray, np.ndarray]]
    objective: float | None
    time: float
    train_accuracy: float
    val_accuracy: float | None


def select_candidate(candidates: list[Candidate], rule: str, n_train: int, n_val: int
                     ) -> Candidate | None:
    """The candidate a selection rule keeps: ``val`` the best validation accuracy,
    ``train+val`` the most correct examples of the training and validation sets together;
    ties go to the later candidate (the better objective). None without validation data
    (``val``) or without candidates."""
    if rule == "val":
        if not n_val:
            return None

        def key(c: Candidate) -> float:
            return float(c.val_accuracy or 0.0)
    elif rule == "train+val":
        def key(c: Candidate) -> float:
            return round(c.train_accuracy * n_train + (c.val_accuracy or 0.0) * n_val)
    else:
        raise ValueError(f"no selection rule {rule!r} over candidates")
    best = None
    for c in candidates:
        if best is None or key(c) >= key(best):
            best = c
    return best
