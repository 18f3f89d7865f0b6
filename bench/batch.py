"""Benchmarks of issue 4: batch training, throughput, and neuron-count optimisation.

    python bench/batch.py quick        # Adult, 2,000 examples, both variants + gradient baseline (< 5 min)
    python bench/batch.py full         # Adult, 25,000 examples, both variants, 2 workers (about 2 x 60 min)
    python bench/batch.py throughput   # MIPs solved per minute with 1 and 2 workers; per-MIP overhead
    python bench/batch.py prune        # Adult, 800 examples, P=15, ALPHA in {0, 0.1, 0.01}, 600 s each
    python bench/batch.py report       # rewrite the section of docs/RESULTS.md from the results file

Every finished run is appended to bench/results/batch.jsonl (one JSON object a line), and
the docs/RESULTS.md section "Batch training and pruning (issue 4)" is rewritten from that
file, so runs made in different sessions add up. Timings come from this machine (2 cores);
they are wall-clock figures, not asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.sections import write_section  # noqa: E402

RESULTS = REPO / "bench" / "results" / "batch.jsonl"
DOC = REPO / "docs" / "RESULTS.md"
SECTION = "## Batch training and pruning (issue 4)"


def data_dir() -> Path:
    env = os.environ.get("MIPNN_DATA_DIR")
    return Path(env) if env else (REPO.parent / "shared" / "data")


def record(row: dict[str, Any]) -> None:
    row = row | {"when": time.strftime("%Y-%m-%d %H:%M"), "machine": f"{os.cpu_count()} cores, "
                 f"{platform.machine()}"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


def load_rows() -> list[dict[str, Any]]:
    if not RESULTS.exists():
        return []
    return [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]


def gradient_network(ds: Any, spec: Any, seed: int, **kw: Any) -> Any:
    """The gradient baseline (mipnn.trainer.gd), as the mipnn variant's start uses it."""
    from mipnn.trainer.batch_run import gradient_start

    return gradient_start(ds, spec, seed, **kw)


def run_batch(n: int, variant: str, epochs: int, time_limit: float, workers: int, seed: int,
              bound: int = 15, hidden: int = 16, batch_size: int = 100, finetune: int = 0,
              start: str = "gd", label: str = "") -> dict[str, Any]:
    from mipnn.trainer.batch import BatchConfig, train_batches
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.formulation import NetworkSpec
    from mipnn.trainer.model import accuracy

    ds = load_dataset("adult", data_dir=data_dir(), train_size=n, seed=seed)
    spec = NetworkSpec(int(ds.X_train.shape[1]), (hidden,), 2, bound, int(ds.levels))
    t0 = time.perf_counter()
    init = gradient_network(ds, spec, seed) if (variant == "mipnn" and start == "gd") else None
    t_gd = time.perf_counter() - t0
    cfg = BatchConfig(batch_size=batch_size, epochs=epochs, variant=variant, workers=workers,
                      time_limit=time_limit, seed=seed, finetune_size=finetune)

    def progress(p: Any) -> None:
        if p.message:
            print(f"  [{variant} n={n}] {p.message}", flush=True)

    res = train_batches(ds, spec, cfg, start=init, on_progress=progress)
    wall = time.perf_counter() - t0
    row = {
        "kind": "batch", "label": label, "dataset": "adult", "n": n, "variant": variant,
        "epochs": epochs, "batch_size": batch_size, "bound": bound, "hidden": hidden,
        "time_limit": time_limit, "workers": workers, "seed": seed,
        "start": (start + (" (mini-batch 256)" if start == "gd" and n > 4000 else ""))
        if variant == "mipnn" else "none", "finetune": finetune,
        "test": accuracy(res.model, ds.X_test, ds.y_test),
        "val": res.val_accuracy, "train": accuracy(res.model, ds.X_train, ds.y_train),
        "wall": round(wall, 1), "gd_seconds": round(t_gd, 1), "mips": res.mips_solved,
        "failed": res.failed_batches, "final": res.source,
        "epoch_val": [round(r.val_accuracy, 4) for r in res.epochs],
        "overhead_ms": round(1000 * float(np.mean([r.mean_overhead for r in res.epochs])), 1),
    }
    record(row)
    return row


