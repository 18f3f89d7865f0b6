"""Running a firmware image and reading what it printed: the run itself (natively or in
the target's emulator, with a timeout), the exit statuses the harness and platforms use,
the parsing of the harness output (format in ``firmware/harness/mipnn_fw_main.c``; a run
that does not end with the sentinel line never passes), and the comparison of every score
and class with the reference ``forward``, bit for bit."""

from __future__ import annotations

import re
import subprocess
import time
from typing import NamedTuple

import numpy as np

from mipnn.device.errors import FirmwareError
from mipnn.device.rawcheck import RawOutput, parse_raw_lines
from mipnn.trainer.model import Model, forward

BEGIN_PREFIX = "~~~MIPNN BEGIN"
SENTINEL = "~~~MIPNN DONE~~~"
STACK_PREFIX = "~~~MIPNN STACK"
EXIT_CODES = {  # statuses the harness and platforms use (firmware/harness, firmware/platform)
    3: "the class differs when scores is NULL",
    4: "writing the output failed",
    125: "the stack overflowed",
    126: "the startup code did not initialise .data/.bss",
    127: "the firmware faulted (fault handler)",
}
_VECTOR_LINE = re.compile(r"vector (\d+) class (-?\d+) scores((?: -?\d+)*)\Z")
_STACK_LINE = re.compile(r"~~~MIPNN STACK(?: used=(\d+))?(?: call=(\d+))?(?: raw=(\d+))?~~~\Z")


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
        """One line, e.g. ``vector 3: ERROR at pos 1: Act: 5 Ref: 7; class Act: 1 Ref: 0``."""
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


class HarnessOutput(NamedTuple):
    """The parsed harness output."""

    classes: np.ndarray  # int64 [V]
    scores: np.ndarray  # int64 [V, K]
    stack_used: int | None  # peak stack bytes of the run, when the target measures it
    call_stack: int | None = None  # peak stack bytes of one inference
    raw: RawOutput | None = None  # the raw vectors' lines (a version-2 model)
    raw_call_stack: int | None = None  # peak stack bytes of one NAME_predict_raw


def tail(text: str, n: int = 15) -> str:
    """The last ``n`` lines of ``text`` (a program's output, for an error message), with
    a count of the lines left out."""
    lines = text.strip().splitlines()
    shown = lines[-n:]
    prefix = [f"... ({len(lines) - n} lines before)"] if len(lines) > n else []
    return "\n".join(prefix + shown)


def run_image(command: list[str], timeout: float, target: str) -> tuple[int, str, str, float]:
    """Run ``command`` (the fragment's RUN or MEASURE_RUN) without input and return its
    exit status, standard output, standard error and the seconds it took; FirmwareError if
    it cannot start or does not finish within ``timeout`` seconds."""
    t0 = time.perf_counter()
    try:
        run = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        partial = (exc.stdout or b"").decode("utf-8", errors="replace")
        raise FirmwareError(
            f"the {target} firmware did not finish within {timeout:g} s (hang?)\n"
            f"{tail(partial)}"
        ) from None
    except OSError as exc:
        raise FirmwareError(f"cannot run {command[0]}: {exc}") from None
    return (
        run.returncode,
        run.stdout.decode("utf-8", errors="replace"),
        run.stderr.decode("utf-8", errors="replace"),
        time.perf_counter() - t0,
    )


def sanitizer_finding(errors: str) -> str | None:
    """The first line of a sanitizer report in a run's standard error (UBSan's
    ``file:line: runtime error: ...``, ASan's ``ERROR: AddressSanitizer: ...``), or None."""
    for line in errors.splitlines():
        if "runtime error:" in line or re.search(r"ERROR: \w+Sanitizer", line):
            return line.strip()
    return None


def exit_error(target: str, code: int, output: str, errors: str) -> FirmwareError:
    """The error for a run that exited with status ``code`` (a sanitizer's finding, what
    the status means when it is one of EXIT_CODES, and the end of the output)."""
    why = f"the firmware exited with status {code}"
    if code in EXIT_CODES:
        why += f": {EXIT_CODES[code]}"
    finding = sanitizer_finding(errors)
    if finding is not None:
        why = f"a sanitizer stopped the firmware (undefined behaviour or a bad memory access): {finding}"
    return FirmwareError(
        f"{target}: {why}\n{tail(output)}" + (f"\n{tail(errors)}" if errors else "")
    )


def parse_output(text: str, n_vectors: int, n_classes: int, n_raw: int = 0,
                 n_inputs: int = 0) -> HarnessOutput:
    """Parse the harness output (format in ``firmware/harness/mipnn_fw_main.c``).

    Raises FirmwareError unless the output has the BEGIN line with the expected counts,
    exactly one well-formed line per vector in order, then ``n_raw`` raw lines (of
    ``n_inputs`` encoded inputs each), then (optionally) the stack line and the sentinel
    line.
    """
    lines = [line.rstrip("\r") for line in text.splitlines()]
    try:
        start = next(k for k, line in enumerate(lines) if line.startswith(BEGIN_PREFIX))
    except StopIteration:
        raise FirmwareError(
            f"the firmware printed no '{BEGIN_PREFIX}' line (did it start?)\n{tail(text)}"
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
                f"(crash or early exit)\n{tail(text)}"
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
    raw = None
    if n_raw:
        raw = parse_raw_lines(rest, n_raw, n_classes, n_inputs, start + 2 + n_vectors, text)
        rest = rest[n_raw:]
    stack_used = call_stack = raw_stack = None
    if rest and rest[0].startswith(STACK_PREFIX):
        match = _STACK_LINE.match(rest[0])
        if not match:
            raise FirmwareError(f"malformed stack line: {rest[0]!r}")
        stack_used = int(match.group(1)) if match.group(1) else None
        call_stack = int(match.group(2)) if match.group(2) else None
        raw_stack = int(match.group(3)) if match.group(3) else None
        rest = rest[1:]
    if not rest or rest[0] != SENTINEL:
        found = rest[0] if rest else "end of output"
        raise FirmwareError(
            f"the firmware did not finish: expected {SENTINEL!r} after {n_vectors} vectors, "
            f"found {found!r}\n{tail(text)}"
        )
    return HarnessOutput(classes, scores, stack_used, call_stack, raw, raw_stack)


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
