"""The distribution (ARCHITECTURE.md 1): one import name, package data inside the wheel, and
a wheel installed outside the checkout that trains, exports and verifies from elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, require_tools

from mipnn.resources import PackageDataError, firmware_dir, package_data_dir, templates_dir


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel of this checkout, built and installed into a ``--target`` directory."""
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(work / "dist"), str(REPO)], check=True, capture_output=True)
    (wheel,) = (work / "dist").glob("mipnn-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(work / "site"), str(wheel)], check=True, capture_output=True)
    return work


def run_installed(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m mipnn ARGS`` with the installed copy first on the path, from ``cwd``."""
    env = dict(os.environ, PYTHONPATH=str(installed / "site"))
    return subprocess.run([sys.executable, "-m", "mipnn", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_wheel_has_one_import_name_and_the_package_data(installed):
    (wheel,) = (installed / "dist").glob("mipnn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {"mipnn", "mipnn-0.1.0.dist-info"}
    for required in ("mipnn/templates/model.c.j2", "mipnn/templates/arduino/example.ino.j2",
                     "mipnn/firmware/Makefile", "mipnn/firmware/targets/avr.mk",
                     "mipnn/firmware/harness/mipnn_fw_main.c",
                     "mipnn/firmware/tools/mipnn_avr_run.c", "mipnn/trainer/model.py",
                     "mipnn/codegen/export.py", "mipnn/cli/main.py", "mipnn/estimator.py",
                     "mipnn/api.py"):
        assert required in names
    metadata = zipfile.ZipFile(wheel).read("mipnn-0.1.0.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata


@pytest.mark.slow
def test_installed_wheel_trains_exports_and_verifies_from_another_directory(installed,
                                                                           tmp_path):
    require_tools("gcc", "make")
    probe = subprocess.run(
        [sys.executable, "-c", "import mipnn.codegen.export as e, mipnn.resources as r; "
         "print(e.__file__); print(r.templates_dir()); print(r.firmware_dir())"],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(installed / "site")),
        capture_output=True, text=True, check=True)
    for line in probe.stdout.split():
        assert Path(line).is_relative_to(installed / "site"), line
    train = run_installed(installed, tmp_path, "train", "--train-size", "60", "--hidden", "2",
                          "--time-limit", "5", "--out", "m.json", "-q")
    assert train.returncode == 0, train.stderr
    export = run_installed(installed, tmp_path, "export", "m.json", "--out", "gen")
    assert export.returncode == 0, export.stderr
    assert (tmp_path / "gen" / "breast_cancer.c").exists()
    fw = run_installed(installed, tmp_path, "firmware", "m.json", "--target", "host",
                       "--build-dir", "build")
    assert fw.returncode == 0, fw.stderr
    assert "bit-exact" in fw.stdout
    # nothing was built inside the installed package
    site = installed / "site" / "mipnn" / "firmware"
    assert not [p for p in site.rglob("*") if p.suffix in {".o", ".elf", ".d"}]


def test_missing_package_data_is_a_one_line_exit_2(installed, tmp_path):
    template = installed / "site" / "mipnn" / "templates" / "model.c.j2"
    saved = template.read_bytes()
    template.unlink()
    try:
        model = REPO / "bench" / "models" / "breast_cancer-30-8-2-p3.json"
        proc = run_installed(installed, tmp_path, "export", str(model), "--out", "gen")
    finally:
        template.write_bytes(saved)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "model.c.j2 is missing" in proc.stderr and "reinstall mipnn" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_package_data_is_found_in_the_source_tree():
    assert (templates_dir() / "model_unrolled.c.j2").is_file()
    assert (firmware_dir() / "targets" / "host.mk").is_file()
    with pytest.raises(PackageDataError, match="no-such-file is missing"):
        package_data_dir("mipnn.templates", "no-such-file")
    with pytest.raises(PackageDataError, match="not installed"):
        package_data_dir("mipnn.no_such_package", "x")


def test_python_m_mipnn(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mipnn", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, check=True)
    assert proc.stdout.startswith("Usage: mipnn ")


def test_the_api_names_are_imported_on_first_use():
    """mipnn's public names load lazily (PEP 562): importing the model module or the
    command line imports neither scikit-learn nor pandas."""
    code = (
        "import sys, mipnn.trainer.model, mipnn.cli\n"
        "heavy = sorted({'sklearn', 'pandas'} & {m.split('.')[0] for m in sys.modules})\n"
        "assert not heavy, heavy\n"
        "import mipnn\n"
        "assert {'MIPNetClassifier', 'export', 'verify'} <= set(dir(mipnn))\n"
        "from mipnn import MIPNetClassifier, export, load_model, save_model, verify\n"
        "assert 'sklearn' in sys.modules and load_model.__module__ == 'mipnn.trainer.model'\n"
        "try:\n"
        "    mipnn.nothing\n"
        "except AttributeError as exc:\n"
        "    assert 'nothing' in str(exc)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
