"""Batch training (trainer/batch.py): determinism across workers, Dask, resume, and a
batch-trained model bit-exact in firmware."""

from __future__ import annotations

import pytest
from conftest import batch_dataset

from mipnn.trainer.batch import BatchConfig, BatchInterrupted, train_batches
from mipnn.trainer.formulation import NetworkSpec

SPEC = NetworkSpec(n_inputs=4, hidden=(2,), n_classes=2, bound=2, levels=3)


def _config(**kw) -> BatchConfig:
    base = dict(batch_size=16, epochs=2, time_limit=30, seed=3, workers=1)
    return BatchConfig(**(base | kw))


def _params(result) -> list:
    return [a.tolist() for W, b in result.network for a in (W, b)]


@pytest.mark.parametrize("variant", ["paper", "mipnn"])
def test_same_seed_same_model_with_one_and_two_workers(variant):
    ds = batch_dataset()
    one = train_batches(ds, SPEC, _config(workers=1, variant=variant))
    two = train_batches(ds, SPEC, _config(workers=2, variant=variant))
    assert _params(one) == _params(two)
    assert [r.val_accuracy for r in one.epochs] == [r.val_accuracy for r in two.epochs]
    assert one.mips_solved == 2 * 4 and one.failed_batches == 0


def test_a_run_on_a_dask_local_cluster():
    distributed = pytest.importorskip("dask.distributed", reason="pip install 'mipnn[cluster]'")
    ds = batch_dataset()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        on_dask = train_batches(ds, SPEC, _config(scheduler=cluster.scheduler_address))
    local = train_batches(ds, SPEC, _config())
    assert on_dask.failed_batches == 0
    assert _params(on_dask) == _params(local)


def test_resume_after_an_interrupted_epoch(tmp_path):
    ds = batch_dataset()
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


def test_a_batch_trained_model_is_bit_exact_in_firmware(tmp_path):
    from conftest import require_tools

    from mipnn.device import golden_vectors, run_firmware
    from mipnn.trainer.model import save_model

    require_tools("gcc", "make")
    ds = batch_dataset()
    res = train_batches(ds, SPEC, _config(epochs=1))
    path = save_model(res.model, tmp_path / "batch.json")
    report = run_firmware(path, "host", golden_vectors(res.model, ds.X_test), workdir=tmp_path)
    assert report.ok and report.n_vectors > len(ds.y_test)
