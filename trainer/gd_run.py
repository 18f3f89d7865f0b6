"""The gradient baseline as a training run: ``--gd-restarts`` runs of the straight-through
gradient trainer (``trainer/gd.py``) from different initialisations, the one kept by
validation accuracy, and, for ``--objective gd``, its model with the same ``training``
record as a MIP run's (status DONE: no solver ran)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from mipnn.trainer.formulation import NetworkSpec
from mipnn.trainer.gd import GdConfig, train_gd
from mipnn.trainer.model import accuracy, network_model
from mipnn.trainer.prune import simplify
from mipnn.trainer.solve_result import SolveResult, SolveStatus
from mipnn.trainer.sparse_gd import SparseGdConfig, train_sparse_gd
from mipnn.trainer.stop import stop_requested
from mipnn.trainer.train_config import TrainConfig
from mipnn.trainer.train_result import TrainResult


def gradient_restarts(
    config: TrainConfig, spec: NetworkSpec, X: np.ndarray, y: np.ndarray,
    val_accuracy: Callable[[list[tuple[np.ndarray, np.ndarray]]], float] | None,
) -> tuple[Any, dict[str, Any]]:
    """The gradient baseline, run ``config.gd_restarts`` times from different random
    initialisations (the first with ``config.seed`` itself); the run kept is the one with the
    best validation accuracy (training accuracy when there is no validation set; ties: the
    earlier run). With one restart this is the single baseline run of the paper. With a
    budget or ``gd_batch`` (``config.sparse_gd``) each run is the sparse mini-batch trainer
    (:mod:`mipnn.trainer.sparse_gd`), whose network meets the budget."""
    runs = config.gd_restarts
    limit = max(1.0, config.time_limit / 4 / runs)
    best = None
    key_best: tuple[float, float] | None = None
    scores = []
    chosen = 0
    for r in range(runs):
        seed = config.seed if r == 0 else int(np.random.SeedSequence([config.seed, r])
                                               .generate_state(1)[0])
        if config.sparse_gd:
            res = train_sparse_gd(
                X, y, hidden=tuple(config.hidden), n_classes=spec.n_classes,
                bound=config.bound, levels=spec.levels,
                config=SparseGdConfig(batch_size=config.gd_batch or 512, seed=seed,
                                      time_limit=limit, max_nonzeros=config.max_nonzeros,
                                      max_neurons=config.max_neurons))
        else:
            res = train_gd(X, y, hidden=tuple(config.hidden), n_classes=spec.n_classes,
                           bound=config.bound, levels=spec.levels,
                           config=GdConfig(epochs=config.gd_epochs, seed=seed,
                                           time_limit=limit))
        va = res.train_accuracy if val_accuracy is None else val_accuracy(res.network)
        scores.append(round(va, 4))
        key = (va, res.train_accuracy)
        if key_best is None or key > key_best:
            best, key_best, chosen = res, key, r
        if stop_requested():  # Ctrl-C: the best run so far (mipnn.trainer.stop)
            break
    by = "training" if val_accuracy is None else "validation"
    return best, {"restarts": runs, "chosen": chosen, "by": f"{by} accuracy",
                  "scores": scores}


def finish_gd(
    dataset: Any, config: TrainConfig, spec: NetworkSpec, name: str, gd: Any, t_start: float,
    report_network: Callable[..., None], choice: dict[str, Any] | None = None,
) -> TrainResult:
    """The gradient baseline's model, in the same model file format as the MIP's."""
    report_network(gd.network, gd.loss)
    model = network_model(gd.network, dataset.classes, spec.levels, name, dataset.features)
    simplified = None
    if config.simplify and config.hidden:
        model, simplified = simplify(model)
    X, y = dataset.X_train, dataset.y_train
    train_acc = accuracy(model, X, y)
    val_acc = accuracy(model, dataset.X_val, dataset.y_val)
    test_acc = accuracy(model, dataset.X_test, dataset.y_test)
    elapsed = time.perf_counter() - t_start
    solver = "gd (numpy, straight-through estimator" + (
        ", sparse mini-batch)" if config.sparse_gd else ")")
    result = SolveResult(solver=solver, status=SolveStatus.DONE,
                         solution=None, objective=gd.loss, bound=None, gap=None, time=elapsed)
    model.training = {
        "objective": "gd",
        "solver": result.solver,
        "status": result.status,
        "objective_value": gd.loss,
        "loss": ("logistic, temperature P/32 (P/2 with hidden layers), mini-batches, top-K"
                 if config.sparse_gd else "squared hinge, margin 0.5 (mean over examples)"),
        "epochs": gd.epochs,
        "restarts": choice,
        "time": round(elapsed, 3),
        "config": asdict(config) | {"hidden": list(config.hidden),
                                    "highs_options": dict(config.highs_options)},
        "data": dict(getattr(dataset, "provenance", {}) or {}),
        "examples": {
            "train": int(len(y)), "val": int(len(dataset.y_val)), "test": int(len(dataset.y_test))
        },
        "accuracy": {"train": train_acc, "val": val_acc, "test": test_acc},
        "neurons": simplified,
        "trajectory": {"incumbents": len(gd.history),
                       "first": {"time": round(gd.history[0][0], 3), "objective": gd.history[0][2],
                                 "train_accuracy": gd.history[0][1], "val_accuracy": None},
                       "best": {"time": round(gd.history[-1][0], 3),
                                "objective": gd.history[-1][2],
                                "train_accuracy": gd.history[-1][1], "val_accuracy": val_acc}},
    }
    return TrainResult(
        model=model, solve=result, build_time=0.0, train_accuracy=train_acc,
        val_accuracy=val_acc, test_accuracy=test_acc, mip_train_accuracy=train_acc,
        trajectory=[],
    )
