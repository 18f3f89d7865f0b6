"""How to train: the options of one training run (:class:`TrainConfig`), the objectives and
solver routes they choose from, and the checks that turn a bad combination into a user error
before any work starts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.objectives import OBJECTIVES, check_margin
from mipnn.trainer.routes import SOLVERS
from mipnn.trainer.selection import SELECT_RULES
from mipnn.trainer.teacher import TEACHERS

TRAIN_OBJECTIVES = (*OBJECTIVES, "gd")
MIP_SCOPES = ("full", "rows")
# One year: longer than any run, and every timeout made from it (batch training waits
# 3 x the limit + 60 s per MIP) stays far below what Python's waits take (TIMEOUT_MAX).
MAX_TIME_LIMIT = 365 * 24 * 3600.0
# More threads than any machine mipnn runs on has cores (HiGHS starts as many as it is told).
MAX_THREADS = 1024
# The largest objective weight of a neuron (--prune) or of a unit of |W| (--weight-penalty):
# larger costs drown the unit cost of a misclassified example in the solver's tolerances.
MAX_COST = 1e6


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``hidden`` lists the hidden layer sizes (empty: no hidden layer)."""

    hidden: tuple[int, ...] = (16,)
    bound: int = 1
    objective: str = "sat_margin"
    margin: int | str = 1  # an integer >= 1, or "paper": (H+1)P/4 as an integer (objectives)
    time_limit: float = 60.0
    seed: int = 0
    threads: int = 1
    prune: float | None = None  # ALPHA of the neuron-count optimisation
    prune_mode: str = "weighted"  # or "lexicographic": accuracy first, then fewest neurons
    simplify: bool = True  # remove dead and constant hidden neurons (exact)
    weight_penalty: float = 0.0  # objective cost of each unit of sum |W| (regulariser)
    # --- how hard to try (docs/TRAINING.md measures each lever) ---
    solver: str = "highspy"  # a route of trainer/routes.py (SOLVERS)
    warm_start: bool = True  # start from the gradient baseline's network
    symmetry: bool = False  # order the hidden neurons (no measurable gain: docs/TRAINING.md)
    lns: bool = True  # large-neighbourhood search after the full MIP (trainer/search.py)
    lns_sub_time: float = 3.0  # time limit of one LNS sub-MIP
    # the full MIP runs until it stalls: no new incumbent and no move of its bound for this
    # share of the time (at least MIN_STALL s); then LNS until it stalls as long; then the
    # full MIP again (trainer/search.py)
    stall_share: float = 0.5
    full_solve_share: float = 0.5  # routes without callbacks (Pyomo): the full MIP's share
    target_objective: float | None = None  # stop once an incumbent reaches this objective
    highs_options: tuple[tuple[str, Any], ...] = ()  # extra HiGHS options (name, value)
    gd_epochs: int = 400
    gd_restarts: int = 1  # gradient runs; the one with the best validation accuracy is kept
    tight_big_m: bool = True  # False only to measure the tight big-M values' effect
    polish_start: bool = True  # re-solve the gradient start's output layer for the objective
    # the model: the best objective, "val": the best validation accuracy, or "train+val":
    # the most correct training and validation examples together (for small validation sets)
    select: str = "objective"
    # > 0: K-fold guard. Estimate on K folds of the training set whether this configuration
    # classifies more held-out examples than its gradient start; keep the gradient network
    # when it does not. The time limit is shared by the K fold runs and the final run.
    guard_folds: int = 0
    # train on a float teacher's labels of the training set (trainer/teacher.py; None: off)
    teacher: str | None = None
    # --- the deployment budget, inside the MIP (formulation.py) and the gradient stage ---
    max_nonzeros: int | None = None  # K: non-zero first-layer weights
    max_neurons: int | None = None  # M: active hidden neurons
    # examples per step of the gradient stage; set (or a budget set): the sparse
    # mini-batch trainer (trainer/sparse_gd.py) instead of the full-batch one (gd.py)
    gd_batch: int | None = None
    # "full": one MIP over the training set, then LNS (pipeline.py); "rows": budgeted
    # neighbourhood MIPs that are exact on every training row (max_correct; all_rows.py)
    mip_scope: str = "full"

    @property
    def sparse_gd(self) -> bool:
        """Whether the gradient stage is the sparse mini-batch trainer."""
        return (self.gd_batch is not None or self.max_nonzeros is not None
                or self.max_neurons is not None or self.mip_scope == "rows")

    def check(self) -> None:
        """Raise MipnnError for a value out of range or options that cannot be combined."""
        if self.objective not in TRAIN_OBJECTIVES:
            raise MipnnError(
                f"unknown objective {self.objective!r}; expected one of "
                f"{', '.join(TRAIN_OBJECTIVES)}"
            )
        if self.solver not in SOLVERS:
            raise MipnnError(
                f"unknown solver {self.solver!r}; expected one of {', '.join(SOLVERS)}"
            )
        if self.select not in SELECT_RULES:
            raise MipnnError(
                f"--select must be one of {', '.join(SELECT_RULES)}, got {self.select!r}")
        if not 0.0 <= self.full_solve_share <= 1.0:
            raise MipnnError(f"full_solve_share must be in [0, 1], got {self.full_solve_share}")
        if not 0.0 < self.stall_share <= 1.0:
            raise MipnnError(f"stall_share must be in (0, 1], got {self.stall_share}")
        if not 1 <= self.bound <= 127:
            raise MipnnError(f"--bound must be in [1, 127] (weights are int8), got {self.bound}")
        if any(h < 1 for h in self.hidden):
            raise MipnnError(f"hidden layer sizes must be positive, got {list(self.hidden)}")
        check_margin(self.margin, self.hidden)
        if self.guard_folds == 1 or self.guard_folds < 0:
            raise MipnnError(f"--guard-folds must be 0 (off) or at least 2, got {self.guard_folds}")
        if self.teacher is not None:
            if self.teacher not in TEACHERS:
                raise MipnnError(f"--teacher must be one of {', '.join(TEACHERS)}, "
                                 f"got {self.teacher!r}")
            if self.guard_folds:
                raise MipnnError("--guard-folds and --teacher cannot be combined (the guard "
                                 "counts held-out examples by their given labels)")
        if self.guard_folds and not self.warm_start:
            raise MipnnError("--guard-folds compares the MIP with its gradient start: it needs "
                             "--warm-start")
        if self.prune is not None and not 0 <= self.prune <= MAX_COST:  # NaN too
            raise MipnnError(f"--prune must be a number in [0, {MAX_COST:g}], got {self.prune}")
        if self.prune is not None and not self.hidden:
            raise MipnnError("--prune needs at least one hidden layer (--hidden)")
        if self.prune_mode not in ("weighted", "lexicographic"):
            raise MipnnError(
                f"--prune-mode must be weighted or lexicographic, got {self.prune_mode!r}"
            )
        if not 0 <= self.weight_penalty < MAX_COST:  # NaN too
            raise MipnnError(f"--weight-penalty must be a number in [0, {MAX_COST:g}), got "
                             f"{self.weight_penalty}")
        if not 1 <= self.gd_restarts <= 1000:
            raise MipnnError(f"--gd-restarts must be in [1, 1000], got {self.gd_restarts}")
        if not 0 < self.time_limit <= MAX_TIME_LIMIT:  # NaN too
            raise MipnnError(f"--time-limit must be a number of seconds in (0, "
                             f"{MAX_TIME_LIMIT:g}] (one year), got {self.time_limit}")
        if not 1 <= self.threads <= MAX_THREADS:
            raise MipnnError(f"--threads must be in [1, {MAX_THREADS}], got {self.threads}")
        if self.target_objective is not None and not math.isfinite(self.target_objective):
            raise MipnnError(f"--target-objective must be a finite number, got "
                             f"{self.target_objective}")
        if self.max_nonzeros is not None and self.max_nonzeros < 1:
            raise MipnnError(f"--max-nonzeros must be at least 1, got {self.max_nonzeros}")
        if self.max_neurons is not None:
            if not self.hidden:
                raise MipnnError("--max-neurons needs at least one hidden layer (--hidden)")
            if self.max_neurons < len(self.hidden):
                raise MipnnError(f"--max-neurons must be at least {len(self.hidden)} (one "
                                 f"neuron per hidden layer), got {self.max_neurons}")
        if self.gd_batch is not None and self.gd_batch < 1:
            raise MipnnError(f"--gd-batch must be at least 1, got {self.gd_batch}")
        if self.mip_scope not in MIP_SCOPES:
            raise MipnnError(f"mip_scope must be one of {', '.join(MIP_SCOPES)}, "
                             f"got {self.mip_scope!r}")
        if self.mip_scope == "rows":
            if self.objective not in ("max_correct", "gd"):
                raise MipnnError("--all-rows maximises the number of correct training examples: "
                                 f"use --objective max_correct (got {self.objective})")
            if self.guard_folds or self.prune is not None or self.teacher is not None:
                raise MipnnError("--all-rows is not combined with --guard-folds, --prune or "
                                 "--teacher")
