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
skipped, never averaged in.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.formulation import (
    NetworkSpec,
    ParamBounds,
    build_problem,
    default_bounds,
    network_from_solution,
    start_from_network,
    zero_start,
)
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.model import Layer, Model, accuracy

Network = list[tuple[np.ndarray, np.ndarray]]
VARIANTS = ("mipnn", "paper")
CHECKPOINT_FORMAT = "mipnn.batch-checkpoint"


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


@dataclass(frozen=True)
class BatchTask:
    """One batch MIP, self-contained so it can be sent to another process or machine."""

    epoch: int
    index: int
    spec: NetworkSpec
    X: np.ndarray
    y: np.ndarray
    bounds: ParamBounds
    start: Network | None
    time_limit: float
    seed: int
    threads: int


@dataclass
class BatchOutcome:
    epoch: int
    index: int
    status: str  # solver status, or "failed"
    network: Network | None
    objective: float | None = None
    solve_time: float = 0.0
    build_time: float = 0.0
    error: str | None = None
    total_time: float = 0.0  # wall time in the worker: build, hand-off, solve, read-back


def solve_batch(task: BatchTask) -> BatchOutcome:
    """Build and solve one batch MIP (runs in a worker process)."""
    t0 = time.perf_counter()
    problem = build_problem(task.spec, task.X, task.y, bounds=task.bounds)
    start = None
    if task.start is not None:
        start = start_from_network(problem, task.start)
    elif all(np.all(lo <= 0) and np.all(hi >= 0) for lo, hi, _, _ in task.bounds):
        start = zero_start(problem)
    build = time.perf_counter() - t0
    res = solve_highs(problem, time_limit=task.time_limit, seed=task.seed,
                      threads=task.threads, start=start)
    if res.solution is None:
        return BatchOutcome(task.epoch, task.index, res.status, None, None, res.time, build,
                            error=f"no solution ({res.status})",
                            total_time=time.perf_counter() - t0)
    net = network_from_solution(problem, res.solution)
    return BatchOutcome(task.epoch, task.index, res.status, net, res.objective, res.time,
                        build, total_time=time.perf_counter() - t0)


@dataclass
class EpochRecord:
    epoch: int
    val_accuracy: float
    network: Network
    ok: int
    failed: list[dict[str, Any]]
    best_batch_val: float | None
    seconds: float
    mean_solve_time: float
    mean_build_time: float
    mean_overhead: float = 0.0  # per MIP, outside the solver's run (build, hand-off, read)


@dataclass
class BatchProgress:
    epoch: int
    epochs: int
    done: int
    total: int
    failed: int
    best_val: float | None
    message: str = ""


@dataclass
class BatchResult:
    model: Model
    network: Network
    val_accuracy: float
    epochs: list[EpochRecord]
    failed_batches: int
    mips_solved: int
    wall_time: float
    source: str  # which candidate became the final network
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- pools


