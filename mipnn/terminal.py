"""What the command line shows of text it did not write itself (model names, class labels,
feature names, CSV headers, paths, error messages quoting any of them): every control
character escaped, so a model or data file cannot put terminal escape sequences on the
screen, reorder the line with bidirectional marks, split it with line separators, or make
the output fail with a lone surrogate that no encoding can write."""

from __future__ import annotations

import unicodedata

import click

# C0 and C1 controls and DEL (Cc), format characters such as the bidirectional marks and
# overrides (Cf), surrogates (Cs), and the line and paragraph separators (Zl, Zp)
ESCAPED_CATEGORIES = frozenset(["Cc", "Cf", "Cs", "Zl", "Zp"])


def escape_char(char: str) -> str:
    """``char`` as Python writes it in a string literal's escape: ``\\x1b``, ``\\u202e``,
    ``\\U000e0001``."""
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every control character escaped (module docstring); everything else,
    any script and emoji included, is kept as it is."""
    if text.isprintable():  # the common case: nothing to escape (spaces are printable)
        return text
    return "".join(escape_char(c) if unicodedata.category(c) in ESCAPED_CATEGORIES else c
                   for c in text)


def say(text: str, err: bool = False) -> None:
    """Print one line (on stderr with ``err``) with its control characters escaped."""
    click.echo(printable(str(text)), err=err)
