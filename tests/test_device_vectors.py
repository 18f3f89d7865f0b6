"""Golden vectors (mipnn/device/vectors.py): test rows, edge cases and random vectors in a
fixed order, deterministic for a seed, and bad test data rejected."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_models import make_model

from mipnn.device.errors import FirmwareError
from mipnn.device.targets import vector_budget
from mipnn.device.vectors import golden_vectors, target_vectors


def test_golden_vectors_order_and_content():
    model = make_model([6, 3, 2], levels=9)
    test_x = np.arange(5 * 6).reshape(5, 6) % 10
    v = golden_vectors(model, test_x, n_random=7, seed=3, limit=4)
    assert v.dtype == np.uint8 and v.shape[1] == 6
    assert np.array_equal(v[:4], test_x[:4])
    edges = v[4:-7]
    rows = {tuple(r) for r in edges}
    assert (0,) * 6 in rows and (9,) * 6 in rows
    assert (0, 9, 0, 9, 0, 9) in rows and (9, 0, 9, 0, 9, 0) in rows
    assert (9, 0, 0, 0, 0, 0) in rows and (0, 0, 0, 0, 0, 9) in rows
    assert v.max() <= 9
    again = golden_vectors(model, test_x, n_random=7, seed=3, limit=4)
    assert np.array_equal(v, again)
    other = golden_vectors(model, test_x, n_random=7, seed=4, limit=4)
    assert not np.array_equal(v[-7:], other[-7:])
    assert len(golden_vectors(model, None, n_random=0)) == len(edges)


def test_golden_vectors_reject_bad_test_data():
    model = make_model([3, 2], levels=5)
    with pytest.raises(FirmwareError, match=r"\[0, 5\]"):
        golden_vectors(model, np.array([[0, 6, 1]]))
    with pytest.raises(FirmwareError, match="shape"):
        golden_vectors(model, np.zeros((2, 4)))
    with pytest.raises(FirmwareError, match="integers"):
        golden_vectors(model, np.array([[0.5, 1, 1]]))


def test_a_targets_vectors_fit_half_its_flash():
    model = make_model([600, 2, 2], name="wide")
    test_X = np.zeros((300, 600), dtype=np.uint8)
    X, note = target_vectors(model, test_X, "host", limit=256, n_random=4)
    assert note is None and len(X) == 256 + len(golden_vectors(model, None, n_random=4))
    budget = vector_budget("avr", 600)  # 32 KiB of flash: 27 vectors of 600 bytes
    X, note = target_vectors(model, test_X, "avr", limit=256, n_random=4)
    assert len(X) <= budget and note == f"avr: {len(X)} of 269 vectors (the rest do not fit " \
                                        "half its flash)"
    np.testing.assert_array_equal(X, golden_vectors(model, test_X, n_random=4,
                                                    limit=len(X) - 13))


def test_a_version_2_models_vectors_share_half_the_flash_with_its_raw_vectors():
    """Each test row costs its inputs and its raw row (4 bytes per raw column): both sets
    keep the same test rows, and together they fit half the AVR's flash."""
    from helpers_raw import adult_version_2

    from mipnn.device.rawcheck import raw_golden_vectors
    from mipnn.device.vectors import target_raw_vectors

    model = adult_version_2()
    test_x = np.zeros((400, 108), dtype=np.uint8)
    test_raw = np.zeros((400, 14), dtype=np.int64)
    X, note = target_vectors(model, test_x, "avr", 400, n_random=8, test_raw=test_raw)
    R = target_raw_vectors(model, test_raw, "avr", 400, n_random=8)
    assert note is not None and R is not None
    kept = len(X) - len(golden_vectors(model, None, n_random=8))
    assert 0 < kept < 400 and len(R) == kept + len(raw_golden_vectors(model, None, 8))
    assert np.array_equal(R[:kept], test_raw[:kept])
    assert X.size + 4 * R.size <= 32768 // 2
    assert target_raw_vectors(make_model([3, 2]), None, "avr", 10) is None  # version 1


def test_absurd_numbers_of_random_vectors_are_refused():
    """Issue 21 (fuzzing): ``--random 10000000000`` allocated until it failed."""
    with pytest.raises(FirmwareError, match="random vectors"):
        golden_vectors(make_model([3, 2]), None, n_random=10**10)
