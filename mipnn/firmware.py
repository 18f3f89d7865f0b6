"""Build the generated C with the golden-vector harness for a target, run it, and compare
every score and class with the Python reference, bit for bit (ARCHITECTURE.md 6).

The per-target facts (compiler, flags, linker script, emulator command, required tools and
apt packages) live in ``firmware/targets/<target>.mk``; this module asks ``make`` for them
(``make -s -C firmware print-info TARGET=...``) and drives the one generic ``firmware/Makefile``.
Builds go to a work directory outside the source tree (a fresh temporary one by default),
so parallel runs never collide.
"""

from __future__ import annotations

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

from codegen.export import CodegenError, render, render_vectors, resolve_name, write_if_changed
from trainer.errors import MipnnError
from trainer.model import Model, file_sha256, forward, load_model

BEGIN_PREFIX = "~~~MIPNN BEGIN"
SENTINEL = "~~~MIPNN DONE~~~"
VECTORS_HEADER = "mipnn_fw_vectors.h"
STACK_PREFIX = "~~~MIPNN STACK used="
EXIT_CODES = {  # statuses the harness and platforms use (firmware/harness, firmware/platform)
    3: "the class differs when scores is NULL",
    4: "writing the output failed",
    125: "the stack overflowed",
    126: "the startup code did not initialise .data/.bss",
    127: "the firmware faulted (fault handler)",
}
_VECTOR_LINE = re.compile(r"vector (\d+) class (-?\d+) scores((?: -?\d+)*)\Z")


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
    .stack section the linker script reserves (0 on the host); ``model_flash_bytes`` sums
    the model's own symbols (``NAME_predict`` and its tables); ``model_stack_bytes`` is the
    stack frame of ``NAME_predict`` from ``-fstack-usage`` (None if not reported);
    ``stack_used_bytes`` is the peak stack use of the whole harness run, measured on the
    target from its painted stack (None on targets that do not measure it, e.g. host).
    """

    target: str
    name: str
    n_vectors: int
    mismatches: list[Mismatch]
    flash_bytes: int
    ram_bytes: int
    stack_reserved_bytes: int
    model_flash_bytes: int
    model_stack_bytes: int | None
    build_seconds: float
    run_seconds: float
    elapsed: float
    output: str
    stack_used_bytes: int | None = None
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
        """A few human-readable lines (what ``mipnn firmware`` prints)."""
        verdict = (
            f"OK: {self.n_vectors} vectors bit-exact"
            if self.ok
            else f"FAIL: {len(self.mismatches)} of {self.n_vectors} vectors differ"
        )
        stack = "?" if self.model_stack_bytes is None else str(self.model_stack_bytes)
        peak = (
            ""
            if self.stack_used_bytes is None
            else f", peak stack measured {self.stack_used_bytes} B"
        )
        lines = [
            f"{self.target}: {verdict} (build {self.build_seconds:.2f} s, "
            f"run {self.run_seconds:.2f} s)",
            f"image: flash {self.flash_bytes} B, static RAM {self.ram_bytes} B "
            f"(+ {self.stack_reserved_bytes} B stack reserved{peak})",
            f"model {self.name}: flash {self.model_flash_bytes} B, "
            f"stack of {self.name}_predict {stack} B",
        ]
        return "\n".join(lines + self.describe_mismatches(limit=10))


def firmware_dir() -> Path:
    """The ``firmware/`` directory of this source tree."""
    return Path(__file__).resolve().parents[1] / "firmware"


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
    """What a target needs, read from its make fragment: ``{"target", "tools",
    "apt_packages", "cc", "size", "nm"}`` (``tools`` and ``apt_packages`` are lists)."""
    info = _print_info(target, {})
    return {
        "target": target,
        "tools": info.get("TOOLS", "").split(),
        "apt_packages": info.get("APT_PACKAGES", "").split(),
        "cc": info.get("CC", ""),
        "size": info.get("SIZE", ""),
        "nm": info.get("NM", ""),
    }


def missing_tools(target: str) -> list[str]:
    """The target's required commands that are not on PATH (``make`` first, if missing)."""
    if shutil.which("make") is None:
        return ["make"]
    tools = _print_info(target, {}).get("TOOLS", "").split()
    return [t for t in tools if shutil.which(t) is None]


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
    stack_used: int | None  # peak stack bytes, when the target measures it


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
    stack_used = None
    if rest and rest[0].startswith(STACK_PREFIX):
        match = re.fullmatch(re.escape(STACK_PREFIX) + r"(\d+)~~~", rest[0])
        if not match:
            raise FirmwareError(f"malformed stack line: {rest[0]!r}")
        stack_used = int(match.group(1))
        rest = rest[1:]
    if not rest or rest[0] != SENTINEL:
        found = rest[0] if rest else "end of output"
        raise FirmwareError(
            f"the firmware did not finish: expected {SENTINEL!r} after {n_vectors} vectors, "
            f"found {found!r}\n{_tail(text)}"
        )
    return HarnessOutput(classes, scores, stack_used)


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


