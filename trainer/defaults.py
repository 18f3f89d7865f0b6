"""The training settings that measured best for data of a given size (docs/TRAINING.md,
"Settings chosen by data size"). The levers a user leaves out (``--gd-restarts``,
``--select``, ``--margin``, ``--weight-penalty``, ``--teacher``; the estimator's parameters
left at ``"auto"``) are chosen by the number of validation examples, which decides whether
networks can be ranked on the validation split; explicit values always win, and the model
file records the choice (``training.defaults``).

The rule is the benchmark's configurations (bench/paper.py), by data set:

* 100 validation examples or more (Adult, 6,513): the best of 8 gradient runs on the
  validation split, the network with the best validation accuracy, margin 2 for sat_margin
  (version 4: Adult N=200 P=1 sat_margin 80.6 % test against 79.1 % for one gradient run);
* fewer (Heart, 25: one example is 4 points): one gradient run, the network that classifies
  the most training and validation examples together, a tie-breaking weight penalty (with a
  time limit of 60 s or more, PENALTY_TIME) and a logistic-regression teacher's labels,
  margin 2 for sat_margin (version 7: each of Heart's 27 grid cells at or above one
  gradient run); for ``gd`` the teacher's labels alone (one gradient run on them: 82.6 %
  against 80.0 % on Heart N=200 P=1);
* the objectives the benchmark did not run (min_w, max_m) keep the plain defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.train_config import TrainConfig

AUTO = "auto"
AUTO_LEVERS = ("gd_restarts", "select", "margin", "weight_penalty", "teacher")
"""The TrainConfig fields chosen by the rule unless given."""
SMALL_VALIDATION = 100
"""Fewer validation examples than this cannot rank networks (one example moves the
accuracy by more than a point)."""
GUIDE = "docs/TRAINING.md"
MEASURED = ("sat_margin", "min_hinge", "max_correct")  # the MIP objectives of the benchmark
PLAIN: dict[str, Any] = {f.name: f.default for f in fields(TrainConfig) if f.name in AUTO_LEVERS}
"""The plain value of each lever: TrainConfig's default, what a lever is without the rule."""
PENALTY_TIME = 60.0
"""The weight penalty was measured at 60 and 300 s; with less time it is left out: within a
few seconds it keeps HiGHS from improving on its start (two blobs, 2 hidden neurons, 2 s:
53.5 % training accuracy with it, 95.8 % without)."""
RULES = {
    "large": {"gd_restarts": 8, "select": "val"},
    "small": {"gd_restarts": 1, "select": "train+val", "weight_penalty": 0.0025,
              "teacher": "logreg"},
}


def option_text(lever: str, value: Any) -> str:
    """A lever's setting as the command-line option that gives it (``--select val``)."""
    if value is None:
        text = "none"
    elif isinstance(value, float):
        text = f"{value:g}"
    else:
        text = str(value)
    return f"--{lever.replace('_', '-')} {text}"


def measured_settings(objective: str, validation_examples: int,
                      time_limit: float = PENALTY_TIME) -> dict[str, Any]:
    """The settings of the levers that measured best for ``objective`` with that many
    validation examples and that time limit (only the levers that differ from their plain
    value)."""
    size = "large" if validation_examples >= SMALL_VALIDATION else "small"
    if objective == "gd":
        return {"gd_restarts": 8} if size == "large" else {"teacher": "logreg"}
    if objective not in MEASURED:
        return {}
    settings = dict(RULES[size])
    if objective == "sat_margin":
        settings["margin"] = 2
    if time_limit < PENALTY_TIME:
        settings.pop("weight_penalty", None)
    return {k: v for k, v in settings.items() if v != PLAIN[k]}


@dataclass(frozen=True)
class ChosenDefaults:
    """What the rule chose: the number of validation examples it went by, the rule
    (``large``, ``small``), the value of every lever left to it, and notes (a lever the
    rule's value could not be used for)."""

    validation_examples: int
    rule: str
    settings: dict[str, Any]
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the user: ``defaults for 6,513 validation examples: --gd-restarts 8
        --select val --margin 2 (docs/TRAINING.md)``."""
        changed = [option_text(k, v) for k, v in self.settings.items() if v != PLAIN[k]]
        what = " ".join(changed) if changed else "the plain ones"
        notes = "".join(f"; {n}" for n in self.notes)
        return (f"defaults for {self.validation_examples:,} validation examples: {what}"
                f"{notes} ({GUIDE})")

    def to_dict(self) -> dict[str, Any]:
        """The record of ``training.defaults`` in the model file."""
        return {"validation_examples": self.validation_examples, "rule": self.rule,
                "settings": dict(self.settings), "notes": list(self.notes)}


def resolve_defaults(config: TrainConfig, auto: Iterable[str], dataset: Any
                     ) -> tuple[TrainConfig, ChosenDefaults]:
    """``config`` with the levers named in ``auto`` (the ones the user left out; config
    holds their plain values) set by the rule for ``dataset``'s validation split, and the
    record of the choice. The teacher is left out where it cannot run: with
    ``guard_folds`` (it counts held-out examples by their given labels), with the all-rows
    MIP (``mip_scope == "rows"``: it trains on the given labels), or when a class has
    fewer than 2 training examples (its regularisation is chosen by cross-validation)."""
    auto = set(auto)
    unknown = auto - set(AUTO_LEVERS)
    if unknown:
        raise MipnnError(f"no default rule for {', '.join(sorted(unknown))}; the rule sets "
                         f"{', '.join(AUTO_LEVERS)}")
    n_val = int(len(dataset.y_val))
    rule = "large" if n_val >= SMALL_VALIDATION else "small"
    measured = measured_settings(config.objective, n_val, config.time_limit)
    chosen: dict[str, Any] = {}
    notes: list[str] = []
    for lever in AUTO_LEVERS:
        if lever not in auto:
            continue
        value = measured.get(lever, PLAIN[lever])
        if lever == "teacher" and value is not None:
            counts = np.bincount(np.asarray(dataset.y_train, dtype=np.int64))
            present = counts[counts > 0]
            if config.guard_folds:
                value = None
                notes.append("no teacher with --guard-folds")
            elif config.mip_scope == "rows":
                value = None
                notes.append("no teacher with --all-rows")
            elif len(present) < 2 or present.min() < 2:
                value = None
                notes.append("no teacher: a class has fewer than 2 training examples")
        chosen[lever] = value
    return replace(config, **chosen), ChosenDefaults(n_val, rule, chosen, tuple(notes))


def without_teacher(chosen: ChosenDefaults, reason: str) -> ChosenDefaults:
    """The record of a choice whose teacher could not be fitted after all (``reason``)."""
    return replace(chosen, settings=chosen.settings | {"teacher": None},
                   notes=(*chosen.notes, f"no teacher: {reason}"))


def validation_note(config: TrainConfig, validation_examples: int) -> str | None:
    """A warning when ``config`` chooses by a validation split too small to rank networks
    (``select="val"`` or several gradient runs with fewer than SMALL_VALIDATION examples),
    else None."""
    uses_val = config.select == "val" or config.gd_restarts > 1
    if not uses_val or validation_examples >= SMALL_VALIDATION:
        return None
    return (f"the validation split has {validation_examples} examples; choosing by it "
            f"(--select val, --gd-restarts) is unreliable below about {SMALL_VALIDATION} "
            f"(one example moves its accuracy by {100 / max(1, validation_examples):.1f} "
            "points); --select train+val counts the training examples too")
