"""Batch training (Thorbjarnarson & Yorke-Smith 2023, section "batch training"): many small
MIPs, each on a batch of the training data, combined into one network, for far more data
than one MIP can take.

The paper's algorithm (``variant="paper"``): each epoch reshuffles the training data and
splits it into batches of B; each batch is a separate MIP solved independently inside the
current per-parameter bounds; the batch solutions are combined by their validation
accuracy (rescaled to [0, 1]) into a weighted mean, rounded to integers; the next epoch's
bounds are ``[mean - (P - e), mean + (P - e)]`` clipped to ``[-P, P]`` (the first layer's
bias scaled by L); the final network is the epoch mean with the best validation accuracy.

mipnn's variant (``variant="mipnn"``) changes what measurably helps: every batch MIP is
warm-started from the current mean (the first epoch from a given start network, e.g. the
gradient baseline), so all batches improve one common network and their neurons stay
aligned for averaging; the next bounds follow the per-parameter spread of the batch
solutions (intersected with the paper's shrinking window); the candidates for the final
network include the best single batch solution; and a final fine-tuning MIP on a larger
sample, warm-started from the best network, is kept only when it raises validation
accuracy.

The batch MIPs are independent, so they run on a pool: local processes (``workers``) or a
Dask cluster (``scheduler``). A checkpoint is written after every epoch; ``resume``
continues from it. A batch that fails, times out or returns no solution is reported and
skipped, never averaged in. Ctrl-C (or a stop request, :mod:`mipnn.trainer.stop`) ends
the run with BatchInterrupted: the checkpoint holds the epochs done.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mipnn.trainer.batch_checkpoint import (
    BatchState,
    EpochRecord,
    load_checkpoint,
    save_checkpoint,
)
from mipnn.trainer.batch_combine import combine, next_bounds
from mipnn.trainer.batch_workers import (
    BatchOutcome,
    BatchTask,
    DaskPool,
    LocalPool,
    solve_batch,
)
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.formulation import NetworkSpec, ParamBounds, default_bounds
from mipnn.trainer.model import Model, accuracy, forward, network_model
from mipnn.trainer.stop import StopRequested

Network = list[tuple[np.ndarray, np.ndarray]]
VARIANTS = ("mipnn", "paper")


class BatchInterrupted(MipnnError):
    """Training stopped (Ctrl-C) after the epochs saved in the checkpoint."""


@dataclass(frozen=True)
class BatchConfig:
    """How to run batch training. ``time_limit`` is per batch MIP."""

    batch_size: int = 100
    epochs: int = 3
    variant: str = "mipnn"
    workers: int = 1
    scheduler: str | None = None
    time_limit: float = 10.0
    threads: int = 1
    seed: int = 0
    batch_timeout: float | None = None  # wall clock per batch; default 3 x time_limit + 60
    finetune_size: int = 0  # mipnn variant: examples in the final fine-tuning MIP (0: none)
    finetune_time: float = 60.0
    trust_radius: int = 2  # mipnn variant: every batch MIP stays within center +/- r
    hard_fraction: float = 0.0  # mipnn variant: share of each batch drawn from misclassified
    checkpoint: Path | None = None
    resume: bool = False

    def check(self, n_train: int) -> None:
        if self.variant not in VARIANTS:
            raise MipnnError(f"--batch-variant must be one of {', '.join(VARIANTS)}")
        if self.batch_size < 2:
            raise MipnnError(f"--batch-size must be at least 2, got {self.batch_size}")
        if self.batch_size > n_train:
            raise MipnnError(
                f"--batch-size {self.batch_size} is larger than the {n_train} training examples"
            )
        if self.epochs < 1:
            raise MipnnError(f"--epochs must be at least 1, got {self.epochs}")
        if self.workers < 1:
            raise MipnnError(f"--workers must be at least 1, got {self.workers}")
        if self.resume and self.checkpoint is None:
            raise MipnnError("--resume needs a checkpoint file")


@dataclass
class BatchProgress:
    """A report while batch training runs: batches done in the current epoch, failures,
    the best validation accuracy so far, and a message at the end of each epoch."""

    epoch: int
    epochs: int
    done: int
    total: int
    failed: int
    best_val: float | None
    message: str = ""


@dataclass
class BatchResult:
    """The batch-trained model, its network and validation accuracy, every epoch's record,
    and which candidate became the final network."""

    model: Model
    network: Network
    val_accuracy: float
    epochs: list[EpochRecord]
    failed_batches: int
    mips_solved: int
    wall_time: float
    source: str  # which candidate became the final network
    extra: dict[str, Any] = field(default_factory=dict)


def _hard_batches(rng: np.random.Generator, wrong: np.ndarray, n_batches: int, size: int,
                  fraction: float) -> list[np.ndarray]:
    """Batches in which ``fraction`` of the examples are ones the current network gets
    wrong (as far as there are), the rest drawn at random; no example twice in a batch."""
    hard = rng.permutation(np.flatnonzero(wrong))
    batches = []
    n_hard = int(round(size * fraction))
    for k in range(n_batches):
        h = hard[(k * n_hard) % max(1, len(hard)):][:n_hard] if len(hard) else hard
        rest = rng.permutation(np.setdiff1d(np.arange(len(wrong)), h))[: size - len(h)]
        batches.append(np.sort(np.concatenate([h, rest])))
    return batches


def train_batches(
    dataset: Any,
    spec: NetworkSpec,
    config: BatchConfig,
    start: Network | None = None,
    on_progress: Callable[[BatchProgress], None] | None = None,
    solve_fn: Callable[[BatchTask], BatchOutcome] = solve_batch,
) -> BatchResult:
    """Batch-train ``spec`` on ``dataset`` (a mipnn.trainer.data.Dataset). ``start`` is the
    network the mipnn variant warm-starts from in the first epoch (default: all zero)."""
    X, y = np.asarray(dataset.X_train), np.asarray(dataset.y_train)
    Xv, yv = np.asarray(dataset.X_val), np.asarray(dataset.y_val)
    if len(yv) == 0:
        raise MipnnError("batch training needs a validation split to weight the batches")
    config.check(len(y))
    limits = default_bounds(spec)
    name = str(getattr(dataset, "name", "model"))

    def val_acc(net: Network) -> float:
        return accuracy(network_model(net, dataset.classes, spec.levels, name), Xv, yv)

    def val_model(net: Network, Xs: np.ndarray) -> np.ndarray:
        return forward(network_model(net, dataset.classes, spec.levels, name), Xs)[1]

    # state: center network, bounds, epoch records; from the checkpoint when resuming
    center: Network = start if start is not None else [
        (np.zeros_like(wl), np.zeros_like(bl)) for wl, _, bl, _ in limits]
    bounds: ParamBounds = limits
    if config.variant == "mipnn" and start is not None:
        center = [(np.clip(W, wl, wu), np.clip(b, bl, bu))
                  for (W, b), (wl, wu, bl, bu) in zip(start, limits, strict=True)]
    if config.variant == "mipnn":
        bounds = next_bounds(center, limits, config.trust_radius, spec.levels)
    records: list[EpochRecord] = []
    best_single: tuple[float, Network] | None = None
    fingerprint = {
        "spec": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(spec).items()},
        "variant": config.variant, "batch_size": config.batch_size, "seed": config.seed,
        "data": dict(getattr(dataset, "provenance", {}) or {}), "n_train": int(len(y)),
    }
    if config.resume:
        state = load_checkpoint(config.checkpoint, fingerprint)  # type: ignore[arg-type]
        center, bounds, records, best_single = (
            state.center, state.bounds, state.records, state.best_single)

    pool: LocalPool | DaskPool = (
        DaskPool(config.scheduler) if config.scheduler else LocalPool(config.workers)
    )
    timeout = config.batch_timeout or (3 * config.time_limit + 60)
    t_start = time.perf_counter()
    n_failed = sum(len(r.failed) for r in records)
    n_solved = 0
    try:
        for epoch in range(len(records), config.epochs):
            t_epoch = time.perf_counter()
            rng = np.random.default_rng([config.seed, epoch])
            n_batches = max(1, len(y) // config.batch_size)
            if config.variant == "mipnn" and config.hard_fraction > 0:
                batches = _hard_batches(rng, val_model(center, X) != y, n_batches,
                                        config.batch_size, config.hard_fraction)
            else:
                order = rng.permutation(len(y))
                batches = [order[k * config.batch_size:(k + 1) * config.batch_size]
                           for k in range(n_batches)]
            tasks = []
            for k, idx in enumerate(batches):
                tasks.append(BatchTask(
                    epoch=epoch, index=k, spec=spec, X=X[idx], y=y[idx], bounds=bounds,
                    start=center if config.variant == "mipnn" else None,
                    time_limit=config.time_limit,
                    seed=int(np.random.default_rng([config.seed, epoch, k]).integers(2**31 - 1)),
                    threads=config.threads,
                ))
            outcomes: dict[int, BatchOutcome] = {}
            failed: list[dict[str, Any]] = []
            best_val = max((r.val_accuracy for r in records), default=None)
            for task, out in pool.run(solve_fn, tasks, timeout):
                outcomes[task.index] = out
                if out.network is None:
                    failed.append({"batch": task.index, "status": out.status, "error": out.error})
                if on_progress is not None:
                    on_progress(BatchProgress(epoch + 1, config.epochs, len(outcomes),
                                              n_batches, len(failed), best_val))
            good = [outcomes[k] for k in sorted(outcomes) if outcomes[k].network is not None]
            n_failed += len(failed)
            n_solved += len(outcomes)
            if not good:
                raise MipnnError(f"epoch {epoch + 1}: every batch failed "
                                 f"(first error: {failed[0]['error'] if failed else '?'})")
            nets = [o.network for o in good]  # type: ignore[misc]
            accs = [val_acc(n) for n in nets]  # type: ignore[arg-type]
            mean = combine(nets, accs, limits)  # type: ignore[arg-type]
            mean_val = val_acc(mean)
            k_best = int(np.argmax(accs))
            if best_single is None or accs[k_best] > best_single[0]:
                best_single = (accs[k_best], nets[k_best])  # type: ignore[assignment]
            records.append(EpochRecord(
                epoch=epoch + 1, val_accuracy=mean_val, network=mean, ok=len(good),
                failed=failed, best_batch_val=max(accs), seconds=time.perf_counter() - t_epoch,
                mean_solve_time=float(np.mean([o.solve_time for o in good])),
                mean_build_time=float(np.mean([o.build_time for o in good])),
                mean_overhead=float(np.mean([o.total_time - o.solve_time for o in good])),
            ))
            radius = spec.bound - (epoch + 1)
            if config.variant == "paper":
                center = mean
                bounds = next_bounds(center, limits, radius, spec.levels)
            else:
                # move only to a better network (by validation accuracy): the current
                # center, the epoch mean, or the best batch solution; never worse than the start
                center_val = val_acc(center)
                for cand_val, cand in ((mean_val, mean), (accs[k_best], nets[k_best])):
                    if cand_val > center_val:
                        center, center_val = cand, cand_val  # type: ignore[assignment]
                bounds = next_bounds(center, limits,
                                     max(1, min(radius, config.trust_radius)), spec.levels)
            if config.checkpoint is not None:
                save_checkpoint(config.checkpoint, fingerprint,
                                BatchState(center, bounds, records, best_single))
            if on_progress is not None:
                on_progress(BatchProgress(
                    epoch + 1, config.epochs, n_batches, n_batches, len(failed),
                    max(r.val_accuracy for r in records),
                    f"epoch {epoch + 1}: mean network val {100 * mean_val:.1f}%, best batch "
                    f"{100 * max(accs):.1f}%, {len(good)} ok, {len(failed)} failed, "
                    f"{records[-1].seconds:.1f} s"))
    except (KeyboardInterrupt, StopRequested):
        pool.close(kill=True)
        where = f"; checkpoint {config.checkpoint}" if config.checkpoint else ""
        raise BatchInterrupted(
            f"interrupted after {len(records)} complete epoch(s){where}; "
            "run again with --resume to continue") from None
    finally:
        pool.close()

    # the final network: the epoch mean with the best validation accuracy (paper);
    # mipnn also considers the best single batch solution and a fine-tuning MIP
    best = max(records, key=lambda r: r.val_accuracy)
    final, final_val, source = best.network, best.val_accuracy, f"epoch {best.epoch} mean"
    extra: dict[str, Any] = {}
    if config.variant == "mipnn":
        center_val = val_acc(center)
        if center_val > final_val:
            final, final_val = center, center_val
            source = "best of start, epoch means and batch solutions"
        if config.finetune_size > 0:
            tuned, tuned_val, info = _finetune(dataset, spec, config, final, val_acc)
            extra["finetune"] = info
            if tuned is not None and tuned_val > final_val:
                final, final_val, source = tuned, tuned_val, source + " + fine-tuning MIP"
    model = network_model(final, dataset.classes, spec.levels, name, dataset.features)
    return BatchResult(model=model, network=final, val_accuracy=final_val, epochs=records,
                       failed_batches=n_failed, mips_solved=n_solved,
                       wall_time=time.perf_counter() - t_start, source=source, extra=extra)


def _finetune(dataset: Any, spec: NetworkSpec, config: BatchConfig, start: Network,
              val_acc: Callable[[Network], float]) -> tuple[Network | None, float, dict[str, Any]]:
    """One larger MIP around the best network (bounds +/-1), warm-started from it."""
    X, y = np.asarray(dataset.X_train), np.asarray(dataset.y_train)
    rng = np.random.default_rng([config.seed, 10**6])
    idx = rng.choice(len(y), size=min(config.finetune_size, len(y)), replace=False)
    limits = default_bounds(spec)
    bounds = next_bounds(start, limits, 1, spec.levels)
    task = BatchTask(epoch=-1, index=0, spec=spec, X=X[idx], y=y[idx], bounds=bounds,
                     start=start, time_limit=config.finetune_time, seed=config.seed,
                     threads=max(config.threads, 1))
    out = solve_batch(task)
    if out.network is None:
        return None, -1.0, {"status": out.status, "examples": int(len(idx))}
    v = val_acc(out.network)
    return out.network, v, {"status": out.status, "examples": int(len(idx)),
                            "val_accuracy": v, "time": round(out.solve_time, 2)}
