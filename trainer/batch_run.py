"""One batch-training run from a data set (``mipnn train --batch-size``): the gradient
start of the mipnn variant's first epoch, the run (:func:`mipnn.trainer.batch.train_batches`),
and the saved model: simplified, with its accuracies by the integer reference and the run's
record in ``training`` (status ``batch``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mipnn.trainer.batch import BatchConfig, BatchProgress, BatchResult, Network, train_batches
from mipnn.trainer.formulation import NetworkSpec
from mipnn.trainer.gd import GdConfig, train_gd
from mipnn.trainer.highs import highs_version
from mipnn.trainer.limits import check_training_size
from mipnn.trainer.model import Model, accuracy
from mipnn.trainer.prune import simplify


def gradient_start(ds: Any, spec: NetworkSpec, seed: int, time_limit: float = 60.0,
                   full_batch_max: int = 4000) -> Network:
    """The gradient baseline's network (mipnn.trainer.gd) on the whole training set: the first
    epoch's start of the mipnn variant. Up to ``full_batch_max`` examples it takes full-batch
    Adam steps, as for exact training; beyond that mini-batches of 256, because full-batch
    steps are too few within the time limit (measured on Adult, 25,000 examples, P=15:
    full-batch 79.9% test after 252 s, mini-batches of 256 84.1% after 43 s)."""
    X, y = ds.X_train, ds.y_train
    batch = 256 if len(y) > full_batch_max else None
    result = train_gd(X, y, hidden=tuple(spec.hidden), n_classes=spec.n_classes,
                      bound=spec.bound, levels=spec.levels,
                      config=GdConfig(seed=seed, time_limit=time_limit, batch_size=batch))
    return result.network


def train_batch_model(
    ds: Any, spec: NetworkSpec, config: BatchConfig, start: str = "gd",
    on_progress: Callable[[BatchProgress], None] | None = None,
) -> tuple[Model, BatchResult]:
    """Batch-train ``spec`` on ``ds`` and return the model to save (simplified when it has
    hidden layers, its ``training`` the run's record) with the run's result. ``start``:
    ``gd`` (the mipnn variant's first epoch starts from :func:`gradient_start`; not when
    resuming) or ``zero``."""
    n_train, n_inputs = len(ds.y_train), int(ds.X_train.shape[1])
    what = f"--hidden {','.join(map(str, spec.hidden)) or '0'}"
    for examples in (config.batch_size, min(config.finetune_size, n_train)):
        if examples:
            check_training_size(examples, n_inputs, spec.hidden, spec.n_classes, what=what)
    check_training_size(n_train, n_inputs, spec.hidden, spec.n_classes, mip=False, what=what)
    first = None
    if config.variant == "mipnn" and start == "gd" and not config.resume:
        first = gradient_start(ds, spec, config.seed)
    result = train_batches(ds, spec, config, start=first, on_progress=on_progress)
    model = result.model
    neurons = None
    if spec.hidden:
        model, neurons = simplify(model)
    train_acc = accuracy(model, ds.X_train, ds.y_train)
    test_acc = accuracy(model, ds.X_test, ds.y_test)
    model.training = {
        "objective": spec.objective,
        "solver": highs_version(),
        "status": "batch",
        "batch": {
            "variant": config.variant, "batch_size": config.batch_size,
            "epochs": [{"epoch": r.epoch, "val_accuracy": r.val_accuracy, "ok": r.ok,
                        "failed": len(r.failed), "best_batch_val": r.best_batch_val,
                        "seconds": round(r.seconds, 2)} for r in result.epochs],
            "final": result.source, "failed_batches": result.failed_batches,
            "mips_solved": result.mips_solved, "wall_time": round(result.wall_time, 2),
            "time_limit_per_mip": config.time_limit, "workers": config.workers,
            "scheduler": config.scheduler, **result.extra,
        },
        "config": {"hidden": list(spec.hidden), "bound": spec.bound, "margin": spec.margin,
                   "seed": config.seed},
        "data": dict(ds.provenance),
        "examples": {"train": int(len(ds.y_train)), "val": int(len(ds.y_val)),
                     "test": int(len(ds.y_test))},
        "accuracy": {"train": train_acc, "val": result.val_accuracy, "test": test_acc},
        "neurons": neurons,
    }
    return model, result
