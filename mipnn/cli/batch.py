"""``mipnn train --batch-size B --epochs E ...``: which options batch training takes, and
the run they start (mipnn.trainer.batch_run does the work), with its progress lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mipnn.cli.options import echo_scales, parse_raw_scales, pct
from mipnn.terminal import say
from mipnn.trainer.errors import MipnnError

BATCH_KEYS = ("batch_size", "epochs", "batch_variant", "workers", "scheduler", "checkpoint",
              "resume", "finetune", "batch_start")
# options of one MIP run that batch training does not take, and why
NOT_WITH_BATCH = {
    "guard_folds": "--guard-folds is not combined with batch training (--batch-size); "
                   "batch training chooses its network on the validation set",
    "start_path": "--start applies to one MIP; batch training starts from --batch-start",
    "teacher": "--teacher is not combined with batch training (--batch-size); train "
               "without --batch-size",
    "prune": "--prune is not combined with batch training; train without --batch-size, or "
             "prune the batch-trained model's neurons later",
}


def check_batch_options(opts: dict[str, Any]) -> bool:
    """Whether the options ask for batch training (``--batch-size``); MipnnError for a
    batch option without it, or an option of one MIP run that batch training does not
    take."""
    if opts["batch_size"] is None:
        given = [f"--{k.replace('_', '-')}" for k in ("epochs", "scheduler", "checkpoint")
                 if opts[k] is not None] + (["--resume"] if opts["resume"] else [])
        if given:
            raise MipnnError(f"{', '.join(given)} go(es) with --batch-size (batch training)")
        return False
    given = {"guard_folds": bool(opts["guard_folds"]),
             "start_path": opts["start_path"] is not None,
             "teacher": opts["teacher"] not in (None, "none"),
             "prune": opts["prune"] is not None}
    for key, message in NOT_WITH_BATCH.items():
        if given[key]:
            raise MipnnError(message)
    if opts["objective"] == "gd":
        raise MipnnError("batch training combines MIP solutions; --objective gd trains one "
                         "network by gradient descent: drop --batch-size, or pick a MIP "
                         "objective")
    return True


def checkpoint_path(opts: dict[str, Any]) -> Path:
    """The checkpoint file of batch training: ``--checkpoint``, else ``OUT.ckpt.json``."""
    out: Path = opts["out"]
    return opts["checkpoint"] or out.with_name(out.name + ".ckpt.json")


def run_batch(opts: dict[str, Any]) -> None:
    """Batch training with the options (checked by check_batch_options), to the model
    file. The levers the measured defaults set for one MIP run take their plain values
    here (``--margin`` 1)."""
    from mipnn.trainer.batch import BatchConfig, BatchInterrupted
    from mipnn.trainer.batch_run import train_batch_model
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.formulation import NetworkSpec
    from mipnn.trainer.model import save_model
    from mipnn.trainer.objectives import check_margin, resolve_margin
    from mipnn.trainer.stop import exit_after_stop, interruptible, mark_interrupted

    hidden = opts["hidden"]
    check_margin(opts["margin"] or 1, hidden)
    out: Path = opts["out"]
    ds = load_dataset(opts["dataset"], csv=opts["csv_path"], target=opts["target_col"],
                      data_dir=opts["data_dir"], train_size=opts["train_size"],
                      seed=opts["seed"], levels=opts["levels"] or 255,
                      raw_scales=parse_raw_scales(opts["raw_scales"]))
    for note in ds.notes:
        say(f"note: {note}")
    echo_scales(ds.features)
    spec = NetworkSpec(n_inputs=int(ds.X_train.shape[1]), hidden=hidden,
                       n_classes=len(ds.classes), bound=opts["bound"], levels=int(ds.levels),
                       objective=opts["objective"],
                       margin=resolve_margin(opts["margin"] or 1, hidden, opts["bound"]))
    config = BatchConfig(
        batch_size=opts["batch_size"], epochs=opts["epochs"] or 3,
        variant=opts["batch_variant"], workers=opts["workers"], scheduler=opts["scheduler"],
        time_limit=opts["time_limit"], threads=opts["threads"], seed=opts["seed"],
        finetune_size=opts["finetune"],
        checkpoint=checkpoint_path(opts),
        resume=opts["resume"],
    )
    config.check(len(ds.y_train))
    where = f"Dask {config.scheduler}" if config.scheduler else f"{config.workers} worker(s)"
    n_batches = len(ds.y_train) // config.batch_size
    say(f"data: {ds.name}: {len(ds.y_train)} train / {len(ds.y_val)} val / "
        f"{len(ds.y_test)} test examples, {ds.X_train.shape[1]} inputs")
    say(f"batch training ({config.variant}): {n_batches} MIPs of {config.batch_size} "
        f"examples per epoch, {config.epochs} epochs, {config.time_limit:g} s per MIP, on "
        f"{where}; checkpoint {config.checkpoint}")

    def show(p: Any) -> None:
        if p.message:
            say(p.message)
        elif not opts["quiet"] and (p.done == p.total or p.done % max(1, p.total // 10) == 0):
            best = "-" if p.best_val is None else f"{100 * p.best_val:.1f}%"
            say(f"  epoch {p.epoch}/{p.epochs}: {p.done}/{p.total} batches done, "
                f"{p.failed} failed, best val so far {best}")

    with interruptible() as stop:  # Ctrl-C: exit 130 after the checkpoint
        try:
            model, result = train_batch_model(ds, spec, config, start=opts["batch_start"],
                                              on_progress=show)
        except BatchInterrupted as exc:
            say(f"mipnn: {exc}", err=True)
            exit_after_stop(130, at_once=True)
    if stop.requested:  # during the final fine-tuning MIP: its best network is kept
        mark_interrupted(model.training)
    save_model(model, out)
    say(f"final network: {result.source}; {result.mips_solved} MIPs in "
        f"{result.wall_time:.1f} s, {result.failed_batches} failed")
    train_acc, test_acc = model.training["accuracy"]["train"], model.training["accuracy"]["test"]
    say(f"accuracy: train {pct(train_acc)}  val {pct(result.val_accuracy)}  "
        f"test {pct(test_acc)}")
    say(f"wrote {out}")
    if stop.requested:
        say(f"mipnn: interrupted (Ctrl-C) in the final fine-tuning MIP: wrote its best "
            f"network so far to {out} (training.status \"interrupted\")", err=True)
        exit_after_stop(130, at_once=True)
