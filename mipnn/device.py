"""Build the generated C with the golden-vector harness for a target, run it, and compare
every score and class with the Python reference, bit for bit (ARCHITECTURE.md 6).

The per-target facts (compiler, flags, linker script, emulator command, required tools and
apt packages) live in ``firmware/targets/<target>.mk``; this module asks ``make`` for them
(``make -s -C firmware print-info TARGET=...``) and drives the one generic ``firmware/Makefile``.
Builds go to a work directory outside the source tree (a fresh temporary one by default),
so parallel runs never collide.

Measurements (``run_firmware(..., measure=True)``), all from the target itself:

* flash and RAM of the whole image (``SIZE -A``), and of the model alone: the same harness
  is built a second time with a stub in place of the model (``VARIANT=null``), and the
  model's share is the difference of the two images;
* peak stack of one inference: the platform paints the free stack before each call of
  ``NAME_predict`` and reads back how deep it went (the largest over all vectors);
* instructions per inference on QEMU targets, counted deterministically: a third image
  with a few vectors (``VARIANT=measure``) runs under ``-singlestep -d exec,nochain`` and
  the executed instructions between the entry of ``NAME_predict`` and the return to its
  caller are counted from the log; exact cycles per inference on AVR, from the simavr
  runner (``--measure``). The largest count over the measured calls is reported.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from mipnn.codegen.errors import CodegenError
from mipnn.codegen.export import generate, render_vectors, write_if_changed
from mipnn.codegen.names import resolve_name
from mipnn.codegen.templating import banner_lines, environment
from mipnn.resources import firmware_dir
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import Model, file_sha256, forward, load_model

BEGIN_PREFIX = "~~~MIPNN BEGIN"
SENTINEL = "~~~MIPNN DONE~~~"
VECTORS_HEADER = "mipnn_fw_vectors.h"
STACK_PREFIX = "~~~MIPNN STACK"
NULL_MODEL_SOURCE = "mipnn_fw_null_model.c"
MEASURE_DIR = "measure"
EXIT_CODES = {  # statuses the harness and platforms use (firmware/harness, firmware/platform)
    3: "the class differs when scores is NULL",
    4: "writing the output failed",
    125: "the stack overflowed",
    126: "the startup code did not initialise .data/.bss",
    127: "the firmware faulted (fault handler)",
}
_VECTOR_LINE = re.compile(r"vector (\d+) class (-?\d+) scores((?: -?\d+)*)\Z")
_STACK_LINE = re.compile(r"~~~MIPNN STACK(?: used=(\d+))?(?: call=(\d+))?~~~\Z")
_TRACE_LINE = re.compile(rb"Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
_CALL_LINE = re.compile(r"~~~MIPNN CALL cycles=(\d+)~~~")


class FirmwareError(MipnnError):
    """A target cannot be built or run: unknown target, missing tools, compile error, crash,
    hang, or output that does not end with the sentinel line."""


class Mismatch(NamedTuple):
    """One golden vector whose firmware result differs from the reference ``forward``."""

    index: int
    expected_class: int
    expected_scores: tuple[int, ...]
    got_class: int
    got_scores: tuple[int, ...]

    @property
    def position(self) -> int | None:
        """The first score position that differs (None when only the class differs)."""
        for k, (want, got) in enumerate(zip(self.expected_scores, self.got_scores, strict=True)):
            if want != got:
                return k
        return None

    def describe(self) -> str:
        pos = self.position
        if pos is not None:
            what = (
                f"ERROR at pos {pos}: Act: {self.got_scores[pos]} Ref: {self.expected_scores[pos]}"
            )
        else:
            what = "scores equal"
        return (
            f"vector {self.index}: {what}; class Act: {self.got_class} Ref: {self.expected_class}"
        )


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

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def describe_mismatches(self, limit: int | None = None) -> list[str]:
        """One line per mismatching vector (the first ``limit`` of them, then a count of
        the rest), e.g. ``vector 3: ERROR at pos 1: Act: 5 Ref: 7; class Act: 1 Ref: 0``."""
        shown = self.mismatches if limit is None else self.mismatches[:limit]
        lines = [m.describe() for m in shown]
        if len(self.mismatches) > len(shown):
            lines.append(f"... and {len(self.mismatches) - len(shown)} more")
        return lines

    def summary(self) -> str:
        """A few human-readable lines."""
        verdict = (
            f"OK: {self.n_vectors} vectors bit-exact"
            if self.ok
            else f"FAIL: {len(self.mismatches)} of {self.n_vectors} vectors differ"
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
        """``"812 instructions"``, ``"2130 cycles"`` or ``"not counted"``."""
        if self.instructions is not None:
            return f"{self.instructions} instructions"
        if self.cycles is not None:
            return f"{self.cycles} cycles"
        return "not counted"

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


def write_report(reports: list[FirmwareReport], path: Path, model_path: Path | None = None) -> Path:
    """Write ``reports`` as JSON (``{"model": ..., "runs": [...]}``) to ``path``."""
    data = {
        "format": "mipnn.firmware-report",
        "version": 1,
        "model": str(model_path) if model_path is not None else None,
        "model_sha256": file_sha256(model_path) if model_path is not None else None,
        "runs": [r.to_dict() for r in reports],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def list_targets() -> list[str]:
    """The targets that have a make fragment (``firmware/targets/<target>.mk``)."""
    return sorted(p.stem for p in (firmware_dir() / "targets").glob("*.mk"))


def _check_target(target: str) -> None:
    known = list_targets()
    if target not in known:
        raise FirmwareError(f"unknown target {target!r}; known targets: {', '.join(known)}")


def _make_env() -> dict[str, str]:
    """The environment for make: without a parent make's jobserver flags."""
    env = dict(os.environ)
    for key in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(key, None)
    return env


