"""The table loop (codegen/table.py): ``int16`` uses 16-bit accumulators only where proven."""

from __future__ import annotations

from conftest import ADULT

from mipnn.codegen.export import render
from mipnn.trainer.model import load_model


def test_int16_uses_fast_16_bit_accumulators_only_where_proven():
    model = load_model(ADULT)
    c16 = render(model, strategy="int16")["adult.c"]
    c8 = render(model, strategy="int8")["adult.c"]
    assert "int_fast16_t acc" in c16 and "int_fast16_t acc" not in c8
    assert "int32_t acc" in c8
    assert 'Strategy "int16"' in c16 and 'Strategy "int8"' in c8
