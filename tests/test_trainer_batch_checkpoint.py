"""Batch checkpoints (trainer/batch_checkpoint.py): the state round-trips, a checkpoint of
another run is refused, and one written when provenance still recorded paths resumes."""

from __future__ import annotations

import numpy as np
import pytest

from mipnn.trainer.batch_checkpoint import (
    BatchState,
    EpochRecord,
    load_checkpoint,
    save_checkpoint,
)
from mipnn.trainer.errors import MipnnError


def _state() -> BatchState:
    net = [(np.array([[1, -1]]), np.array([3])), (np.array([[1], [-1]]), np.array([0, 1]))]
    bounds = [(W - 1, W + 1, b - 1, b + 1) for W, b in net]
    record = EpochRecord(epoch=1, val_accuracy=0.75, network=net, ok=3,
                         failed=[{"batch": 2, "status": "failed", "error": "x"}],
                         best_batch_val=0.8, seconds=1.5, mean_solve_time=0.4,
                         mean_build_time=0.1, mean_overhead=0.05)
    return BatchState(center=net, bounds=bounds, records=[record], best_single=(0.8, net))


def _same(a: BatchState, b: BatchState) -> bool:
    def flat(state: BatchState) -> list:
        out = [x.tolist() for layer in state.center for x in layer]
        out += [x.tolist() for layer in state.bounds for x in layer]
        for r in state.records:
            out += [r.epoch, r.val_accuracy, r.ok, r.failed, r.best_batch_val, r.seconds]
            out += [x.tolist() for layer in r.network for x in layer]
        assert state.best_single is not None
        return out + [state.best_single[0]]
    return flat(a) == flat(b)


FINGERPRINT = {"variant": "mipnn", "batch_size": 16, "seed": 3,
               "data": {"dataset": "heart", "seed": 3, "train_size": None, "levels": 255}}


def test_the_state_round_trips_and_another_run_is_refused(tmp_path):
    path = tmp_path / "run.ckpt.json"
    save_checkpoint(path, FINGERPRINT, _state())
    assert _same(load_checkpoint(path, FINGERPRINT), _state())
    assert not (tmp_path / "run.ckpt.json.tmp").exists()
    with pytest.raises(MipnnError, match="differs in batch_size"):
        load_checkpoint(path, FINGERPRINT | {"batch_size": 8})
    with pytest.raises(MipnnError, match="no checkpoint to resume from"):
        load_checkpoint(tmp_path / "none.json", FINGERPRINT)


def test_a_checkpoint_whose_provenance_holds_paths_resumes(tmp_path):
    path = tmp_path / "old.ckpt.json"
    old = dict(FINGERPRINT, data=dict(FINGERPRINT["data"], data_dir="/somewhere/data"))
    save_checkpoint(path, old, _state())
    assert _same(load_checkpoint(path, FINGERPRINT), _state())
    csv_now = dict(FINGERPRINT, data={"csv": "d.csv", "target": "y", "seed": 0,
                                      "train_size": None, "levels": 255})
    csv_old = dict(csv_now, data=dict(csv_now["data"], csv="/home/someone/d.csv"))
    save_checkpoint(path, csv_old, _state())
    assert _same(load_checkpoint(path, csv_now), _state())
    other = dict(csv_now, data=dict(csv_now["data"], csv="e.csv"))
    with pytest.raises(MipnnError, match="differs in data"):
        load_checkpoint(path, other)
