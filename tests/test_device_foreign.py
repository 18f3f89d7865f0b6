"""C classifiers mipnn did not generate, through the harness (mipnn/device/foreign.py):
every vector's class comes back in order, across several images, with the model's own
flash and the counts of one inference; C that does not build is a FirmwareError."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_targets, require_tools

from mipnn.device.errors import FirmwareError
from mipnn.device.foreign import run_classifier

HEADER = """#ifndef TOY_H
#define TOY_H
#include <stdint.h>
#define TOY_N_INPUTS 3
#define TOY_N_CLASSES 3
int toy_predict(const uint8_t x[TOY_N_INPUTS], int32_t scores[TOY_N_CLASSES]);
#endif
"""
SOURCE = """#include "toy.h"
int toy_predict(const uint8_t x[TOY_N_INPUTS], int32_t scores[TOY_N_CLASSES])
{
    int c = (x[0] > x[1]) ? 0 : ((x[1] > x[2]) ? 1 : 2);
    if (scores) { scores[0] = c == 0; scores[1] = c == 1; scores[2] = c == 2; }
    return c;
}
"""


def expected(X: np.ndarray) -> np.ndarray:
    return np.where(X[:, 0] > X[:, 1], 0, np.where(X[:, 1] > X[:, 2], 1, 2))


@pytest.mark.parametrize("target", ["host", "cortex-m3", "avr"])
def test_every_vector_comes_back_in_order_across_images(target, tmp_path):
    if target == "host":
        require_tools("gcc", "make")
    else:
        require_targets((target,))
    X = np.random.default_rng(0).integers(0, 256, (23, 3)).astype(np.uint8)
    files = {"toy.h": HEADER, "toy.c": SOURCE}
    r = run_classifier(files, "toy", 3, X, target, tmp_path, per_image=10, measure_vectors=2)
    assert np.array_equal(r.classes, expected(X))
    assert r.images == 3 and r.model_flash_bytes > 0
    if target == "host":  # (the sanitizer's tables count as the model's RAM there)
        assert r.unit == "" and r.counts == []
    else:
        assert r.model_ram_bytes == 0
        assert r.unit == ("cycles" if target == "avr" else "instructions")
        assert len(r.counts) == 4 and 0 < r.mean_count <= r.max_count < 200


def test_code_that_does_not_build_is_an_error(tmp_path):
    require_tools("gcc", "make")
    files = {"toy.h": HEADER, "toy.c": SOURCE.replace("return c;", "return undefined;")}
    with pytest.raises(FirmwareError, match="failed"):
        run_classifier(files, "toy", 3, np.zeros((2, 3), np.uint8), "host", tmp_path)
