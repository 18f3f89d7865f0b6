"""``mipnn train --batch-size B --epochs E ...``: the batch-training options of the train
command, and the run they start (mipnn.trainer.batch does the work)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mipnn.failure import Failure
from mipnn.trainer.errors import MipnnError

BATCH_KEYS = ("batch_size", "epochs", "batch_variant", "workers", "scheduler", "checkpoint",
              "resume", "finetune", "batch_start")


def batch_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the batch options to the train command; with ``--batch-size`` the command runs
    batch training instead of one MIP."""

    @functools.wraps(func)
    def wrapper(**kwargs: Any) -> Any:
        opts = {k: kwargs.pop(k) for k in BATCH_KEYS}
        if opts["batch_size"] is None:
            given = [f"--{k.replace('_', '-')}" for k in ("epochs", "scheduler", "checkpoint")
                     if opts[k] is not None] + (["--resume"] if opts["resume"] else [])
            if given:
                _fail(f"{', '.join(given)} go(es) with --batch-size (batch training)")
            return func(**kwargs)
        try:
            return run_batch(kwargs, opts)
        except MipnnError as exc:
            _fail(str(exc))

    options = [
        click.option("--batch-size", type=click.IntRange(min=2), metavar="B",
                     help="batch training: MIPs of B examples each, combined (see docs)"),
        click.option("--epochs", type=click.IntRange(min=1), metavar="E",
                     help="batch training: passes over the data [default: 3]"),
        click.option("--batch-variant", type=click.Choice(["mipnn", "paper"]), default="mipnn",
                     show_default=True, help="paper: the published algorithm unchanged"),
        click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                     help="local worker processes for the batch MIPs"),
        click.option("--scheduler", metavar="tcp://HOST:8786",
                     help="run the batch MIPs on a Dask cluster (pip install 'mipnn[cluster]')"),
        click.option("--checkpoint", type=click.Path(path_type=Path, dir_okay=False),
                     help="checkpoint written after each epoch [default: OUT.ckpt.json]"),
        click.option("--resume", is_flag=True, help="continue from the checkpoint"),
        click.option("--finetune", type=click.IntRange(min=0), default=0, show_default=True,
                     metavar="N", help="mipnn variant: a final MIP on N examples"),
        click.option("--batch-start", type=click.Choice(["zero", "gd"]), default="gd",
                     show_default=True,
                     help="mipnn variant: the network the first epoch starts from"),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _fail(message: str) -> None:
    raise Failure(message)


