"""What the commands share (mipnn/cli/options.py): the data source check, percentages, the
one-line user error, and a command whose advanced options only ``--help-all`` lists."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from mipnn.cli.options import (
    AdvancedOption,
    HelpAllCommand,
    check_source,
    pct,
    user_errors,
)
from mipnn.trainer.errors import MipnnError


def test_data_sources_go_together():
    check_source("heart", None, None)
    check_source(None, "x.csv", "label")
    for args, fragment in ((("heart", "x.csv", "y"), "either"), ((None, "x.csv", None), "--target"),
                           ((None, None, "y"), "goes with --csv")):
        with pytest.raises(MipnnError, match=fragment):
            check_source(*args)


def test_percentages():
    assert pct(0.8137) == " 81.4%"
    assert pct(None) == pct(float("nan")) == "   -  "


def test_help_all_adds_the_advanced_options_and_user_errors_exit_2():
    @click.command(cls=HelpAllCommand)
    @click.option("--plain", help="a common option")
    @click.option("--lever", cls=AdvancedOption, help="a research lever")
    @user_errors
    def cmd(plain: str | None, lever: str | None) -> None:
        raise MipnnError(f"bad {plain}")

    runner = CliRunner()
    short = runner.invoke(cmd, ["--help"]).output
    assert "--plain" in short and "--lever" not in short
    assert "1 advanced options (research levers): --help-all" in short
    full = runner.invoke(cmd, ["--help-all"]).output
    assert "--lever" in full and HelpAllCommand.ADVANCED_TITLE in full
    result = runner.invoke(cmd, ["--plain", "x"])
    assert result.exit_code == 2 and "mipnn: error: bad x" in result.output
