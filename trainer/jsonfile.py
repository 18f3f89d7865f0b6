"""Reading a JSON document from a file that may be hostile (a model file from anywhere):
every way the text can break Python's own reader becomes one ``ModelFileError`` naming the
file and the JSON path of the problem, never a traceback.

Python's ``json`` accepts what the limits below refuse, or fails in ways that are not
``JSONDecodeError``: an integer of more than 4300 digits raises ``ValueError`` (the
int-conversion limit), arrays nested some thousand deep raise ``RecursionError`` (also later,
in anything that walks the document), and a ``\\ud800`` escape yields a lone surrogate, a
string that cannot be written as UTF-8 or printed. ``NaN`` and ``Infinity`` literals stay
accepted (mipnn itself writes ``NaN`` for an accuracy without examples); the model's own
numbers are checked for finiteness where they are validated.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from mipnn.trainer.errors import ModelFileError

MAX_DEPTH = 100  # nested arrays and objects; a model file needs 5
MAX_INT_DIGITS = 4300  # Python's default int-conversion limit (sys.int_info.default_max_str_digits)
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class _HugeInt:
    """Stands for an integer literal with more than MAX_INT_DIGITS digits (not converted)."""

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str) -> int | _HugeInt:
    digits = len(text.lstrip("-"))
    return _HugeInt(digits) if digits > MAX_INT_DIGITS else int(text)


def json_path(parts: list[str | int]) -> str:
    """``$.layers[0].weights`` for ``["layers", 0, "weights"]`` (odd keys quoted:
    ``$["a b"]``); a path deeper than 12 steps shows its first 8 and last 2 around ``...``."""
    steps = [
        f"[{p}]" if isinstance(p, int)
        else f".{p}" if _SIMPLE_KEY.match(p)
        else f"[{json.dumps(p[:40] + ('...' if len(p) > 40 else ''))}]"
        for p in parts
    ]
    if len(steps) > 12:
        steps = steps[:8] + ["..."] + steps[-2:]
    return "$" + "".join(steps)


def _too_deep_in_text(text: str) -> list[str | int] | None:
    """The path of the first value nested deeper than MAX_DEPTH, found by scanning the
    tokens (for text too deep for ``json`` to parse at all); None if there is none."""
    path: list[str | int] = []
    kinds: list[str] = []  # "[" or "{" per open container
    key: str | int = 0
    for match in _TOKEN.finditer(text):
        tok = match.group(0)
        if tok in "[{":
            if kinds:
                path.append(key)
            if len(kinds) >= MAX_DEPTH:
                return path
            kinds.append(tok)
            key = 0
        elif tok in "]}":
            if kinds:
                kinds.pop()
                key = path.pop() if path and kinds else 0
        elif tok == ",":
            if kinds and kinds[-1] == "[" and isinstance(key, int):
                key += 1
        elif tok.startswith('"') and kinds and kinds[-1] == "{":
            try:
                key = json.loads(tok)
            except ValueError:
                key = tok
    return None


def _first_problem(data: Any) -> tuple[list[str | int], str] | None:
    """The path and description of the first value past the limits (depth, huge integer,
    lone surrogate in a string or key), walking the parsed document without recursion."""
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                return path, f"a lone surrogate ({_first_surrogate(value)}) is not Unicode text"
        elif isinstance(value, _HugeInt):
            return path, (f"an integer of {value.digits} digits (at most {MAX_INT_DIGITS} "
                          "are read)")
        elif isinstance(value, (list, dict)):
            if len(path) >= MAX_DEPTH:
                return path, f"nested more than {MAX_DEPTH} levels deep"
            if isinstance(value, dict):
                for k in value:
                    if _SURROGATE.search(k):
                        return path, (f"a key with a lone surrogate ({_first_surrogate(k)}) "
                                      "is not Unicode text")
                items = [(v, [*path, k]) for k, v in value.items()]
            else:
                items = [(v, [*path, i]) for i, v in enumerate(value)
                         if not isinstance(v, (int, float)) or isinstance(v, bool)]
            stack.extend(reversed(items))
    return None


def _first_surrogate(text: str) -> str:
    match = _SURROGATE.search(text)
    return f"\\u{ord(match.group(0)):04x}" if match else ""


def loads_checked(text: str, source: str) -> Any:
    """Parse ``text`` (the contents of ``source``) as JSON within the limits above;
    ModelFileError naming ``source`` and the JSON path of the first problem."""
    try:
        try:
            data = json.loads(text)
        except ValueError as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise
            # Python's int-digit limit: parse again, huge integers kept as placeholders
            # (slower, so only now) for the walk below to find
            data = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        raise ModelFileError(
            f"{source}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        deep = _too_deep_in_text(text)
        where = json_path(deep) if deep is not None else "$"
        raise ModelFileError(
            f"{source}: {where}: nested more than {MAX_DEPTH} levels deep"
        ) from None
    except ValueError as exc:  # any other refusal of Python's reader
        raise ModelFileError(f"{source}: not valid JSON: {exc}") from None
    problem = _first_problem(data)
    if problem is not None:
        path, what = problem
        raise ModelFileError(f"{source}: {json_path(path)}: {what}")
    return data


def read_json_file(path: Path, what: str = "model file") -> Any:
    """Read and parse the JSON file ``path`` (a regular file of UTF-8 text) within the
    limits above; ModelFileError, naming the file, for anything else."""
    path = Path(path)
    try:
        if not path.exists():
            raise ModelFileError(f"{path}: no such {what}")
        if path.is_dir():
            raise ModelFileError(f"{path}: is a directory, expected a {what} (JSON)")
        if not path.is_file():
            raise ModelFileError(f"{path}: not a regular file, expected a {what} (JSON)")
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:  # ValueError: a path that is not encodable
        raise ModelFileError(f"{path}: cannot read the {what}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    return loads_checked(text, str(path))

