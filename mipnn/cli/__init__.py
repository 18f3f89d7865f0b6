"""The ``mipnn`` command line (ARCHITECTURE.md 7): thin commands over the library, one
module per command or pair of commands (``main``: the group, ``datasets`` and ``eval``;
``train`` with its options in ``train_options`` and batch training in ``batch``; ``sweep``;
``deploy``:
``export`` and ``firmware``), the shared options and helpers in ``options``. Every error a
user can cause exits with status 2 and one line on stderr."""

from mipnn.cli.main import main

__all__ = ["main"]