def _make(args: list[str], timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
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


def _print_info(target: str, variables: dict[str, str]) -> dict[str, str]:
    _check_target(target)
    proc = _make(["print-info", f"TARGET={target}", *(f"{k}={v}" for k, v in variables.items())])
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
    info = _print_info(target, {})

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


def _missing(info: dict[str, str]) -> list[str]:
    tools = [t for t in info.get("TOOLS", "").split() if shutil.which(t) is None]
    files = [f for f in info.get("TOOL_FILES", "").split() if not Path(f).exists()]
    return tools + files


def missing_tools(target: str) -> list[str]:
    """The target's required commands that are not on PATH and required files (headers)
    that do not exist (``make`` first, if missing)."""
    if shutil.which("make") is None:
        return ["make"]
    return _missing(_print_info(target, {}))


def vector_budget(target: str, n_inputs: int) -> int | None:
    """How many golden vectors of ``n_inputs`` bytes fit in half the target's flash (None:
    no limit known, e.g. the host)."""
    flash = target_info(target)["flash_size"]
    if not isinstance(flash, int) or n_inputs < 1:
        return None
    return max(1, flash // 2 // n_inputs)


def build_runner(target: str, build_dir: Path) -> Path | None:
    """Build the target's host-side runner (the AVR simavr runner) into
    ``build_dir/tools`` and return its path (None if the target has none)."""
    build_dir = Path(build_dir).resolve()
    info = _print_info(target, {"BUILD": str(build_dir)})
    if not info.get("RUNNER"):
        return None
    proc = _make(["runner", f"TARGET={target}", f"BUILD={build_dir}"])
    if proc.returncode != 0:
        raise FirmwareError(
            f"building the {target} runner failed:\n{_error_lines(proc.stderr + proc.stdout)}"
        )
    return Path(info["RUNNER"])


def installed_targets() -> list[str]:
    """The targets whose tools are all installed (what ``--target all`` runs)."""
    return [t for t in list_targets() if not missing_tools(t)]


def _missing_tools_error(target: str, missing: list[str], apt: list[str]) -> FirmwareError:
    packages = " ".join(apt) if apt else "(see firmware/targets/" + target + ".mk)"
    return FirmwareError(
        f"target {target!r} needs tools that are not installed: {', '.join(missing)}; "
        f"run make demo or apt-get install -y --no-install-recommends {packages}"
    )


def golden_vectors(
    model: Model,
    test_X: np.ndarray | None = None,
    n_random: int = 64,
    seed: int = 0,
    limit: int | None = None,
) -> np.ndarray:
    """Golden input vectors, ``uint8 [V, n]``, deterministic for a given seed.

    In order: the rows of ``test_X`` (the first ``limit`` of them when ``limit`` is given),
    then edge cases (all 0, all L, alternating 0/L both ways, all L//2, one-hot L at the
    first, middle and last input, all L but one 0), then ``n_random`` vectors drawn
    uniformly from ``[0, L]``.
    """
    n, big = model.input_size, model.levels
    parts: list[np.ndarray] = []
    if test_X is not None:
        tx = np.asarray(test_X)
        if tx.ndim != 2 or tx.shape[1] != n:
            raise FirmwareError(f"test vectors must have shape [m, {n}], got {tx.shape}")
        if limit is not None:
            tx = tx[: max(0, limit)]
        if tx.size and (not np.all(np.equal(np.mod(tx, 1), 0)) or tx.min() < 0 or tx.max() > big):
            raise FirmwareError(f"test vectors must be integers in [0, {big}]")
        parts.append(tx.astype(np.int64))
    alternating = np.arange(n) % 2 == 0
    edges = [
        np.zeros(n, dtype=np.int64),
        np.full(n, big, dtype=np.int64),
        np.where(alternating, 0, big),
        np.where(alternating, big, 0),
        np.full(n, big // 2, dtype=np.int64),
    ]
    for pos in sorted({0, n // 2, n - 1}):
        one_hot = np.zeros(n, dtype=np.int64)
        one_hot[pos] = big
        edges.append(one_hot)
    all_but_one = np.full(n, big, dtype=np.int64)
    all_but_one[0] = 0
    edges.append(all_but_one)
    parts.append(np.stack(edges))
    if n_random > 0:
        rng = np.random.default_rng(seed)
        parts.append(rng.integers(0, big, size=(n_random, n), endpoint=True))
    return np.concatenate(parts).astype(np.uint8)


class HarnessOutput(NamedTuple):
    """The parsed harness output."""

    classes: np.ndarray  # int64 [V]
    scores: np.ndarray  # int64 [V, K]
    stack_used: int | None  # peak stack bytes of the run, when the target measures it
    call_stack: int | None = None  # peak stack bytes of one inference


def parse_output(text: str, n_vectors: int, n_classes: int) -> HarnessOutput:
    """Parse the harness output (format in ``firmware/harness/mipnn_fw_main.c``).

    Raises FirmwareError unless the output has the BEGIN line with the expected counts,
    exactly one well-formed line per vector in order, then (optionally) the stack line and
    the sentinel line.
    """
    lines = [line.rstrip("\r") for line in text.splitlines()]
    try:
        start = next(k for k, line in enumerate(lines) if line.startswith(BEGIN_PREFIX))
    except StopIteration:
        raise FirmwareError(
            f"the firmware printed no '{BEGIN_PREFIX}' line (did it start?)\n{_tail(text)}"
        ) from None
    header = dict(re.findall(r"(\w+)=(\d+)", lines[start]))
    if header.get("vectors") != str(n_vectors) or header.get("classes") != str(n_classes):
        raise FirmwareError(
            f"the firmware reports {lines[start]!r}, expected vectors={n_vectors} "
            f"classes={n_classes} (stale build?)"
        )
    classes = np.zeros(n_vectors, dtype=np.int64)
    scores = np.zeros((n_vectors, n_classes), dtype=np.int64)
    body = lines[start + 1 :]
    for v in range(n_vectors):
        if v >= len(body):
            raise FirmwareError(
                f"the firmware output stops after {v} of {n_vectors} vectors "
                f"(crash or early exit)\n{_tail(text)}"
            )
        match = _VECTOR_LINE.match(body[v])
        if not match or int(match.group(1)) != v:
            raise FirmwareError(
                f"unexpected firmware output line {start + 2 + v}: {body[v]!r} "
                f"(expected the line of vector {v})"
            )
        values = [int(s) for s in match.group(3).split()]
        if len(values) != n_classes:
            raise FirmwareError(
                f"vector {v}: {len(values)} scores printed, expected {n_classes}: {body[v]!r}"
            )
        classes[v] = int(match.group(2))
        scores[v] = values
    rest = body[n_vectors:]
    stack_used = call_stack = None
    if rest and rest[0].startswith(STACK_PREFIX):
        match = _STACK_LINE.match(rest[0])
        if not match:
            raise FirmwareError(f"malformed stack line: {rest[0]!r}")
        stack_used = int(match.group(1)) if match.group(1) else None
        call_stack = int(match.group(2)) if match.group(2) else None
        rest = rest[1:]
    if not rest or rest[0] != SENTINEL:
        found = rest[0] if rest else "end of output"
        raise FirmwareError(
            f"the firmware did not finish: expected {SENTINEL!r} after {n_vectors} vectors, "
            f"found {found!r}\n{_tail(text)}"
        )
    return HarnessOutput(classes, scores, stack_used, call_stack)


def compare(
    model: Model, vectors: np.ndarray, got_classes: np.ndarray, got_scores: np.ndarray
) -> list[Mismatch]:
    """The vectors whose scores or class differ from ``forward(model, vectors)``."""
    want_scores, want_classes = forward(model, np.asarray(vectors, dtype=np.int64))
    want_scores = np.atleast_2d(want_scores)
    if want_scores.shape != np.shape(got_scores):
        raise FirmwareError(
            f"the firmware returned scores of shape {np.shape(got_scores)}, the reference "
            f"{want_scores.shape} (is the reference the same network shape?)"
        )
    bad = np.flatnonzero(np.any(want_scores != got_scores, axis=1) | (want_classes != got_classes))
    return [
        Mismatch(
            index=int(v),
            expected_class=int(want_classes[v]),
            expected_scores=tuple(int(s) for s in want_scores[v]),
            got_class=int(got_classes[v]),
            got_scores=tuple(int(s) for s in got_scores[v]),
        )
        for v in bad
    ]


def _tail(text: str, n: int = 15) -> str:
    lines = text.strip().splitlines()
    shown = lines[-n:]
    prefix = [f"... ({len(lines) - n} lines before)"] if len(lines) > n else []
    return "\n".join(prefix + shown)


def _error_lines(text: str, n: int = 30) -> str:
    """The compiler's messages from the first error on (at most ``n`` lines)."""
    lines = text.strip().splitlines()
    first = next((k for k, line in enumerate(lines) if "error" in line.lower()), 0)
    start = max(0, first - 2)  # keep the "In function ..." context line
    shown = lines[start : start + n]
    more = len(lines) - start - len(shown)
    return "\n".join(shown + ([f"... ({more} more lines)"] if more > 0 else []))


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


def _predict_stack(build_dir: Path, name: str) -> int | None:
    su = build_dir / f"{name}.su"
    if not su.exists():
        return None
    for line in su.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].endswith(f":{name}_predict") and parts[1].isdigit():
            return int(parts[1])
    return None


def _image_sizes(size_tool: str, image: Path) -> tuple[int, int, int]:
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


def _run(command: list[str], timeout: float, target: str) -> tuple[int, str, str, float]:
    t0 = time.perf_counter()
    try:
        run = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        partial = (exc.stdout or b"").decode("utf-8", errors="replace")
        raise FirmwareError(
            f"the {target} firmware did not finish within {timeout:g} s (hang?)\n"
            f"{_tail(partial)}"
        ) from None
    except OSError as exc:
        raise FirmwareError(f"cannot run {command[0]}: {exc}") from None
    return (
        run.returncode,
        run.stdout.decode("utf-8", errors="replace"),
        run.stderr.decode("utf-8", errors="replace"),
        time.perf_counter() - t0,
    )


def _exit_error(target: str, code: int, output: str, errors: str) -> FirmwareError:
    why = f"the firmware exited with status {code}"
    if code in EXIT_CODES:
        why += f": {EXIT_CODES[code]}"
    return FirmwareError(
        f"{target}: {why}\n{_tail(output)}" + (f"\n{_tail(errors)}" if errors else "")
    )


def _build(target: str, variables: dict[str, str], variant: str = "") -> float:
    t0 = time.perf_counter()
    jobs = max(1, min(4, os.cpu_count() or 1))
    proc = _make(
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
            f"building the {target} firmware{what} failed:\n{_error_lines(messages)}{hint}"
        )
    return time.perf_counter() - t0


def _render_null_model(cname: str, sha: str) -> str:
    return environment().get_template("null_model.c.j2").render(
        name=cname,
        NAME=cname.upper(),
        banner=banner_lines(sha, f"Stand-in for {cname}_predict: the firmware without the model."),
    )


def run_firmware(
    model_path: Path,
    target: str,
    vectors: np.ndarray,
    workdir: Path | None = None,
    name: str | None = None,
    *,
    strategy: str = "auto",
    reference: Model | None = None,
    timeout: float = 120.0,
    measure: bool = True,
    measure_vectors: int = 3,
    flash_budget: int | None = None,
) -> FirmwareReport:
    """Export the model's C with ``strategy`` (``auto``: chosen by the target's cost model,
    within ``flash_budget`` bytes of model flash, default the target profile's budget;
    ``compact`` is planned for ``flash_budget``, all table without one),
    build it with the harness and ``vectors`` for ``target``, run it (natively or in the
    emulator) and compare every class and score with ``mipnn.trainer.model.forward`` of
    ``reference`` (default: the model itself).

    With ``measure``, also build the image without the model (for the model's own flash
    and RAM) and count the instructions (or AVR cycles) of one inference on the first
    ``measure_vectors`` vectors (see the module docstring).

    Mismatches are reported in the result (``report.ok`` is False); everything that keeps
    the comparison from happening (unknown target, missing tools, compile error, crash,
    hang, missing sentinel, non-zero exit) raises FirmwareError.
    """
    started = time.perf_counter()
    _check_target(target)
    model_path = Path(model_path)
    model = load_model(model_path)
    cname = resolve_name(model, name)
    if cname.startswith("mipnn_fw"):
        raise CodegenError(f"C name {cname!r} is reserved for the firmware harness")
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] < 1 or vectors.shape[1] != model.input_size:
        raise FirmwareError(
            f"golden vectors must have shape [V >= 1, {model.input_size}], got {vectors.shape}"
        )
    if (
        not np.issubdtype(vectors.dtype, np.integer)
        or vectors.min() < 0
        or vectors.max() > model.levels
    ):
        raise FirmwareError(f"golden vectors must be integers in [0, {model.levels}]")
    vectors = vectors.astype(np.int64)

    with tempfile.TemporaryDirectory(prefix="mipnn-fw-") as tmp:
        root = Path(workdir).resolve() if workdir is not None else Path(tmp)
        info0 = _print_info(target, {})
        missing = _missing(info0)
        if missing:
            raise _missing_tools_error(target, missing, info0.get("APT_PACKAGES", "").split())
        gen_out = generate(
            model,
            name=cname,
            model_sha256=file_sha256(model_path),
            strategy=strategy,
            profile=info0.get("COST_PROFILE") or None,
            flash_budget=flash_budget,
        )
        build = root / gen_out.strategy
        gen = build / f"gen-{target}"
        variables = {"BUILD": str(build), "GEN": str(gen), "MODEL": cname}
        info = _print_info(target, variables)
        sha = file_sha256(model_path)
        (gen / MEASURE_DIR).mkdir(parents=True, exist_ok=True)
        for fname, text in gen_out.files.items():
            write_if_changed(gen / fname, text)
        write_if_changed(
            gen / VECTORS_HEADER, render_vectors(model, vectors, name=cname, model_sha256=sha)
        )

        build_seconds = _build(target, variables)
        image = Path(info["IMAGE"])
        code, output, errors, run_seconds = _run(shlex.split(info["RUN"]), timeout, target)
        if code != 0:
            raise _exit_error(target, code, output, errors)
        parsed = parse_output(output, len(vectors), model.n_classes)
        mismatches = compare(
            reference if reference is not None else model, vectors, parsed.classes, parsed.scores
        )
        flash, ram, reserved = _image_sizes(info["SIZE"], image)
        report = FirmwareReport(
            target=target,
            name=cname,
            n_vectors=len(vectors),
            mismatches=mismatches,
            flash_bytes=flash,
            ram_bytes=ram,
            stack_reserved_bytes=reserved,
            model_flash_bytes=None,
            model_stack_bytes=_predict_stack(image.parent, cname),
            build_seconds=build_seconds,
            run_seconds=run_seconds,
            elapsed=0.0,
            output=output,
            strategy=gen_out.strategy,
            requested_strategy=strategy,
            stack_used_bytes=parsed.stack_used,
            call_stack_bytes=parsed.call_stack,
            notes=list(gen_out.notes),
            flash_budget=gen_out.flash_budget,
            image=image if workdir is not None else None,
            classes=parsed.classes,
            scores=parsed.scores,
        )
        if measure:
            t0 = time.perf_counter()
            _measure(
                report, model, vectors, target, variables, gen, cname, sha, timeout,
                measure_vectors,
            )
            report.measure_seconds = time.perf_counter() - t0
    report.elapsed = time.perf_counter() - started
    return report


def _measure(
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
    """Fill in the model's own flash/RAM and the per-inference count (see run_firmware)."""
    write_if_changed(gen / NULL_MODEL_SOURCE, _render_null_model(cname, sha))
    _build(target, variables, "null")
    null_info = _print_info(target, {**variables, "VARIANT": "null"})
    flash0, ram0, _ = _image_sizes(null_info["SIZE"], Path(null_info["IMAGE"]))
    report.model_flash_bytes = report.flash_bytes - flash0
    report.model_ram_bytes = report.ram_bytes - ram0

    kind = null_info.get("MEASURE", "none")
    if kind == "none":
        return
    few = vectors[: max(1, n_measure)]
    write_if_changed(
        gen / MEASURE_DIR / VECTORS_HEADER, render_vectors(model, few, name=cname, model_sha256=sha)
    )
    _build(target, variables, "measure")
    image = Path(_print_info(target, {**variables, "VARIANT": "measure"})["IMAGE"])
    table = _symbols(null_info["NM"], image)
    predict = f"{cname}_predict"
    if predict not in table:
        raise FirmwareError(f"{image}: no symbol {predict} (cannot count its instructions)")
    entry = table[predict][0]
    info = _print_info(
        target, {**variables, "VARIANT": "measure", "MEASURE_ENTRY": hex(entry)}
    )
    log = Path(info["MEASURE_LOG"]) if info.get("MEASURE_LOG") else None
    if log is not None and log.exists():
        log.unlink()
    code, output, errors, _ = _run(shlex.split(info["MEASURE_RUN"]), timeout * 4, target)
    if code != 0:
        raise _exit_error(target, code, output, errors)
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
