"""bench/search.py's bookkeeping: the benchmark's runs, the table cells, the summary lines
and the RESULTS.md section it rewrites (no training here; the runs are synthetic records)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def bench():
    from conftest import load_bench_script

    return load_bench_script("search.py", "bench_search")


def test_at_least_ten_small_instances_with_every_method(bench):
    runs = bench.todo()
    small = {(cell, seed) for cell, seed, _ in runs if cell in bench.SMALL}
    assert len(small) >= 10
    assert {d for (d, *_), _ in small} == {"heart", "adult"}
    assert {o for (_, _, _, _, o, _), _ in small} == {"sat_margin", "max_correct", "min_hinge"}
    for cell, seed in small:
        assert {m for c, s, m in runs if (c, s) == (cell, seed)} == set(bench.METHODS)
    assert bench.METHODS["plain HiGHS"] == {"lns": False, "warm_start": False}
    assert bench.METHODS["Gurobi direct"] == {"solver": "gurobi-direct"}


def _rec(bench, cell, seed, method, objective, status, time=10.0, load=0.5):
    return {"key": bench.run_key(cell, seed, method), "objective": objective,
            "status": status, "time": time, "load_before": load}


def test_cells_and_summary(bench):
    cell = bench.SMALL[0]
    proven = _rec(bench, cell, 0, "no-lns", 0.0, "optimal", 21.4)
    assert bench.cell_text(proven) == "**0** (21 s)"
    assert bench.cell_text(_rec(bench, cell, 0, "default", 4.0, "time_limit")) == "4"
    assert bench.cell_text(_rec(bench, cell, 0, "default", 4.0, "time_limit", load=5.0)) \
        == "4 (load)"
    assert bench.cell_text({"error": "Gurobi's licence is too small for this instance"}) \
        == "licence"
    assert bench.cell_text(None) == "-"
    cache = {r["key"]: r for r in (proven, _rec(bench, cell, 0, "default", 4.0, "time_limit"))}
    lines = bench._summary([(cell, 0)], cache, ("default", "no-lns"))
    assert lines[0].startswith("- default: 0 of 1 runs proven optimal")
    assert lines[1].startswith("- no-lns: 1 of 1 runs proven optimal")
    assert "worse objective on 1, unproven where --no-lns proved on 1 of 1" in lines[2]


def test_the_section_is_replaced_and_the_others_kept(bench, tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\n## Other\n\nkept\n")
    bench.write_section(bench.report({}), path)
    bench.write_section(bench.report({}), path)
    text = path.read_text()
    assert text.count(bench.SECTION) == 1 and "## Other\n\nkept" in text
    assert "| instance | default | no-lns | plain HiGHS | Gurobi direct |" in text
