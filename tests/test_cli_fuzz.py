"""Fuzzing the command line (issue 21) with hypothesis: option values of every command
(``nan``, ``inf``, huge numbers, empty strings, NUL, escape sequences, lone surrogates,
malformed lists, beside valid values), names and labels (any Unicode: lone surrogates,
control characters, bidirectional marks, very long), and CSV files (random headers,
delimiters, quoting, encodings and byte-order marks, empty, NaN and infinite cells, one row,
one class, thousands of classes, duplicate column names). Every command either works or
exits with status 2 and exactly one line on stderr, never a traceback; whatever it prints
holds no control character. Everything runs in-process through click's CliRunner."""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import require_tools
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mipnn.cli import main
from mipnn.terminal import ESCAPED_CATEGORIES

FUZZ = settings(deadline=None, suppress_health_check=[
    HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])

# any Unicode, lone surrogates and every control character included
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
NAMES = st.one_of(
    ANY_TEXT,
    st.sampled_from(["", " ", "a", "net", "\ud800", "x\udfff", "\x1b[31mred", "a\u202eb",
                     "\u2066x\u2069", "a\nb", "a\rb", "x\x00y", "\u2028", "_x", "con", "stdint",
                     "a/*b", "é", "\U0001f600", "n" * 300, "日本語", "1abc", "a b", "a,b",
                     '"q"', "'", "\\"]),
)
# hostile option values; random text without digits, so that a valid number never makes a
# long run by chance
HOSTILE = st.one_of(
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "-1", "0", "1e309", "-0", "1e-320",
                     "99999999999999999999", "9" * 400, "1,,2", ",", "1.5", "0x10", "\uff11",
                     "a\x00b", "\x1b[31m", "\ud800", "x" * 300, "=", "a=b=c", "--out"]),
    st.text(st.characters(codec=None, exclude_categories=("Nd",)), max_size=6),
)


@pytest.fixture(autouse=True)
def _in_a_temporary_directory(tmp_path, monkeypatch):
    """Relative paths among the fuzzed values land in a temporary directory."""
    monkeypatch.chdir(tmp_path)


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def works_or_one_line(result, what: str) -> None:
    """The command worked (status 0), or failed as a user error: status 2, exactly one line
    on stderr, no traceback; no control character in anything it printed."""
    event(f"{what}: status {result.exit_code}")
    shown = f"{what}\nstatus {result.exit_code}\n{result.output}\n{result.exception!r}"
    assert result.exit_code in (0, 2), shown
    assert "Traceback" not in result.output, shown
    if result.exit_code == 2:
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("mipnn: error: "), shown
    for line in result.output.splitlines():
        assert not any(unicodedata.category(c) in ESCAPED_CATEGORIES for c in line), shown


# ---------------------------------------------------------------- option values

FLAGS = ["--warm-start", "--no-warm-start", "--symmetry", "--no-lns", "--no-simplify",
         "--resume", "-q", "--all-rows"]
TRAIN_VALUES = {  # valid values, small enough that a run stays short
    "--hidden": ["0", "2", "2,2"], "--bound": ["1", "3"], "--seed": ["0", "7"],
    "--objective": ["gd", "sat_margin", "max_correct", "min_hinge", "min_w", "max_m"],
    "--time-limit": ["0.5", "1"], "--threads": ["1", "2"], "--train-size": ["30", "40"],
    "--gd-restarts": ["1", "2"], "--select": ["objective", "val", "train+val"],
    "--margin": ["1", "2"], "--weight-penalty": ["0", "0.01"], "--teacher": ["none", "logreg"],
    "--defaults": ["measured", "plain"], "--levels": ["1", "15"], "--solver": ["highspy", "cbc"],
    "--target-objective": ["0", "-5", "20"], "--highs-option": ["presolve=off", "threads=1",
                                                               "mip_heuristic_effort=0.3"],
    "--prune": ["0.1"], "--prune-mode": ["weighted", "lexicographic"],
    "--guard-folds": ["0", "2"], "--batch-size": ["20"], "--epochs": ["1"], "--workers": ["1"],
    "--batch-variant": ["mipnn", "paper"], "--finetune": ["0", "10"],
    "--batch-start": ["zero", "gd"], "--scheduler": ["tcp://127.0.0.1:1"],
    "--plot": ["@TMP/p.png", "/proc/p.png", "@TMP"], "--checkpoint": ["@TMP/c.json", "/proc/c"],
    "--start": ["@MODEL", "@TMP/none.json", "@TMP"], "--dataset": ["breast_cancer", "heart"],
    "--csv": ["@TMP/none.csv"], "--target": ["label"], "--data-dir": ["@TMP"],
    "--out": ["@TMP/o.json", "/proc/o.json", "@TMP"],
    "--max-nonzeros": ["1", "5"], "--max-neurons": ["1", "2"], "--flash-budget": ["100", "2000"],
    "--device": ["avr", "cortex-m3", "z80"], "--learn-ranges": ["0", "2"],
    "--val-fraction": ["0", "0.2"],
}


