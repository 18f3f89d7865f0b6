"""The C name of a generated model: it prefixes every symbol (``NAME_predict``,
``NAME_N_INPUTS``), so it must be a C identifier, not a keyword of any C standard and not a
name reserved for the C implementation. A model's own name is never sanitised silently: an
unusable one is refused with a suggestion for ``--name``."""

from __future__ import annotations

import re

from mipnn.codegen.errors import CodegenError
from mipnn.trainer.model import Model

# Every keyword of C89 to C23 (the name prefixes every symbol, and C23 keywords such as
# ``bool`` are macros in older headers).
C_KEYWORDS = frozenset(
    """
    auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex
    _Generic _Imaginary _Noreturn _Static_assert _Thread_local alignas alignof bool
    constexpr false nullptr static_assert thread_local true typeof typeof_unqual _BitInt
    _Decimal32 _Decimal64 _Decimal128
    """.split()
)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Reserved for the C implementation: a leading "__", or "_" and a capital letter.
RESERVED = re.compile(r"__|_[A-Z]")


def check_c_name(name: str) -> str:
    """Return ``name`` if it can prefix the generated C symbols, else raise CodegenError."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        raise CodegenError(
            f"C name {name!r} is not a C identifier (letters, digits and '_', not starting "
            "with a digit)"
        )
    if name in C_KEYWORDS:
        raise CodegenError(f"C name {name!r} is a C keyword; choose another with --name")
    if RESERVED.match(name):
        raise CodegenError(
            f"C name {name!r} is reserved for the C implementation (starts with '__' or "
            "'_' and a capital letter); choose another with --name"
        )
    return name


def suggest_c_name(name: str) -> str:
    """A C name made from ``name`` (other characters become ``_``), offered to the user."""
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "model"
    if cleaned[0].isdigit():
        cleaned = "m_" + cleaned
    if cleaned in C_KEYWORDS:
        cleaned += "_model"
    return cleaned


def resolve_name(model: Model, name: str | None) -> str:
    """The C name to use: ``name`` if given, else the model's own name (never sanitised)."""
    if name is not None:
        return check_c_name(name)
    try:
        return check_c_name(model.name)
    except CodegenError as exc:
        raise CodegenError(
            f"the model's name {model.name!r} cannot be used as the C name: {exc}; "
            f"pass --name (for example --name {suggest_c_name(model.name)})"
        ) from None
