"""The value types of the command line's options, so that a bad value is refused as the
options are read, before any work, in one line naming the option and what it expects:
finite numbers in a range (``nan``, ``inf`` and absurd sizes refused), paths that are not
empty (click would turn ``--out ""`` into ``.``), strings that are not empty, ``--margin``
(an integer or ``paper``), and the parsing of ``--hidden 16,8`` (layer sizes, refused when even the smallest training problem
could not be built: mipnn.trainer.limits) and ``--highs-option NAME=VALUE``."""

from __future__ import annotations

import errno
import math
import os
from typing import Any

import click

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.limits import check_layer_sizes
from mipnn.trainer.model import shown
from mipnn.trainer.objectives import MAX_MARGIN, check_margin

MAX_DIGITS = 15  # a layer size of more digits is refused unread (int() of 5000 digits fails)


class FiniteFloat(click.FloatRange):
    """A float in a range, refusing ``nan`` and ``inf`` (which a range check lets through:
    every comparison with NaN is false)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


class PathValue(click.Path):
    """A path that is not empty (click turns ``""`` into ``.``: ``--out ""`` would write into
    the working directory), holds no NUL character, can be encoded for the file system (a
    lone surrogate cannot) and can be looked up (not a name too long, not a loop of links)."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            if value.strip() == "":
                self.fail("the path is empty", param, ctx)
            if "\x00" in value:
                self.fail("a path cannot hold a NUL character", param, ctx)
            try:
                os.fsencode(value)
            except UnicodeEncodeError as exc:
                self.fail(f"the file system cannot encode {exc.object[exc.start:exc.end]!r}",
                          param, ctx)
            try:
                os.stat(value)
            except OSError as exc:
                if exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):
                    self.fail(f"{os.strerror(exc.errno).lower()}", param, ctx)
        return super().convert(value, param, ctx)


class Text(click.ParamType):
    """A string that is not empty (nor only spaces) and holds no NUL character."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        if value.strip() == "":
            self.fail("the value is empty", param, ctx)
        if "\x00" in value:
            self.fail("the value holds a NUL character", param, ctx)
        return value


TEXT = Text()


def parse_hidden(text: str) -> tuple[int, ...]:
    """``--hidden``: layer sizes like ``16`` or ``16,8``; ``0`` alone for none. An empty
    value, an empty item (``16,,8``), a sign or anything but digits is refused, and so are
    sizes too large for even the smallest training problem (mipnn.trainer.limits)."""
    parts = [part.strip() for part in text.split(",")]
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise MipnnError(f"--hidden {shown(text)}: expected layer sizes like 16 or 16,8 (0 "
                         "for no hidden layer)")
    if any(len(part.lstrip("0")) > MAX_DIGITS for part in parts):
        raise MipnnError(f"--hidden {shown(text)}: a layer of more than 10**{MAX_DIGITS} "
                         "neurons cannot be trained")
    if len(parts) == 1 and int(parts[0]) == 0:
        return ()
    sizes = tuple(int(part) for part in parts)
    if any(s < 1 for s in sizes):
        raise MipnnError(f"--hidden {shown(text)}: layer sizes must be positive (0 alone: none)")
    check_layer_sizes(sizes, f"--hidden {shown(text)}")
    return sizes


class LayerSizes(click.ParamType):
    """``--hidden``: the layer sizes as a tuple (:func:`parse_hidden`)."""

    name = "sizes"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        try:
            return parse_hidden(str(value))
        except MipnnError as exc:
            self.fail(str(exc).removeprefix("--hidden "), param, ctx)


class MarginValue(click.ParamType):
    """``--margin``: a positive integer (at most MAX_MARGIN: class scores are int32, so no
    larger margin can be met) or ``paper``."""

    name = "margin"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        margin: int | str = text
        if text.isascii() and text.isdigit():  # never int() of thousands of digits
            margin = int(text) if len(text.lstrip("0")) <= 10 else MAX_MARGIN + 1
        try:
            check_margin(margin, (1,))  # "paper" without a hidden layer: TrainConfig.check
        except MipnnError as exc:
            self.fail(str(exc).replace(repr(margin), shown(value)), param, ctx)
        return margin


def parse_solver_options(items: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """``--highs-option NAME=VALUE`` pairs; values become bool, int or float where they look
    like one. A float must be finite; the solver's file options (``log_file``,
    ``solution_file``, ...: a name ending in ``_file``) are refused, since mipnn writes only
    the files its own options name."""
    out = []
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name or "\x00" in item:
            raise MipnnError(f"--highs-option {item!r}: expected NAME=VALUE")
        if name.endswith("_file"):
            raise MipnnError(f"--highs-option {item!r}: the solver's file options are not "
                             "taken; mipnn writes only --out, --plot and --checkpoint")
        value: Any = text.strip()
        if value.lower() in ("true", "false"):
            value = value.lower() == "true"
        else:
            for kind in (int, float):
                try:
                    value = kind(value)
                    break
                except ValueError:
                    pass
        if isinstance(value, float) and not math.isfinite(value):
            raise MipnnError(f"--highs-option {item!r}: expected a finite number")
        out.append((name, value))
    return tuple(out)
