"""Text from files as the command line shows it (mipnn/terminal.py): control characters
escaped, everything else kept."""

from __future__ import annotations

import unicodedata

import pytest

from mipnn.terminal import ESCAPED_CATEGORIES, printable


@pytest.mark.parametrize("text, shown", [
    ("plain text", "plain text"),
    ("é ü 日本 \U0001f600 a\u00a0b", "é ü 日本 \U0001f600 a\u00a0b"),
    ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
    ("a\nb\rc\td", "a\\x0ab\\x0dc\\x09d"),
    ("\x07\x7f\x9b", "\\x07\\x7f\\x9b"),
    ("abc\u202edef\u2066", "abc\\u202edef\\u2066"),
    ("x\u2028y\u2029z", "x\\u2028y\\u2029z"),
    ("\ud800", "\\ud800"),
    ("\U000e0001", "\\U000e0001"),
])
def test_control_characters_are_escaped(text, shown):
    assert printable(text) == shown
    assert not any(unicodedata.category(c) in ESCAPED_CATEGORIES for c in printable(text))
    printable(text).encode("utf-8")  # no lone surrogate left
