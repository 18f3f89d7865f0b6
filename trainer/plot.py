"""The incumbent trajectory of a training run as a PNG (``mipnn train --plot FILE.png``)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.outputs import write_bytes


def plot_trajectory(trajectory: Sequence[Any], path: str | Path, title: str = "") -> Path:
    """Objective (and bound) against time, and training/validation accuracy against time,
    one point per incumbent (``IncumbentReport``); steps hold the value until the next."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise MipnnError("--plot needs matplotlib: pip install matplotlib") from exc
    path = Path(path)
    points = [r for r in trajectory if r.new_incumbent]
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
    if points:
        t = [r.time for r in points]
        obj = [r.objective for r in points]
        ax1.step(t, [float("nan") if o is None else o for o in obj], where="post",
                 marker="o", label="incumbent objective")
        bounds = [r.bound for r in points]
        if any(b is not None for b in bounds):
            ax1.step(t, [float("nan") if b is None else b for b in bounds], where="post",
                     linestyle="--", label="bound")
        tr = [float("nan") if r.train_accuracy is None else 100 * r.train_accuracy
              for r in points]
        va = [float("nan") if r.val_accuracy is None else 100 * r.val_accuracy for r in points]
        ax2.step(t, tr, where="post", marker="o", label="train")
        ax2.step(t, va, where="post", marker="s", label="validation")
    ax1.set_ylabel("objective (minimised)")
    ax1.legend(loc="best")
    ax1.grid(alpha=0.3)
    ax2.set_ylabel("accuracy %")
    ax2.set_xlabel("time s")
    ax2.legend(loc="best")
    ax2.grid(alpha=0.3)
    if title:
        ax1.set_title(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, dpi=100, format="png")
    finally:
        plt.close(fig)
    return write_bytes(path, buffer.getvalue(), "plot")
