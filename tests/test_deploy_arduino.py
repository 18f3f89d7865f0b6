"""Board-ready packages: ``mipnn export --arduino`` writes an Arduino library (and a
PlatformIO library.json); its example sketch builds for the Uno with Debian's real Arduino
AVR core and Arduino-Makefile, using the README's commands, and the hex, run in simavr with
inputs sent over the serial line, prints the classes (and scores) ``forward`` gives. The
README's avrdude command flashes it through the Uno's boot loader (Optiboot) in simavr."""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import subprocess
import time
import tty
from pathlib import Path

import numpy as np
import pytest
from conftest import IN_CI, require_tools

from mipnn.codegen.arduino import export_arduino
from mipnn.device import build_runner, golden_vectors
from mipnn.trainer.model import Layer, Model, forward, load_model, save_model

REPO = Path(__file__).resolve().parents[1]
ADULT = REPO / "bench" / "models" / "adult-108-16-2.json"
ARDUINO_MK = Path("/usr/share/arduino/Arduino.mk")
ARDUINO_CORE = Path("/usr/share/arduino/hardware/arduino/avr/cores/arduino/Arduino.h")

README = REPO / "README.md"
OPTIBOOT = Path("/usr/share/arduino/hardware/arduino/avr/bootloaders/optiboot/optiboot_atmega328.hex")


def readme_uno_commands() -> tuple[str, list[str]]:
    """The sketch Makefile and the avrdude command the README gives for an Uno."""
    text = README.read_text(encoding="utf-8")
    makefile = re.search(r"cat > sketch/Makefile <<'MAKEFILE'\n(.*?\n)MAKEFILE\n", text, re.S)
    avrdude = re.search(r"^avrdude -p atmega328p .*$", text, re.M)
    assert makefile and avrdude, "the README's Uno commands were not found"
    return makefile.group(1), shlex.split(avrdude.group(0))


def build_sketch(model_path: Path, name: str, tmp_path: Path) -> Path:
    """Export the library, then build its example as the README says; return the hex."""
    libs = tmp_path / "libraries"
    export_arduino(model_path, libs / name)
    sketch = tmp_path / "sketch"
    sketch.mkdir()
    (sketch / "sketch.ino").write_text(
        (libs / name / "examples" / name / f"{name}.ino").read_text()
    )
    makefile, _ = readme_uno_commands()
    makefile = makefile.replace("$(HOME)/Arduino/libraries", str(libs))
    makefile = makefile.replace("ARDUINO_LIBS = adult", f"ARDUINO_LIBS = {name}")
    (sketch / "Makefile").write_text(makefile)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    build = subprocess.run(["make", "-s", "-C", "sketch"], cwd=tmp_path, capture_output=True,
                           text=True, env=env, timeout=300)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    hex_file = tmp_path / "sketch" / "build-uno" / "sketch.hex"
    assert hex_file.exists()
    return hex_file


def require_arduino() -> None:
    require_tools("avr-gcc", "avr-g++", "make", "gcc")
    missing = [str(p) for p in (ARDUINO_MK, ARDUINO_CORE) if not p.exists()]
    if missing:
        message = f"missing {', '.join(missing)} (apt-get install arduino-core-avr arduino-mk)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def _odd_labels_model() -> Model:
    rng = np.random.default_rng(11)
    w0 = rng.integers(-2, 2, size=(6, 10), endpoint=True)
    w1 = rng.integers(-3, 3, size=(3, 6), endpoint=True)
    return Model(name="odd", classes=['say "hi"', "50% ok?", "naïve"], input_size=10,
                 levels=15, layers=[Layer(w0, rng.integers(-20, 20, 6), "sign"),
                                    Layer(w1, np.array([0, 1, -1]), "linear")])


