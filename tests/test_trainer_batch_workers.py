"""The batch MIPs and their pools (trainer/batch_workers.py): one batch solved inside its
bounds, and a batch whose worker dies or whose solve raises reported and never averaged in."""

from __future__ import annotations

import os

import numpy as np
from conftest import batch_dataset

from mipnn.trainer.batch import BatchConfig, train_batches
from mipnn.trainer.batch_workers import BatchTask, LocalPool, solve_batch
from mipnn.trainer.formulation import NetworkSpec, default_bounds
from mipnn.trainer.solve_result import SolveStatus

SPEC = NetworkSpec(n_inputs=4, hidden=(2,), n_classes=2, bound=2, levels=3)


def _config(**kw) -> BatchConfig:
    base = dict(batch_size=16, epochs=2, time_limit=30, seed=3, workers=1)
    return BatchConfig(**(base | kw))


def test_one_batch_is_solved_inside_its_bounds_in_a_local_pool():
    ds = batch_dataset()
    bounds = [(np.maximum(wl, -1), np.minimum(wu, 1), bl, bu)
              for wl, wu, bl, bu in default_bounds(SPEC)]
    task = BatchTask(0, 0, SPEC, ds.X_train[:16], ds.y_train[:16], bounds, None, 30.0, 0, 1)
    out = solve_batch(task)
    assert out.status is SolveStatus.OPTIMAL and out.network is not None
    assert all(np.abs(W).max() <= 1 for W, _ in out.network)
    pool = LocalPool(1)
    try:
        [(done, again)] = list(pool.run(solve_batch, [task], timeout=120))
    finally:
        pool.close()
    assert done is task and again.status == out.status and again.objective == out.objective


def _dies_on_batch_1(task):
    if task.index == 1:
        os._exit(3)  # the worker process is killed
    return solve_batch(task)


def _raises_on_batch_2(task):
    if task.index == 2:
        raise RuntimeError("solver crashed")
    return solve_batch(task)


def test_a_killed_worker_is_reported_and_its_batch_skipped():
    ds = batch_dataset()
    res = train_batches(ds, SPEC, _config(epochs=1, workers=2), solve_fn=_dies_on_batch_1)
    rec = res.epochs[0]
    assert rec.ok == 3
    assert [f["batch"] for f in rec.failed] == [1]
    assert "died" in rec.failed[0]["error"]


def test_a_failed_batch_is_never_averaged_in():
    ds = batch_dataset()
    res = train_batches(ds, SPEC, _config(epochs=1), solve_fn=_raises_on_batch_2)
    assert res.epochs[0].ok == 3
    assert res.epochs[0].failed == [{"batch": 2, "status": "failed",
                                     "error": "RuntimeError: solver crashed"}]
