"""The one way the command line reports an error a user caused: one line, exit status 2."""

from __future__ import annotations

from typing import Any

import click


class Failure(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"mipnn: error: {self.format_message()}", err=True)
