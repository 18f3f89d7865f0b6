"""The report of bench/peers.py for one data set: the Markdown table (docs/peers/<name>.md),
the two Pareto plots (accuracy against Cortex-M3 model flash and against instructions per
inference) and the verdict on the issue's goal for the data set. Accuracies are those of
the classes the device computed on the whole test split."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FRONT_TARGET = "cortex-m3"
EMLEARN = ("tree", "forest", "mlp")
COLOURS = {"mipnn": "tab:red", "tree": "tab:blue", "forest": "tab:green", "mlp": "tab:purple"}


def point(rec: dict[str, Any], target: str = FRONT_TARGET) -> tuple[float, float, float] | None:
    """(model flash, instructions or cycles, device accuracy) of a model on a target."""
    r = rec.get("targets", {}).get(target, {})
    if "accuracy" not in r or r.get("model_flash") is None:
        return None
    return float(r["model_flash"]), float(r["mean"] or 0.0), float(r["accuracy"])


def front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The Pareto front of (cost, accuracy) points: cheapest first, each more accurate."""
    out: list[tuple[float, float]] = []
    for cost, acc in sorted(points, key=lambda p: (p[0], -p[1])):
        if not out or acc > out[-1][1]:
            out.append((cost, acc))
    return out


def best_within(points: list[tuple[float, float]], cost: float) -> float | None:
    """The best accuracy among points that cost at most ``cost``."""
    accs = [a for c, a in points if c <= cost]
    return max(accs) if accs else None


def verdict(goal: str, models: dict[str, Any]) -> list[str]:
    """Lines on the data set's goal (issue 25), from the Cortex-M3 device accuracies."""
    mip = [(p[0], p[2]) for r in models.values() if r["family"] == "mipnn" and (p := point(r))]
    lines: list[str] = []
    if goal == "adult":
        rec = models.get("mipnn-committed")
        if rec is None:
            return ["The committed model bench/models/adult-m3-1k.json was not run."]
        m3 = rec["targets"].get("cortex-m3", {})
        avr = rec["targets"].get("avr", {})
        exact = all(t.get("bit_exact_classes") for t in rec["targets"].values())
        checks = [
            ("model flash <= 1,024 B on Cortex-M3", m3.get("model_flash", 1e9) <= 1024,
             f"{m3.get('model_flash')} B"),
            ("test accuracy >= 85.0 % by the device", m3.get("accuracy", 0) >= 0.85,
             f"{100 * m3.get('accuracy', 0):.2f} %"),
            ("<= 300 instructions per inference", (m3.get("max") or 1e9) <= 300,
             f"{m3.get('max')} (mean {m3.get('mean')})"),
            ("AVR <= 1,000 cycles", (avr.get("max") or 1e9) <= 1000,
             f"{avr.get('max')} (mean {avr.get('mean')})"),
            ("bit-exact classes on every test row, every target", exact,
             f"{len(rec['targets'])} targets"),
        ]
        for what, ok, figure in checks:
            lines.append(f"- {'met' if ok else 'MISSED'}: {what}: {figure}")
        return lines
    peers = [(p[0], p[2], k, r["family"]) for k, r in models.items()
             if r["family"] in EMLEARN and (p := point(r))]
    if goal == "above":
        rivals = [(f, a, k) for f, a, k, fam in peers if fam in ("tree", "forest") and f <= 8192]
        bad = []
        for f, a, k in sorted(rivals):
            mine = best_within(mip, f)
            if mine is None or mine <= a:
                bad.append(f"{k} ({f:.0f} B, {100 * a:.1f} %: mipnn within its flash "
                           f"{'none' if mine is None else f'{100 * mine:.1f} %'})")
        lines.append(f"- {'met' if not bad else 'MISSED'}: mipnn's front above every emlearn "
                     f"tree and forest up to 8 KB ({len(rivals)} checked)"
                     + ("" if not bad else ": not above " + "; ".join(bad)))
    elif goal == "within1":
        bad = []
        for f, a, k, _ in sorted(peers):
            best = best_within([(c, x) for c, x, _, _ in peers], f) or a
            mine = best_within(mip, f)
            if mine is None or mine < best - 0.01 - 1e-9:
                bad.append(f"at {f:.0f} B ({k}): best emlearn {100 * best:.1f} %, mipnn "
                           f"{'none' if mine is None else f'{100 * mine:.1f} %'}")
        lines.append(f"- {'met' if not bad else 'MISSED'}: mipnn within 1 point of the best "
                     f"emlearn model at equal flash ({len(peers)} flash sizes checked)"
                     + ("" if not bad else ": " + "; ".join(bad)))
    return lines


