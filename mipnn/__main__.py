"""``python -m mipnn``: the same command line as the ``mipnn`` console script."""

from mipnn.cli import main

main(prog_name="mipnn")
