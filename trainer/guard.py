"""The K-fold guard (``--guard-folds K``): estimate on K folds of the training set whether
the MIP configuration classifies more held-out examples than its gradient start, and keep
the gradient network when it does not. The time limit is shared by the K fold runs and the
final run. A stop request (Ctrl-C) during the folds ends the run without a network
(StopRequested); during the final run, it keeps that run's best network."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import accuracy
from mipnn.trainer.pipeline import train_once
from mipnn.trainer.stop import StopRequested, stop_requested
from mipnn.trainer.train_config import TrainConfig
from mipnn.trainer.train_result import IncumbentReport, TrainResult


def train_guarded(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None,
    on_message: Callable[[str], None] | None,
) -> TrainResult:
    """The K-fold guard (``guard_folds``): train the configuration and its gradient start on
    K-1 folds of the training set, count the held-out examples each classifies, over all K
    folds; then train both on the whole training set and keep the MIP's network only when
    it classified strictly more held-out examples than the gradient network (ties keep the
    gradient network, the simpler procedure). Each of the K + 1 MIP runs gets an equal share
    of ``time_limit``. The decision and the counts are in ``model.training["guard"]``;
    ``on_message`` hears about each fold, ``on_progress`` about the final MIP run."""
    from sklearn.model_selection import StratifiedKFold

    t_start = time.perf_counter()
    k = config.guard_folds
    X, y = dataset.X_train, dataset.y_train
    smallest = int(np.bincount(y, minlength=len(dataset.classes)).min())
    if smallest < k:
        raise MipnnError(
            f"--guard-folds {k}: every class needs at least {k} training examples, the "
            f"smallest has {smallest}; use fewer folds or more training data")
    inner = replace(config, guard_folds=0, time_limit=config.time_limit / (k + 1))
    gd_config = replace(inner, objective="gd")
    held_out = {"mip": 0, "gd": 0, "examples": 0}
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=config.seed)
    for part, (fit, out) in enumerate(folds.split(X, y)):
        sub = copy.copy(dataset)  # a Dataset or any object with its attributes
        sub.X_train, sub.y_train = X[fit], y[fit]
        fold_seed = config.seed * 1000 + part  # the folds' runs differ from the final one
        for key, cfg in (("mip", inner), ("gd", gd_config)):
            res = train_once(sub, replace(cfg, seed=fold_seed))
            if stop_requested():  # Ctrl-C: no network of the whole training set yet
                raise StopRequested(f"interrupted in the guard's fold {part + 1} of {k}, "
                                    "before any network was trained on the whole training "
                                    "set")
            held_out[key] += int(round(accuracy(res.model, X[out], y[out]) * len(out)))
        held_out["examples"] += int(len(out))
        if on_message is not None:
            on_message(f"guard: fold {part + 1}/{k} done, held-out examples classified so "
                       f"far: MIP {held_out['mip']}, gradient start {held_out['gd']} of "
                       f"{held_out['examples']}")
    result = train_once(dataset, inner, on_progress)
    keep_mip = held_out["mip"] > held_out["gd"]
    if not keep_mip:
        mip_training = result.model.training
        result = train_once(dataset, gd_config)
        result.model.training["guard_mip"] = {
            key: mip_training.get(key) for key in ("status", "objective_value", "accuracy")}
    result.model.training["guard"] = {
        "folds": k, "objective": config.objective, "held_out_examples": held_out["examples"],
        "held_out_correct_mip": held_out["mip"], "held_out_correct_gd": held_out["gd"],
        "kept": "mip" if keep_mip else "gd", "time": round(time.perf_counter() - t_start, 3),
    }
    return result