def _model_symbol_bytes(nm_tool: str, image: Path, name: str) -> int:
    proc = subprocess.run(
        [nm_tool, "-S", "--defined-only", str(image)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise FirmwareError(f"{nm_tool} failed on {image}: {proc.stderr.strip()}")
    total = 0
    symbol = re.compile(rf"{re.escape(name)}_(predict|w\d+|b\d+)\Z")
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and symbol.match(parts[3]):
            total += int(parts[1], 16)
    return total


def _predict_stack(build_dir: Path, name: str) -> int | None:
    su = build_dir / f"{name}.su"
    if not su.exists():
        return None
    for line in su.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].endswith(f":{name}_predict") and parts[1].isdigit():
            return int(parts[1])
    return None


def run_firmware(
    model_path: Path,
    target: str,
    vectors: np.ndarray,
    workdir: Path | None = None,
    name: str | None = None,
    *,
    reference: Model | None = None,
    timeout: float = 120.0,
) -> FirmwareReport:
    """Export the model's C, build it with the harness and ``vectors`` for ``target``, run
    it (natively or in the emulator) and compare every class and score with
    ``trainer.model.forward`` of ``reference`` (default: the model itself).

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
        build = Path(workdir).resolve() if workdir is not None else Path(tmp)
        gen = build / "gen"
        variables = {"BUILD": str(build), "GEN": str(gen), "MODEL": cname}
        info = _print_info(target, variables)
        tools = info.get("TOOLS", "").split()
        missing = [t for t in tools if shutil.which(t) is None]
        if missing:
            raise _missing_tools_error(target, missing, info.get("APT_PACKAGES", "").split())

        sha = file_sha256(model_path)
        gen.mkdir(parents=True, exist_ok=True)
        for fname, text in render(model, name=cname, model_sha256=sha).items():
            write_if_changed(gen / fname, text)
        write_if_changed(
            gen / VECTORS_HEADER, render_vectors(model, vectors, name=cname, model_sha256=sha)
        )

        t0 = time.perf_counter()
        jobs = max(1, min(4, os.cpu_count() or 1))
        proc = _make(
            ["build", f"-j{jobs}", f"TARGET={target}", *(f"{k}={v}" for k, v in variables.items())]
        )
        build_seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            messages = proc.stderr + proc.stdout
            hint = ""
            if "overflowed" in messages or "will not fit in region" in messages:
                hint = (
                    f"\nthe image does not fit the memory of {target}: use fewer golden "
                    "vectors (--vectors) or a smaller model"
                )
            raise FirmwareError(
                f"building the {target} firmware failed:\n{_error_lines(messages)}{hint}"
            )
        image = Path(info["IMAGE"])

        t0 = time.perf_counter()
        command = shlex.split(info["RUN"])
        try:
            run = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            partial = (exc.stdout or b"").decode("utf-8", errors="replace")
            raise FirmwareError(
                f"the {target} firmware did not finish within {timeout:g} s (hang?)\n"
                f"{_tail(partial)}"
            ) from None
        except OSError as exc:
            raise FirmwareError(f"cannot run {command[0]}: {exc}") from None
        run_seconds = time.perf_counter() - t0
        output = run.stdout.decode("utf-8", errors="replace")
        errors = run.stderr.decode("utf-8", errors="replace")
        if run.returncode != 0:
            why = f"the firmware exited with status {run.returncode}"
            if run.returncode in EXIT_CODES:
                why += f": {EXIT_CODES[run.returncode]}"
            raise FirmwareError(
                f"{target}: {why}\n{_tail(output)}" + (f"\n{_tail(errors)}" if errors else "")
            )
        parsed = parse_output(output, len(vectors), model.n_classes)
        mismatches = compare(
            reference if reference is not None else model, vectors, parsed.classes, parsed.scores
        )

        sections = _section_sizes(info["SIZE"], image)
        flash = sum(sections.get(s, 0) for s in (".text", ".rodata", ".data", ".ARM.exidx"))
        ram = sections.get(".data", 0) + sections.get(".bss", 0)
        report = FirmwareReport(
            target=target,
            name=cname,
            n_vectors=len(vectors),
            mismatches=mismatches,
            flash_bytes=flash,
            ram_bytes=ram,
            stack_reserved_bytes=sections.get(".stack", 0),
            model_flash_bytes=_model_symbol_bytes(info["NM"], image, cname),
            model_stack_bytes=_predict_stack(build / target, cname),
            build_seconds=build_seconds,
            run_seconds=run_seconds,
            elapsed=time.perf_counter() - started,
            output=output,
            image=image if workdir is not None else None,
            stack_used_bytes=parsed.stack_used,
            classes=parsed.classes,
            scores=parsed.scores,
        )
    return report
