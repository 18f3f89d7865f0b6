"""bench/interrupt.py's table (no training here: the runs are synthetic records) and its
route availability checks."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def bench():
    from conftest import load_bench_script

    return load_bench_script("interrupt.py", "bench_interrupt")


def run(seconds, returncode=130, status="interrupted", said=True):
    return {"seconds": seconds, "returncode": returncode, "status": status, "said": said,
            "load": 1.0}


def test_the_table_counts_only_runs_that_did_everything(bench):
    text = bench.section([
        ("highspy (default)", 0.0, [run(0.8), run(1.2), run(1.0)]),
        ("highs via Pyomo", 5.0, [run(1.1), run(9.0, returncode=0, status="time_limit"),
                                  {"error": "no incumbent in 300 s"}]),
    ])
    assert text.startswith(bench.SECTION)
    lines = [line for line in text.splitlines() if line.startswith("| highs")]
    assert "| first incumbent | 3 | 1.00 (1.20) | 3 of 3 |" in lines[0]
    assert "| 5 s after it | 3 | 5.05 (9.00) | 1 of 3 (no incumbent in 300 s) |" in lines[1]


def test_routes_need_what_they_name(bench):
    assert bench.available(None)
    assert not bench.available("no-such-solver-executable")
