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
  (``--measure``). The largest count over the measured calls is reported. For a
  version-2 model the same for ``NAME_predict_raw`` and ``NAME_encode`` (raw vectors in
  the measure image; on QEMU from the same log, on AVR one run per function).
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


def count_calls(log: Path, entries: dict[str, int], callers: list[tuple[int, int]]
                ) -> dict[str, list[int]]:
    """Instructions per call of each function in ``entries`` (name -> entry address), from
    a QEMU ``-singlestep -d exec,nochain`` log (one line per executed instruction): a call
    starts at the line whose PC is an entry, right after a line whose PC lies in one of
    the ``callers`` ranges ``[start, end)`` (so a function called from another one being
    counted is counted inside it, not on its own), and ends at the first later line whose
    PC lies in a caller range; every line in between is one instruction."""
    counts: dict[str, list[int]] = {name: [] for name in entries}
    by_address = {address: name for name, address in entries.items()}
    current: int | None = None
    name = ""
    after_caller = False
    with open(log, "rb") as fh:
        for line in fh:
            match = _TRACE_LINE.match(line)
            if not match:
                continue
            pc = int(match.group(1), 16)
            in_caller = any(lo <= pc < hi for lo, hi in callers)
            if current is None:
                if pc in by_address and after_caller:
                    current, name = 1, by_address[pc]
            elif in_caller:
                counts[name].append(current)
                current = None
            else:
                current += 1
            after_caller = in_caller
    return counts


def count_exec_log(log: Path, entry: int, callers: list[tuple[int, int]]) -> list[int]:
    """Instructions per call of the function at ``entry`` (see ``count_calls``)."""
    return count_calls(log, {"f": entry}, callers)["f"]


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
    raw_vectors: np.ndarray | None = None,
) -> None:
    """Fill in ``report``'s model flash/RAM (the image minus the ``null`` image) and, on
    targets that measure, the instructions or cycles of one inference on the first
    ``n_measure`` vectors (the ``measure`` image, two calls per vector), and with
    ``raw_vectors`` those of ``NAME_predict_raw`` and ``NAME_encode`` on the first
    ``n_measure`` of them; ``variables`` are the make variables of the model's build and
    ``gen`` its generated sources."""
    has_raw = raw_vectors is not None and len(raw_vectors) > 0
    write_if_changed(gen / NULL_MODEL_SOURCE, render_null_model(cname, sha, raw=has_raw))
    build_image(target, variables, "null")
    null_info = make_info(target, {**variables, "VARIANT": "null"})
    flash0, ram0, _ = image_sizes(null_info["SIZE"], Path(null_info["IMAGE"]))
    report.model_flash_bytes = report.flash_bytes - flash0
    report.model_ram_bytes = report.ram_bytes - ram0

    kind = null_info.get("MEASURE", "none")
    if kind == "none":
        return
    few = vectors[: max(1, n_measure)]
    few_raw = raw_vectors[: max(1, n_measure)] if has_raw else None
    write_if_changed(
        gen / MEASURE_DIR / VECTORS_HEADER,
        render_vectors(model, few, name=cname, model_sha256=sha, raw_vectors=few_raw),
    )
    build_image(target, variables, "measure")
    image = Path(make_info(target, {**variables, "VARIANT": "measure"})["IMAGE"])
    table = _symbols(null_info["NM"], image)
    names = {"predict": f"{cname}_predict"}
    if has_raw:
        names.update(raw=f"{cname}_predict_raw", encode=f"{cname}_encode")
    for sym in names.values():
        if sym not in table:
            raise FirmwareError(f"{image}: no symbol {sym} (cannot count its instructions)")
    entries = {key: table[sym][0] for key, sym in names.items()}
    n_raw = len(few_raw) if few_raw is not None else 0

    def run(entry: int) -> str:
        info = make_info(target, {**variables, "VARIANT": "measure", "MEASURE_ENTRY": hex(entry)})
        log = Path(info["MEASURE_LOG"]) if info.get("MEASURE_LOG") else None
        if log is not None and log.exists():
            log.unlink()
        code, output, errors, _ = run_image(shlex.split(info["MEASURE_RUN"]), timeout * 4,
                                            target)
        if code != 0:
            raise exit_error(target, code, output, errors)
        # the counting run must also finish
        parse_output(output, len(few), model.n_classes, n_raw, model.input_size)
        if kind == "qemu-exec-log" and (log is None or not log.exists()):
            raise FirmwareError(f"{target}: QEMU wrote no exec log ({log})")
        return str(log) if kind == "qemu-exec-log" else errors

    counts: dict[str, list[int]] = {}
    if kind == "qemu-exec-log":
        log = Path(run(entries["predict"]))
        callers = [(addr, addr + size) for sym, (addr, size) in table.items()
                   if sym in ("main", "mipnn_fw_call", "mipnn_fw_raw_predict") and size > 0]
        counts = count_calls(log, entries, callers)
        log.unlink()
    elif kind == "simavr-cycles":
        for key, entry in entries.items():  # the runner times one function per run
            counts[key] = [int(m) for m in _CALL_LINE.findall(run(entry))]
    else:
        raise FirmwareError(f"{target}: unknown MEASURE kind {kind!r} in its fragment")
    expected = {"predict": 2 * len(few), "raw": 2 * n_raw, "encode": n_raw}
    for key, found in counts.items():
        # AVR also times the calls a function makes to another measured one (encode and
        # predict inside predict_raw), QEMU only direct calls from the harness
        if len(found) < expected[key] or (kind == "qemu-exec-log"
                                          and len(found) != expected[key]):
            raise FirmwareError(
                f"{target}: counted {len(found)} calls of {names[key]}, expected "
                f"{expected[key]} (from the harness)")
    cycles = kind == "simavr-cycles"
    report.counted_calls = counts["predict"]
    setattr(report, "cycles" if cycles else "instructions", max(counts["predict"]))
    if has_raw:
        report.raw_counted_calls = counts["raw"]
        report.encode_counted_calls = counts["encode"]
        setattr(report, "raw_cycles" if cycles else "raw_instructions", max(counts["raw"]))
        setattr(report, "encode_cycles" if cycles else "encode_instructions",
                max(counts["encode"]))


def symbol_table(nm_tool: str, image: Path) -> dict[str, tuple[int, int]]:
    """``{name: (address, size)}`` of the sized symbols of ``image`` (``NM -S``)."""
    return _symbols(nm_tool, image)


def simavr_cycles(errors: str) -> list[int]:
    """The cycles of every call the simavr runner timed, from its standard error."""
    return [int(m) for m in _CALL_LINE.findall(errors)]