def run_gd(n: int, seed: int, bound: int = 15, hidden: int = 16, label: str = "") -> dict[str, Any]:
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.formulation import NetworkSpec
    from mipnn.trainer.model import accuracy, network_model

    ds = load_dataset("adult", data_dir=data_dir(), train_size=n, seed=seed)
    spec = NetworkSpec(int(ds.X_train.shape[1]), (hidden,), 2, bound, int(ds.levels))
    t0 = time.perf_counter()
    # trained on all n examples (mini-batches beyond 4,000), as the mipnn variant's start
    net = gradient_network(ds, spec, seed, time_limit=max(60.0, n / 100))
    wall = time.perf_counter() - t0
    model = network_model(net, ds.classes, spec.levels, "adult")
    row = {"kind": "gd", "label": label, "dataset": "adult", "n": n, "bound": bound,
           "hidden": hidden, "seed": seed, "steps": "mini-batch 256" if n > 4000 else "full batch",
           "test": accuracy(model, ds.X_test, ds.y_test),
           "val": accuracy(model, ds.X_val, ds.y_val),
           "train": accuracy(model, ds.X_train, ds.y_train), "wall": round(wall, 1)}
    record(row)
    return row


def throughput(n_mips: int = 20, time_limit: float = 3.0) -> None:
    from mipnn.trainer.batch_workers import BatchTask, solve_batch
    from mipnn.trainer.batch_workers import LocalPool as _LocalPool
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.formulation import NetworkSpec, default_bounds

    ds = load_dataset("adult", data_dir=data_dir(), train_size=100 * n_mips, seed=0)
    spec = NetworkSpec(int(ds.X_train.shape[1]), (16,), 2, 15, int(ds.levels))
    tasks = [BatchTask(0, k, spec, ds.X_train[100 * k:100 * (k + 1)],
                       ds.y_train[100 * k:100 * (k + 1)], default_bounds(spec), None,
                       time_limit, k, 1) for k in range(n_mips)]
    for workers in (1, 2):
        pool = _LocalPool(workers)
        t0 = time.perf_counter()
        outs = [o for _, o in pool.run(solve_batch, tasks, timeout=10 * time_limit + 60)]
        wall = time.perf_counter() - t0
        pool.close()
        over = [o.total_time - o.solve_time for o in outs if o.network is not None]
        build = [o.build_time for o in outs if o.network is not None]
        record({"kind": "throughput", "workers": workers, "mips": len(outs),
                "time_limit": time_limit, "wall": round(wall, 2),
                "mips_per_minute": round(60 * len(outs) / wall, 1),
                "overhead_ms": round(1000 * float(np.mean(over)), 1),
                "build_ms": round(1000 * float(np.mean(build)), 1),
                "solve_s": round(float(np.mean([o.solve_time for o in outs])), 2)})


def prune(alphas: list[float], time_limit: float, seeds: list[int], n: int = 800) -> None:
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.train import train
    from mipnn.trainer.train_config import TrainConfig

    for seed in seeds:
        ds = load_dataset("adult", data_dir=data_dir(), train_size=n, seed=seed)
        for alpha in alphas:
            cfg = TrainConfig(hidden=(16,), bound=15, time_limit=time_limit, seed=seed,
                              prune=alpha if alpha > 0 else None)
            t0 = time.perf_counter()
            res = train(ds, cfg)
            neurons = res.model.training.get("neurons") or {}
            record({"kind": "prune", "dataset": "adult", "n": n, "bound": 15, "alpha": alpha,
                    "seed": seed, "time_limit": time_limit, "start": "silenced",
                    "kept": res.model.shape[1], "hidden_after": neurons.get("hidden_after"),
                    "test": res.test_accuracy, "val": res.val_accuracy,
                    "train": res.train_accuracy, "status": res.solve.status,
                    "wall": round(time.perf_counter() - t0, 1)})


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    a = 100 * np.asarray(values)
    return f"{a.mean():.1f} +/- {a.std():.1f}" if len(a) > 1 else f"{a[0]:.1f}"