@pytest.mark.emulator
@pytest.mark.parametrize("which", ["adult", "odd-labels"])
def test_example_sketch_builds_for_the_uno_and_runs_in_simavr(which, tmp_path):
    require_arduino()
    if which == "adult":
        path, model = ADULT, load_model(ADULT)
    else:
        model = _odd_labels_model()
        path = save_model(model, tmp_path / "odd.json")
    hex_file = build_sketch(path, model.name, tmp_path)

    vectors = golden_vectors(model, n_random=6, seed=3)[:12]
    lines = [" ".join(str(int(v)) for v in row) for row in vectors]
    lines.insert(1, "# a comment line is ignored")
    lines.insert(3, "1, 2, 3")  # too few values
    lines.insert(5, "")  # an empty line prints nothing
    lines.append(",".join(str(min(int(v) + 1000, 9999)) for v in vectors[0]))  # out of range
    (tmp_path / "in.txt").write_text("\n".join(lines) + "\n")
    expected_lines = 1 + len(vectors) + 2  # banner, one per vector, two errors

    runner = build_runner("avr", tmp_path / "runner")
    # Input at a quarter of the line rate: the sketch answers each line with about as
    # many bytes as it reads, so at full rate its 64-byte receive buffer would overflow
    # (as it would with a real board; a real client waits for each answer).
    run = subprocess.run(
        [str(runner), "--mcu", "atmega328p", "--freq", "16000000", "--baud", "28800",
         "--input", str(tmp_path / "in.txt"), "--lines", str(expected_lines),
         "--max-cycles", "400000000", str(hex_file)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = [line.rstrip("\r") for line in run.stdout.splitlines()]
    assert out[0].startswith(f"# {model.name}: send {model.input_size} integers")
    errors = [line for line in out if line.startswith("error:")]
    assert len(errors) == 2 and errors[0].endswith("got 3")
    results = [line for line in out if line.startswith("class ")]
    assert len(results) == len(vectors)
    want_scores, want_classes = forward(model, vectors.astype(np.int64))
    pattern = re.compile(r"class (\d+) scores((?: -?\d+)+) : (.*)\Z")
    for v, line in enumerate(results):
        match = pattern.match(line)
        assert match, line
        cls = int(match.group(1))
        assert cls == want_classes[v], (v, line)
        assert [int(s) for s in match.group(2).split()] == want_scores[v].tolist(), (v, line)
        assert match.group(3) == model.classes[cls]


def _read_lines(fd: int, want: int, prefix: str, timeout: float) -> list[str]:
    """Lines read from ``fd`` until ``want`` of them start with ``prefix``."""
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            buf += os.read(fd, 4096)
            lines = [x.decode("ascii", "replace").rstrip("\r") for x in buf.split(b"\n")[:-1]]
            if sum(1 for x in lines if x.startswith(prefix)) >= want:
                return lines
    raise AssertionError(f"no {want} lines starting with {prefix!r} within {timeout} s: {buf!r}")


@pytest.mark.emulator
def test_readme_avrdude_command_flashes_an_uno_in_simavr(tmp_path):
    """The README's avrdude command, against an Uno simulated down to its boot loader:
    avrdude writes and verifies the hex through Optiboot, the sketch starts, and answers
    examples sent over the serial line with forward's classes and scores."""
    require_arduino()
    require_tools("avrdude")
    if not OPTIBOOT.exists():
        message = f"{OPTIBOOT} missing (apt-get install arduino-core-avr)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    model = load_model(ADULT)
    build_sketch(ADULT, model.name, tmp_path)
    runner = build_runner("avr", tmp_path / "runner")
    board = subprocess.Popen(
        [str(runner), "--mcu", "atmega328p", "--freq", "16000000", "--bootloader",
         str(OPTIBOOT), "--pty", "--realtime", "--max-cycles", str(16_000_000 * 120)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = board.stderr.readline()
        match = re.fullmatch(r"~~~MIPNN PTY (\S+)~~~\n", first)
        assert match, first
        port = match.group(1)
        _, avrdude = readme_uno_commands()
        command = [port if arg == "/dev/ttyACM0" else arg for arg in avrdude]
        flash = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True,
                               timeout=120)
        assert flash.returncode == 0, flash.stdout + flash.stderr
        assert "bytes of flash verified" in flash.stderr, flash.stderr
        # Optiboot leaves through a watchdog reset, which simavr 1.6 does not release
        # cleanly (the program keeps being reset); unplugging and replugging the board,
        # a power-on reset, starts it as on a real Uno.
        # The port is opened and made raw before the reset: setraw flushes what is already
        # waiting, which took the banner's first bytes when the sketch started first.
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY)
        try:
            tty.setraw(fd)
            time.sleep(0.2)
            board.send_signal(signal.SIGUSR1)
            _read_lines(fd, 1, f"# {model.name}: send", timeout=20)
            vectors = golden_vectors(model, n_random=2, seed=9)[-3:]
            for row in vectors:
                os.write(fd, (" ".join(str(int(v)) for v in row) + "\n").encode())
            lines = _read_lines(fd, len(vectors), "class ", timeout=30)
        finally:
            os.close(fd)
        results = [x for x in lines if x.startswith("class ")]
        want_scores, want_classes = forward(model, vectors.astype(np.int64))
        for v, line in enumerate(results[: len(vectors)]):
            match = re.match(r"class (\d+) scores((?: -?\d+)+) : ", line)
            assert match, line
            assert int(match.group(1)) == want_classes[v]
            assert [int(x) for x in match.group(2).split()] == want_scores[v].tolist()
    finally:
        board.terminate()
        board.wait(timeout=10)
        if board.stderr is not None:
            board.stderr.close()


def _typed_raw(model: Model, fields: list[str]) -> list[int]:
    """What the raw example sketch makes of one typed line: round(value * scale) of each
    decimal (ties away from zero, saturated to int32), the code of each category name, an
    integer code as typed, -1 for an unknown name."""
    from decimal import ROUND_HALF_UP, Decimal

    from mipnn.trainer.raw import INT32_MAX, INT32_MIN, raw_columns

    out = []
    for col, text in zip(raw_columns(model.features), fields, strict=True):
        text = text.strip()
        if col.kind == "numeric":
            r = int((Decimal(text) * col.scale).to_integral_value(rounding=ROUND_HALF_UP))
        elif text in col.values:
            r = col.values.index(text)
        else:
            r = int(text) if text.lstrip("+-").isdigit() else -1
        out.append(min(max(r, INT32_MIN), INT32_MAX))
    return out


@pytest.mark.emulator
def test_raw_example_sketch_reads_typed_values_in_simavr(tmp_path):
    """A version-2 model's sketch: decimals parsed to fixed point without float, category
    names or codes, every printed class and score equal to encode_raw and forward."""
    from click.testing import CliRunner

    from mipnn.cli import main
    from mipnn.trainer.encoding import encode_raw

    require_arduino()
    rng = np.random.default_rng(5)
    rows = []
    for i in range(60):
        warm = i % 2 == 0
        rows.append((f"{rng.uniform(20, 25) if warm else rng.uniform(15, 21):.2f}",
                     f"{rng.uniform(0.2, 0.5) if warm else rng.uniform(0.4, 0.8):.3f}",
                     str(rng.choice(["red", "blue", "green"])), "warm" if warm else "cold"))
    csv = tmp_path / "weather.csv"
    csv.write_text("temp,humidity,colour,label\n" + "\n".join(",".join(r) for r in rows) + "\n")
    path = tmp_path / "weather.json"
    trained = CliRunner().invoke(main, ["train", "--csv", str(csv), "--target", "label",
                                        "--hidden", "3", "--time-limit", "5", "--out",
                                        str(path), "-q"])
    assert trained.exit_code == 0, trained.output
    model = load_model(path)
    hex_file = build_sketch(path, model.name, tmp_path)

    typed = [",".join(r[:3]) for r in rows[:12]] + [
        "21.5 0.35 red",  # spaces
        "  19.25 , 0.4 , 2 ",  # a code
        "18.005, 0.4445, purple",  # ties away from zero (18.005 * 100 is 1800.4999... in binary)
        "-18.005,-0.0005,+1",
        "99999999999, -0.0000001, 7",  # saturates; an unseen code
        "-2147483648, 1234567.123456789, -1",
    ]
    inputs = typed[:3] + ["# a comment", "1,2", "-3, 1e5, red", ""] + typed[3:]
    (tmp_path / "in.txt").write_text("\n".join(inputs) + "\n")
    runner = build_runner("avr", tmp_path / "runner")
    run = subprocess.run(
        [str(runner), "--mcu", "atmega328p", "--freq", "16000000", "--baud", "28800",
         "--input", str(tmp_path / "in.txt"), "--lines", str(1 + len(typed) + 2),
         "--max-cycles", "800000000", str(hex_file)],
        capture_output=True, text=True, timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = [line.rstrip("\r") for line in run.stdout.splitlines()]
    assert out[0] == "# weather: send 3 raw values per line: temp, humidity, colour"
    errors = [line for line in out if line.startswith("error:")]
    assert errors == ["error: expected 3 values, got 2",
                      "error: value 2 is not a number: 1e5"]
    raw = np.array([_typed_raw(model, re.split(r",|\s+", t.strip()) if "," not in t
                               else t.split(",")) for t in typed])
    X = encode_raw(model.features, model.levels, raw)
    want_scores, want_classes = forward(model, X)
    results = [line for line in out if line.startswith("class ")]
    assert len(results) == len(typed)
    for v, line in enumerate(results):
        match = re.match(r"class (\d+) scores((?: -?\d+)+) : (.*)\Z", line)
        assert match, line
        assert int(match.group(1)) == want_classes[v], (typed[v], line)
        assert [int(s) for s in match.group(2).split()] == want_scores[v].tolist(), typed[v]
        assert match.group(3) == model.classes[want_classes[v]]
