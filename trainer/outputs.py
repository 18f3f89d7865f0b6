"""Writing output files safely: every file mipnn writes (model files, generated C, Arduino
libraries, reports, plots, build directories) goes through these functions, so a bad output
path is one clear error (which path, what is wrong with it) and never a traceback, and
nothing but a regular file is ever replaced.

* ``output_dir(path, what)`` creates a directory (and its parents) or checks an existing one.
* ``check_output_file(path, what)`` and ``check_output_dir(path, what)`` check, before any
  work and creating nothing, that a file or a directory of files can be written there.
* ``write_text(path, text, what)`` writes a file atomically: the text goes to a temporary
  file beside it, which then replaces the target, so a reader never sees half a file and an
  interrupted write leaves the old file whole. Only a regular file (or nothing) is replaced:
  an existing directory is an error; a device, FIFO or socket (``/dev/null``, a pipe) is
  written to in place, never replaced by a file. A symbolic link is followed: its target is
  written, the link stays.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from mipnn.trainer.errors import MipnnError, one_line


class OutputError(MipnnError):
    """An output path cannot be written: empty, below a regular file, a directory where a
    file should go, not writable."""


def _reason(exc: OSError) -> str:
    """What an OSError means for an output path, in words."""
    code = exc.errno
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "permission denied" + (" (read-only file system)" if code == errno.EROFS else "")
    if code == errno.ENOTDIR:
        return "a part of the path is a file, not a directory"
    if code == errno.EISDIR:
        return "it is a directory"
    if code == errno.ENAMETOOLONG:
        return "the file name is too long"
    if code == errno.ENOSPC:
        return "no space left on the device"
    if code == errno.ENOENT:
        return "a part of the path does not exist and cannot be created"
    return one_line(exc)


def _check_path(path: str | Path, what: str) -> Path:
    if str(path).strip() == "":
        raise OutputError(f"{what}: the path is empty")
    if "\x00" in str(path):
        raise OutputError(f"{what} {str(path)!r}: a path cannot contain a NUL character")
    try:
        os.fsencode(path)
    except UnicodeEncodeError as exc:
        raise OutputError(f"{what} {str(path)!r}: the file system cannot encode "
                          f"{exc.object[exc.start:exc.end]!r}") from None
    return Path(path)


def _mode(path: Path, what: str, shown: Path | None = None) -> int | None:
    """The ``st_mode`` of ``path`` (symbolic links followed), None when nothing is there;
    OutputError for any other failure (a name too long, no permission to look)."""
    try:
        return path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise OutputError(f"{what} {shown or path}: {_reason(exc)}") from None


def output_dir(path: str | Path, what: str = "output directory") -> Path:
    """Create the directory ``path`` (with its parents) unless it exists; OutputError (``what``
    names the option or role, e.g. ``--out``) when that is impossible."""
    path = _check_path(path, what)
    for parent in (path, *path.parents):
        mode = _mode(parent, what, path)
        if mode is not None and not stat.S_ISDIR(mode):
            raise OutputError(f"{what} {path}: {parent} is a file, not a directory")
        if mode is not None:
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{what} {path}: cannot create the directory: {_reason(exc)}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path}: the directory is not writable")
    return path


def _check_ancestor(path: Path, what: str, itself: bool = False) -> None:
    """OutputError unless the nearest existing ancestor of ``path`` (``itself``: or
    ``path``) is a writable directory, so the missing ones can be created."""
    for parent in ([path] if itself else []) + list(path.parents):
        mode = _mode(parent, what, path)
        if mode is None:
            continue
        if not stat.S_ISDIR(mode):
            raise OutputError(f"{what} {path}: {parent} is a file, not a directory")
        try:  # the one sure test (permissions, read-only or virtual file systems, root)
            fd, probe = tempfile.mkstemp(prefix=".mipnn-probe.", dir=parent)
        except OSError as exc:
            raise OutputError(f"{what} {path}: cannot write in {parent}: {_reason(exc)}") from None
        os.close(fd)
        os.unlink(probe)
        return


def check_output_file(path: str | Path, what: str = "output file") -> Path:
    """Check, before any work is done, that ``write_text(path, ...)`` can succeed: the path is
    not empty, not a directory, and its nearest existing ancestor directory is writable (so
    the missing ones can be created). Creates nothing; OutputError when it cannot work."""
    path = _check_path(path, what)
    mode = _mode(path, what)
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{what} {path}: it is a directory; give a file path")
    _check_ancestor(path, what)
    return path


def check_output_dir(path: str | Path, what: str = "output directory") -> Path:
    """Check, before any work is done, that ``output_dir(path)`` can succeed and files can be
    written in it: the path is not empty, not a file, and it (if it exists) or its nearest
    existing ancestor is a writable directory. Creates nothing; OutputError when it cannot
    work."""
    path = _check_path(path, what)
    mode = _mode(path, what)
    if mode is not None and not stat.S_ISDIR(mode):
        raise OutputError(f"{what} {path}: it is a file, not a directory")
    _check_ancestor(path, what, itself=True)
    return path


def write_text(path: str | Path, text: str, what: str = "output file") -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see the module docstring) and return
    ``path``; OutputError when the path cannot be written."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise OutputError(
            f"{what} {path}: the text holds {exc.object[exc.start:exc.end]!r}, which UTF-8 "
            "cannot encode (a lone surrogate)"
        ) from None
    return write_bytes(path, data, what)


def write_bytes(path: str | Path, data: bytes, what: str = "output file") -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring) and return ``path``;
    OutputError when the path cannot be written."""
    path = _check_path(path, what)
    try:
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
    except OSError as exc:
        raise OutputError(f"{what} {path}: {_reason(exc)}") from None
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{what} {path}: {_reason(exc)}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{what} {path}: it is a directory; give a file path")
    if mode is not None and not stat.S_ISREG(mode):
        # a device, FIFO or socket: write to it, never replace it by a regular file
        try:
            with open(target, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise OutputError(f"{what} {path}: {_reason(exc)}") from None
        return path
    output_dir(target.parent if str(target.parent) else Path("."), f"{what} {path}: directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".tmp",
                                   dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{what} {path}: {_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(tmp, stat.S_IMODE(mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"{what} {path}: {_reason(exc)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
