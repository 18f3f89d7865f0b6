"""Where the built-in data sets' files are read from, and downloading missing ones.

Files are read from, in this order: the ``data_dir`` argument (``--data-dir``), the directory
in the environment variable ``MIPNN_DATA_DIR``, or a cache directory (``$XDG_CACHE_HOME/mipnn``,
else ``~/.cache/mipnn``). Only into the cache are missing files downloaded, atomically, and
verified (a known sha256, or a reader's own check) before they are kept.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mipnn.trainer.errors import DataError


@dataclass(frozen=True)
class Location:
    """Where a data set's files are read from, and whether missing ones may be downloaded."""

    directory: Path
    origin: str  # "--data-dir", "MIPNN_DATA_DIR" or "cache"
    may_download: bool


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/mipnn``, else ``~/.cache/mipnn`` (not created here)."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "mipnn"


def locate(data_dir: Path | None) -> Location:
    """The directory to read from: ``data_dir``, else ``MIPNN_DATA_DIR``, else the cache
    (the only one downloads go to)."""
    if data_dir is not None:
        return Location(Path(data_dir).expanduser(), "--data-dir", False)
    env = os.environ.get("MIPNN_DATA_DIR")
    if env:
        return Location(Path(env).expanduser(), "MIPNN_DATA_DIR", False)
    return Location(cache_dir(), "cache", True)


def not_found(loc: Location, what: str) -> DataError:
    """The error for files missing from a directory the user chose, naming how it was chosen."""
    if loc.origin == "--data-dir":
        hint = "the directory given with --data-dir"
    else:
        hint = "the directory in MIPNN_DATA_DIR"
    if not loc.directory.is_dir():
        return DataError(f"{loc.directory}: no such directory ({hint})")
    return DataError(f"{loc.directory}: no {what} ({hint})")


def fetch(url: str) -> bytes:
    """The bytes at ``url`` (the one network access; tests replace it)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def download(
    url: str,
    dest: Path,
    notes: list[str],
    *,
    sha256: str | None = None,
    prepare: Callable[[bytes], bytes] | None = None,
    check: Callable[[bytes], None] | None = None,
) -> Path:
    """Download ``url`` to ``dest`` (atomically), verify it, and return ``dest``.

    ``prepare`` edits the bytes before anything else (e.g. drops a header line). With
    ``sha256`` the bytes must have that checksum; ``check`` validates them otherwise (raising
    DataError). A file failing its check is removed and raises DataError, as does a network
    failure. A note says where the file went.
    """
    try:
        data = fetch(url)
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DataError(
            f"could not download {url} ({reason}); pass --data-dir DIR or set MIPNN_DATA_DIR "
            f"to a directory holding {dest.name}"
        ) from None
    if prepare is not None:
        data = prepare(data)
    part = dest.with_name(dest.name + ".part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(data)
    except OSError as exc:
        raise DataError(
            f"{dest.parent}: cannot write the downloaded {dest.name} ({exc.strerror}); pass "
            "--data-dir DIR or set MIPNN_DATA_DIR"
        ) from None
    try:
        if sha256 is not None:
            actual = hashlib.sha256(data).hexdigest()
            if actual != sha256:
                raise DataError(
                    f"{dest}: downloaded from {url}, sha256 {actual} but expected {sha256}; "
                    "the file was removed"
                )
        if check is not None:
            check(data)
    except DataError:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    notes.append(f"downloaded {dest.name} to {dest.parent}")
    return dest
