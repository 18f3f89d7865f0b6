"""Output files (issue 21, cause 6): a bad output path is one clear OutputError, never a
traceback; only a regular file is ever replaced (a device node is written to, not replaced);
writes are atomic; every command's writer goes through these functions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO
from helpers_models import make_model

from mipnn.cli import main
from mipnn.codegen.export import export, write_if_changed
from mipnn.device.report import write_report
from mipnn.trainer.model import save_model
from mipnn.trainer.outputs import (
    OutputError,
    check_output_dir,
    check_output_file,
    output_dir,
    write_bytes,
    write_text,
)

MODEL = REPO / "bench" / "models" / "breast_cancer-30-8-2-p3.json"


def test_write_text_is_atomic_and_keeps_the_mode(tmp_path):
    path = tmp_path / "a" / "b" / "m.json"
    write_text(path, "one")
    assert path.read_text() == "one"
    os.chmod(path, 0o600)
    write_text(path, "two")
    assert path.read_text() == "two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["m.json"]  # no temporary left


def test_a_symlink_is_followed_not_replaced(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_a_device_node_is_written_to_never_replaced():
    before = os.stat("/dev/null")
    write_text("/dev/null", "discarded")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_a_fifo_is_written_to_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    import threading

    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_text(fifo, "through the pipe")
    reader.join(5)
    assert got == ["through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)


@pytest.mark.parametrize("case", ["empty", "below_file", "is_dir", "proc", "nul"])
def test_bad_output_paths_are_one_clear_error(case, tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    path = {"empty": "", "below_file": tmp_path / "file" / "m.json",
            "is_dir": tmp_path / "dir", "proc": "/proc/mipnn/m.json",
            "nul": "a\x00b"}[case]
    message = {"empty": "path is empty", "below_file": "is a file, not a directory",
               "is_dir": "is a directory", "proc": "/proc/mipnn", "nul": "NUL"}[case]
    with pytest.raises(OutputError, match=message):
        write_text(path, "x", "--out")
    with pytest.raises(OutputError, match=message):
        check_output_file(path, "--out")


def test_output_dir_errors(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a directory"):
        output_dir(tmp_path / "file" / "sub", "--out")
    with pytest.raises(OutputError, match="is a file, not a directory"):
        output_dir(tmp_path / "file", "--out")
    with pytest.raises(OutputError, match="empty"):
        output_dir("", "--out")
    assert output_dir(tmp_path / "new" / "deeper").is_dir()


def test_lone_surrogates_are_a_clear_error(tmp_path):
    with pytest.raises(OutputError, match="lone surrogate"):
        write_text(tmp_path / "x", "label \ud800")
    assert not (tmp_path / "x").exists()


def test_check_output_file_creates_nothing(tmp_path):
    target = tmp_path / "a" / "b" / "m.json"
    assert check_output_file(target) == target
    assert list(tmp_path.iterdir()) == []


def test_every_writer_uses_the_checked_path(tmp_path):
    (tmp_path / "file").write_text("x")
    below = tmp_path / "file" / "out"
    with pytest.raises(OutputError):
        save_model(make_model([3, 2, 2]), below / "m.json")
    with pytest.raises(OutputError):
        export(MODEL, below)
    with pytest.raises(OutputError):
        write_report([], below / "r.json")
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "breast_cancer.h").mkdir()  # NAME.h is a directory
    with pytest.raises(OutputError, match="breast_cancer.h: it is a directory"):
        export(MODEL, tmp_path / "gen")
    with pytest.raises(OutputError):
        write_if_changed(tmp_path / "gen" / "breast_cancer.h", "x")
    assert write_bytes(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"


@pytest.mark.parametrize("args", [
    ["export", str(MODEL), "--out", "{file}/sub"],
    ["export", str(MODEL), "--out", "{nameh}"],
    ["export", str(MODEL), "--arduino", "{file}/lib"],
    ["export", str(MODEL), "--arduino", "/proc/mipnn-lib"],
    ["firmware", str(MODEL), "--target", "host", "--build-dir", "{file}/b", "--vectors", "4"],
    ["firmware", str(MODEL), "--target", "host", "--report", "{file}/r.json", "--vectors", "4",
     "--no-measure"],
])
def test_cli_output_paths_exit_2_with_one_line(args, tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "gen" / "breast_cancer.h").mkdir(parents=True)
    args = [a.format(file=tmp_path / "file", nameh=tmp_path / "gen") for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("mipnn: error:")]
    assert len(errors) == 1, result.output


def test_check_output_dir_creates_nothing(tmp_path):
    """A directory of output files (export --out, --arduino, firmware --build-dir) is
    checked before any work, creating nothing."""
    (tmp_path / "file").write_text("x")
    target = tmp_path / "a" / "b"
    assert check_output_dir(target) == target and check_output_dir(tmp_path) == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    for path, message in ((tmp_path / "file", "it is a file"),
                          (tmp_path / "file" / "sub", "is a file, not a directory"),
                          ("", "empty"), ("/proc/mipnn", "cannot write in /proc"),
                          ("a\x00b", "NUL"), ("x\ud800", "cannot encode")):
        with pytest.raises(OutputError, match=message):
            check_output_dir(path, "--out")


def test_a_name_too_long_is_one_clear_error(tmp_path):
    """Issue 21 (fuzzing): a path component longer than the file system takes was an
    OSError traceback from the checks themselves."""
    long = tmp_path / ("n" * 400)
    for check in (check_output_file, check_output_dir, output_dir):
        with pytest.raises(OutputError, match="the file name is too long"):
            check(long / "m.json", "--out")
    with pytest.raises(OutputError, match="the file name is too long"):
        write_text(long, "x", "--out")
