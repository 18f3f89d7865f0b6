"""The ``unrolled`` strategy (codegen/unrolled.py): shared partial sums cut the terms."""

from __future__ import annotations

from conftest import ADULT

from mipnn.codegen.strategy import build_program
from mipnn.trainer.model import load_model


def test_shared_partial_sums_cut_the_adult_model():
    model = load_model(ADULT)
    program = build_program(model, "unrolled")
    nonzero = int((model.layers[0].weights != 0).sum())
    terms = program.counts["term"] + program.counts["term_wide"]
    assert terms < nonzero / 3, (terms, nonzero)  # 1150 nonzero weights, ~140 terms
    assert any("constant" in note for note in program.notes)
