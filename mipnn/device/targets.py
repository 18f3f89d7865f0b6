"""The firmware targets as data: the per-target facts (compiler, flags, linker script,
emulator command, required tools and apt packages, cost profile, memory sizes) live in
``firmware/targets/<target>.mk``; this module lists the fragments, asks ``make`` for their
values (``make -s -C firmware print-info TARGET=...``) and runs ``make`` on the one generic
``firmware/Makefile``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from mipnn.device.errors import FirmwareError
from mipnn.resources import firmware_dir

# The random vectors (mipnn firmware --random) are compiled into the firmware image as a C
# array and each prints a line of scores through the target's console: 100,000 of 30
# inputs are already a 3 MB array, ten times the flash of the largest target, and minutes
# of emulated output.
MAX_RANDOM_VECTORS = 100_000


def list_targets() -> list[str]:
    """The targets that have a make fragment (``firmware/targets/<target>.mk``)."""
    return sorted(p.stem for p in (firmware_dir() / "targets").glob("*.mk"))


def check_target(target: str) -> None:
    """Raise FirmwareError, naming the known targets, unless ``target`` has a fragment."""
    known = list_targets()
    if target not in known:
        raise FirmwareError(f"unknown target {target!r}; known targets: {', '.join(known)}")


def _make_env() -> dict[str, str]:
    """The environment for make: without a parent make's jobserver flags."""
    env = dict(os.environ)
    for key in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(key, None)
    return env


def run_make(args: list[str], timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """Run ``make -s -C <firmware sources> ARGS`` (without a parent make's jobserver flags)
    and return the finished process, whatever its status; FirmwareError if make is not
    installed."""
    if shutil.which("make") is None:
        raise FirmwareError(
            "make is not installed; run make demo or apt-get install -y make (firmware builds "
            "are driven by make)"
        )
    return subprocess.run(
        ["make", "-s", "-C", str(firmware_dir()), *args],
        capture_output=True,
        text=True,
        env=_make_env(),
        timeout=timeout,
        check=False,
    )


def make_info(target: str, variables: dict[str, str]) -> dict[str, str]:
    """The ``KEY=value`` lines of ``make print-info`` for ``target`` with the make
    ``variables`` set (e.g. ``BUILD``, ``GEN``, ``VARIANT``): the paths of the image and
    the commands that run it depend on them."""
    check_target(target)
    proc = run_make(
        ["print-info", f"TARGET={target}", *(f"{k}={v}" for k, v in variables.items())]
    )
    if proc.returncode != 0:
        raise FirmwareError(f"cannot read the make fragment of {target!r}:\n{proc.stderr.strip()}")
    info: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            info[key.strip()] = value.strip()
    return info


def target_info(target: str) -> dict[str, object]:
    """What a target needs and is, read from its make fragment: ``{"target", "tools",
    "tool_files", "apt_packages", "cc", "size", "nm", "measure", "cost_profile",
    "flash_size", "ram_size"}`` (``tools``, ``tool_files``, ``apt_packages`` are lists;
    the sizes are ints or None)."""
    info = make_info(target, {})

    def size(key: str) -> int | None:
        value = info.get(key, "")
        return int(value) if value.isdigit() else None

    return {
        "target": target,
        "tools": info.get("TOOLS", "").split(),
        "tool_files": info.get("TOOL_FILES", "").split(),
        "apt_packages": info.get("APT_PACKAGES", "").split(),
        "cc": info.get("CC", ""),
        "size": info.get("SIZE", ""),
        "nm": info.get("NM", ""),
        "measure": info.get("MEASURE", "none") or "none",
        "cost_profile": info.get("COST_PROFILE", "") or None,
        "flash_size": size("FLASH_SIZE"),
        "ram_size": size("RAM_SIZE"),
    }


def missing_from(info: dict[str, str]) -> list[str]:
    """The commands of ``info["TOOLS"]`` that are not on PATH and the files of
    ``info["TOOL_FILES"]`` that do not exist (``info`` from make_info)."""
    tools = [t for t in info.get("TOOLS", "").split() if shutil.which(t) is None]
    files = [f for f in info.get("TOOL_FILES", "").split() if not Path(f).exists()]
    return tools + files


def missing_tools(target: str) -> list[str]:
    """The target's required commands that are not on PATH and required files (headers)
    that do not exist (``make`` first, if missing)."""
    if shutil.which("make") is None:
        return ["make"]
    return missing_from(make_info(target, {}))


def missing_tools_error(target: str, missing: list[str], apt: list[str]) -> FirmwareError:
    """The error for a target whose ``missing`` tools keep it from running, with the
    command that installs its ``apt`` packages."""
    packages = " ".join(apt) if apt else "(see firmware/targets/" + target + ".mk)"
    return FirmwareError(
        f"target {target!r} needs tools that are not installed: {', '.join(missing)}; "
        f"run make demo or apt-get install -y --no-install-recommends {packages}"
    )


def installed_targets() -> list[str]:
    """The targets whose tools are all installed (what ``--target all`` runs)."""
    return [t for t in list_targets() if not missing_tools(t)]


def expand_targets(targets: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The targets to run for ``targets`` as given (``all``: every target whose tools are
    installed), each once, in order, and a note for every target ``all`` skips."""
    names: list[str] = []
    notes: list[str] = []
    for t in targets:
        if t != "all":
            names.append(t)
            continue
        for n in list_targets():
            missing = missing_tools(n)
            if missing:
                notes.append(f"skipping {n}: missing {', '.join(missing)} "
                             "(scripts/install-deps.sh installs them)")
            else:
                names.append(n)
    return list(dict.fromkeys(names)), notes


def cost_profile(target: str | None) -> str | None:
    """The code-generation cost profile of a firmware target (``None`` for ``None``: the
    generic one); FirmwareError for an unknown target."""
    if target is None:
        return None
    return str(target_info(target)["cost_profile"] or "generic32")


def vector_budget(target: str, n_inputs: int) -> int | None:
    """How many golden vectors of ``n_inputs`` bytes fit in half the target's flash (None:
    no limit known, e.g. the host)."""
    flash = target_info(target)["flash_size"]
    if not isinstance(flash, int) or n_inputs < 1:
        return None
    return max(1, flash // 2 // n_inputs)
