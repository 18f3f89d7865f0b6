"""The raw entry points in the generated C (codegen/rawinputs.py, templates/raw.c.j2): the
header documents every raw column and category code, a version-1 model has none, and on
the host (strict flags, undefined-behaviour sanitiser) ``NAME_encode`` and
``NAME_predict_raw`` equal the Python reference for random scales, ranges near the int32
limits, constant columns, L from 1 to 255, every strategy and every int32 edge."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ADULT
from helpers_models import make_model
from helpers_raw import (
    adult_version_2,
    edge_rows,
    raw_features,
    raw_host_runner,
    raw_model,
    raw_specs,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mipnn.codegen.export import render
from mipnn.codegen.rawinputs import raw_idents, raw_plan
from mipnn.codegen.strategy import STRATEGIES
from mipnn.trainer.encoding import encode_raw
from mipnn.trainer.model import forward, load_model


def check_on_host(model, strategy: str, tmp_path, rows: np.ndarray | None = None,
                  avr_branch: bool = False) -> None:
    files = render(model, strategy=strategy)
    run = raw_host_runner(files, tmp_path, avr_branch)
    rows = edge_rows(model.features) if rows is None else rows
    X, classes, scores = run(rows)
    X_ref = encode_raw(model.features, model.levels, rows)
    want_scores, want_classes = forward(model, X_ref)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(scores, want_scores)
    np.testing.assert_array_equal(classes, want_classes)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=raw_specs(), levels=st.integers(1, 255), seed=st.integers(0, 2**31),
       hidden=st.sampled_from([[], [3], [4, 2]]), strategy=st.sampled_from(STRATEGIES),
       avr_branch=st.booleans())
def test_c_equals_python_for_random_raw_models(tmp_path_factory, spec, levels, seed, hidden,
                                               strategy, avr_branch):
    model = raw_model(seed, spec, hidden, levels=levels)
    check_on_host(model, strategy, tmp_path_factory.mktemp("raw"), avr_branch=avr_branch)


@pytest.mark.parametrize("avr_branch", [False, True])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_adult_v2_on_the_host(strategy, avr_branch, tmp_path, adult_v2):
    check_on_host(adult_v2, strategy, tmp_path, avr_branch=avr_branch)


@pytest.fixture
def adult_v2():
    return adult_version_2()


def test_header_documents_raw_columns_and_codes(adult_v2):
    files = render(adult_v2, strategy="unrolled")
    h = files["adult.h"]
    assert "#define ADULT_N_RAW 14\n" in h
    assert "#define ADULT_RAW_AGE 0\n" in h
    assert "#define ADULT_RAW_EDUCATION_NUM 4\n" in h
    assert "#define ADULT_RAW_NATIVE_COUNTRY 13\n" in h
    assert 'raw[ADULT_RAW_SEX] = "sex": a category code -> x[61..62]; codes:' in h
    assert ' *       0 = "Female"\n *       1 = "Male"' in h
    assert 'raw[ADULT_RAW_FNLWGT] = "fnlwgt": numeric, round(value * 1) -> x[10] over' in h
    assert "void adult_encode(const int32_t raw[ADULT_N_RAW], uint8_t x[ADULT_N_INPUTS]);" in h
    assert ("int adult_predict_raw(const int32_t raw[ADULT_N_RAW], "
            "int32_t scores[ADULT_N_CLASSES]);") in h


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_version_1_model_has_no_raw_entry_points(strategy):
    v1 = load_model(ADULT)
    assert v1.file_version == 1 and raw_plan(v1, "adult") is None
    files = render(v1, strategy=strategy)
    for text in files.values():
        assert "predict_raw" not in text and "_encode" not in text and "N_RAW" not in text
    featureless = make_model([5, 3, 2])
    assert raw_plan(featureless, "net") is None


def test_raw_identifiers_are_c_names_and_distinct():
    assert raw_idents(["age", "capital-gain", "capital_gain", "1st", "", "é"]) == [
        "AGE", "CAPITAL_GAIN", "CAPITAL_GAIN_2", "1ST", "COLUMN", "COLUMN_2"]
    long = raw_idents(["x" * 500, "x" * 501])
    assert long == ["X" * 40, "X" * 40 + "_2"]


def test_non_consecutive_one_hot_columns_use_a_switch(tmp_path):
    features = raw_features(0, [3, (0, 100), 2])
    # interleave the categorical source c0 with the numeric input
    order = [0, 3, 1, 4, 2, 5]
    model = raw_model(0, [3, (0, 100), 2], [3])
    model.features = [features[i] for i in order]
    plan = raw_plan(model, "rawnet")
    assert plan is not None and plan.sources[0].base is None
    assert "switch ((uint_fast16_t)rk)" in render(model, strategy="int8")["rawnet.c"]
    check_on_host(model, "int8", tmp_path)