@st.composite
def train_arguments(draw: st.DrawFn) -> list[str]:
    """1-4 options of ``mipnn train`` with valid or hostile values, and maybe flags."""
    names = draw(st.lists(st.sampled_from(sorted(TRAIN_VALUES)), min_size=1, max_size=4,
                          unique=True))
    args = []
    for name in names:
        value = draw(st.one_of(st.sampled_from(TRAIN_VALUES[name]), HOSTILE))
        args += [name, value]
    args += draw(st.lists(st.sampled_from(FLAGS), max_size=2, unique=True))
    return args


@pytest.fixture(scope="module")
def model_path(trained_cli_model) -> Path:
    return trained_cli_model[0]


def place(args: list[str], tmp_path: Path, model: Path) -> list[str]:
    return [a.replace("@TMP", str(tmp_path)).replace("@MODEL", str(model)) for a in args]


@settings(FUZZ, max_examples=60)
@given(args=train_arguments())
def test_fuzzed_train_options(args, tmp_path_factory, model_path):
    """Issue 21, cause 5: every option of ``train`` (``--help-all``'s and batch training's
    too), with valid values and hostile ones: the run works or is one line."""
    tmp = tmp_path_factory.mktemp("train")
    base = ["train", "--train-size", "40", "--time-limit", "1", "--hidden", "2", "--out",
            tmp / "m.json"]
    works_or_one_line(run(*base, *place(args, tmp, model_path)), "train " + repr(args))


EXPORT_VALUES = {
    "--name": NAMES, "--strategy": st.sampled_from(["auto", "int8", "unrolled", "xnor", "x"]),
    "--target": st.one_of(st.sampled_from(["avr", "cortex-m0", "host", "z80"]), NAMES),
    "--flash-budget": st.one_of(st.integers(-10, 10**30).map(str), HOSTILE),
    "--out": st.one_of(st.sampled_from(["@TMP/c", "/proc/c", "@TMP/m.json/c"]), HOSTILE),
    "--arduino": st.sampled_from(["@TMP/lib", "/proc/lib", ""]),
}


@settings(FUZZ, max_examples=80)
@given(data=st.data())
def test_fuzzed_export_options_and_names(data, tmp_path_factory, model_path):
    """``export`` with any ``--name`` (any Unicode), strategies, targets, budgets and output
    paths: the C is written or the command is one line."""
    tmp = tmp_path_factory.mktemp("export")
    names = data.draw(st.lists(st.sampled_from(sorted(EXPORT_VALUES)), min_size=1,
                               max_size=3, unique=True))
    args = ["export", str(model_path), "--out", str(tmp / "c")]
    for name in names:
        args += [name, data.draw(EXPORT_VALUES[name])]
    works_or_one_line(run(*place(args, tmp, model_path)), repr(args))


@settings(FUZZ, max_examples=40)
@given(option=st.sampled_from(["--dataset", "--csv", "--target", "--data-dir"]),
       value=st.one_of(HOSTILE, NAMES))
