"""Shared first-layer work (codegen/sharing.py): Steiner points beyond the spanning tree."""

from __future__ import annotations

from conftest import REALISTIC

from mipnn.codegen.strategy import build_program
from mipnn.trainer.model import load_model


def test_steiner_points():
    # the realistic model: 423 nonzero first-layer weights, 296 terms along the spanning
    # tree alone; Steiner points (shared medians) save more than 15% of them
    program = build_program(load_model(REALISTIC), "unrolled")
    terms = program.counts["term"] + program.counts["term_wide"]
    assert terms < 0.85 * 296
    assert any(op.kind == "let" and op.var.startswith("t") for op in program.ops)
