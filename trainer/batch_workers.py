"""The batch MIPs and the pools that run them: one self-contained task per batch (built,
warm-started and solved in a worker), on local worker processes (a pool broken by a killed
worker is replaced, and the batch that killed it found and skipped) or on a Dask cluster
(``pip install mipnn[cluster]``). A batch that fails, times out or loses its worker becomes a
failed outcome, reported and never averaged in."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from mipnn.trainer.errors import MipnnError, one_line
from mipnn.trainer.formulation import NetworkSpec, ParamBounds, build_problem
from mipnn.trainer.highs import solve_highs
from mipnn.trainer.solution import network_from_solution, start_from_network, zero_start
from mipnn.trainer.solve_result import SolveStatus
from mipnn.trainer.stop import raise_if_stopped

Network = list[tuple[np.ndarray, np.ndarray]]
FAILED = "failed"  # the status of a batch that crashed, timed out or lost its worker


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
    """What one batch MIP gave: its status and network (None when it failed)."""

    epoch: int
    index: int
    status: SolveStatus | str  # the solver's status, or "failed" (FAILED) without a solve
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


class LocalPool:
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
                yield t, failed_outcome(t, "its worker process died (twice)")

    def _round(self, fn: Callable[[BatchTask], BatchOutcome], tasks: list[BatchTask],
               timeout: float, lost: list[BatchTask]) -> Iterator[tuple[BatchTask, BatchOutcome]]:
        pool = self._ensure()
        futures: dict[Future[BatchOutcome], BatchTask] = {pool.submit(fn, t): t for t in tasks}
        started: dict[Future[BatchOutcome], float] = {}
        broken = False
        not_done = set(futures)
        while not_done:
            done, not_done = wait(not_done, timeout=0.25, return_when=FIRST_COMPLETED)
            raise_if_stopped()  # Ctrl-C: the caller kills the workers
            for f in done:
                t = futures[f]
                try:
                    yield t, f.result()
                except BrokenProcessPool:
                    broken = True
                    lost.append(t)
                except Exception as exc:  # noqa: BLE001 - reported, never averaged in
                    yield t, failed_outcome(t, f"{type(exc).__name__}: {exc}")
            # a batch over its wall-clock budget is reported and skipped
            now = time.monotonic()
            for f in list(not_done):
                if f.running():
                    started.setdefault(f, now)
                    if now - started[f] > timeout:
                        not_done.discard(f)
                        broken = True  # its process is still busy: replace the pool
                        yield futures[f], failed_outcome(futures[f], f"timed out after {timeout:g} s")
        if broken:
            self.close(kill=True)

    def close(self, kill: bool = False) -> None:
        if self.pool is not None:
            if kill:
                for p in list(getattr(self.pool, "_processes", {}).values()):
                    p.kill()
            self.pool.shutdown(wait=not kill, cancel_futures=True)
            self.pool = None


class DaskPool:
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
        except (ValueError, TypeError) as exc:  # not an address: "missing port number", ...
            raise MipnnError(f"--scheduler {address!r}: not a scheduler address like "
                             f"tcp://HOST:8786 ({one_line(exc)})") from None

    def run(self, fn: Callable[[BatchTask], BatchOutcome], tasks: list[BatchTask],
            timeout: float) -> Iterator[tuple[BatchTask, BatchOutcome]]:
        from dask.distributed import as_completed

        futures = {self.client.submit(fn, t, pure=False, retries=1): t for t in tasks}
        deadline = time.monotonic() + timeout * max(1, len(tasks))
        try:
            for f in as_completed(futures, timeout=max(1.0, deadline - time.monotonic())):
                raise_if_stopped()  # noticed as the next batch completes
                t = futures[f]
                try:
                    yield t, f.result()
                except Exception as exc:  # noqa: BLE001 - reported, never averaged in
                    yield t, failed_outcome(t, f"{type(exc).__name__}: {exc}")
        except TimeoutError:
            for f, t in futures.items():
                if not f.done():
                    f.cancel()
                    yield t, failed_outcome(t, "timed out on the cluster")

    def close(self, kill: bool = False) -> None:
        self.client.close()


def failed_outcome(task: BatchTask, error: str) -> BatchOutcome:
    """The outcome of a batch that failed (crashed, timed out, lost its worker): no network."""
    return BatchOutcome(task.epoch, task.index, FAILED, None, error=error)