class _LocalPool:
    """Local worker processes; a pool broken by a killed worker is replaced."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def _ensure(self) -> ProcessPoolExecutor:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.workers)
        return self.pool

    def run(self, fn: Callable[[BatchTask], BatchOutcome], tasks: list[BatchTask],
            timeout: float) -> Iterator[tuple[BatchTask, BatchOutcome]]:
        """All tasks in parallel. When a worker dies, the pool breaks and every batch in
        flight is lost: those are retried one at a time in a fresh pool, so the batch that
        kills its worker is found, reported and skipped, and the others still count."""
        lost: list[BatchTask] = []
        yield from self._round(fn, tasks, timeout, lost)
        for task in lost:
            again: list[BatchTask] = []
            yield from self._round(fn, [task], timeout, again)
            for t in again:
                yield t, _failed(t, "its worker process died (twice)")

    def _round(self, fn: Callable[[BatchTask], BatchOutcome], tasks: list[BatchTask],
               timeout: float, lost: list[BatchTask]) -> Iterator[tuple[BatchTask, BatchOutcome]]:
        pool = self._ensure()
        futures: dict[Future[BatchOutcome], BatchTask] = {pool.submit(fn, t): t for t in tasks}
        started: dict[Future[BatchOutcome], float] = {}
        broken = False
        not_done = set(futures)
        while not_done:
            done, not_done = wait(not_done, timeout=1.0, return_when=FIRST_COMPLETED)
            for f in done:
                t = futures[f]
                try:
                    yield t, f.result()
                except BrokenProcessPool:
                    broken = True
                    lost.append(t)
                except Exception as exc:  # noqa: BLE001 - reported, never averaged in
                    yield t, _failed(t, f"{type(exc).__name__}: {exc}")
            # a batch over its wall-clock budget is reported and skipped
            now = time.monotonic()
            for f in list(not_done):
                if f.running():
                    started.setdefault(f, now)
                    if now - started[f] > timeout:
                        not_done.discard(f)
                        broken = True  # its process is still busy: replace the pool
                        yield futures[f], _failed(futures[f], f"timed out after {timeout:g} s")
        if broken:
            self.close(kill=True)

    def close(self, kill: bool = False) -> None:
        if self.pool is not None:
            if kill:
                for p in list(getattr(self.pool, "_processes", {}).values()):
                    p.kill()
            self.pool.shutdown(wait=not kill, cancel_futures=True)
            self.pool = None


class _DaskPool:
    """Batch MIPs on a dask.distributed cluster (``pip install mipnn[cluster]``)."""

    def __init__(self, address: str) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise MipnnError(
                "--scheduler needs dask.distributed: pip install 'mipnn[cluster]'"
            ) from None
        try:
            self.client = Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise MipnnError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def run(self, fn: Callable[[BatchTask], BatchOutcome], tasks: list[BatchTask],
            timeout: float) -> Iterator[tuple[BatchTask, BatchOutcome]]:
        from dask.distributed import as_completed

        futures = {self.client.submit(fn, t, pure=False, retries=1): t for t in tasks}
        deadline = time.monotonic() + timeout * max(1, len(tasks))
        try:
            for f in as_completed(futures, timeout=max(1.0, deadline - time.monotonic())):
                t = futures[f]
                try:
                    yield t, f.result()
                except Exception as exc:  # noqa: BLE001 - reported, never averaged in
                    yield t, _failed(t, f"{type(exc).__name__}: {exc}")
        except TimeoutError:
            for f, t in futures.items():
                if not f.done():
                    f.cancel()
                    yield t, _failed(t, "timed out on the cluster")

    def close(self, kill: bool = False) -> None:
        self.client.close()


def _failed(task: BatchTask, error: str) -> BatchOutcome:
    return BatchOutcome(task.epoch, task.index, "failed", None, error=error)


# ---------------------------------------------------------------- the algorithm


def _as_model(spec: NetworkSpec, net: Network, name: str, classes: list[str],
              features: list[dict[str, Any]] | None) -> Model:
    layers = [Layer(W, b, "sign" if li < len(net) - 1 else "linear")
              for li, (W, b) in enumerate(net)]
    return Model(name=name, classes=list(classes), input_size=spec.n_inputs,
                 levels=spec.levels, layers=layers, features=features)


def combine(networks: list[Network], val_accuracies: list[float],
            limits: ParamBounds) -> Network:
    """The paper's combination: weights = validation accuracy rescaled to [0, 1] (equal
    weights when all are equal), weighted mean of every parameter, rounded, clipped."""
    acc = np.asarray(val_accuracies, dtype=float)
    span = acc.max() - acc.min()
    w = (acc - acc.min()) / span if span > 0 else np.ones_like(acc)
    w = w / w.sum()
    out: Network = []
    for li, (wl, wu, bl, bu) in enumerate(limits):
        W = sum(wi * net[li][0] for wi, net in zip(w, networks, strict=True))
        b = sum(wi * net[li][1] for wi, net in zip(w, networks, strict=True))
        out.append((np.clip(np.rint(W), wl, wu).astype(np.int64),
                    np.clip(np.rint(b), bl, bu).astype(np.int64)))
    return out


def next_bounds(center: Network, limits: ParamBounds, radius: int, levels: int,
                spread: tuple[Network, Network] | None = None) -> ParamBounds:
    """``[center - r, center + r]`` clipped to the limits (first-layer bias radius ``r*L``);
    with ``spread`` (per-parameter min and max of the batch solutions) the window is
    narrowed to ``[min - 1, max + 1]``, always containing the center."""
    r = max(radius, 0)
    out: ParamBounds = []
    for li, ((W, b), (wl, wu, bl, bu)) in enumerate(zip(center, limits, strict=True)):
        rb = r * levels if li == 0 else r
        lo_w, hi_w = np.maximum(W - r, wl), np.minimum(W + r, wu)
        lo_b, hi_b = np.maximum(b - rb, bl), np.minimum(b + rb, bu)
        if spread is not None:
            (smin_w, smin_b), (smax_w, smax_b) = spread[0][li], spread[1][li]
            lo_w = np.maximum(lo_w, np.minimum(smin_w - 1, W))
            hi_w = np.minimum(hi_w, np.maximum(smax_w + 1, W))
            sb = levels if li == 0 else 1
            lo_b = np.maximum(lo_b, np.minimum(smin_b - sb, b))
            hi_b = np.minimum(hi_b, np.maximum(smax_b + sb, b))
        out.append((lo_w, hi_w, lo_b, hi_b))
    return out


def _spread(networks: list[Network]) -> tuple[Network, Network]:
    lo = [(np.min([n[li][0] for n in networks], axis=0), np.min([n[li][1] for n in networks], axis=0))
          for li in range(len(networks[0]))]
    hi = [(np.max([n[li][0] for n in networks], axis=0), np.max([n[li][1] for n in networks], axis=0))
          for li in range(len(networks[0]))]
    return lo, hi


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


def _net_to_json(net: Network) -> list[dict[str, Any]]:
    return [{"weights": W.tolist(), "bias": b.tolist()} for W, b in net]


def _net_from_json(data: list[dict[str, Any]]) -> Network:
    return [(np.array(d["weights"], dtype=np.int64), np.array(d["bias"], dtype=np.int64))
            for d in data]


def _bounds_to_json(bounds: ParamBounds) -> list[list[list[Any]]]:
    return [[a.tolist() for a in layer] for layer in bounds]


def _bounds_from_json(data: list[list[list[Any]]]) -> ParamBounds:
    return [tuple(np.array(a, dtype=np.int64) for a in layer) for layer in data]  # type: ignore[misc]


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
        return accuracy(_as_model(spec, net, name, dataset.classes, None), Xv, yv)

    def val_model(net: Network, Xs: np.ndarray) -> np.ndarray:
        from mipnn.trainer.model import forward

        return forward(_as_model(spec, net, name, dataset.classes, None), Xs)[1]

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
        state = _load_checkpoint(config.checkpoint, fingerprint)  # type: ignore[arg-type]
        center = _net_from_json(state["center"])
        bounds = _bounds_from_json(state["bounds"])
        records = [EpochRecord(**(r | {"network": _net_from_json(r["network"])}))
                   for r in state["epochs"]]
        if state.get("best_single"):
            best_single = (state["best_single"]["val"],
                           _net_from_json(state["best_single"]["network"]))

    pool: _LocalPool | _DaskPool = (
        _DaskPool(config.scheduler) if config.scheduler else _LocalPool(config.workers)
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
                _save_checkpoint(config.checkpoint, fingerprint, center, bounds, records,
                                 best_single)
            if on_progress is not None:
                on_progress(BatchProgress(
                    epoch + 1, config.epochs, n_batches, n_batches, len(failed),
                    max(r.val_accuracy for r in records),
                    f"epoch {epoch + 1}: mean network val {100 * mean_val:.1f}%, best batch "
                    f"{100 * max(accs):.1f}%, {len(good)} ok, {len(failed)} failed, "
                    f"{records[-1].seconds:.1f} s"))
    except KeyboardInterrupt:
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
    model = _as_model(spec, final, name, dataset.classes, dataset.features)
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


def _save_checkpoint(path: Path, fingerprint: dict[str, Any], center: Network,
                     bounds: ParamBounds, records: list[EpochRecord],
                     best_single: tuple[float, Network] | None) -> None:
    data = {
        "format": CHECKPOINT_FORMAT, "version": 1, "fingerprint": fingerprint,
        "center": _net_to_json(center), "bounds": _bounds_to_json(bounds),
        "epochs": [asdict(r) | {"network": _net_to_json(r.network)} for r in records],
        "best_single": None if best_single is None else {
            "val": best_single[0], "network": _net_to_json(best_single[1])},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)  # atomic: an interruption never leaves half a checkpoint


def _load_checkpoint(path: Path, fingerprint: dict[str, Any]) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise MipnnError(f"{path}: no checkpoint to resume from")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MipnnError(f"{path}: unreadable checkpoint ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise MipnnError(f"{path}: $.format: not a mipnn batch checkpoint")
    saved = json.loads(json.dumps(data.get("fingerprint")))
    now = json.loads(json.dumps(fingerprint))
    if saved != now:
        keys = sorted(k for k in set(saved or {}) | set(now) if (saved or {}).get(k) != now.get(k))
        raise MipnnError(
            f"{path}: $.fingerprint: the checkpoint is of a different run (differs in "
            f"{', '.join(keys)}); use the same data and options, or another checkpoint")
    return data
