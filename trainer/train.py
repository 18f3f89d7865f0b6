"""Train an integer network on a data set with the MIP and return a Model (file-ready):
the entry point, which checks the configuration and runs it plainly
(:mod:`mipnn.trainer.pipeline`), behind the K-fold guard (:mod:`mipnn.trainer.guard`), on
a float teacher's labels of the training set, or with neighbourhood MIPs exact on all
training rows (``--all-rows``, :mod:`mipnn.trainer.all_rows`); and the same with the levers the user
left out set by the measured defaults (:mod:`mipnn.trainer.defaults`), as ``mipnn train``
and the estimator run it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from mipnn.trainer.all_rows import train_all_rows
from mipnn.trainer.defaults import ChosenDefaults, without_teacher
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.guard import train_guarded
from mipnn.trainer.highs import check_highs_options
from mipnn.trainer.limits import check_training_size
from mipnn.trainer.model import accuracy
from mipnn.trainer.pipeline import train_once
from mipnn.trainer.routes import check_solver
from mipnn.trainer.start import check_start_config
from mipnn.trainer.teacher import TeacherError, teacher_labels
from mipnn.trainer.train_config import TrainConfig
from mipnn.trainer.train_result import IncumbentReport, TrainResult


def train(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None = None,
    on_message: Callable[[str], None] | None = None,
    start_network: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> TrainResult:
    """Train on ``dataset`` (a ``mipnn.trainer.data.Dataset``) and return the model with the
    accuracies that ``forward`` gives on each split.

    MIP objectives: the gradient baseline's network (``warm_start``) or the all-zero one,
    whichever has the better objective, starts the full MIP, which runs until it stalls
    (``stall_share``) or proves its optimum; large-neighbourhood search (``lns``) uses the
    rest (:mod:`mipnn.trainer.search`). The whole run, gradient baseline included, stays within ``time_limit``.
    ``start_network`` (e.g. :func:`mipnn.trainer.start.start_network_from_model`) replaces the gradient
    baseline as the MIP's start: the run continues from that network.
    Raises SolverError when no solution is found, InfeasibleError when ``min_w``/``max_m``
    cannot fit the training set, and MipnnError for a bad configuration."""
    config.check()
    if start_network is not None:
        check_start_config(config)
    if config.objective != "gd":
        check_solver(config.solver)  # a missing solver is a user error, before any work
    if config.solver == "highspy" and config.objective != "gd":
        check_highs_options(dict(config.highs_options))
    check_training_size(len(dataset.y_train), int(dataset.X_train.shape[1]), config.hidden,
                        len(dataset.classes), mip=config.objective != "gd",
                        what=f"--hidden {','.join(map(str, config.hidden)) or '0'}")
    if config.teacher is not None:
        result = train_on_teacher_labels(dataset, config, on_progress, on_message,
                                         start_network)
    elif config.guard_folds and config.objective != "gd":
        result = train_guarded(dataset, config, on_progress, on_message)
    elif config.mip_scope == "rows" and config.objective != "gd":
        if start_network is not None:
            raise MipnnError("--all-rows starts from its own gradient stage, not --start")
        result = train_all_rows(dataset, config, on_progress, on_message)
    else:
        result = train_once(dataset, config, on_progress, on_message, start_network)
    ranges = getattr(dataset, "ranges", None)
    if ranges:  # the learned clamp ranges (data.load_dataset(learn_ranges=True))
        result.model.training["ranges"] = ranges
    return result


def train_on_teacher_labels(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None,
    on_message: Callable[[str], None] | None,
    start_network: list[tuple[np.ndarray, np.ndarray]] | None,
) -> TrainResult:
    """Train on the teacher's labels of the training set (``config.teacher``), then report
    the training accuracy against the given labels. The model file records the teacher in
    ``training.teacher`` (with the training accuracy on its labels)."""
    X, y = dataset.X_train, dataset.y_train
    labels, info = teacher_labels(X, y, config.teacher or "", config.seed)
    if on_message is not None:
        on_message(f"teacher: {info['kind']} (C={info['C']:g}) relabelled "
                   f"{info['relabelled']} of {info['examples']} training examples; the "
                   "progress lines' train column counts its labels")
    fit = copy.copy(dataset)  # a Dataset or any object with its attributes
    fit.y_train = labels
    result = train_once(fit, replace(config, teacher=None), on_progress, on_message,
                        start_network=start_network)
    training = result.model.training
    train_acc = accuracy(result.model, X, y)
    training["teacher"] = info | {"train_accuracy_on_teacher_labels": result.train_accuracy}
    training["accuracy"]["train"] = train_acc
    training["config"]["teacher"] = config.teacher
    result.train_accuracy = train_acc
    return result


def train_with_defaults(
    dataset: Any,
    config: TrainConfig,
    chosen: ChosenDefaults,
    on_progress: Callable[[IncumbentReport], None] | None = None,
    on_message: Callable[[str], None] | None = None,
    start_network: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> TrainResult:
    """:func:`train` with ``config`` as :func:`mipnn.trainer.defaults.resolve_defaults`
    resolved it; the model records the choice in ``training.defaults`` (when a lever was
    left to the rule). A teacher the rule
    chose that cannot be fitted to this training set (TeacherError, before any training) is
    dropped with a message, and the run goes on without it."""
    try:
        result = train(dataset, config, on_progress, on_message, start_network)
    except TeacherError as exc:
        if chosen.settings.get("teacher") is None:
            raise
        chosen = without_teacher(chosen, str(exc).removeprefix("--teacher: "))
        if on_message is not None:
            on_message(f"defaults: {chosen.notes[-1]}; training without it")
        result = train(dataset, replace(config, teacher=None), on_progress, on_message,
                       start_network)
    if chosen.settings:
        result.model.training["defaults"] = chosen.to_dict()
    return result
