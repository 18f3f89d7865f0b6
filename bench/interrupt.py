"""Ctrl-C benchmark (issue 21, cause 7): how long ``mipnn train`` takes to end after a SIGINT,
per solver route and moment, and what it leaves. Each run trains a network that takes far
longer than the moment of the signal (breast_cancer, 32 hidden neurons, 120 s; Gurobi's
route on 40 Heart rows, 4 hidden neurons, within the pip licence), sends SIGINT at the
first new incumbent or some seconds after it (inside the full MIP or the search), and
measures the time from the signal to the end of the process; it checks the exit status
(130), that the model file was written with ``training.status`` "interrupted" and that
stderr says so. Writes the section "## Ctrl-C (issue 21)" of docs/RESULTS.md:

    .venv/bin/python bench/interrupt.py [--repeats 3] [--data-dir DIR]

Runs go one at a time (the machine is shared); the load average before each is recorded.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.sections import write_section  # noqa: E402

RESULTS = REPO / "docs" / "RESULTS.md"
SECTION = "## Ctrl-C (issue 21)"
INCUMBENT = re.compile(r"^ *[0-9.]+s \*")
SLOW = ("--dataset", "breast_cancer", "--hidden", "32", "--time-limit", "120")
ROUTES = {  # name: (arguments, what must be installed)
    "highspy (default)": ((*SLOW,), None),
    "highs via Pyomo": ((*SLOW, "--solver", "highs"), None),
    "cbc via Pyomo": ((*SLOW, "--solver", "cbc"), "cbc"),
    "gurobi-direct": (("--dataset", "heart", "--hidden", "4", "--train-size", "40",
                       "--time-limit", "120", "--solver", "gurobi-direct"), "gurobipy"),
}
MOMENTS = (0.0, 5.0)  # seconds after the first new incumbent


def available(need: str | None) -> bool:
    if need is None:
        return True
    if need == "gurobipy":
        return importlib.util.find_spec("gurobipy") is not None
    from shutil import which

    return which(need) is not None


def one_run(args: tuple[str, ...], delay: float, data_dir: Path) -> dict:
    """One training run stopped by SIGINT ``delay`` seconds after its first incumbent."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m.json"
        load = os.getloadavg()[0]
        proc = subprocess.Popen([sys.executable, "-m", "mipnn", "train", *args,
                                 "--data-dir", str(data_dir), "--out", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = threading.Event()

        def read() -> None:
            for line in proc.stdout:  # type: ignore[union-attr]
                if INCUMBENT.search(line):
                    seen.set()

        threading.Thread(target=read, daemon=True).start()
        if not seen.wait(300):
            proc.kill()
            return {"error": "no incumbent in 300 s"}
        time.sleep(delay)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(300)
        except subprocess.TimeoutExpired:
            proc.kill()
            return {"error": "still running 300 s after SIGINT"}
        after = time.perf_counter() - sent
        stderr = proc.stderr.read()  # type: ignore[union-attr]
        status = None
        if out.exists():
            status = json.loads(out.read_text())["training"].get("status")
        return {"seconds": after, "returncode": proc.returncode, "status": status,
                "said": "interrupted (Ctrl-C): wrote" in stderr, "load": load}


def section(rows: list[tuple[str, float, list[dict]]]) -> str:
    lines = [SECTION, "",
             "`bench/interrupt.py`: `mipnn train` stopped by SIGINT (what Ctrl-C sends) at its "
             "first new incumbent or 5 s later, one run at a time on the shared 2-core "
             "machine. Seconds from the signal to the end of the process (the model file "
             "written, the line on stderr said); every run exited 130 with `training.status` "
             "\"interrupted\" unless the table says otherwise.", "",
             "| route | signal | runs | seconds to exit: median (max) | exit 130, file, line "
             "| load |", "| --- | --- | ---: | ---: | --- | ---: |"]
    for route, delay, runs in rows:
        ok = [r for r in runs if "error" not in r]
        good = sum(r["returncode"] == 130 and r["status"] == "interrupted" and r["said"]
                   for r in ok)
        secs = [r["seconds"] for r in ok]
        when = "first incumbent" if delay == 0 else f"{delay:g} s after it"
        figure = (f"{statistics.median(secs):.2f} ({max(secs):.2f})" if secs else "-")
        loads = ", ".join(f"{r['load']:.1f}" for r in ok)
        errors = "; ".join(r["error"] for r in runs if "error" in r)
        lines.append(f"| {route} | {when} | {len(runs)} | {figure} | {good} of {len(runs)}"
                     f"{' (' + errors + ')' if errors else ''} | {loads} |")
    lines += ["", "HiGHS (highspy) stops from its interrupt callbacks; where it does not poll "
              "them (presolve, the root LP) the solve is left in its thread after 1 s. Pyomo "
              "has no callbacks: its solve is left in its thread after 1 s and the process "
              "exits without waiting for it. Gurobi stops from its callback. Each ends with "
              "the best network found so far.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--data-dir", type=Path,
                    default=Path(os.environ.get("MIPNN_DATA_DIR",
                                                REPO.parent / "shared" / "data")))
    args = ap.parse_args(argv)
    rows = []
    for route, (route_args, need) in ROUTES.items():
        if not available(need):
            print(f"{route}: {need} not installed, skipped")
            continue
        for delay in MOMENTS:
            runs = [one_run(route_args, delay, args.data_dir) for _ in range(args.repeats)]
            rows.append((route, delay, runs))
            print(route, delay, [round(r.get("seconds", -1), 2) for r in runs], flush=True)
    text = section(rows)
    print(text)
    write_section(text, SECTION, RESULTS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
