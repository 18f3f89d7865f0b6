"""Peers benchmark (issue 25): mipnn's models beside emlearn's (decision trees over a depth
sweep, random forests, a float MLP), all built by mipnn's own firmware harness and run on
Cortex-M0, M3, M4 and AVR (QEMU, simavr), on the same data: every test row goes through
the device (in as many images as its flash needs), so the accuracy is that of the classes
the device computed. Per model and target: model flash and RAM (image minus the image
with a stub), the stack of one inference, and instructions (cycles on AVR) per inference,
the mean over 16 test rows (the maximum is in the JSON).

    .venv/bin/python bench/peers.py [--datasets adult,digits,...] [--targets ...]
                                    [--data-dir DIR] [--work DIR] [--force]

Writes per data set ``docs/peers/<name>.md`` (the table and the goal's verdict),
``docs/peers/<name>-flash.png`` and ``<name>-instructions.png`` (accuracy against Cortex-M3
model flash and instructions, with each family's Pareto front) and
``bench/results/peers-<name>.json`` (every figure). Runs are cached in the JSON: a model
and target already there is not run again (``--force`` runs everything).

Training: every model on the whole training part (no validation split); emlearn's peers on
mipnn's default encoding at ``L = 255``; mipnn's models with the product's sparse gradient
stage (``mipnn train --objective gd --max-nonzeros K --val-fraction 0``, plus
``--learn-ranges`` where the data set says so), on breast_cancer and heart followed by the
full MIP under the budget for 30 s (``--objective max_correct --time-limit 30``: the
validation screen of bench/research/budget_screen.py favoured it there), one seed, nothing
chosen by test accuracy.
Needs ``pip install '.[peers]'`` (emlearn) and newlib for the Cortex-M targets
(``libnewlib-arm-none-eabi``, installed by ``make deps``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import numpy as np  # noqa: E402
from peer_models import Peer, make_vars, mipnn_peer, mlp_peer, tree_peer  # noqa: E402

from mipnn.device.errors import FirmwareError  # noqa: E402
from mipnn.device.foreign import run_classifier  # noqa: E402

TARGETS = ("cortex-m0", "cortex-m3", "cortex-m4", "avr")
DOCS = REPO / "docs" / "peers"
RESULTS = REPO / "bench" / "results"
FLASH_TARGET = "cortex-m3"  # the plots' target


@dataclass(frozen=True)
class Setup:
    """What to run on one data set."""

    levels: int  # mipnn's input levels
    copies: int | None  # --learn-ranges COPIES (None: min-max ranges)
    ks: tuple[int, ...]  # mipnn: --max-nonzeros of the models without hidden layers
    hidden: tuple[tuple[int, int], ...] = ()  # mipnn: (hidden neurons, K) models
    depths: tuple[int, ...] = ()
    forests: tuple[tuple[int, int], ...] = ()  # (trees, depth)
    mlp: tuple[int, ...] = (16,)
    bound: int = 127
    mip_seconds: float = 0.0  # > 0: then the full MIP (max_correct, LNS) for this long
    goal: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


SETUPS = {
    "adult": Setup(63, 3, (16, 32, 48, 64, 96, 111), depths=(4, 6, 8, 9, 10, 12),
                   forests=((10, 6), (10, 8)), goal="adult",
                   extra={"committed": REPO / "bench" / "models" / "adult-m3-1k.json"}),
    "breast_cancer": Setup(63, None, (2, 4, 6, 8, 12, 16, 30), depths=(1, 2, 3, 4, 5, 6, 8),
                           forests=((5, 4), (10, 4), (10, 6)), goal="within1",
                           mip_seconds=30.0),
    "heart": Setup(63, None, (2, 4, 6, 8, 12, 21), depths=(1, 2, 3, 4, 5, 6),
                   forests=((5, 4), (10, 4), (10, 6)), goal="within1", mip_seconds=30.0),
    "digits": Setup(16, None, (20, 30, 40, 50, 60, 70, 80, 100, 150, 200, 300, 450, 640),
                    hidden=((16, 200),),
                    depths=(4, 6, 8, 10, 12), forests=((5, 6), (10, 6), (10, 8), (20, 8),
                                                       (30, 10)),
                    mlp=(16, 32), goal="above"),
}


def load(name: str, data_dir: Path | None, levels: int, copies: int | None) -> Any:
    from mipnn.trainer.data import load_dataset

    return load_dataset(name, data_dir=data_dir, levels=levels, val_fraction=0,
                        learn_ranges=copies is not None, extra_copies=copies or 0)


def mipnn_models(name: str, setup: Setup, data_dir: Path | None) -> tuple[Any, list[tuple]]:
    """mipnn's family on ``name``: (the data set, [(key, params, model, test inputs)])."""
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    ds = load(name, data_dir, setup.levels, setup.copies)
    out = []
    shapes = [((), k) for k in setup.ks] + [((h,), k) for h, k in setup.hidden]
    for hidden, k in shapes:
        k = min(k, ds.n_inputs * (hidden[0] if hidden else max(1, len(ds.classes) - 1)))
        mip = setup.mip_seconds
        cfg = TrainConfig(hidden=hidden, bound=setup.bound,
                          objective="max_correct" if mip else "gd", max_nonzeros=k,
                          time_limit=mip or 600.0, seed=0)
        t0 = time.perf_counter()
        result = train(ds, cfg)
        key = f"mipnn-K{k}" + (f"-h{hidden[0]}" if hidden else "") + (f"-mip{mip:g}" if mip
                                                                        else "")
        params = {"K": k, "hidden": list(hidden), "P": setup.bound, "L": setup.levels,
                  "learn_ranges": setup.copies, "mip_seconds": mip,
                  "train_seconds": round(time.perf_counter() - t0, 2)}
        out.append((key, params, result.model, ds.X_test))
    committed = setup.extra.get("committed")
    if committed is not None and Path(committed).exists():
        from mipnn.trainer.data import load_from_provenance
        from mipnn.trainer.model import load_model

        model = load_model(committed)
        ds_c = load_from_provenance(model.training["data"], data_dir=data_dir,
                                    features=model.features)
        out.append(("mipnn-committed", {"file": str(Path(committed).relative_to(REPO)),
                                        "K": int(np.count_nonzero(model.layers[0].weights))},
                    model, ds_c.X_test))
    return ds, out


