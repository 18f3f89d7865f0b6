"""What a firmware run showed and how it is reported: the FirmwareReport of one run (the
verdict, every mismatch, sizes, stack, instructions or cycles, timings), its JSON form
(``mipnn firmware --report``) and the table ``mipnn firmware`` prints, one row per run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mipnn.device.rawcheck import RawMismatch
from mipnn.device.run import Mismatch
from mipnn.trainer.model import file_sha256
from mipnn.trainer.outputs import write_text


@dataclass
class FirmwareReport:
    """What one firmware run showed.

    Sizes come from the ELF: ``flash_bytes`` = .text + .rodata + .data (+ .ARM.exidx) of the
    whole image (harness and golden vectors included); ``ram_bytes`` = .data + .bss (static
    RAM, harness buffers included), *not* counting the stack; ``stack_reserved_bytes`` is the
    .stack section the linker script reserves (0 on host and AVR). ``model_flash_bytes`` and
    ``model_ram_bytes`` are the model's own share: the image minus the same image built with
    a stub instead of the model (None when not measured). ``call_stack_bytes`` is the peak
    stack of one inference, measured on the target (the largest over all vectors; None on
    the host); ``model_stack_bytes`` the frame of ``NAME_predict`` from ``-fstack-usage``;
    ``stack_used_bytes`` the peak stack of the whole harness run. ``instructions``
    (QEMU targets) and ``cycles`` (AVR) are per inference, the largest over
    ``counted_calls``, the counts of every measured call.

    For a version-2 model the harness also runs ``raw_vectors`` raw golden vectors
    through ``NAME_predict_raw`` and ``NAME_encode`` (``raw_mismatches``); ``raw_*`` and
    ``encode_*`` are their instructions or cycles per call (the largest measured), and
    ``raw_call_stack_bytes`` the peak stack of one ``NAME_predict_raw``. The model's flash
    then includes the raw entry points.
    """

    target: str
    name: str
    n_vectors: int
    mismatches: list[Mismatch]
    flash_bytes: int
    ram_bytes: int
    stack_reserved_bytes: int
    model_flash_bytes: int | None
    model_stack_bytes: int | None
    build_seconds: float
    run_seconds: float
    elapsed: float
    output: str
    strategy: str = "int8"
    requested_strategy: str = "int8"
    model_ram_bytes: int | None = None
    stack_used_bytes: int | None = None
    call_stack_bytes: int | None = None
    instructions: int | None = None
    cycles: int | None = None
    counted_calls: list[int] = field(default_factory=list)
    measure_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    flash_budget: float | None = None  # the model flash budget auto/compact planned for
    image: Path | None = None
    classes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    raw_vectors: int = 0
    raw_mismatches: list[RawMismatch] = field(default_factory=list)
    raw_call_stack_bytes: int | None = None
    raw_instructions: int | None = None
    raw_cycles: int | None = None
    encode_instructions: int | None = None
    encode_cycles: int | None = None
    raw_counted_calls: list[int] = field(default_factory=list)
    encode_counted_calls: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every vector's scores and class (and every raw vector's, and the
        inputs its encoder wrote) equal the reference's."""
        return not self.mismatches and not self.raw_mismatches

    def describe_mismatches(self, limit: int | None = None) -> list[str]:
        """One line per mismatching vector, raw vectors after the others (the first
        ``limit`` of them, then a count of the rest), e.g. ``vector 3: ERROR at pos 1:
        Act: 5 Ref: 7; class Act: 1 Ref: 0``."""
        every: list[Mismatch | RawMismatch] = [*self.mismatches, *self.raw_mismatches]
        shown = every if limit is None else every[:limit]
        lines = [m.describe() for m in shown]
        if len(every) > len(shown):
            lines.append(f"... and {len(every) - len(shown)} more")
        return lines

    def summary(self) -> str:
        """A few human-readable lines."""
        raw = f" + {self.raw_vectors} raw" if self.raw_vectors else ""
        verdict = (
            f"OK: {self.n_vectors}{raw} vectors bit-exact"
            if self.ok
            else f"FAIL: {len(self.mismatches) + len(self.raw_mismatches)} of "
                 f"{self.n_vectors}{raw} vectors differ"
        )
        peak = (
            ""
            if self.stack_used_bytes is None
            else f", peak stack measured {self.stack_used_bytes} B"
        )
        lines = [
            f"{self.target} ({self.strategy}): {verdict} (build {self.build_seconds:.2f} s, "
            f"run {self.run_seconds:.2f} s)",
            f"image: flash {self.flash_bytes} B, static RAM {self.ram_bytes} B "
            f"(+ {self.stack_reserved_bytes} B stack reserved{peak})",
            f"model {self.name}: flash {_opt(self.model_flash_bytes)} B, RAM "
            f"{_opt(self.model_ram_bytes)} B, stack of one inference "
            f"{_opt(self.call_stack_bytes)} B, {self.speed()}",
        ]
        return "\n".join(lines + self.describe_mismatches(limit=10))

    def speed(self) -> str:
        """``"812 instructions"``, ``"2130 cycles"`` or ``"not counted"``; for a version-2
        model also those of ``NAME_predict_raw`` and ``NAME_encode``."""
        def one(instr: int | None, cycles: int | None) -> str | None:
            if instr is not None:
                return f"{instr} instructions"
            return f"{cycles} cycles" if cycles is not None else None

        text = one(self.instructions, self.cycles) or "not counted"
        raw = one(self.raw_instructions, self.raw_cycles)
        enc = one(self.encode_instructions, self.encode_cycles)
        if raw is not None:
            text += f" (predict_raw {raw}, encode {enc or 'not counted'})"
        return text

    def to_dict(self) -> dict[str, object]:
        """The report as JSON-ready data (``mipnn firmware --report``)."""
        return {
            "target": self.target,
            "model": self.name,
            "strategy": self.strategy,
            "requested_strategy": self.requested_strategy,
            "flash_budget": self.flash_budget,
            "vectors": self.n_vectors,
            "mismatches": len(self.mismatches),
            "bit_exact": self.ok,
            "first_mismatches": self.describe_mismatches(limit=10),
            "image_flash_bytes": self.flash_bytes,
            "image_ram_bytes": self.ram_bytes,
            "stack_reserved_bytes": self.stack_reserved_bytes,
            "model_flash_bytes": self.model_flash_bytes,
            "model_ram_bytes": self.model_ram_bytes,
            "inference_stack_bytes": self.call_stack_bytes,
            "predict_frame_bytes": self.model_stack_bytes,
            "run_stack_bytes": self.stack_used_bytes,
            "instructions_per_inference": self.instructions,
            "cycles_per_inference": self.cycles,
            "counted_calls": list(self.counted_calls),
            "raw_vectors": self.raw_vectors,
            "raw_mismatches": len(self.raw_mismatches),
            "raw_inference_stack_bytes": self.raw_call_stack_bytes,
            "raw_instructions_per_inference": self.raw_instructions,
            "raw_cycles_per_inference": self.raw_cycles,
            "encode_instructions": self.encode_instructions,
            "encode_cycles": self.encode_cycles,
            "raw_counted_calls": list(self.raw_counted_calls),
            "encode_counted_calls": list(self.encode_counted_calls),
            "notes": list(self.notes),
            "seconds": {
                "build": round(self.build_seconds, 3),
                "run": round(self.run_seconds, 3),
                "measure": round(self.measure_seconds, 3),
                "total": round(self.elapsed, 3),
            },
        }