def _target_lines(batch: list[dict[str, Any]]) -> list[str]:
    """What the 25,000-example runs say about the target, from the rows themselves."""
    full = [r for r in batch if r["n"] == 25000]
    out = []
    for r in sorted(full, key=lambda r: r.get("when", "")):
        if r["kind"] == "gd":
            out.append(f"- gradient baseline ({r.get('steps', 'full batch')}), seed {r['seed']}: "
                       f"{100 * r['test']:.1f}% test in {r['wall']:.0f} s.")
        else:
            ok = "meets" if r["test"] >= 0.82 and r["wall"] <= 3600 else "misses"
            start = r.get("start", "none")
            if start == "gd":  # rows before the mini-batch start
                start = "gd (full batch, on a 4,000-example sample)"
            same = [g for g in full if g["kind"] == "gd" and g["seed"] == r["seed"]
                    and g.get("steps") == "mini-batch 256" and "mini-batch" in start
                    and g["test"] == r["test"] and g["val"] == r["val"]]
            if same:
                r = dict(r, final="the gradient start itself (no epoch mean or batch solution "
                                  "beat it on validation)")
            out.append(
                f"- batch MIP, {r['variant']} variant (start {start}), "
                f"seed {r['seed']}: {100 * r['test']:.1f}% test in {r['wall']:.0f} s wall "
                f"({r['mips']} MIPs, {r['workers']} workers); {ok} the target; final "
                f"network: {r.get('final', '-')}; validation of each epoch's mean: "
                f"{', '.join(f'{100 * v:.1f}%' for v in r.get('epoch_val', []))}.")
    return out + [""] if out else []


