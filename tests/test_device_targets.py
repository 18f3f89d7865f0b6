"""The firmware targets as data (mipnn/device/targets.py): the make fragments are listed
and read through make, and a missing tool or an unknown target is a clear error."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from conftest import EMULATED
from helpers_models import make_model

from mipnn.codegen.cost import PROFILES
from mipnn.device.driver import run_firmware
from mipnn.device.errors import FirmwareError
from mipnn.device.targets import (
    cost_profile,
    expand_targets,
    installed_targets,
    list_targets,
    missing_tools,
    target_info,
)
from mipnn.resources import firmware_dir
from mipnn.trainer.model import save_model


def test_targets_are_listed_from_the_fragments():
    targets = list_targets()
    assert {"host", "cortex-m3"} <= set(targets)
    assert targets == sorted(p.stem for p in (firmware_dir() / "targets").glob("*.mk"))


def test_target_info_is_read_from_make():
    info = target_info("cortex-m3")
    assert "qemu-system-arm" in info["tools"] and "arm-none-eabi-gcc" in info["tools"]
    assert info["apt_packages"] == ["gcc-arm-none-eabi", "qemu-system-arm"]
    host = target_info("host")
    assert "gcc" in host["tools"] and host["cc"] == "gcc"


def test_make_print_tools_for_makefiles():
    out = subprocess.run(
        ["make", "-s", "-C", str(firmware_dir()), "print-tools", "TARGET=cortex-m3"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == target_info("cortex-m3")["tools"]


def test_unknown_target_lists_the_known_ones(tmp_path):
    with pytest.raises(FirmwareError, match="unknown target 'z80'.*cortex-m3.*host"):
        target_info("z80")
    path = save_model(make_model([3, 2]), tmp_path / "m.json")
    with pytest.raises(FirmwareError, match="known targets"):
        run_firmware(path, "z80", np.zeros((1, 3), dtype=np.uint8))


def test_missing_tools_name_the_tools_and_packages(tmp_path, monkeypatch):
    only_make = tmp_path / "bin"
    only_make.mkdir()
    (only_make / "make").symlink_to(shutil.which("make"))
    monkeypatch.setenv("PATH", str(only_make))
    missing = missing_tools("cortex-m3")
    assert missing == [
        "arm-none-eabi-gcc",
        "arm-none-eabi-size",
        "arm-none-eabi-nm",
        "qemu-system-arm",
    ]
    path = save_model(make_model([3, 2]), tmp_path / "m.json")
    with pytest.raises(FirmwareError) as info:
        run_firmware(path, "cortex-m3", np.zeros((1, 3), dtype=np.uint8))
    message = str(info.value)
    assert "arm-none-eabi-gcc" in message and "qemu-system-arm" in message
    assert "make demo" in message
    assert "apt-get install -y --no-install-recommends gcc-arm-none-eabi qemu-system-arm" in message


def test_missing_make_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert missing_tools("host") == ["make"]
    with pytest.raises(FirmwareError, match="make is not installed"):
        target_info("host")


def test_targets_are_data():
    assert set(list_targets()) == {"host", *EMULATED}
    info = {t: target_info(t) for t in list_targets()}
    assert info["avr"]["measure"] == "simavr-cycles" and info["avr"]["flash_size"] == 32768
    assert info["rv32"]["measure"] == "qemu-exec-log"
    assert info["host"]["measure"] == "none"
    for t in EMULATED:
        assert info[t]["cost_profile"] in PROFILES
        assert info[t]["apt_packages"], t
    assert "/usr/include/simavr/sim_avr.h" in info["avr"]["tool_files"]


def test_all_expands_to_the_installed_targets_once_each():
    names, notes = expand_targets(["host", "all", "host"])
    assert names[0] == "host" and len(names) == len(set(names))
    assert set(names) == {"host", *installed_targets()}
    assert len(notes) == len(list_targets()) - len(installed_targets())
    assert expand_targets(["cortex-m3"]) == (["cortex-m3"], [])


def test_the_cost_profile_of_a_target():
    assert cost_profile(None) is None
    assert cost_profile("avr") == "avr"
    assert cost_profile("host") in PROFILES
    with pytest.raises(FirmwareError, match="unknown target 'z80'"):
        cost_profile("z80")
