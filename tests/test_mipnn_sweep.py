"""The family sweep (mipnn/sweep.py): every member trained and priced by the cost model,
the Pareto front, the recommendation within a flash budget by validation accuracy."""

from __future__ import annotations

import numpy as np
from conftest import toy_splits

from mipnn import sweep as sw
from mipnn.trainer.train_config import TrainConfig


def entry(flash: float, val: float, k: int = 4) -> sw.SweepEntry:
    return sw.SweepEntry((), k, None, 0.9, val, 0.5, "unrolled", flash, 10.0, k)  # type: ignore[arg-type]


def test_front_and_recommendation():
    a, b, c, d = entry(100, 0.8), entry(200, 0.9), entry(300, 0.85), entry(400, 0.95)
    assert sw.pareto([c, a, d, b]) == [a, b, d]
    assert sw.recommend([a, b, c, d], 350) is b
    assert sw.recommend([a, b, c, d], None) is d
    assert sw.recommend([a, b, c, d], 50) is None
    tie = entry(150, 0.9)
    assert sw.recommend([b, tie], 1000) is tie  # equal validation: the smaller
    assert sw.default_nonzeros(30, 1) == [8, 16, 30]
    lines = sw.table([a, b], b, "instructions")
    assert lines[2].startswith("R*")


def test_run_sweep_prices_every_member():
    ds = toy_splits(n=80)
    ds.n_inputs = 4
    base = TrainConfig(hidden=(), bound=7, objective="gd")
    seen = []
    entries = sw.run_sweep(ds, base, [(), (2,)], [1, 2, 3], "cortex-m3", on_entry=seen.append)
    assert len(entries) == 6 == len(seen)
    for e in entries:
        assert np.count_nonzero(e.model.layers[0].weights) <= e.max_nonzeros
        assert e.flash > 0 and e.time > 0