def report() -> None:
    rows = load_rows()
    lines = [SECTION, "",
             "Written by `bench/batch.py` from `bench/results/batch.jsonl`; every figure below "
             "was measured on this project's 2-core machine. Test accuracy on adult.test "
             "(16,281 examples); mean +/- std over the seeds listed.", ""]
    batch = [r for r in rows if r["kind"] in ("batch", "gd")]
    if batch:
        lines += ["### Batch training, Adult, 16 hidden neurons, batches of 100", "",
                  "| method | N | P | epochs | s/MIP | workers | seeds | test % | val % | "
                  "wall s | MIPs | failed |", "|" + " --- |" * 12]
        groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for r in batch:
            start = r.get("start", "") if r["kind"] == "batch" else r.get("steps", "full batch")
            key = (r["kind"], r.get("variant", "gd"), start, r["n"], r["bound"],
                   r.get("epochs", "-"), r.get("time_limit", "-"), r.get("workers", "-"),
                   r.get("finetune", 0))
            groups.setdefault(key, []).append(r)
        for key, rs in sorted(groups.items(), key=lambda kv: (kv[0][3], str(kv[0]))):
            kind, variant, start, n, bound, epochs, tl, workers, ft = key
            name = (f"gradient baseline (STE, {start})" if kind == "gd" else
                    f"batch MIP, {variant} variant" + (f", start {start}" if start not in
                                                        ("", "none") else "")
                    + (f", fine-tune {ft}" if ft else ""))
            lines.append(
                f"| {name} | {n:,} | {bound} | {epochs} | {tl} | {workers} | "
                f"{','.join(str(r['seed']) for r in rs)} | {_ms([r['test'] for r in rs])} | "
                f"{_ms([r['val'] for r in rs])} | "
                f"{np.mean([r['wall'] for r in rs]):.0f} | "
                f"{rs[0].get('mips', '-')} | {sum(r.get('failed', 0) for r in rs)} |")
        lines += ["", "Paper (Gurobi, 10 h limits, server): the learning curve of batch "
                  "training on Adult plateaued at about 81.7-82% test accuracy. Target of "
                  "issue 4: >= 82.0% within 60 minutes on this 2-core machine.", ""]
        lines += _target_lines(batch)
    tp = [r for r in rows if r["kind"] == "throughput"]
    if tp:
        lines += ["### Throughput (Adult, B=100, P=15, 16 hidden, no warm start)", "",
                  "| workers | MIPs | s limit per MIP | wall s | MIPs per minute | "
                  "overhead per MIP (ms, build + hand-off + read-back) | of which build (ms) |",
                  "|" + " --- |" * 7]
        for r in tp[-2:]:
            lines.append(f"| {r['workers']} | {r['mips']} | {r['time_limit']} | {r['wall']} | "
                         f"{r['mips_per_minute']} | {r['overhead_ms']} | {r['build_ms']} |")
        lines.append("")
    pr = [r for r in rows if r["kind"] == "prune"]
    if pr:
        lines += ["### Neuron-count optimisation (Adult, N=800, P=15, 16 hidden to start)", "",
                  "| start | ALPHA | s limit | seeds | neurons kept | test % | train % | "
                  "paper: kept | paper: test % |", "|" + " --- |" * 9]
        paper = {0.0: ("16 (no pruning)", "78.1 +/- 2.0"), 0.01: ("2.2 +/- 0.4", "77.9 +/- 1.2"),
                 0.1: ("-", "-")}
        starts = {"none": "no switches", "charged": "dead neurons charged",
                  "silenced": "dead neurons silenced"}

        def start_of(r: dict[str, Any]) -> str:
            return "none" if r["alpha"] == 0 else r.get("start", "charged")

        for start in starts:
            for alpha in sorted({r["alpha"] for r in pr if start_of(r) == start}):
                rs = [r for r in pr if r["alpha"] == alpha and start_of(r) == start]
                kept = np.array([r["kept"] for r in rs], dtype=float)
                pk, pt = paper.get(alpha, ("-", "-"))
                lines.append(
                    f"| {starts[start]} | {alpha:g} | {rs[0]['time_limit']:g} | "
                    f"{','.join(str(r['seed']) for r in rs)} | "
                    f"{kept.mean():.1f}{f' +/- {kept.std():.1f}' if len(kept) > 1 else ''} | "
                    f"{_ms([r['test'] for r in rs])} | {_ms([r['train'] for r in rs])} | "
                    f"{pk} | {pt} |")
        lines += ["", "Paper: Gurobi, 10 h per run; kept neurons are those the model file "
                  "keeps (switched-off, dead and constant neurons are removed). HiGHS starts "
                  "from the gradient baseline's network. `dead neurons charged`: runs made "
                  "before the trainer silenced that network's dead neurons (all outgoing "
                  "weights zero): their incoming weights kept their switches on, so the start "
                  "paid ALPHA for all 16 neurons and HiGHS, within 600 s, rarely switched "
                  "neurons off. `dead neurons silenced`: the current trainer zeroes a dead "
                  "neuron's incoming weights and bias before the warm start (exact), so the "
                  "start pays only for the neurons it uses.", ""]
    section = "\n".join(lines).rstrip() + "\n"
    write_section(section, SECTION, DOC)
    print(section)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("what", choices=["quick", "full", "throughput", "prune", "report"])
    ap.add_argument("--seeds", default="0", help="comma-separated seeds")
    ap.add_argument("--variants", default="paper,mipnn")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per MIP")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--n", type=int, default=None, help="training examples")
    ap.add_argument("--finetune", type=int, default=0)
    ap.add_argument("--alphas", default="0,0.1,0.01")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    variants = args.variants.split(",")
    if args.what in ("quick", "full"):
        n = args.n or (2000 if args.what == "quick" else 25000)
        tl = args.time_limit or (4.0 if args.what == "quick" else 5.0)
        epochs = args.epochs or (2 if args.what == "quick" else 2)
        for seed in seeds:
            run_gd(n, seed, label=args.what)
            for v in variants:
                run_batch(n, v, epochs, tl, args.workers, seed, finetune=args.finetune,
                          label=args.what)
    elif args.what == "throughput":
        throughput(time_limit=args.time_limit or 3.0)
    elif args.what == "prune":
        prune([float(a) for a in args.alphas.split(",")], args.time_limit or 600.0, seeds)
    report()


if __name__ == "__main__":
    main()
