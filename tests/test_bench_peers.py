"""bench/peers.py and its parts: emlearn's peers and mipnn's models through the harness on a
tiny instance (the device's classes equal the Python ones where the semantics agree), the
Pareto fronts and the goal verdicts of the report."""

from __future__ import annotations

import pytest
from conftest import require_targets, require_tools


@pytest.fixture(scope="module")
def bench():
    from conftest import load_bench_script

    models = load_bench_script("peer_models.py", "peer_models")
    report = load_bench_script("peer_report.py", "peer_report")
    peers = load_bench_script("peers.py", "bench_peers")
    return models, report, peers


def small_data():
    from mipnn.trainer.data import load_dataset

    ds = load_dataset("breast_cancer", levels=255, val_fraction=0)
    return ds, ds.X_train[:200], ds.y_train[:200], ds.X_test[:40], ds.y_test[:40]


@pytest.mark.parametrize("target", ["host", "cortex-m4"])
def test_peers_run_through_the_harness(bench, target, tmp_path):
    models, _, peers = bench
    if target == "host":
        require_tools("gcc", "make")
    else:
        require_targets((target,))
    ds, X, y, Xt, yt = small_data()
    mlp = models.mlp_peer(X, y, 2, 4, 255)
    runs = [mlp]  # on the Cortex-M4: the float MLP with its FPU
    if target == "host":
        runs += [models.tree_peer(X, y, 2, 3), models.tree_peer(X, y, 2, 2, trees=3)]
    for peer in runs:
        r = peers.run_one(peer, Xt, yt, 2, target, tmp_path)
        assert "error" not in r, r
        assert 0.5 < r["accuracy"] <= 1 and r["model_flash"] > 0
        if peer.family == "mlp":  # float: the same classes up to rounding
            assert r["agree_with_python"] >= 0.95
    if target != "host":
        assert models.make_vars(mlp, target)["FLOAT"] == "hard"
        return
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    mine = load_small_mipnn(ds, train, TrainConfig)
    peer = models.mipnn_peer(mine, "mipnn-K4", {"K": 4}, target)
    r = peers.run_one(peer, Xt, yt, 2, target, tmp_path)
    assert r["agree_with_python"] == 1.0 and r["strategy"] in ("unrolled", "xnor", "compact")


def load_small_mipnn(ds, train, TrainConfig):
    cfg = TrainConfig(hidden=(), bound=15, objective="gd", max_nonzeros=4)
    return train(ds, cfg).model


def test_fronts_and_verdicts(bench):
    _, report, _ = bench
    assert report.front([(3, 0.5), (1, 0.6), (2, 0.55), (4, 0.7)]) == [(1, 0.6), (4, 0.7)]
    assert report.best_within([(1, 0.6), (4, 0.7)], 3) == 0.6
    assert report.best_within([(5, 0.6)], 3) is None

    def rec(family, flash, acc, instr=100.0):
        return {"family": family, "python_accuracy": acc,
                "targets": {"cortex-m3": {"accuracy": acc, "model_flash": flash,
                                          "mean": instr, "max": instr, "model_ram": 0,
                                          "bit_exact_classes": True}}}

    models = {"mipnn-a": rec("mipnn", 100, 0.90), "mipnn-b": rec("mipnn", 900, 0.95),
              "tree-a": rec("tree", 200, 0.85), "forest-a": rec("forest", 1000, 0.96)}
    above = report.verdict("above", models)
    assert above[0].startswith("- MISSED") and "forest-a" in above[0]
    within = report.verdict("within1", models)
    assert within[0].startswith("- met")
    models["mipnn-committed"] = rec("mipnn", 500, 0.86, 170)
    models["mipnn-committed"]["targets"]["avr"] = {"accuracy": 0.86, "max": 800,
                                                   "bit_exact_classes": True}
    adult = report.verdict("adult", models)
    assert len(adult) == 5 and all(line.startswith("- met") for line in adult)
    data = {"targets": ["cortex-m3"], "models": models}
    lines = report.table(data)
    assert lines[0].startswith("| model |") and len(lines) == 2 + len(models)
