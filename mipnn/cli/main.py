"""The ``mipnn`` command group (ARCHITECTURE.md 7) and its two small commands: ``datasets``
(what can be loaded, and from where) and ``eval`` (a model's accuracy on its data splits).
The other commands are in their own modules: ``train`` (mipnn.cli.train), ``sweep``
(mipnn.cli.sweep), ``export`` and ``firmware`` (mipnn.cli.deploy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mipnn.cli.deploy import MODEL_ARGUMENT, export, firmware
from mipnn.cli.options import check_source, data_dir_option, data_options, pct, user_errors
from mipnn.cli.sweep import sweep
from mipnn.cli.train import train
from mipnn.failure import Failure
from mipnn.terminal import say


def one_line_usage_error(exc: click.UsageError) -> click.ClickException:
    """A usage error (unknown option, bad value, missing argument) as one line naming the
    option, with where the help is; ``mipnn`` alone still shows the help."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        return exc
    where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
    return Failure(exc.format_message().rstrip(".") + where)


class MipnnGroup(click.Group):
    """The command group; every usage error of it and its commands is one line
    (:func:`one_line_usage_error`), like every other error a user can cause, and a Ctrl-C
    that reaches it (outside training, or a second one: mipnn.trainer.stop) ends the command
    at once with status 130 (every file is written atomically, so none is half-written)."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise one_line_usage_error(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise one_line_usage_error(exc) from None
        except KeyboardInterrupt:  # Ctrl-C outside training, or a second one: at once
            from mipnn.trainer.stop import exit_after_stop

            say("mipnn: aborted (Ctrl-C)", err=True)
            exit_after_stop(130, at_once=True)


@click.group(cls=MipnnGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mipnn")
def main() -> None:
    """Train integer-valued neural networks exactly with MIP, and deploy them as
    bit-exact integer-only C."""


@click.command()
@data_dir_option()
@user_errors
def datasets(data_dir: Path | None) -> None:
    """List the data sets that can be loaded, and from where."""
    from mipnn.trainer.datasets import available_datasets

    for info in available_datasets(data_dir):
        say(f"{info['name']:<14} {info['description']}")
        say(f"{'':<14} source: {info['source']}")
        say(f"{'':<14} status: {info['status']}")
    say("CSV files: mipnn train --csv PATH --target COLUMN")


@click.command(name="eval")
@MODEL_ARGUMENT
@data_options
@user_errors
def eval_cmd(model_path: Path, dataset: str | None, csv_path: Path | None,
             target_col: str | None, data_dir: Path | None) -> None:
    """Accuracy of MODEL on its data splits, by the integer reference."""
    from mipnn.trainer.model import accuracy, load_model
    from mipnn.trainer.model_data import load_for_model

    check_source(dataset, csv_path, target_col)
    model = load_model(model_path)
    ds = load_for_model(model, dataset, csv_path, target_col, data_dir)
    shape = "-".join(str(s) for s in model.shape)
    say(f"model: {model_path} ({model.name}, {shape}); data: {ds.name}")
    for split in ("train", "val", "test"):
        X, y = getattr(ds, f"X_{split}"), getattr(ds, f"y_{split}")
        if len(y):
            say(f"{split:>5}: {pct(accuracy(model, X, y))}  ({len(y)} examples)")


for command in (datasets, train, sweep, eval_cmd, export, firmware):
    main.add_command(command)
