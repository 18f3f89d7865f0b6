"""The one way the command line reports an error a user caused: one line, exit status 2.
Every control character in the message is escaped (mipnn.terminal), so a message quoting a
name or label from a file stays one line and puts no escape sequence on the screen."""

from __future__ import annotations

from typing import Any

import click

from mipnn.terminal import printable


class Failure(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"mipnn: error: {printable(self.format_message())}", err=True)