def run_one(peer: Peer, X_test: np.ndarray, y_test: np.ndarray, n_classes: int, target: str,
            work: Path) -> dict[str, Any]:
    """One peer on one target: the device's accuracy and the measurements."""
    measure = 2 if peer.float_code else 16
    try:
        r = run_classifier(peer.files, peer.name, n_classes, X_test, target,
                           work / f"{peer.key}-{target}", make_vars=make_vars(peer, target),
                           measure_vectors=measure)
    except FirmwareError as exc:
        return {"error": " ".join(str(exc).splitlines()[:3])[:300]}
    python = np.asarray(peer.predict(X_test))
    return {
        "accuracy": float(np.mean(r.classes == y_test)),
        "agree_with_python": float(np.mean(r.classes == python)),
        "model_flash": r.model_flash_bytes, "model_ram": r.model_ram_bytes,
        "stack": r.call_stack_bytes, "unit": r.unit,
        "mean": None if r.mean_count is None else round(r.mean_count, 1),
        "max": r.max_count, "images": r.images, "seconds": round(r.seconds, 1),
        **({"strategy": peer.info["strategy"]} if "strategy" in peer.info else {}),
    }


def bench_dataset(name: str, targets: tuple[str, ...], data_dir: Path | None, work: Path,
                  force: bool) -> dict[str, Any]:
    """Train every model of ``name``, run it on every target, write the JSON (cached)."""
    setup = SETUPS[name]
    path = RESULTS / f"peers-{name}.json"
    cache = {} if force or not path.exists() else json.loads(path.read_text())
    records: dict[str, Any] = cache.get("models", {})
    base = load(name, data_dir, 255, None)
    X, y = base.X_train, base.y_train
    n_classes = len(base.classes)
    peers: list[Peer] = []
    peers += [tree_peer(X, y, n_classes, d) for d in setup.depths]
    peers += [tree_peer(X, y, n_classes, d, trees=t) for t, d in setup.forests]
    peers += [mlp_peer(X, y, n_classes, h, 255) for h in setup.mlp]

    def save() -> None:
        RESULTS.mkdir(parents=True, exist_ok=True)
        data = {"dataset": name, "classes": base.classes, "train_rows": int(len(y)),
                "test_rows": int(len(base.y_test)), "targets": list(targets),
                "models": records}
        path.write_text(json.dumps(data, indent=1) + "\n")

    for peer in peers:
        rec = records.setdefault(peer.key, {"family": peer.family, "params": peer.params})
        rec["python_accuracy"] = float(np.mean(peer.predict(base.X_test) == base.y_test))
        rec["train_seconds"] = round(peer.train_seconds, 2)
        for t in targets:
            if t not in rec.get("targets", {}):
                print(f"{name}: {peer.key} on {t}", flush=True)
                rec.setdefault("targets", {})[t] = run_one(peer, base.X_test, base.y_test,
                                                          n_classes, t, work)
                save()
    ds, models = mipnn_models(name, setup, data_dir)
    from mipnn.trainer.model import forward

    for key, params, model, X_test in models:
        rec = records.setdefault(key, {"family": "mipnn"})
        rec["params"] = params
        rec["python_accuracy"] = float(np.mean(forward(model, X_test)[1] == ds.y_test))
        rec["nonzeros"] = int(np.count_nonzero(model.layers[0].weights))
        for t in targets:
            if t in rec.get("targets", {}):
                continue
            print(f"{name}: {key} on {t}", flush=True)
            peer = mipnn_peer(model, key, params, t)
            res = run_one(peer, X_test, ds.y_test, n_classes, t, work)
            if "accuracy" in res:
                res["bit_exact_classes"] = res.pop("agree_with_python") == 1.0
            rec.setdefault("targets", {})[t] = res
            save()
    save()
    return json.loads(path.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(SETUPS))
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--work", type=Path, help="build directory (default: a temporary one)")
    parser.add_argument("--force", action="store_true", help="ignore the cached results")
    parser.add_argument("--no-docs", action="store_true", help="only the JSON")
    args = parser.parse_args()
    from peer_report import write_docs

    targets = tuple(t for t in args.targets.split(",") if t)
    with tempfile.TemporaryDirectory(prefix="mipnn-peers-") as tmp:
        work = args.work or Path(tmp)
        for name in [d for d in args.datasets.split(",") if d]:
            t0 = time.perf_counter()
            data = bench_dataset(name, targets, args.data_dir, work, args.force)
            if not args.no_docs:
                write_docs(name, data, SETUPS[name].goal, DOCS)
            print(f"{name}: done in {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
