"""What a training run returns and records: the :class:`TrainResult`, the incumbent
reports sent while it runs (``on_progress``), and the summary of the incumbent trajectory
that a model file keeps in ``training.trajectory``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mipnn.trainer.model import Model
from mipnn.trainer.selection import Candidate
from mipnn.trainer.solve_result import SolveResult


@dataclass(frozen=True)
class IncumbentReport:
    """A new incumbent, with the accuracies of the network it encodes (by ``forward``)."""

    time: float
    objective: float | None
    bound: float | None
    gap: float | None
    train_accuracy: float | None
    val_accuracy: float | None
    new_incumbent: bool


@dataclass
class TrainResult:
    """A trained model with the accuracies ``forward`` gives on each split, the solve that
    produced it, and the run's incumbent trajectory and candidate networks."""

    model: Model
    solve: SolveResult
    build_time: float
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    mip_train_accuracy: float
    trajectory: list[IncumbentReport] = field(default_factory=list)
    # every network of the run in order (starts, then incumbents): --select chooses among them
    candidates: list[Candidate] = field(default_factory=list)


def trajectory_summary(trajectory: list[IncumbentReport]) -> dict[str, Any]:
    """What the model file keeps of the incumbent trajectory: count, first, best, and up
    to 50 points (time, objective, train and validation accuracy)."""
    points = trajectory
    if len(points) > 50:
        idx = np.unique(np.linspace(0, len(points) - 1, 50).round().astype(int))
        points = [trajectory[i] for i in idx]
    return {
        "incumbents": len(trajectory),
        "first": _summary(trajectory[0]) if trajectory else None,
        "best": _summary(trajectory[-1]) if trajectory else None,
        "points": [[round(r.time, 3), r.objective, r.train_accuracy, r.val_accuracy]
                   for r in points],
    }


def _summary(r: IncumbentReport) -> dict[str, Any]:
    return {
        "time": round(r.time, 3), "objective": r.objective,
        "train_accuracy": r.train_accuracy, "val_accuracy": r.val_accuracy,
    }