def test_fuzzed_eval_and_datasets_options(option, value, model_path):
    args = ["eval", model_path, option, value]
    if option == "--target":
        args += ["--csv", "/nonexistent.csv"]
    works_or_one_line(run(*args), repr(args))
    if option == "--data-dir":
        works_or_one_line(run("datasets", option, value), "datasets " + repr(value))


@settings(FUZZ, max_examples=12)
@given(option=st.sampled_from(["--vectors", "--random", "--strategy", "--target",
                               "--flash-budget", "--report", "--build-dir"]),
       value=st.one_of(HOSTILE, st.sampled_from(["0", "3", "100001", "10000000000"])))
def test_fuzzed_firmware_options(option, value, model_path):
    """``firmware`` with hostile values (``--random 10000000000`` used to allocate until it
    failed); valid ones build and run on the host."""
    require_tools("gcc", "make")
    args = ["firmware", model_path, "--target", "host", "--no-measure", "--vectors", "4",
            "--random", "4", option, value]
    works_or_one_line(run(*args), repr(args))


SWEEP_VALUES = {
    "--device": st.one_of(st.sampled_from(["avr", "cortex-m3", "z80"]), NAMES),
    "--flash-budget": st.one_of(st.sampled_from(["200", "1"]), HOSTILE),
    "--hidden": st.one_of(st.sampled_from(["0", "2", "2,2"]), HOSTILE),
    "--nonzeros": st.one_of(st.sampled_from(["2,4", "3", ""]), HOSTILE),
    "--bound": st.one_of(st.sampled_from(["1", "7"]), HOSTILE),
    "--levels": st.one_of(st.sampled_from(["3", "15"]), HOSTILE),
    "--objective": st.one_of(st.sampled_from(["gd", "max_correct"]), HOSTILE),
    "--time-limit": st.one_of(st.sampled_from(["0.5"]), HOSTILE),
    "--learn-ranges": st.one_of(st.sampled_from(["0", "1"]), HOSTILE),
    "--val-fraction": st.one_of(st.sampled_from(["0.3"]), HOSTILE),
    "--seed": st.one_of(st.sampled_from(["0", "3"]), HOSTILE),
    "--out-dir": st.sampled_from(["@TMP/members", "/proc/m", "@TMP/m.json/x", ""]),
    "--plot": st.sampled_from(["@TMP/s.png", "/proc/s.png", "@TMP", ""]),
    "--refit": st.sampled_from(["@TMP/r.json", "/proc/r.json", "@TMP", ""]),
}


@settings(FUZZ, max_examples=30)
@given(data=st.data())
def test_fuzzed_sweep_options(data, tmp_path_factory, model_path):
    """``sweep`` (issue 25) with valid and hostile values: the family is trained or the
    command is one line, and an output it cannot write is refused before any training."""
    tmp = tmp_path_factory.mktemp("sweep")
    names = data.draw(st.lists(st.sampled_from(sorted(SWEEP_VALUES)), min_size=1, max_size=3,
                               unique=True))
    args = ["sweep", "--dataset", "breast_cancer", "--device", "cortex-m3", "--nonzeros", "2",
            "--time-limit", "0.5"]
    for name in names:
        args += [name, data.draw(SWEEP_VALUES[name])]
    works_or_one_line(run(*place(args, tmp, model_path)), repr(args))


# ---------------------------------------------------------------- CSV files