def run_batch(kw: dict[str, Any], opts: dict[str, Any]) -> None:
    from mipnn.cli import _check_source, _parse_hidden, _pct
    from mipnn.trainer.batch import BatchConfig, BatchInterrupted, train_batches
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.formulation import NetworkSpec
    from mipnn.trainer.model import accuracy, save_model
    from mipnn.trainer.prune import simplify

    _check_source(kw["dataset"], kw["csv_path"], kw["target_col"])
    dataset = kw["dataset"] or (None if kw["csv_path"] else "breast_cancer")
    hidden = _parse_hidden(kw["hidden"])
    if kw.get("guard_folds"):
        raise MipnnError("--guard-folds is not combined with batch training (--batch-size); "
                         "batch training chooses its network on the validation set")
    if kw.get("start_path") is not None:
        raise MipnnError("--start applies to one MIP; batch training starts from "
                         "--batch-start")
    if kw.get("teacher"):
        raise MipnnError("--teacher is not combined with batch training (--batch-size); "
                         "train without --batch-size")
    if kw.get("prune") is not None:
        raise MipnnError("--prune is not combined with batch training; train without "
                         "--batch-size, or prune the batch-trained model's neurons later")
    if kw.get("objective") == "gd":
        raise MipnnError("batch training combines MIP solutions; --objective gd trains one "
                         "network by gradient descent: drop --batch-size, or pick a MIP "
                         "objective")
    out: Path = kw["out"]
    ds = load_dataset(dataset, csv=kw["csv_path"], target=kw["target_col"],
                      data_dir=kw["data_dir"], train_size=kw["train_size"], seed=kw["seed"],
                      levels=kw["levels"])
    for note in ds.notes:
        click.echo(f"note: {note}", err=True)
    spec = NetworkSpec(n_inputs=int(ds.X_train.shape[1]), hidden=hidden,
                       n_classes=len(ds.classes), bound=kw["bound"], levels=int(ds.levels),
                       objective=kw.get("objective") or "sat_margin", margin=kw["margin"])
    config = BatchConfig(
        batch_size=opts["batch_size"], epochs=opts["epochs"] or 3,
        variant=opts["batch_variant"], workers=opts["workers"], scheduler=opts["scheduler"],
        time_limit=kw["time_limit"], threads=kw["threads"], seed=kw["seed"],
        finetune_size=opts["finetune"],
        checkpoint=opts["checkpoint"] or out.with_name(out.name + ".ckpt.json"),
        resume=opts["resume"],
    )
    config.check(len(ds.y_train))
    start = None
    if config.variant == "mipnn" and opts["batch_start"] == "gd" and not config.resume:
        start = _gradient_start(ds, spec, kw["seed"])
    where = f"Dask {config.scheduler}" if config.scheduler else f"{config.workers} worker(s)"
    n_batches = len(ds.y_train) // config.batch_size
    click.echo(f"data: {ds.name}: {len(ds.y_train)} train / {len(ds.y_val)} val / "
               f"{len(ds.y_test)} test examples, {ds.X_train.shape[1]} inputs")
    click.echo(f"batch training ({config.variant}): {n_batches} MIPs of {config.batch_size} "
               f"examples per epoch, {config.epochs} epochs, {kw['time_limit']:g} s per MIP, "
               f"on {where}; checkpoint {config.checkpoint}")

    def show(p: Any) -> None:
        if p.message:
            click.echo(p.message)
        elif not kw["quiet"] and (p.done == p.total or p.done % max(1, p.total // 10) == 0):
            best = "-" if p.best_val is None else f"{100 * p.best_val:.1f}%"
            click.echo(f"  epoch {p.epoch}/{p.epochs}: {p.done}/{p.total} batches done, "
                       f"{p.failed} failed, best val so far {best}")

    try:
        result = train_batches(ds, spec, config, start=start, on_progress=show)
    except BatchInterrupted as exc:
        click.echo(f"mipnn: {exc}", err=True)
        sys.exit(130)
    model = result.model
    neurons = None
    if hidden:
        model, neurons = simplify(model)
    train_acc = accuracy(model, ds.X_train, ds.y_train)
    test_acc = accuracy(model, ds.X_test, ds.y_test)
    from mipnn.trainer.highs import highs_version

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
            "time_limit_per_mip": kw["time_limit"], "workers": config.workers,
            "scheduler": config.scheduler, **result.extra,
        },
        "config": {"hidden": list(hidden), "bound": kw["bound"], "margin": kw["margin"],
                   "seed": kw["seed"]},
        "data": dict(ds.provenance),
        "examples": {"train": int(len(ds.y_train)), "val": int(len(ds.y_val)),
                     "test": int(len(ds.y_test))},
        "accuracy": {"train": train_acc, "val": result.val_accuracy, "test": test_acc},
        "neurons": neurons,
    }
    save_model(model, out)
    click.echo(f"final network: {result.source}; {result.mips_solved} MIPs in "
               f"{result.wall_time:.1f} s, {result.failed_batches} failed")
    click.echo(f"accuracy: train {_pct(train_acc)}  val {_pct(result.val_accuracy)}  "
               f"test {_pct(test_acc)}")
    click.echo(f"wrote {out}")


def _gradient_start(ds: Any, spec: Any, seed: int, time_limit: float = 60.0,
                    full_batch_max: int = 4000) -> Any:
    """The gradient baseline's network (mipnn.trainer.gd) on the whole training set: the first
    epoch's start of the mipnn variant. Up to ``full_batch_max`` examples it takes full-batch
    Adam steps, as for exact training; beyond that mini-batches of 256, because full-batch
    steps are too few within the time limit (measured on Adult, 25,000 examples, P=15:
    full-batch 79.9% test after 252 s, mini-batches of 256 84.1% after 43 s)."""
    from mipnn.trainer.gd import GdConfig, train_gd

    X, y = ds.X_train, ds.y_train
    batch = 256 if len(y) > full_batch_max else None
    result = train_gd(X, y, hidden=tuple(spec.hidden), n_classes=spec.n_classes,
                      bound=spec.bound, levels=spec.levels,
                      config=GdConfig(seed=seed, time_limit=time_limit, batch_size=batch))
    return result.network
