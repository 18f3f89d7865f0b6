"""The Jinja2 environment and its filters (codegen/templating.py): integer constants that
keep their value where ``int`` is 16 bits, addends, hexadecimal masks, input reads through
the second pointer, text safe in a C comment, initialiser lines, strict templates."""

from __future__ import annotations

import json

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mipnn.codegen.templating import (
    VALUES_PER_LINE,
    c_int,
    comment_safe,
    comment_text,
    environment,
    hexu,
    plus,
    wrap_values,
    xref,
)


def test_integer_constants_have_their_value_on_16_bit_targets():
    assert c_int(32767) == "32767" and c_int(-32767) == "-32767"
    assert c_int(-32768) == "INT32_C(-32768)" and c_int(40000) == "INT32_C(40000)"
    assert c_int(-(2**31)) == "(INT32_C(-2147483647) - 1)"
    assert c_int(2**31) == "INT64_C(2147483648)"
    assert c_int(-(2**63)) == "(INT64_C(-9223372036854775807) - 1)"
    assert plus(0) == "" and plus(5) == " + 5" and plus(-40000) == " - INT32_C(40000)"
    assert hexu(5, "uint8_t") == "0x05u" and hexu(5, "uint16_t") == "0x0005u"
    assert hexu(0xABC) == "0x00000ABCu"


def test_input_reads_use_the_second_pointer_only_in_its_window():
    assert xref(3, 0) == "xv[3]" and xref(40, 0) == "xv[40]"
    assert xref(40, 36) == "xv1[4]" and xref(67, 36) == "xv1[31]"
    assert xref(68, 36) == "xv[68]" and xref(20, 10) == "xv[20]"  # x[0..31] is near anyway


def test_text_is_safe_in_a_c_comment():
    assert comment_text('a */ "b"') == '"a *\\/ \\"b\\""'
    assert comment_text("na\u00efve") == '"na\\u00efve"'  # ASCII
    assert comment_safe("x */ y") == "x *\\/ y"


@given(st.text())
def test_no_comment_delimiter_can_form_in_comment_text(text):
    """Issue 21, cause 2: a nested ``/*`` ("/*" within comment, an error under -Werror)
    could form; the JSON literal still reads back as the text."""
    safe = comment_text(text)
    assert "/*" not in safe and "*/" not in safe and "\n" not in safe and safe.isascii()
    assert json.loads(safe) == text
    assert comment_text("a/*b") == '"a/\\u002ab"'
    line = comment_safe(f"note {text} */* /*")
    assert "/*" not in line and "*/" not in line


def test_initialiser_lines():
    lines = wrap_values(list(range(VALUES_PER_LINE + 2)), "  ")
    assert len(lines) == 2 and lines[1] == f"  {VALUES_PER_LINE}, {VALUES_PER_LINE + 1},"


def test_the_environment_is_strict():
    env = environment()
    assert env.filters["cint"] is c_int
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    assert env.from_string("{% if 1 %}\n  x\n{% endif %}\n").render() == "  x\n"
