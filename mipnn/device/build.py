"""Building firmware images: the generated sources and golden vectors written into the
work directory (outside the source tree), and ``make build`` for a target and variant (the
model's image, the ``null`` image with a stub in place of the model, the ``measure`` image
with a few vectors), with compiler errors cut down to the first one; also the host-side
runner a target may need (the AVR simavr runner)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from mipnn.codegen.export import write_if_changed
from mipnn.device.errors import FirmwareError
from mipnn.device.targets import make_info, run_make

VECTORS_HEADER = "mipnn_fw_vectors.h"
NULL_MODEL_SOURCE = "mipnn_fw_null_model.c"
MEASURE_DIR = "measure"  # under GEN: the vectors header of the measure variant


def error_lines(text: str, n: int = 30) -> str:
    """The compiler's messages from the first error on (at most ``n`` lines)."""
    lines = text.strip().splitlines()
    first = next((k for k, line in enumerate(lines) if "error" in line.lower()), 0)
    start = max(0, first - 2)  # keep the "In function ..." context line
    shown = lines[start : start + n]
    more = len(lines) - start - len(shown)
    return "\n".join(shown + ([f"... ({more} more lines)"] if more > 0 else []))


def write_sources(gen: Path, files: dict[str, str], vectors_header: str) -> None:
    """Write the generated model ``files`` and the golden-vector header into ``gen`` (the
    make variable ``GEN``), leaving unchanged files untouched so make rebuilds only what
    changed, and make room for the measure variant's vectors."""
    (gen / MEASURE_DIR).mkdir(parents=True, exist_ok=True)
    for fname, text in files.items():
        write_if_changed(gen / fname, text)
    write_if_changed(gen / VECTORS_HEADER, vectors_header)


def build_image(target: str, variables: dict[str, str], variant: str = "") -> float:
    """``make build`` for ``target`` and ``variant`` ("" for the model's image, ``null``
    or ``measure``) with the make ``variables``; returns the seconds it took.
    FirmwareError with the first compiler error (and a hint when the image does not fit
    the target's memory) if the build fails."""
    t0 = time.perf_counter()
    jobs = max(1, min(4, os.cpu_count() or 1))
    proc = run_make(
        [
            "build",
            f"-j{jobs}",
            f"TARGET={target}",
            f"VARIANT={variant}",
            *(f"{k}={v}" for k, v in variables.items()),
        ]
    )
    if proc.returncode != 0:
        messages = proc.stderr + proc.stdout
        hint = ""
        if any(
            text in messages
            for text in ("overflowed", "will not fit in region", "is too large")
        ):
            hint = (
                f"\nthe image does not fit the memory of {target}: use fewer golden "
                "vectors (--vectors) or a smaller model"
            )
        what = f" ({variant} variant)" if variant else ""
        raise FirmwareError(
            f"building the {target} firmware{what} failed:\n{error_lines(messages)}{hint}"
        )
    return time.perf_counter() - t0


def build_runner(target: str, build_dir: Path) -> Path | None:
    """Build the target's host-side runner (the AVR simavr runner) into
    ``build_dir/tools`` and return its path (None if the target has none)."""
    build_dir = Path(build_dir).resolve()
    info = make_info(target, {"BUILD": str(build_dir)})
    if not info.get("RUNNER"):
        return None
    proc = run_make(["runner", f"TARGET={target}", f"BUILD={build_dir}"])
    if proc.returncode != 0:
        raise FirmwareError(
            f"building the {target} runner failed:\n{error_lines(proc.stderr + proc.stdout)}"
        )
    return Path(info["RUNNER"])