def _cell(r: dict[str, Any] | None, ram: bool = False) -> str:
    if not r:
        return "-"
    if "error" in r:
        return "does not build/fit"
    text = f"{r['model_flash']:,} / {r['mean']:,.0f}" if r.get("mean") is not None else \
        f"{r['model_flash']:,} / -"
    if ram:
        text += f" / {r['model_ram']:,}"
    return text


def table(data: dict[str, Any]) -> list[str]:
    """The Markdown table: one row per model."""
    targets = data["targets"]
    head = ["model", "Python test %", "device test % (M3)", "agrees with Python"]
    for t in targets:
        unit = "cycles" if t == "avr" else "instr"
        head.append(f"{t} flash B / {unit}" + (" / RAM B" if t == "avr" else ""))
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = sorted(data["models"].items(),
                   key=lambda kv: (kv[1]["family"] != "mipnn", kv[1]["family"],
                                   (point(kv[1]) or (1e12, 0, 0))[0]))
    for key, rec in order:
        m3 = rec.get("targets", {}).get(FRONT_TARGET, {})
        accs = {t: r.get("accuracy") for t, r in rec.get("targets", {}).items()
                if "accuracy" in r}
        dev = "-" if "accuracy" not in m3 else f"{100 * m3['accuracy']:.2f}"
        if len({round(a, 6) for a in accs.values()}) > 1:
            dev += " (" + ", ".join(f"{t} {100 * a:.2f}" for t, a in accs.items()) + ")"
        if rec["family"] == "mipnn":
            agree = ("bit-exact" if all(r.get("bit_exact_classes") for r in
                                        rec.get("targets", {}).values() if "accuracy" in r)
                     else "NO")
        else:
            agree = "-" if "agree_with_python" not in m3 else \
                f"{100 * m3['agree_with_python']:.2f} %"
        row = [key, f"{100 * rec['python_accuracy']:.2f}", dev, agree]
        row += [_cell(rec.get("targets", {}).get(t), ram=(t == "avr")) for t in targets]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def plots(name: str, data: dict[str, Any], out: Path) -> list[Path]:
    """The two Pareto plots (Cortex-M3): accuracy against model flash and instructions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for idx, (what, label) in enumerate((("flash", "model flash (bytes)"),
                                         ("instructions", "instructions per inference"))):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for family, colour in COLOURS.items():
            pts = [(p[idx], p[2]) for r in data["models"].values()
                   if r["family"] == family and (p := point(r))]
            if not pts:
                continue
            ax.scatter([c for c, _ in pts], [100 * a for _, a in pts], color=colour,
                       label="mipnn" if family == "mipnn" else f"emlearn {family}", s=22)
            fr = front(pts)
            ax.step([c for c, _ in fr], [100 * a for _, a in fr], where="post",
                    color=colour, alpha=0.6)
        ax.set_xscale("log")
        ax.set_xlabel(f"Cortex-M3 {label}")
        ax.set_ylabel("test accuracy by the device (%)")
        ax.set_title(f"{name}: accuracy against {label}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        path = out / f"{name}-{what}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def write_docs(name: str, data: dict[str, Any], goal: str, out: Path) -> Path:
    """docs/peers/<name>.md with the table, the plots and the goal's verdict."""
    out.mkdir(parents=True, exist_ok=True)
    pngs = plots(name, data, out)
    lines = [f"# Peers: {name}", "",
             f"{data['train_rows']:,} training rows, {data['test_rows']:,} test rows, classes "
             f"{', '.join(map(str, data['classes']))}. Written by `bench/peers.py` (figures: "
             f"`bench/results/peers-{name}.json`). Every test row ran on each device; "
             "`flash B / instr` is the model's own flash and the mean instructions (AVR: "
             "cycles) of one inference over 16 test rows (2 for the float MLP); AVR RAM is "
             "the model's static RAM (emlearn keeps its tables there).", "",
             "## Goal", "", *verdict(goal, data["models"]), "", "## Table", "",
             *table(data), "", "## Pareto plots (Cortex-M3)", ""]
    lines += [f"![{p.stem}]({p.name})" for p in pngs]
    path = out / f"{name}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
