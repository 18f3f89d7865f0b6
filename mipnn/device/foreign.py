"""C classifiers that mipnn did not generate, run through the same firmware harness (for
comparisons such as bench/peers.py): any C with the ``NAME_predict`` API of ARCHITECTURE.md
5 (``NAME.h`` defining ``NAME_N_INPUTS`` and ``NAME_N_CLASSES``; ``int NAME_predict(const
uint8_t x[], int32_t scores[])``, scores may be NULL) is built for a target with every given
input vector, in as many images as the flash needs, and run in its emulator; what comes
back is the class the device computed for every vector, the classifier's own flash and
RAM (the image minus the same image with a stub), the stack of one inference, and the
instructions (QEMU) or cycles (AVR) of every measured call.

Extra make variables (``EXTRA_CFLAGS``, ``EXTRA_LIBS``, ``WARN_FLAGS``, ``FLOAT``: see
``firmware/Makefile``) carry what such code needs: its headers, a libc, relaxed warnings.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mipnn.codegen.export import render_null_model, render_vector_header, write_if_changed
from mipnn.device.build import (
    MEASURE_DIR,
    NULL_MODEL_SOURCE,
    VECTORS_HEADER,
    build_image,
    write_sources,
)
from mipnn.device.errors import FirmwareError
from mipnn.device.measure import count_exec_log, image_sizes, simavr_cycles, symbol_table
from mipnn.device.run import exit_error, parse_output, run_image
from mipnn.device.targets import check_target, make_info, missing_from, missing_tools_error

FLASH_MARGIN = 2048  # bytes of flash left free beside the harness, model and vectors


@dataclass
class ForeignRun:
    """What running a C classifier on a target showed (module docstring)."""

    target: str
    classes: np.ndarray  # the device's class for every vector, in order
    model_flash_bytes: int
    model_ram_bytes: int
    call_stack_bytes: int | None
    counts: list[int] = field(default_factory=list)  # instructions or cycles per call
    unit: str = ""  # "instructions", "cycles" or "" (not measured)
    images: int = 0
    seconds: float = 0.0

    @property
    def mean_count(self) -> float | None:
        return float(np.mean(self.counts)) if self.counts else None

    @property
    def max_count(self) -> int | None:
        return int(max(self.counts)) if self.counts else None


def run_classifier(
    files: dict[str, str], name: str, n_classes: int, vectors: np.ndarray, target: str,
    workdir: Path, *, make_vars: dict[str, str] | None = None, measure_vectors: int = 16,
    timeout: float = 600.0, per_image: int | None = None,
) -> ForeignRun:
    """Build ``files`` (``NAME.c``, ``NAME.h`` and whatever they include) for ``target``
    with the harness, run every row of ``vectors`` (``uint8 [V, n]``) through the device,
    in batches that fit its flash (at most ``per_image`` vectors each, when given), and
    measure (module docstring). Raises FirmwareError
    when the code does not build, does not fit, or the device does not finish."""
    t0 = time.perf_counter()
    check_target(target)
    vectors = np.asarray(vectors, dtype=np.int64)
    info0 = make_info(target, {})
    missing = missing_from(info0)
    if missing:
        raise missing_tools_error(target, missing, info0.get("APT_PACKAGES", "").split())
    build = Path(workdir).resolve()
    gen = build / f"gen-{target}"
    variables = {"BUILD": str(build), "GEN": str(gen), "MODEL": name, **(make_vars or {})}
    info = make_info(target, variables)
    n_inputs = vectors.shape[1]
    flash_size = int(info0.get("FLASH_SIZE") or 0)
    first = vectors[: max(1, min(len(vectors), measure_vectors))]
    write_sources(gen, files, render_vector_header(name, first))
    build_image(target, variables)
    image = Path(info["IMAGE"])
    flash, ram, _ = image_sizes(info["SIZE"], image)
    flash0, ram0 = null_image_sizes(target, variables, gen, name)
    run = ForeignRun(target, np.zeros(len(vectors), np.int64), flash - flash0, ram - ram0, None)
    counted = count_calls(target, variables, gen, name, render_vector_header(name, first),
                          len(first), n_classes, timeout)
    if counted is not None:
        run.unit = "instructions" if counted[0] == "qemu-exec-log" else "cycles"
        run.counts = counted[1]
    base = flash - len(first) * n_inputs
    fit = len(vectors)
    if flash_size:
        fit = max(1, (flash_size - base - FLASH_MARGIN) // max(1, n_inputs))
    per_image = max(1, min(fit, per_image or fit))
    stacks = []
    for start in range(0, len(vectors), per_image):
        batch = vectors[start:start + per_image]
        write_sources(gen, files, render_vector_header(name, batch))
        build_image(target, variables)
        code, output, errors, _ = run_image(shlex.split(info["RUN"]), timeout, target)
        if code != 0:
            raise exit_error(target, code, output, errors)
        parsed = parse_output(output, len(batch), n_classes)
        run.classes[start:start + len(batch)] = parsed.classes
        if parsed.call_stack is not None:
            stacks.append(parsed.call_stack)
        run.images += 1
    run.call_stack_bytes = max(stacks) if stacks else None
    run.seconds = time.perf_counter() - t0
    return run


def null_image_sizes(target: str, variables: dict[str, str], gen: Path, cname: str
                     ) -> tuple[int, int]:
    """(flash, static RAM) of the image built with a stub in place of ``NAME_predict``
    (``VARIANT=null``): the image without the classifier."""
    write_if_changed(gen / NULL_MODEL_SOURCE, render_null_model(cname))
    build_image(target, variables, "null")
    info = make_info(target, {**variables, "VARIANT": "null"})
    flash0, ram0, _ = image_sizes(info["SIZE"], Path(info["IMAGE"]))
    return flash0, ram0


def count_calls(target: str, variables: dict[str, str], gen: Path, cname: str,
                vectors_header: str, n_vectors: int, n_classes: int, timeout: float
                ) -> tuple[str, list[int]] | None:
    """Build the ``measure`` image with ``vectors_header`` (``n_vectors`` vectors), run it
    under the target's counter and return ``(MEASURE kind, counts)``: the instructions
    (QEMU) or cycles (AVR) of every call of ``NAME_predict``, two per vector. None on a
    target that does not measure."""
    info0 = make_info(target, {**variables, "VARIANT": "measure"})
    kind = info0.get("MEASURE", "none")
    if kind == "none":
        return None
    write_if_changed(gen / MEASURE_DIR / VECTORS_HEADER, vectors_header)
    build_image(target, variables, "measure")
    image = Path(info0["IMAGE"])
    table = symbol_table(info0["NM"], image)
    predict = f"{cname}_predict"
    if predict not in table:
        raise FirmwareError(f"{image}: no symbol {predict} (cannot count its instructions)")
    entry = table[predict][0]
    info = make_info(target, {**variables, "VARIANT": "measure", "MEASURE_ENTRY": hex(entry)})
    log = Path(info["MEASURE_LOG"]) if info.get("MEASURE_LOG") else None
    if log is not None and log.exists():
        log.unlink()
    code, output, errors, _ = run_image(shlex.split(info["MEASURE_RUN"]), timeout * 4, target)
    if code != 0:
        raise exit_error(target, code, output, errors)
    parse_output(output, n_vectors, n_classes)  # the counting run must also finish
    if kind == "qemu-exec-log":
        if log is None or not log.exists():
            raise FirmwareError(f"{target}: QEMU wrote no exec log ({log})")
        callers = [(addr, addr + size) for sym, (addr, size) in table.items()
                   if sym in ("main", "mipnn_fw_call") and size > 0]
        counts = count_exec_log(log, entry, callers)
        log.unlink()
    elif kind == "simavr-cycles":
        counts = simavr_cycles(errors)
    else:
        raise FirmwareError(f"{target}: unknown MEASURE kind {kind!r} in its fragment")
    if len(counts) != 2 * n_vectors:
        raise FirmwareError(f"{target}: counted {len(counts)} calls of {predict}, expected "
                            f"{2 * n_vectors} (two per measured vector)")
    return kind, counts
