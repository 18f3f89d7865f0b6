"""bench/raw.py's bookkeeping: the version-2 conversion of the Adult bench model, and the
RESULTS.md section from synthetic reports (no firmware here)."""

from __future__ import annotations

import json

import pytest
from conftest import ADULT

from mipnn.device.report import FirmwareReport
from mipnn.trainer.model import load_model


@pytest.fixture(scope="module")
def raw_bench():
    from conftest import load_bench_script

    return load_bench_script("raw.py", "bench_raw")


def _report(target, strategy, plain, raw, enc, cycles=False, ok=True):
    counts = {"cycles" if cycles else "instructions": plain,
              "raw_cycles" if cycles else "raw_instructions": raw,
              "encode_cycles" if cycles else "encode_instructions": enc}
    return FirmwareReport(
        target=target, name="adult", n_vectors=70, mismatches=[], flash_bytes=9000,
        ram_bytes=300, stack_reserved_bytes=0, model_flash_bytes=2500, model_stack_bytes=20,
        build_seconds=1, run_seconds=1, elapsed=2, output="",
        strategy="unrolled" if strategy == "auto" else strategy,
        requested_strategy=strategy, raw_vectors=110, **counts)


def test_version_2_keeps_the_network_and_makes_integer_ranges_raw(raw_bench):
    v1 = load_model(ADULT)
    v2 = raw_bench.version_2(v1)
    assert v1.file_version == 1 and v2.file_version == 2 and v2.has_raw_inputs
    age = v2.features[0]
    assert (age["scale"], age["raw_min"], age["raw_max"]) == (1, 17, 90)
    assert all((a.weights == b.weights).all() for a, b in zip(v1.layers, v2.layers,
                                                               strict=True))
    data = json.loads(v1.to_json())
    data["input"]["features"][0]["max"] = 90.5
    from mipnn.trainer.model import model_from_dict

    with pytest.raises(ValueError, match="not integers"):
        raw_bench.version_2(model_from_dict(data))


def test_section_gives_the_done_when_figures_and_every_run(raw_bench):
    reports = [_report("cortex-m3", "auto", 312, 240, 253),
               _report("avr", "auto", 894, 1200, 878, cycles=True),
               _report("avr", "int8", 51263, 52193, 878, cycles=True)]
    text = raw_bench.section(ADULT, reports, 12.0)
    assert text.startswith(raw_bench.HEADING + "\n")
    assert "| cortex-m3 | unrolled | 312 | 240 | 0.77 | <= 1.25 | met |" in text
    assert "| avr | unrolled | 894 cycles | 1,200 cycles | 1.34 | <= 1.25 | NOT met |" in text
    assert "| avr | int8 | 51,263 cycles | 52,193 cycles | 1.02 | 878 cycles |" in text
    assert raw_bench.ratio(reports[0]) == pytest.approx(240 / 312)
