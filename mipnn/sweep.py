"""A family of budgeted models for one target (``mipnn sweep``): train every combination of
hidden shape and non-zero budget ``K`` on the training split, estimate each model's flash
and time on the target by the code generator's cost model (the strategy ``auto`` picks),
keep the Pareto front of validation accuracy against model flash, and recommend, for a
flash budget, the model with the best validation accuracy that fits it (ties: the smaller).
Test accuracy is reported beside, never used to choose. ``refit`` trains the recommended
configuration again on the training and validation examples together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from mipnn.codegen.budget import model_cost
from mipnn.trainer.model import Model
from mipnn.trainer.train import train
from mipnn.trainer.train_config import TrainConfig


@dataclass
class SweepEntry:
    """One trained member of the family, with its estimated cost on the target."""

    hidden: tuple[int, ...]
    max_nonzeros: int
    model: Model
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    strategy: str
    flash: float  # estimated model flash, bytes
    time: float  # estimated instructions (cycles on AVR)
    nonzeros: int

    @property
    def file_name(self) -> str:
        """``h<shape>-k<K>.json``: the member's model file name."""
        return f"h{'-'.join(map(str, self.hidden)) or '0'}-k{self.max_nonzeros}.json"

    @property
    def label(self) -> str:
        shape = "-".join(str(h) for h in self.hidden) if self.hidden else "0"
        return f"hidden {shape}, K {self.max_nonzeros}"


def default_nonzeros(n_inputs: int, rows: int) -> list[int]:
    """K values to try: powers of two from 8 and every first-layer weight."""
    top = n_inputs * rows
    ks = [k for k in (2 ** i for i in range(3, 20)) if k < top]
    return ks + [top]


def run_sweep(
    dataset: Any, base: TrainConfig, shapes: list[tuple[int, ...]], nonzeros: list[int] | None,
    profile: str | None, flash_budget: int | None = None,
    on_entry: Callable[[SweepEntry], None] | None = None,
) -> list[SweepEntry]:
    """Train the family (``base`` with each shape and K) on ``dataset`` and estimate each
    member's cost under the cost ``profile`` (module docstring)."""
    entries = []
    n_out = 1 if len(dataset.classes) == 2 else len(dataset.classes)
    for hidden in shapes:
        rows = hidden[0] if hidden else n_out
        ks = nonzeros or default_nonzeros(dataset.n_inputs, rows)
        for k in sorted({min(k, dataset.n_inputs * rows) for k in ks}):
            cfg = replace(base, hidden=hidden, max_nonzeros=k)
            result = train(dataset, cfg)
            strategy, flash, time = model_cost(result.model, profile, flash_budget)
            entry = SweepEntry(hidden, k, result.model, result.train_accuracy,
                               result.val_accuracy, result.test_accuracy, strategy, flash,
                               time, int(np.count_nonzero(result.model.layers[0].weights)))
            entries.append(entry)
            if on_entry is not None:
                on_entry(entry)
    return entries


def pareto(entries: list[SweepEntry]) -> list[SweepEntry]:
    """The members no other member beats in both estimated flash and validation accuracy,
    smallest first."""
    front: list[SweepEntry] = []
    for e in sorted(entries, key=lambda e: (e.flash, -_val(e))):
        if not front or _val(e) > _val(front[-1]):
            front.append(e)
    return front


def _val(e: SweepEntry) -> float:
    return -1.0 if e.val_accuracy != e.val_accuracy else e.val_accuracy


def recommend(entries: list[SweepEntry], flash_budget: int | None) -> SweepEntry | None:
    """The member with the best validation accuracy whose estimated model flash fits
    ``flash_budget`` (every member without one); ties: the smaller flash. None when
    nothing fits."""
    fits = [e for e in entries if flash_budget is None or e.flash <= flash_budget]
    if not fits:
        return None
    return max(fits, key=lambda e: (_val(e), -e.flash))


def refit(dataset_loader: Callable[..., Any], base: TrainConfig, entry: SweepEntry) -> Any:
    """The recommended configuration trained on the training and validation examples
    together (``dataset_loader(val_fraction=0)`` loads them)."""
    data = dataset_loader(val_fraction=0)
    return train(data, replace(base, hidden=entry.hidden, max_nonzeros=entry.max_nonzeros))


def table(entries: list[SweepEntry], chosen: SweepEntry | None, unit: str) -> list[str]:
    """The family as text lines: one per member, the front and the recommendation marked."""
    front = {id(e) for e in pareto(entries)}
    lines = [f"{'':2}{'shape':<16}{'K':>6}{'nnz':>6}{'flash B':>9}{unit:>14}"
             f"{'train':>8}{'val':>8}{'test':>8}  strategy"]
    for e in sorted(entries, key=lambda e: (e.flash, e.hidden)):
        mark = ("R" if e is chosen else " ") + ("*" if id(e) in front else " ")
        shape = "-".join(map(str, e.hidden)) if e.hidden else "0 (linear)"
        lines.append(f"{mark}{shape:<16}{e.max_nonzeros:>6}{e.nonzeros:>6}{e.flash:>9.0f}"
                     f"{e.time:>14.0f}{_pct(e.train_accuracy):>8}{_pct(e.val_accuracy):>8}"
                     f"{_pct(e.test_accuracy):>8}  {e.strategy}")
    return lines


def report(entries: list[SweepEntry], chosen: SweepEntry | None, flash_budget: int | None,
           unit: str) -> list[str]:
    """The table, its legend and the recommendation, as lines for the user."""
    lines = table(entries, chosen, unit)
    lines.append("*: on the Pareto front (estimated flash against validation accuracy); "
                 "R: recommended" + (f" within {flash_budget} B" if flash_budget else ""))
    if chosen is None:
        lines.append(f"no model fits {flash_budget} B; give a larger budget or smaller K")
    else:
        lines.append(f"recommended: {chosen.label} ({chosen.flash:.0f} B, {chosen.time:.0f} "
                     f"{unit}, validation {_pct(chosen.val_accuracy)})")
    return lines


def _pct(v: float) -> str:
    return "-" if v != v else f"{100 * v:.2f}"


def plot(entries: list[SweepEntry], chosen: SweepEntry | None, flash_budget: int | None,
         path: Path, title: str) -> Path:
    """Validation accuracy against estimated model flash: every member, the front, the
    budget and the recommended member."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for hidden in sorted({e.hidden for e in entries}):
        pts = [e for e in entries if e.hidden == hidden]
        ax.scatter([e.flash for e in pts], [100 * _val(e) for e in pts], s=22,
                   label=f"hidden {'-'.join(map(str, hidden)) or '0'}")
    front = pareto(entries)
    ax.step([e.flash for e in front], [100 * _val(e) for e in front], where="post",
            color="black", alpha=0.6, label="Pareto front")
    if flash_budget is not None:
        ax.axvline(flash_budget, color="grey", linestyle="--", label=f"{flash_budget} B")
    if chosen is not None:
        ax.scatter([chosen.flash], [100 * _val(chosen)], s=160, facecolors="none",
                   edgecolors="red", label="recommended")
    ax.set_xscale("log")
    ax.set_xlabel("estimated model flash (bytes)")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
