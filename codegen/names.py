"""The C name of a generated model: it prefixes every symbol (``NAME_predict``,
``NAME_N_INPUTS``) and names the files (``NAME.h``, ``NAME.c``), so it must be a C identifier,
not a keyword of any C standard, not a name reserved for the C implementation, short enough
for every compiler and file system, and not the name of a header it would shadow. A model's
own name is never sanitised silently: an unusable one is refused with a suggestion for
``--name``."""

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

# C99 5.2.4.1: an implementation need only tell internal identifiers and macro names apart
# by their first 63 characters. GCC and Clang use every character, but 63 also keeps
# NAME.h, NAME.c and examples/NAME/NAME.ino far below any file system's name limit.
MAX_NAME_LENGTH = 63

# Headers that NAME.h would shadow for code that puts its directory on the include path
# (compared without case: macOS and Windows file systems ignore it): every header of C89 to
# C23, the top-level headers of avr-libc, those the standard headers of glibc and newlib
# include, and the Arduino core's Arduino.h. (The firmware build is immune in any case: it
# searches the generated files only for #include "...", see firmware/Makefile.)
SHADOWED_HEADERS = {
    header.lower(): header
    for header in """
    assert complex ctype errno fenv float inttypes iso646 limits locale math setjmp signal
    stdalign stdarg stdatomic stdbit stdbool stdckdint stddef stdint stdio stdlib
    stdnoreturn string tgmath threads time uchar wchar wctype
    alloca fcntl unistd endian features newlib Arduino
    """.split()
}

# Device names Windows reserves in every directory, whatever the extension (con.h is the
# console): a library with such a file cannot even be unpacked there.
WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{p}{d}" for p in ("com", "lpt") for d in range(10)]
)

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot prefix the generated C symbols and name its files (a phrase
    such as ``"is a C keyword"``), or None if it can."""
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        return "is not a C identifier (letters, digits and '_', not starting with a digit)"
    if len(name) > MAX_NAME_LENGTH:
        return (f"has {len(name)} characters, more than {MAX_NAME_LENGTH} (C99 guarantees "
                "only that many significant initial characters)")
    if name in C_KEYWORDS:
        return "is a C keyword"
    if name.startswith("_"):
        return ("is reserved for the C implementation (C99 7.1.3: names starting with '_' "
                "are reserved at file scope, where NAME_predict is)")
    if "__" in name + "_":
        return (f"would make symbols containing '__' ({name}_predict), which C++ reserves "
                "(the header is included from Arduino sketches)")
    if name.lower() in SHADOWED_HEADERS:
        return (f"would write {name}.h, which shadows the system header "
                f"<{SHADOWED_HEADERS[name.lower()]}.h> wherever the generated files are on "
                "the include path")
    if name.lower() in WINDOWS_DEVICES:
        return f"is a device name on Windows ({name}.h cannot be a file there)"
    return None


def shown_name(name: object) -> str:
    """``repr(name)``, cut to 40 characters for an error message."""
    text = repr(name)
    return text if len(text) <= 40 else text[:36] + "...'"


def check_c_name(name: str) -> str:
    """Return ``name`` if it can prefix the generated C symbols and name its files, else
    raise CodegenError saying why (one line)."""
    problem = name_problem(name)
    if problem is not None:
        raise CodegenError(f"C name {shown_name(name)} {problem}; choose another with --name")
    return name


def suggest_c_name(name: str) -> str:
    """A usable C name made from ``name`` (other characters become ``_``), offered to the
    user."""
    cleaned = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", name)).strip("_") or "model"
    if cleaned[0].isdigit():
        cleaned = "m_" + cleaned
    cleaned = cleaned[:MAX_NAME_LENGTH].rstrip("_")
    low = cleaned.lower()
    if cleaned in C_KEYWORDS or low in SHADOWED_HEADERS or low in WINDOWS_DEVICES:
        cleaned += "_model"
    return cleaned


def resolve_name(model: Model, name: str | None) -> str:
    """The C name to use: ``name`` if given, else the model's own name (never sanitised)."""
    if name is not None:
        return check_c_name(name)
    problem = name_problem(model.name)
    if problem is not None:
        raise CodegenError(
            f"the model's name {shown_name(model.name)} cannot be the C name: it {problem}; "
            f"pass --name (for example --name {suggest_c_name(model.name)})"
        )
    return model.name
