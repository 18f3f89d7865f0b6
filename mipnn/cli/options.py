"""What the commands share: the user-error wrapper (exit status 2, one line), the data
source options and their check, the flash budget option, the parsing of ``--raw-scale
COL=S`` and the line on the raw scales, percentages as the commands print them, and a
command whose advanced options are listed by ``--help-all`` only. The option value types
and the other parsers are in mipnn.cli.values."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from mipnn.cli.values import TEXT, PathValue
from mipnn.failure import Failure
from mipnn.terminal import say
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import shown

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
DATASET_HELP = "built-in data set (see `mipnn datasets`)"
MAX_FLASH_BUDGET = 2**32


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn MipnnError (any user-caused problem) into click's one-line error, exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MipnnError as exc:
            raise Failure(str(exc)) from None

    return wrapper


def apply_options(options: list[Decorator]) -> Decorator:
    """One decorator adding ``options`` to a command, listed in ``--help`` in this order."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def data_dir_option(help_text: str | None = None) -> Decorator:
    """``--data-dir DIR`` (or ``MIPNN_DATA_DIR``): where the data set files are."""
    return click.option(
        "--data-dir", type=PathValue(path_type=Path, file_okay=False),
        envvar="MIPNN_DATA_DIR", show_envvar=True, help=help_text,
    )


DATA_OPTIONS: list[Decorator] = [
    click.option("--dataset", type=TEXT, metavar="NAME", help=DATASET_HELP),
    click.option("--csv", "csv_path", type=PathValue(path_type=Path),
                 help="train on a CSV file (with --target)"),
    click.option("--target", "target_col", type=TEXT, metavar="COL",
                 help="the CSV column holding the class"),
    data_dir_option("directory holding the data set files (else a download cache is used)"),
]
data_options = apply_options(DATA_OPTIONS)


def check_source(dataset: str | None, csv_path: Path | None, target_col: str | None) -> None:
    """MipnnError unless the data source options go together: ``--dataset`` or ``--csv``
    (not both), ``--csv`` with ``--target``, ``--target`` only with ``--csv``."""
    if dataset and csv_path:
        raise MipnnError("give either --dataset or --csv, not both")
    if csv_path is not None and not target_col:
        raise MipnnError(f"--csv {csv_path} needs --target COL (the column holding the class)")
    if target_col and csv_path is None:
        raise MipnnError("--target goes with --csv")


def _check_budget(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise Failure(f"--flash-budget {value}: give a positive number of bytes")
    if value is not None and value > MAX_FLASH_BUDGET:
        raise Failure(f"--flash-budget {shown(value)}: at most {MAX_FLASH_BUDGET} bytes (the "
                      "32-bit address space of the largest target)")
    return value


flash_budget_option = click.option(
    "--flash-budget", "flash_budget", type=int, metavar="BYTES", callback=_check_budget,
    help="model flash that --strategy auto may use: the fastest strategy whose estimated "
         "model flash fits (default: the target's cost-profile budget); with --strategy "
         "compact, the flash its mix of table and code is planned for (default: all "
         "table, the smallest)")


def parse_raw_scales(items: tuple[str, ...]) -> dict[str, int]:
    """``--raw-scale COL=S`` pairs: the scale of a numeric column's raw values."""
    scales: dict[str, int] = {}
    for item in items:
        name, sep, text = item.rpartition("=")
        try:
            scale = int(text)
        except ValueError:
            scale = 0
        if not sep or not name or scale < 1:
            raise MipnnError(f"--raw-scale {item!r}: expected COLUMN=S with a positive "
                             "integer S, e.g. temperature=100")
        scales[name] = scale
    return scales


def echo_scales(features: list[dict]) -> None:
    """The raw-value scale of each decimal column (ARCHITECTURE.md 8), on one line."""
    from mipnn.trainer.encoding import scale_summary

    scales = scale_summary(features)
    if scales:
        say(f"raw: decimal columns on the device are round(value * scale): {scales} "
            "(--raw-scale COL=S to change)")


def pct(value: float | None) -> str:
    """An accuracy as the commands print it (``" 81.4%"``; ``"   -  "`` when unknown)."""
    return "   -  " if value is None or value != value else f"{100 * value:5.1f}%"


class AdvancedOption(click.Option):
    """An option ``--help`` leaves out and ``--help-all`` lists (a research lever)."""


class HelpAllCommand(click.Command):
    """A command whose ``--help`` lists the common options and says how many advanced ones
    (:class:`AdvancedOption`) ``--help-all`` adds."""

    ADVANCED_TITLE = "Advanced options (research levers, docs/TRAINING.md)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(click.Option(
            ["--help-all"], is_flag=True, expose_value=False, is_eager=True,
            callback=self._show_all, help="Show every option, the advanced ones too, and exit."))

    @staticmethod
    def _show_all(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if not value or ctx.resilient_parsing:
            return
        ctx.meta["mipnn.help_all"] = True
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        common, advanced = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                (advanced if isinstance(param, AdvancedOption) else common).append(record)
        with formatter.section("Options"):
            formatter.write_dl(common)
        if ctx.meta.get("mipnn.help_all"):
            with formatter.section(self.ADVANCED_TITLE):
                formatter.write_dl(advanced)
        elif advanced:
            formatter.write_paragraph()
            formatter.write_text(f"{len(advanced)} advanced options (research levers): "
                                 "--help-all")
