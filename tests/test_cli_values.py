"""The option value types (mipnn/cli/values.py): finite numbers, paths and strings that are
not empty, ``--hidden`` layer lists and ``--highs-option`` pairs."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from mipnn.cli.values import (
    TEXT,
    FiniteFloat,
    LayerSizes,
    PathValue,
    parse_hidden,
    parse_solver_options,
)
from mipnn.trainer.errors import MipnnError


def test_hidden_layer_sizes():
    assert parse_hidden("16") == (16,)
    assert parse_hidden("16,8") == (16, 8) == parse_hidden(" 16 , 8 ")
    assert parse_hidden("0") == () == parse_hidden("00")


@pytest.mark.parametrize("bad, fragment", [
    ("a,b", "expected layer sizes"), ("", "expected layer sizes"), (",", "expected layer sizes"),
    ("16,,8", "expected layer sizes"), ("16,", "expected layer sizes"), ("+4", "expected"),
    ("-1", "expected layer sizes"), ("1.5", "expected"), ("1e3", "expected"),
    ("\u0664", "expected"), ("4,0", "must be positive"), ("0,0", "must be positive"),
    ("9" * 5000, "more than 10**15 neurons"), ("99999999999999999999", "more than 10**15"),
    ("1000000000", "even on the smallest data"),
])
def test_malformed_or_absurd_layer_lists_are_refused(bad, fragment):
    """Issue 21, cause 5: ``--hidden 99999999999999999999`` was a traceback (NumPy), an
    empty item was skipped, and ``--hidden 1000000000`` allocated memory until it failed."""
    with pytest.raises(MipnnError, match=re.escape(fragment)) as info:
        parse_hidden(bad)
    assert len(str(info.value)) < 400 and "\n" not in str(info.value)


def test_solver_options_take_their_types():
    assert parse_solver_options(("a=1", "b=0.5", "c=true", "d=text")) == (
        ("a", 1), ("b", 0.5), ("c", True), ("d", "text"))
    for bad, fragment in ((("novalue",), "expected NAME=VALUE"), (("=3",), "NAME=VALUE"),
                          (("time_limit=nan",), "finite"), (("mip_rel_gap=-inf",), "finite"),
                          (("log_file=/tmp/x",), "file options"),
                          (("solution_file=x",), "file options")):
        with pytest.raises(MipnnError, match=fragment):
            parse_solver_options(bad)


def _command():
    @click.command()
    @click.option("--f", type=FiniteFloat(min=0, min_open=True, max=10))
    @click.option("--p", type=PathValue())
    @click.option("--t", type=TEXT)
    @click.option("--h", type=LayerSizes())
    def cmd(f, p, t, h) -> None:
        click.echo(repr((f, p, t, h)))

    return cmd


@pytest.mark.parametrize("args, fragment", [
    (["--f", "nan"], "'nan' is not a finite number"), (["--f", "inf"], "not a finite number"),
    (["--f", "-inf"], "not a finite number"), (["--f", "0"], "not in the range"),
    (["--f", "11"], "not in the range"), (["--f", "x"], "not a valid float"),
    (["--p", ""], "the path is empty"), (["--p", "  "], "the path is empty"),
    (["--p", "a\x00b"], "NUL"), (["--t", ""], "the value is empty"), (["--t", "a\x00"], "NUL"),
    (["--h", "3,,4"], "expected layer sizes"),
])
def test_the_types_refuse_bad_values(args, fragment):
    result = CliRunner().invoke(_command(), args)
    assert result.exit_code == 2 and fragment in result.output, result.output


def test_the_types_pass_good_values():
    result = CliRunner().invoke(_command(), ["--f", "2.5", "--p", "x", "--t", "é", "--h", "4,2"])
    assert result.output.strip() == "(2.5, 'x', 'é', (4, 2))", result.output