def _opt(value: int | None) -> str:
    return "?" if value is None else str(value)


def _dash(value: int | None) -> str:
    return "-" if value is None else str(value)


def write_report(reports: list[FirmwareReport], path: Path, model_path: Path | None = None) -> Path:
    """Write ``reports`` as JSON (``{"model": ..., "runs": [...]}``) to ``path``."""
    data = {
        "format": "mipnn.firmware-report",
        "version": 1,
        "model": str(model_path) if model_path is not None else None,
        "model_sha256": file_sha256(model_path) if model_path is not None else None,
        "runs": [r.to_dict() for r in reports],
    }
    return write_text(path, json.dumps(data, indent=2) + "\n", "report")


def table_header() -> str:
    """The header line of the table ``mipnn firmware`` prints (see table_row)."""
    return (
        f"{'target':<10} {'vectors':>7} {'differ':>6} {'flash B':>8} {'RAM B':>6} "
        f"{'model flash B':>13} {'model RAM B':>11} {'stack B':>7} {'instr':>7} "
        f"{'cycles':>7} {'raw':>7} {'encode':>7}  {'strategy':<9} verdict"
    )


def table_row(report: FirmwareReport) -> str:
    """One run as a row of the table: target, vectors, how many differ, image flash and
    RAM, the model's flash and RAM, the stack of one inference, instructions, cycles (``-``
    where not measured), the instructions or cycles of ``NAME_predict_raw`` and
    ``NAME_encode`` (a version-2 model), the strategy and ``bit-exact`` or ``MISMATCH``.
    Raw vectors count in vectors and differ."""
    r = report
    verdict = "bit-exact" if r.ok else "MISMATCH"
    raw = r.raw_instructions if r.raw_instructions is not None else r.raw_cycles
    enc = r.encode_instructions if r.encode_instructions is not None else r.encode_cycles
    return (
        f"{r.target:<10} {r.n_vectors + r.raw_vectors:>7} "
        f"{len(r.mismatches) + len(r.raw_mismatches):>6} {r.flash_bytes:>8} "
        f"{r.ram_bytes:>6} {_dash(r.model_flash_bytes):>13} "
        f"{_dash(r.model_ram_bytes):>11} {_dash(r.call_stack_bytes):>7} "
        f"{_dash(r.instructions):>7} {_dash(r.cycles):>7} {_dash(raw):>7} {_dash(enc):>7}  "
        f"{r.strategy:<9} {verdict}"
    )


def table_legend() -> str:
    """The line printed under the table: what each column measures."""
    return (
        "flash, RAM: the whole image (harness and vectors included; RAM static, without "
        "the stack); model flash/RAM: that image minus the same image without the "
        "model; stack: peak of one inference, measured on the target; instr: "
        "instructions of one inference (QEMU, counted); cycles: AVR cycles of one "
        "inference (simavr, exact); raw, encode: the same for NAME_predict_raw and "
        "NAME_encode (version-2 models; their raw vectors are counted in vectors)"
    )
