"""Batch training: determinism across workers, Dask, resume, failures never averaged in."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from mipnn.trainer.batch import (
    BatchConfig,
    BatchInterrupted,
    combine,
    next_bounds,
    solve_batch,
    train_batches,
)
from mipnn.trainer.formulation import NetworkSpec, default_bounds


def _dataset(n: int = 64, seed: int = 0) -> SimpleNamespace:
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, (n + 40, 4))
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 1).astype(np.int64)
    return SimpleNamespace(
        name="toy", classes=["no", "yes"], levels=3, features=None,
        X_train=X[:n], y_train=y[:n], X_val=X[n:n + 20], y_val=y[n:n + 20],
        X_test=X[n + 20:], y_test=y[n + 20:], provenance={"dataset": "toy", "seed": seed},
    )


SPEC = NetworkSpec(n_inputs=4, hidden=(2,), n_classes=2, bound=2, levels=3)


def _config(**kw) -> BatchConfig:
    base = dict(batch_size=16, epochs=2, time_limit=30, seed=3, workers=1)
    return BatchConfig(**(base | kw))


def _params(result) -> list:
    return [a.tolist() for W, b in result.network for a in (W, b)]


@pytest.mark.parametrize("variant", ["paper", "mipnn"])
def test_same_seed_same_model_with_one_and_two_workers(variant):
    ds = _dataset()
    one = train_batches(ds, SPEC, _config(workers=1, variant=variant))
    two = train_batches(ds, SPEC, _config(workers=2, variant=variant))
    assert _params(one) == _params(two)
    assert [r.val_accuracy for r in one.epochs] == [r.val_accuracy for r in two.epochs]
    assert one.mips_solved == 2 * 4 and one.failed_batches == 0


def test_a_run_on_a_dask_local_cluster():
    distributed = pytest.importorskip("dask.distributed", reason="pip install 'mipnn[cluster]'")
    ds = _dataset()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        on_dask = train_batches(ds, SPEC, _config(scheduler=cluster.scheduler_address))
    local = train_batches(ds, SPEC, _config())
    assert on_dask.failed_batches == 0
    assert _params(on_dask) == _params(local)


def test_resume_after_an_interrupted_epoch(tmp_path):
    ds = _dataset()
    ckpt = tmp_path / "run.ckpt.json"
    full = train_batches(ds, SPEC, _config(epochs=3))

    def interrupt_in_epoch_2(p):
        if p.epoch == 2 and p.done == 2 and not p.message:
            raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted, match="after 1 complete epoch"):
        train_batches(ds, SPEC, _config(epochs=3, checkpoint=ckpt), on_progress=interrupt_in_epoch_2)
    assert ckpt.exists()
    resumed = train_batches(ds, SPEC, _config(epochs=3, checkpoint=ckpt, resume=True))
    assert [r.epoch for r in resumed.epochs] == [1, 2, 3]
    assert _params(resumed) == _params(full)
    # a checkpoint of another run is refused, naming what differs
    from mipnn.trainer.errors import MipnnError

    with pytest.raises(MipnnError, match="batch_size"):
        train_batches(ds, SPEC, _config(epochs=3, batch_size=8, checkpoint=ckpt, resume=True))


def _dies_on_batch_1(task):
    if task.index == 1:
        os._exit(3)  # the worker process is killed
    return solve_batch(task)


def _raises_on_batch_2(task):
    if task.index == 2:
        raise RuntimeError("solver crashed")
    return solve_batch(task)


def test_a_killed_worker_is_reported_and_its_batch_skipped():
    ds = _dataset()
    res = train_batches(ds, SPEC, _config(epochs=1, workers=2), solve_fn=_dies_on_batch_1)
    rec = res.epochs[0]
    assert rec.ok == 3
    assert [f["batch"] for f in rec.failed] == [1]
    assert "died" in rec.failed[0]["error"]


def test_a_failed_batch_is_never_averaged_in():
    ds = _dataset()
    res = train_batches(ds, SPEC, _config(epochs=1), solve_fn=_raises_on_batch_2)
    assert res.epochs[0].ok == 3
    assert res.epochs[0].failed == [{"batch": 2, "status": "failed",
                                     "error": "RuntimeError: solver crashed"}]


def test_combine_weights_by_rescaled_validation_accuracy():
    limits = default_bounds(NetworkSpec(2, (), 2, bound=5, levels=1))
    a = [(np.array([[4, 0], [0, 0]]), np.array([0, 0]))]
    b = [(np.array([[0, 0], [0, 4]]), np.array([2, 0]))]
    c = [(np.array([[2, 2], [2, 2]]), np.array([0, 0]))]
    # accuracies 0.9, 0.5, 0.7 -> weights 1, 0, 0.5 (normalised 2/3, 0, 1/3)
    mean = combine([a, b, c], [0.9, 0.5, 0.7], limits)
    assert mean[0][0].tolist() == [[3, 1], [1, 1]]
    # all equal -> plain mean
    assert combine([a, b], [0.6, 0.6], limits)[0][1].tolist() == [1, 0]


def test_next_bounds_shrink_around_the_mean_and_clip():
    spec = NetworkSpec(2, (1,), 2, bound=3, levels=4)
    limits = default_bounds(spec)
    center = [(np.array([[3, -1]]), np.array([5])), (np.array([[0], [2]]), np.array([1, -3]))]
    (wl, wu, bl, bu), (wl1, wu1, bl1, bu1) = next_bounds(center, limits, radius=2, levels=4)
    assert wl.tolist() == [[1, -3]] and wu.tolist() == [[3, 1]]
    assert bl.tolist() == [-3] and bu.tolist() == [12]  # first-layer bias radius r * L
    assert bl1.tolist() == [-1, -3] and bu1.tolist() == [3, -1]


def test_a_batch_trained_model_is_bit_exact_in_firmware(tmp_path):
    from conftest import require_tools
    from mipnn.trainer.model import save_model

    from mipnn.device import golden_vectors, run_firmware

    require_tools("gcc", "make")
    ds = _dataset()
    res = train_batches(ds, SPEC, _config(epochs=1))
    path = save_model(res.model, tmp_path / "batch.json")
    report = run_firmware(path, "host", golden_vectors(res.model, ds.X_test), workdir=tmp_path)
    assert report.ok and report.n_vectors > len(ds.y_test)


def test_the_gradient_start_takes_mini_batches_on_a_large_set(monkeypatch):
    """Beyond full_batch_max examples the start uses every example in batches of 256
    (full-batch steps are too few there); below it, one full-batch run."""
    import mipnn.trainer.gd as gd

    from mipnn.batch_cli import _gradient_start

    ds = _dataset(n=600)
    spec = NetworkSpec(ds.X_train.shape[1], (4,), 2, 3, ds.levels)
    seen = []
    real = gd.train_gd

    def spy(X, y, **kw):
        seen.append((len(y), kw["config"].batch_size))
        return real(X, y, **kw)

    monkeypatch.setattr(gd, "train_gd", spy)
    net = _gradient_start(ds, spec, seed=0, time_limit=5.0, full_batch_max=100)
    assert seen == [(len(ds.y_train), 256)]
    assert [W.shape for W, _ in net] == [(4, ds.X_train.shape[1]), (2, 4)]
    assert all(np.abs(W).max() <= 3 for W, _ in net)
    _gradient_start(ds, spec, seed=0, time_limit=5.0)
    assert seen[-1] == (len(ds.y_train), None)