NUMBERS = st.one_of(
    st.integers(-5, 5).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "?", "nan", "NaN", "inf", "-inf", "1e308", "-1e308", "1e309",
                     "NA", "null", "1,5", "0x1f"]),
)
GAPS = st.sampled_from(["", "?", "nan", "NaN", "NA", "1e300", "-0", "3.25"])
WILD = st.one_of(NUMBERS, NAMES, st.sampled_from(['"', "a,b", "x\ny", "\x1b[2J", "é"]))
PLAIN_NAMES = st.sampled_from(["x", "y", "label", "col", "Age (years)", "yes", "no", "a b"])
HEADERS = st.one_of(PLAIN_NAMES, PLAIN_NAMES, NAMES)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """The bytes of a CSV file and the name of its target column. Half of them are plain
    (named columns, a few classes, UTF-8), with hostile names, labels and cells where
    hypothesis puts them (gaps and huge values in numeric cells); the others anything: columns numeric (empty, NaN and infinite
    cells), categorical (labels of any Unicode) or wild, a target of one class, a few or
    thousands, one row or none, duplicate column names, any delimiter, quoting and line
    ending, UTF-8 with or without BOM, UTF-16, Latin-1."""
    plain = draw(st.booleans())
    n_cols = draw(st.sampled_from([2, 3, 4] if plain else [1, 2, 3, 4]))
    headers = draw(st.lists(PLAIN_NAMES if plain else HEADERS, min_size=n_cols,
                            max_size=n_cols, unique=plain))
    if n_cols > 1 and not plain and draw(st.booleans()):
        headers[-1] = headers[0]  # duplicate column names
    headers[0] = draw(st.one_of(st.just(headers[0]), NAMES))
    target = draw(st.integers(0, n_cols - 1))
    classes = draw(st.lists(PLAIN_NAMES, min_size=2, max_size=3, unique=True) if plain else
                   st.one_of(st.lists(NAMES, min_size=1, max_size=4),
                             st.just([f"c{k}" for k in range(1200)])))
    n_rows = 2400 if len(classes) > 100 else 60 if plain else draw(
        st.sampled_from([0, 1, 2, 7, 40]))
    kinds = [draw(st.sampled_from(["numeric", "categorical"] + ([] if plain else ["wild"])))
             for _ in range(n_cols)]
    levels = draw(st.lists(NAMES, min_size=1, max_size=5))
    rows = []
    for r in range(n_rows):
        row = []
        for c, kind in enumerate(kinds):
            if c == target:
                row.append(classes[r % len(classes)])
            elif kind == "numeric":
                row.append(str((r * 7 + c) % 11) if r % 5 else
                           draw(GAPS if plain else NUMBERS))
            elif kind == "categorical":
                row.append(levels[(r + c) % len(levels)])
            else:
                row.append(draw(WILD))
        rows.append(row)
    buffer = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    delimiters = [","] if plain else [",", ";", "\t", "|"]
    writer = csv.writer(buffer, delimiter=draw(st.sampled_from(delimiters)), quoting=quoting,
                        lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(headers)
    writer.writerows(rows)
    encodings = ["utf-8", "utf-8-sig"] + ([] if plain else ["utf-16", "latin-1"])
    encoding = draw(st.sampled_from(encodings))
    data = buffer.getvalue().encode(encoding, errors="surrogatepass" if "utf" in encoding
                                    else "replace")
    return data, headers[target]


@settings(FUZZ, max_examples=50)
@given(csv_file=csv_files())
def test_fuzzed_csv_files_through_train_eval_and_export(csv_file, tmp_path_factory):
    """Any CSV file, its names and labels through ``train --csv`` (the gradient baseline:
    quick), then ``eval`` and ``export`` of the model: each works or is one line."""
    data, target = csv_file
    tmp = tmp_path_factory.mktemp("csv")
    path = tmp / "data.csv"
    path.write_bytes(data)
    model = tmp / "m.json"
    result = run("train", "--csv", path, "--target", target, "--objective", "gd", "--hidden",
                 "2", "--gd-restarts", "1", "--teacher", "none", "--time-limit", "1", "-q",
                 "--out", model)
    works_or_one_line(result, "train --csv")
    if result.exit_code != 0:
        return
    works_or_one_line(run("eval", model, "--csv", path, "--target", target), "eval --csv")
    works_or_one_line(run("eval", model), "eval")
    works_or_one_line(run("export", model, "--out", tmp / "c"), "export")
    works_or_one_line(run("export", model, "--arduino", tmp / "lib", "--name", "net"),
                      "export --arduino")
