"""Where the package data are: the Jinja2 templates and the firmware sources (ARCHITECTURE.md
1). Both ship inside the wheel as the packages ``mipnn.templates`` and ``mipnn.firmware`` and
are found with ``importlib.resources``, so mipnn works from any directory, installed or from
a source tree."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from mipnn.trainer.errors import MipnnError


class PackageDataError(MipnnError):
    """A file that ships with mipnn (a template, a firmware source) is missing."""


def package_data_dir(package: str, required: str) -> Path:
    """The directory of the data package ``package`` (``mipnn.templates``,
    ``mipnn.firmware``), checked to hold ``required``; a PackageDataError names what is
    missing and how to repair the installation."""
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError:
        raise PackageDataError(
            f"mipnn's package data {package!r} is not installed; reinstall mipnn "
            "(pip install --force-reinstall mipnn, or pip install -e . in a source tree)"
        ) from None
    path = Path(str(root))
    if not (path / required).is_file():
        raise PackageDataError(
            f"mipnn's package data is incomplete: {path / required} is missing; reinstall "
            "mipnn (pip install --force-reinstall mipnn, or pip install -e . in a source tree)"
        )
    return path


def templates_dir() -> Path:
    """The Jinja2 templates of the generated C (``templates/``)."""
    return package_data_dir("mipnn.templates", "model.c.j2")


def firmware_dir() -> Path:
    """The firmware sources: the generic Makefile, harness, platforms, target fragments."""
    return package_data_dir("mipnn.firmware", "Makefile")
