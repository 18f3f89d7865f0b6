"""A training run with ``--all-rows`` (``TrainConfig.mip_scope == "rows"``): for training
sets too large for one MIP. The sparse mini-batch gradient stage (restarts kept by
validation accuracy) gives a network within the budget; the neighbourhood search of
:mod:`mipnn.trainer.row_search` then improves the number of correctly classified training
rows with sub-MIPs that are exact on all of them (the budget inside each), until the time
limit. ``--select val`` keeps, of the start and every improvement, the network with the
best validation accuracy. The model file records both stages."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from mipnn.trainer.formulation import NetworkSpec
from mipnn.trainer.gd_run import gradient_restarts
from mipnn.trainer.model import accuracy, network_model
from mipnn.trainer.pipeline import model_name
from mipnn.trainer.prune import simplify
from mipnn.trainer.row_search import RowSearchConfig, improve_all_rows
from mipnn.trainer.selection import Candidate, select_candidate
from mipnn.trainer.solve_result import SolveResult, SolveStatus
from mipnn.trainer.sparse_gd import active_neurons
from mipnn.trainer.train_config import TrainConfig
from mipnn.trainer.train_result import IncumbentReport, TrainResult, trajectory_summary


def train_all_rows(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None = None,
    on_message: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train ``dataset`` with the gradient stage and the all-rows search (module
    docstring); the whole run stays within ``config.time_limit``."""
    t_start = time.perf_counter()
    X, y = dataset.X_train, dataset.y_train
    n_classes = len(dataset.classes)
    spec = NetworkSpec(
        n_inputs=int(X.shape[1]), hidden=tuple(config.hidden), n_classes=n_classes,
        bound=config.bound, levels=int(dataset.levels), objective="max_correct",
        max_nonzeros=config.max_nonzeros, max_neurons=config.max_neurons,
    )
    name = model_name(dataset.name)
    has_val = len(dataset.y_val) > 0
    pool: list[Candidate] = []
    trajectory: list[IncumbentReport] = []

    def acc(net: list[tuple[np.ndarray, np.ndarray]], Xs: np.ndarray, ys: np.ndarray) -> float:
        return accuracy(network_model(net, dataset.classes, spec.levels, name), Xs, ys)

    def report(net: list[tuple[np.ndarray, np.ndarray]], wrong: float) -> None:
        t = time.perf_counter() - t_start
        c = Candidate(net, wrong, t, acc(net, X, y),
                      acc(net, dataset.X_val, dataset.y_val) if has_val else None)
        pool.append(c)
        r = IncumbentReport(t, wrong, None, None, c.train_accuracy, c.val_accuracy, True)
        trajectory.append(r)
        if on_progress is not None:
            on_progress(r)

    val_acc = (lambda net: acc(net, dataset.X_val, dataset.y_val)) if has_val else None
    gd, choice = gradient_restarts(config, spec, X, y, val_acc)
    start_wrong = int(round((1 - gd.train_accuracy) * len(y)))
    report(gd.network, float(start_wrong))
    if on_message is not None:
        on_message(f"gradient stage: {gd.epochs} epochs, {gd.time:.1f} s, training accuracy "
                   f"{100 * gd.train_accuracy:.2f}%; now the all-rows neighbourhood MIPs")
    net, stats = improve_all_rows(
        X, y, gd.network, bound=config.bound, levels=spec.levels,
        max_nonzeros=config.max_nonzeros, deadline=t_start + config.time_limit,
        config=RowSearchConfig(seed=config.seed),
        on_improve=lambda n, correct: report(n, float(len(y) - correct)))
    kept, selected = net, "objective"
    if config.select in ("val", "train+val"):
        chosen = select_candidate(pool, config.select, len(y), len(dataset.y_val))
        if chosen is not None:
            kept, selected = chosen.network, config.select
    model = network_model(kept, dataset.classes, spec.levels, name, dataset.features)
    simplified = None
    if config.simplify and config.hidden:
        model, simplified = simplify(model)
    train_acc = accuracy(model, X, y)
    val_acc_kept = accuracy(model, dataset.X_val, dataset.y_val)
    test_acc = accuracy(model, dataset.X_test, dataset.y_test)
    elapsed = time.perf_counter() - t_start
    wrong = float(len(y) - stats.correct)
    result = SolveResult(
        solver="sparse gd + highs (all-rows neighbourhoods)", status=SolveStatus.FEASIBLE,
        solution=None, objective=wrong, bound=None, gap=None, time=elapsed)
    model.training = {
        "objective": "max_correct",
        "solver": result.solver,
        "status": result.status,
        "objective_value": float(round((1 - train_acc) * len(y))),
        "best_objective": wrong,
        "time": round(elapsed, 3),
        "config": asdict(config) | {"hidden": list(config.hidden),
                                    "highs_options": dict(config.highs_options)},
        "data": dict(getattr(dataset, "provenance", {}) or {}),
        "examples": {"train": int(len(y)), "val": int(len(dataset.y_val)),
                     "test": int(len(dataset.y_test))},
        "accuracy": {"train": train_acc, "val": val_acc_kept, "test": test_acc},
        "neurons": simplified,
        "budget": {"max_nonzeros": config.max_nonzeros, "max_neurons": config.max_neurons,
                   "nonzeros": int(np.count_nonzero(kept[0][0])),
                   "active_neurons": active_neurons(kept)},
        "start": {"kind": "sparse gd", "gd_train_accuracy": gd.train_accuracy,
                  "gd_time": round(gd.time, 3), "gd_epochs": gd.epochs,
                  "gd_restarts": choice},
        "all_rows": {"iterations": stats.iterations, "improvements": stats.improvements,
                     "sideways": stats.sideways, "skipped": stats.skipped,
                     "start_correct": stats.start_correct, "correct": stats.correct,
                     "history": stats.history[:50]},
        "trajectory": trajectory_summary(trajectory),
        "selected": selected,
    }
    return TrainResult(
        model=model, solve=result, build_time=0.0, train_accuracy=train_acc,
        val_accuracy=val_acc_kept, test_accuracy=test_acc,
        mip_train_accuracy=stats.correct / max(1, len(y)), trajectory=trajectory,
        candidates=pool,
    )
