"""Raw values on the device (mipnn/device/rawcheck.py): the raw golden vectors, the parsing
of the harness's raw lines and their comparison; in CI, every raw entry point bit-exact on
all six targets for every int32 edge, and a CSV with decimals and a categorical column
trained, exported and matched on every target (ARCHITECTURE.md 8).

Time budget: about a minute for the every-target tests (two targets at a time, no
measurement except one run on the Cortex-M3 and the AVR)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import EMULATED, require_targets
from helpers_raw import adult_version_2, raw_model, raw_specs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnn.cli import main
from mipnn.device.driver import run_firmware
from mipnn.device.errors import FirmwareError
from mipnn.device.rawcheck import (
    RawOutput,
    column_edges,
    compare_raw,
    parse_raw_lines,
    raw_golden_vectors,
)
from mipnn.device.vectors import golden_vectors
from mipnn.trainer.encoding import encode_raw
from mipnn.trainer.model import forward, load_model, save_model
from mipnn.trainer.raw import INT32_MAX, INT32_MIN

# every kind of numeric arithmetic (16-bit, 16 x 16, 32-bit, estimate with the AVR table,
# 64-bit correction, a constant column, ranges at the int32 limits) and categorical sources
EDGE_SPEC = [(17, 90), 9, (12285, 1484705), 3, (0, 99999), (INT32_MIN, INT32_MAX),
             (5, 5), (-(2**31), -(2**31) + 3), (2**31 - 70000, 2**31 - 1), (0, 4356), 2]


def test_raw_golden_vectors_visit_every_edge_of_every_column():
    model = raw_model(1, EDGE_SPEC, [4])
    rows = raw_golden_vectors(model, None, n_random=10, seed=3)
    assert rows.dtype == np.int64 and rows.shape[1] == 11
    assert rows.min() >= INT32_MIN and rows.max() <= INT32_MAX
    for c, (edges, lo, hi) in enumerate(column_edges(model)):
        assert set(edges) <= set(rows[:, c].tolist())
        assert {INT32_MIN, INT32_MAX} <= set(edges) and lo <= hi
    cat = column_edges(model)[1][0]
    assert {-1, 0, 8, 9, 10} <= set(cat)  # every code and the unknown ones
    fnlwgt = column_edges(model)[2][0]
    assert {12284, 12285, 1484705, 1484706} <= set(fnlwgt)
    again = raw_golden_vectors(model, None, n_random=10, seed=3)
    np.testing.assert_array_equal(rows, again)  # deterministic
    test = np.array([[20, 1, 50000, 0, 7, 0, 5, 0, 0, 0, 1]])
    with_test = raw_golden_vectors(model, test, n_random=0)
    np.testing.assert_array_equal(with_test[0], test[0])


def test_raw_golden_vectors_need_a_version_2_model():
    from conftest import ADULT

    with pytest.raises(FirmwareError, match="version-2"):
        raw_golden_vectors(load_model(ADULT))


def test_parse_and_compare_raw_lines():
    model = adult_version_2()
    raw = raw_golden_vectors(model, None, n_random=2)[:3]
    X = encode_raw(model.features, model.levels, raw)
    scores, classes = forward(model, X)
    lines = [f"raw {v} class {classes[v]} scores {' '.join(map(str, scores[v]))} "
             f"x {bytes(X[v].tolist()).hex()}" for v in range(3)]
    got = parse_raw_lines(lines, 3, 2, 108, 5, "\n".join(lines))
    assert compare_raw(model, raw, got) == []
    wrong = got.inputs.copy()
    wrong[1, 66] ^= 1
    bad = compare_raw(model, raw, RawOutput(got.classes, got.scores, wrong))
    assert [m.index for m in bad] == [1] and bad[0].input_position == 66
    assert "encode ERROR at x[66]" in bad[0].describe()
    with pytest.raises(FirmwareError, match="expected the line of raw vector 1"):
        parse_raw_lines([lines[0], lines[2]], 2, 2, 108, 5, "")
    with pytest.raises(FirmwareError, match="inputs printed"):
        parse_raw_lines([lines[0][:-2]], 1, 2, 108, 5, "")
    with pytest.raises(FirmwareError, match="stops after 1"):
        parse_raw_lines(lines[:1], 2, 2, 108, 5, "")


def _every_target(path, targets, strategies, workdir, measure=False):
    jobs = [(t, s) for t in targets for s in strategies]
    model = load_model(path)
    vectors = golden_vectors(model, n_random=4, seed=2)

    def one(job):
        target, strategy = job
        return run_firmware(path, target, vectors, workdir=workdir / target,
                            strategy=strategy, measure=measure)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(one, jobs))
    for (target, strategy), r in zip(jobs, reports, strict=True):
        assert r.raw_vectors >= 30, (target, strategy)
        assert r.ok, f"{target} {strategy}:\n{r.summary()}"
    return reports


@pytest.mark.emulator
def test_every_int32_edge_on_every_target(tmp_path):
    """NAME_encode and NAME_predict_raw, fused (unrolled) and through NAME_predict (int8),
    equal the reference on all six targets for every edge of every column."""
    require_targets(("host", *EMULATED))
    path = save_model(raw_model(5, EDGE_SPEC, [6, 3], levels=255), tmp_path / "edges.json")
    _every_target(path, ("host", *EMULATED), ("unrolled", "int8"), tmp_path)
    small = save_model(raw_model(6, EDGE_SPEC[:6], [3], levels=3, w_max=127),
                       tmp_path / "edges3.json")
    _every_target(small, ("host", *EMULATED), ("xnor", "compact"), tmp_path)


def _decimals_csv(path):
    rng = np.random.default_rng(4)
    lines = ["temperature,humidity,colour,label"]
    for i in range(80):
        warm = i % 2 == 0
        t = rng.uniform(20, 25) if warm else rng.uniform(15, 21)
        h = rng.uniform(0.2, 0.5) if warm else rng.uniform(0.4, 0.8)
        colour = rng.choice(["red", "blue", "green"])
        lines.append(f"{t:.2f},{h:.3f},{colour},{'warm' if warm else 'cold'}")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.emulator
def test_a_csv_with_decimals_trains_exports_and_matches_on_every_target(tmp_path):
    require_targets(("host", *EMULATED))
    csv = tmp_path / "d.csv"
    _decimals_csv(csv)
    out = tmp_path / "d.json"
    runner = CliRunner()
    train = runner.invoke(main, ["train", "--csv", str(csv), "--target", "label", "--hidden",
                                 "3", "--time-limit", "5", "--out", str(out), "-q"])
    assert train.exit_code == 0, train.output
    assert "temperature x100, humidity x1000" in train.output
    model = load_model(out)
    assert model.file_version == 2
    assert [f.get("scale") for f in model.features] == [100, 1000, None, None, None]
    export = runner.invoke(main, ["export", str(out), "--out", str(tmp_path / "c")])
    assert export.exit_code == 0 and "d_predict_raw" in (tmp_path / "c" / "d.h").read_text()
    fw = runner.invoke(main, ["firmware", str(out), "--target", "all", "--no-measure",
                              "--random", "8"])
    assert fw.exit_code == 0, fw.output
    assert fw.output.count("bit-exact") == 6


@pytest.mark.emulator
def test_raw_entry_points_are_measured_on_cortex_m3_and_avr(tmp_path):
    """The Adult model: NAME_predict_raw costs at most 1.25 times NAME_predict (the
    benchmark figure of docs/RESULTS.md, bench/raw.py), and NAME_encode is counted."""
    require_targets(("cortex-m3", "avr"))
    path = save_model(adult_version_2(), tmp_path / "adult.json")
    m3, avr = _every_target(path, ("cortex-m3", "avr"), ("auto",), tmp_path, measure=True)
    assert m3.raw_instructions <= 1.25 * m3.instructions
    assert avr.raw_cycles <= 1.25 * avr.cycles
    assert m3.encode_instructions and avr.encode_cycles
    assert len(m3.raw_counted_calls) == 6 and len(m3.encode_counted_calls) == 3



@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(spec=raw_specs(), levels=st.integers(1, 255), seed=st.integers(0, 2**31),
       strategy=st.sampled_from(["unrolled", "int8", "compact"]))
def test_random_raw_models_through_the_harness_on_the_host(tmp_path_factory, spec, levels,
                                                           seed, strategy):
    """The harness itself (not only a test main): random scales, ranges near the int32
    limits, constant columns, L from 1 to 255, every int32 edge."""
    require_targets(("host",))
    tmp = tmp_path_factory.mktemp("rawprop")
    path = save_model(raw_model(seed, spec, [3], levels=levels), tmp / "m.json")
    model = load_model(path)
    r = run_firmware(path, "host", golden_vectors(model, n_random=2), workdir=tmp,
                     strategy=strategy, measure=False)
    assert r.raw_vectors > 0 and r.ok, r.summary()


def test_raw_entry_points_under_the_host_sanitizers(tmp_path):
    """AddressSanitizer and UndefinedBehaviorSanitizer on the host harness, every edge
    (NAME_encode and the fused NAME_predict_raw)."""
    require_targets(("host",))
    path = save_model(raw_model(5, EDGE_SPEC, [6, 3]), tmp_path / "edges.json")
    model = load_model(path)
    r = run_firmware(path, "host", golden_vectors(model, n_random=2), workdir=tmp_path,
                     strategy="unrolled", sanitize=True)
    assert r.raw_vectors > 30 and r.ok, r.summary()
