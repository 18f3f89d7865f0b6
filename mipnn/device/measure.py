"""Measurements of a firmware image, all from the target itself.

* flash and RAM of an image from its ELF sections (``SIZE -A``); the model's own share is
  the difference with the same harness built with a stub in place of the model
  (``VARIANT=null``);
* the frame of ``NAME_predict`` from the compiler's ``-fstack-usage`` file (the peak stack
  of one inference is measured by the platform and parsed with the harness output);
* instructions per inference on QEMU targets, counted deterministically: an image with a
  few vectors (``VARIANT=measure``) runs under ``-singlestep -d exec,nochain`` and the
  executed instructions between the entry of ``NAME_predict`` and the return to its caller
  are counted from the log; exact cycles per inference on AVR, from the simavr runner
  (``--measure``). The largest count over the measured calls is reported.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import numpy as np

from mipnn.codegen.export import render_null_model, render_vectors, write_if_changed
from mipnn.device.build import MEASURE_DIR, NULL_MODEL_SOURCE, VECTORS_HEADER, build_image
from mipnn.device.errors import FirmwareError
from mipnn.device.report import FirmwareReport
from mipnn.device.run import exit_error, parse_output, run_image
from mipnn.device.targets import make_info
from mipnn.trainer.model import Model

_TRACE_LINE = re.compile(rb"Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
_CALL_LINE = re.compile(r"~~~MIPNN CALL cycles=(\d+)~~~")


def _section_sizes(size_tool: str, image: Path) -> dict[str, int]:
    proc = subprocess.run(
        [size_tool, "-A", str(image)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise FirmwareError(f"{size_tool} failed on {image}: {proc.stderr.strip()}")
    sizes: dict[str, int] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = sizes.get(parts[0], 0) + int(parts[1])
    return sizes


def _symbols(nm_tool: str, image: Path) -> dict[str, tuple[int, int]]:
    """``{name: (address, size)}`` of the sized symbols of ``image`` (``NM -S``)."""
    proc = subprocess.run(
        [nm_tool, "-S", "--defined-only", str(image)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise FirmwareError(f"{nm_tool} failed on {image}: {proc.stderr.strip()}")
    table: dict[str, tuple[int, int]] = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4:
            table[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return table


def predict_stack(build_dir: Path, name: str) -> int | None:
    """The stack frame of ``NAME_predict`` in bytes, from ``build_dir/NAME.su`` (the
    compiler's ``-fstack-usage`` output); None when the file or the line is missing."""
    su = build_dir / f"{name}.su"
    if not su.exists():
        return None
    for line in su.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].endswith(f":{name}_predict") and parts[1].isdigit():
            return int(parts[1])
    return None


def image_sizes(size_tool: str, image: Path) -> tuple[int, int, int]:
    """(flash, static RAM, reserved stack) of an image."""
    sections = _section_sizes(size_tool, image)
    flash = sum(sections.get(s, 0) for s in (".text", ".rodata", ".data", ".ARM.exidx"))
    ram = sections.get(".data", 0) + sections.get(".bss", 0) + sections.get(".noinit", 0)
    return flash, ram, sections.get(".stack", 0)


def count_exec_log(log: Path, entry: int, callers: list[tuple[int, int]]) -> list[int]:
    """Instructions per call, from a QEMU ``-singlestep -d exec,nochain`` log (one line per
    executed instruction): a call starts at the line whose PC is ``entry`` and ends at the
    first later line whose PC lies in one of the ``callers`` ranges ``[start, end)``; every
    line in between (the function and whatever it calls) is one instruction."""
    counts: list[int] = []
    current: int | None = None
    with open(log, "rb") as fh:
        for line in fh:
            match = _TRACE_LINE.match(line)
            if not match:
                continue
            pc = int(match.group(1), 16)
            if current is None:
                if pc == entry:
                    current = 1
            elif any(lo <= pc < hi for lo, hi in callers):
                counts.append(current)
                current = None
            else:
                current += 1
    return counts


def measure_model(
    report: FirmwareReport,
    model: Model,
    vectors: np.ndarray,
    target: str,
    variables: dict[str, str],
    gen: Path,
    cname: str,
    sha: str,
    timeout: float,
    n_measure: int,
) -> None:
    """Fill in ``report``'s model flash/RAM (the image minus the ``null`` image) and, on
    targets that measure, the instructions or cycles of one inference on the first
    ``n_measure`` vectors (the ``measure`` image, two calls per vector); ``variables`` are
    the make variables of the model's build and ``gen`` its generated sources."""
    write_if_changed(gen / NULL_MODEL_SOURCE, render_null_model(cname, sha))
    build_image(target, variables, "null")
    null_info = make_info(target, {**variables, "VARIANT": "null"})
    flash0, ram0, _ = image_sizes(null_info["SIZE"], Path(null_info["IMAGE"]))
    report.model_flash_bytes = report.flash_bytes - flash0
    report.model_ram_bytes = report.ram_bytes - ram0

    kind = null_info.get("MEASURE", "none")
    if kind == "none":
        return
    few = vectors[: max(1, n_measure)]
    write_if_changed(
        gen / MEASURE_DIR / VECTORS_HEADER, render_vectors(model, few, name=cname, model_sha256=sha)
    )
    build_image(target, variables, "measure")
    image = Path(make_info(target, {**variables, "VARIANT": "measure"})["IMAGE"])
    table = _symbols(null_info["NM"], image)
    predict = f"{cname}_predict"
    if predict not in table:
        raise FirmwareError(f"{image}: no symbol {predict} (cannot count its instructions)")
    entry = table[predict][0]
    info = make_info(
        target, {**variables, "VARIANT": "measure", "MEASURE_ENTRY": hex(entry)}
    )
    log = Path(info["MEASURE_LOG"]) if info.get("MEASURE_LOG") else None
    if log is not None and log.exists():
        log.unlink()
    code, output, errors, _ = run_image(shlex.split(info["MEASURE_RUN"]), timeout * 4, target)
    if code != 0:
        raise exit_error(target, code, output, errors)
    parse_output(output, len(few), model.n_classes)  # the counting run must also finish
    if kind == "qemu-exec-log":
        if log is None or not log.exists():
            raise FirmwareError(f"{target}: QEMU wrote no exec log ({log})")
        callers = [
            (addr, addr + size)
            for sym, (addr, size) in table.items()
            if sym in ("main", "mipnn_fw_call") and size > 0
        ]
        counts = count_exec_log(log, entry, callers)
        log.unlink()
        report.counted_calls = counts
        report.instructions = max(counts) if counts else None
    elif kind == "simavr-cycles":
        counts = [int(m) for m in _CALL_LINE.findall(errors)]
        report.counted_calls = counts
        report.cycles = max(counts) if counts else None
    else:
        raise FirmwareError(f"{target}: unknown MEASURE kind {kind!r} in its fragment")
    if len(report.counted_calls) != 2 * len(few):
        raise FirmwareError(
            f"{target}: counted {len(report.counted_calls)} calls of {predict}, expected "
            f"{2 * len(few)} (two per measured vector)"
        )
