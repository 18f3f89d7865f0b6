"""Hostile inputs through the command line (issue 21): strings that could break the
generated C end to end, provenance of any type, the model's own levels, lone surrogates,
and a fuzzing layer: model files generated valid and then mutated (wrong types, missing
keys, huge and negative numbers, NaN and Infinity, deep nesting, odd Unicode in every
string) run through ``mipnn eval``, ``export`` and ``firmware --target host``. Every
command either works or exits with status 2 and one line on stderr, never a traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import require_tools
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mipnn.cli import main

STRICT = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wsign-conversion", "-Werror",
          "-pedantic"]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_works_or_one_line(result, what: str = "") -> None:
    """The command worked (status 0), or failed as a user error: status 2, one line on
    stderr, no traceback."""
    shown = f"{what}\nstatus {result.exit_code}\n{result.output}\n{result.exception!r}"
    assert result.exit_code in (0, 2), shown
    assert "Traceback" not in result.output, shown
    if result.exit_code == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("mipnn: error: "), shown


def assert_user_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert_works_or_one_line(result)
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A small model trained on breast_cancer with inputs in [0, 15] (the gradient
    baseline: seconds)."""
    out = tmp_path_factory.mktemp("hostile") / "m.json"
    result = run("train", "--dataset", "breast_cancer", "--train-size", "60", "--hidden", "3",
                 "--objective", "gd", "--levels", "15", "--seed", "2", "-q", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def _with(model_path: Path, tmp_path: Path, edit) -> Path:
    data = json.loads(model_path.read_text())
    edit(data)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------- cause 2, end to end


def test_a_csv_with_comment_delimiters_gives_c_that_compiles(tmp_path):
    """Issue 21, cause 2, from a CSV file: class labels, a column name and category values
    holding ``/*`` and ``*/`` reach the generated comments."""
    require_tools("gcc")
    rows = ["a/*b,colour,ok"]
    for i in range(60):
        colour = ["c/*d", "e*/f", "g"][i % 3]
        rows.append(f"{i % 17},{colour},{'y/*es' if (i % 17) > 8 else 'n*/o'}")
    csv = tmp_path / "data.csv"
    csv.write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.json"
    result = run("train", "--csv", csv, "--target", "ok", "--hidden", "2", "--objective", "gd",
                 "-q", "--out", model)
    assert result.exit_code == 0, result.output
    for strategy in ("int8", "unrolled"):
        out = tmp_path / strategy
        assert run("export", model, "--out", out, "--strategy", strategy).exit_code == 0
        header = (out / "data.h").read_text()
        assert "y/\\u002aes" in header and "n*\\/o" in header
        proc = subprocess.run(["gcc", *STRICT, "-c", str(out / "data.c"), "-o",
                               str(out / "data.o")], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------- cause 4: provenance


def _eval_lines(result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [line for line in result.output.splitlines() if line.lstrip().startswith(
        ("train:", "val:", "test:"))]


@pytest.mark.parametrize("levels", [255, 3, "x", None])
def test_eval_encodes_with_the_models_own_levels(trained, tmp_path, levels):
    """Issue 21, cause 4: eval encoded the data with ``training.data.levels`` instead of
    ``input.levels``: wrong accuracies with no error (255 here: inputs out of range, a
    crash; 3: wrong accuracies), or a crash for a value of the wrong type."""
    want = _eval_lines(run("eval", trained))

    def edit(data: dict) -> None:
        data["training"]["data"]["levels"] = levels

    assert _eval_lines(run("eval", _with(trained, tmp_path, edit))) == want


HOSTILE_PROVENANCE: dict[str, Any] = {
    "training is a number": 5,
    "training is a list": [{"data": {"dataset": "breast_cancer"}}],
    "training is a string": "trained by hand",
    "data is a string": {"data": "breast_cancer"},
    "data is a list": {"data": [["dataset", "breast_cancer"], ["seed", 1]]},
    "data is a number": {"data": 3.5},
    "dataset of the wrong type": {"data": {"dataset": ["breast_cancer"], "seed": 0}},
    "seed of the wrong type": {"data": {"dataset": "breast_cancer", "seed": "x"}},
    "seed infinite": {"data": {"dataset": "breast_cancer", "seed": 1e999}},
    "train size a dict": {"data": {"dataset": "breast_cancer", "seed": 0, "train_size": {}}},
    "csv of the wrong type": {"data": {"csv": 7, "seed": 0, "target": "x"}},
    "csv a device": {"data": {"csv": "/dev/zero", "seed": 0, "target": "x"}},
    "csv a directory": {"data": {"csv": "/", "seed": 0, "target": "x"}},
    "data_dir of the wrong type": {"data": {"dataset": "breast_cancer", "seed": 0,
                                            "data_dir": [1]}},
    "unknown data set": {"data": {"dataset": "../../etc/passwd", "seed": 0}},
}


@pytest.mark.parametrize("case", sorted(HOSTILE_PROVENANCE))
def test_provenance_of_any_type_never_crashes_a_command(trained, tmp_path, case):
    """Issue 21, cause 4: a ``training.data`` of the wrong type crashed eval and firmware;
    provenance is free-form."""

    def edit(data: dict) -> None:
        data["training"] = HOSTILE_PROVENANCE[case]

    path = _with(trained, tmp_path, edit)
    assert_works_or_one_line(run("eval", path), "eval")
    assert_works_or_one_line(run("eval", path, "--dataset", "breast_cancer"), "eval --dataset")
    assert run("export", path, "--out", tmp_path / "c").exit_code == 0
    if case in ("data is a string", "seed of the wrong type", "training is a number"):
        require_tools("gcc", "make")
        result = run("firmware", path, "--target", "host", "--no-measure", "--random", "4")
        assert result.exit_code == 0, result.output
        assert "bit-exact" in result.output


def test_a_lone_surrogate_is_one_line_not_a_crash(trained, tmp_path):
    """Issue 21, cause 3: a lone surrogate in a label crashed eval --csv (and export
    --arduino: tests/test_codegen_arduino.py)."""
    rng = np.random.default_rng(0)
    csv = tmp_path / "d.csv"
    csv.write_text("x,c\n" + "".join(f"{v},{'ab'[v % 2]}\n" for v in rng.integers(0, 9, 80)))

    def edit(data: dict) -> None:
        data["classes"][0] = "\ud800"

    path = _with(trained, tmp_path, edit)
    assert_user_error(run("eval", path, "--csv", csv, "--target", "c"),
                      "$.classes[0]: a lone surrogate")
    assert_user_error(run("export", path, "--arduino", tmp_path / "lib", "--name", "net"),
                      "lone surrogate")


# ---------------------------------------------------------------- fuzzing: model files

ODD_TEXT = st.one_of(
    st.sampled_from(["", "/*", "*/", "a/*b*/c", "\r\n", "x\ny", "??/", "\x00", "\u2028",
                     '"', "\\", "\ud800", "\udfff", "\x1b[31m", "\u202e", "\U0001f600",
                     "con", "stdint", "_x", "a" * 300, "net", "é"]),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=12),
)
HOSTILE_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.sampled_from(
        [float("nan"), float("inf"), float("-inf"), -1, 0, 2**31, -(2**31), 2**63, 1.5, -0.0]),
    ODD_TEXT, st.just([]), st.just({}), st.lists(st.integers(-3, 3), max_size=3),
    st.sampled_from(["@@HUGE@@", "@@DEEP@@", "@@NEG_HUGE@@"]),
)
RAW = {  # placeholders written into the JSON text as they are
    '"@@HUGE@@"': "7" * 5000,
    '"@@NEG_HUGE@@"': "-" + "1" * 4400,
    '"@@DEEP@@"': "[" * 50_000 + "]" * 50_000,
}


BREAST_CANCER_COLUMNS = ("mean radius", "mean texture", "mean perimeter", "mean area")


@st.composite
def valid_models(draw: st.DrawFn) -> dict:
    """A valid model file's contents: 1-4 inputs (columns of breast_cancer, the last one
    sometimes one-hot), 0-1 hidden layers, 2-3 classes, provenance of breast_cancer or
    none."""
    n_in = draw(st.integers(1, 4))
    hidden = draw(st.lists(st.integers(1, 3), max_size=1))
    n_classes = draw(st.integers(2, 3))
    levels = draw(st.sampled_from([1, 3, 255]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = [n_in, *hidden, n_classes]
    layers = []
    for k in range(len(shape) - 1):
        last = k == len(shape) - 2
        w = rng.integers(-127, 127, size=(shape[k + 1], shape[k]), endpoint=True)
        b = rng.integers(-1000, 1000, size=shape[k + 1], endpoint=True)
        layers.append({"weights": w.tolist(), "bias": b.tolist(),
                       "activation": "linear" if last else "sign"})
    features = [{"name": name, "kind": "numeric", "min": 0.0, "max": 100.0}
                for name in BREAST_CANCER_COLUMNS[:n_in]]
    if draw(st.booleans()):
        features[-1] = {"name": "g=v", "kind": "onehot", "source": "g", "value": "v"}
    data: dict[str, Any] = {
        "format": "mipnn.model", "version": 1, "name": "net",
        "classes": ["malignant", "benign", "other"][:n_classes],
        "input": {"size": n_in, "levels": levels, "features": features},
        "layers": layers,
    }
    if draw(st.booleans()):
        data["training"] = {"data": {"dataset": "breast_cancer", "seed": 0, "levels": levels,
                                     "train_size": None}}
    return data


def _paths(data: Any) -> list[tuple]:
    """Every path into ``data`` (keys and indices), the root excluded."""
    out, stack = [], [((), data)]
    while stack:
        path, node = stack.pop()
        items = (node.items() if isinstance(node, dict)
                 else enumerate(node) if isinstance(node, list) else ())
        for key, value in items:
            out.append((*path, key))
            stack.append(((*path, key), value))
    return out


STRUCTURE = frozenset(["format", "version", "name", "classes", "input", "layers", "size",
                       "levels", "features", "kind", "min", "max", "source", "value",
                       "weights", "bias", "activation"])


def _odd_strings(data: Any, text: str) -> Any:
    """``data`` with ``text`` appended to every string (names, labels, features, provenance
    and its keys), the format, kinds and activations left as they are."""
    if isinstance(data, str):
        return data + text
    if isinstance(data, list):
        return [_odd_strings(v, text) for v in data]
    if isinstance(data, dict):
        return {(k if k in STRUCTURE else k + text):
                (v if k in ("format", "kind", "activation") else _odd_strings(v, text))
                for k, v in data.items()}
    return data


@st.composite
def model_files(draw: st.DrawFn) -> str:
    """The text of a model file: valid, then mutated (values replaced by hostile ones,
    keys deleted, odd Unicode in every string), as JSON with NaN and Infinity literals,
    5000-digit integers and arrays nested 50,000 deep where the placeholders say."""
    data = draw(valid_models())
    if draw(st.booleans()):
        data = _odd_strings(data, draw(ODD_TEXT))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        node = data
        for key in path[:-1]:
            node = node[key]
        if draw(st.integers(0, 4)) == 0 and isinstance(node, dict):
            del node[path[-1]]
        else:
            node[path[-1]] = draw(HOSTILE_VALUES)
    text = json.dumps(data, allow_nan=True)
    for placeholder, raw in RAW.items():
        text = text.replace(placeholder, raw)
    return text


FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


def fuzzed(result, what: str) -> None:
    """assert_works_or_one_line, the outcome counted in hypothesis's statistics."""
    event(f"{what}: status {result.exit_code}")
    assert_works_or_one_line(result, what)


@FUZZ
@given(text=model_files())
def test_fuzzed_model_files_through_eval_and_export(text, tmp_path):
    path = tmp_path / "fuzz.json"
    path.write_text(text, encoding="utf-8")
    fuzzed(run("eval", path), "eval")
    fuzzed(run("export", path, "--out", tmp_path / "c"), "export")
    fuzzed(run("export", path, "--out", tmp_path / "c", "--name", "net", "--strategy",
               "unrolled"), "export --name")
    fuzzed(run("export", path, "--arduino", tmp_path / "lib", "--name", "net"),
           "export --arduino")


@settings(FUZZ, max_examples=20)
@given(text=model_files())
def test_fuzzed_model_files_through_firmware_on_the_host(text, tmp_path):
    require_tools("gcc", "make")
    path = tmp_path / "fuzz.json"
    path.write_text(text, encoding="utf-8")
    result = run("firmware", path, "--target", "host", "--no-measure", "--vectors", "8",
                 "--random", "8", "--build-dir", tmp_path / "build")
    fuzzed(result, "firmware")


# ---------------------------------------------------------------- cause 5: option values

BAD_OPTIONS: list[tuple[list[str], str]] = [
    # train: the common options
    (["--hidden", "99999999999999999999"], "--hidden"),
    (["--hidden", "1000000000"], "even on the smallest data"),
    (["--hidden", "3,,4"], "expected layer sizes"),
    (["--hidden", ""], "expected layer sizes"),
    (["--time-limit", "nan"], "'--time-limit': 'nan' is not a finite number"),
    (["--time-limit", "inf"], "--time-limit"),
    (["--time-limit", "1e300"], "--time-limit"),
    (["--time-limit", "-1"], "--time-limit"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "99999999999999999999"], "--seed"),
    (["--threads", "100000"], "--threads"),
    (["--bound", "128"], "--bound"),
    (["--train-size", "1"], "--train-size"),
    (["--dataset", ""], "'--dataset': the value is empty"),
    (["--csv", "", "--target", "y"], "'--csv': the path is empty"),
    (["--csv", "x.csv", "--target", ""], "'--target': the value is empty"),
    (["--data-dir", ""], "'--data-dir'"),
    (["--start", ""], "'--start': the path is empty"),
    (["--objective", "x\x1b[2J"], "'x\\x1b[2J' is not one of"),
    (["--no-such-option"], "No such option"),
    # the advanced options (--help-all)
    (["--prune", "nan"], "'--prune': 'nan' is not a finite number"),
    (["--prune", "1e9"], "--prune"),
    (["--weight-penalty", "inf"], "--weight-penalty"),
    (["--target-objective", "nan"], "--target-objective"),
    (["--margin", "0"], "--margin"),
    (["--gd-restarts", "0"], "--gd-restarts"),
    (["--levels", "256"], "--levels"),
    (["--guard-folds", "-1"], "--guard-folds"),
    (["--highs-option", "time_limit=nan"], "--highs-option"),
    (["--highs-option", "log_file=/tmp/x"], "--highs-option"),
    (["--highs-option", "no_such_option=1", "--time-limit", "2"], "no_such_option"),
    (["--plot", ""], "'--plot': the path is empty"),
    # batch training
    (["--batch-size", "1"], "--batch-size"),
    (["--batch-size", "10", "--epochs", "0"], "--epochs"),
    (["--batch-size", "10", "--workers", "99999"], "--workers"),
    (["--batch-size", "10", "--scheduler", ""], "--scheduler"),
    (["--batch-size", "10", "--checkpoint", ""], "--checkpoint"),
    (["--batch-size", "10", "--finetune", "-1"], "--finetune"),
    (["--epochs", "2"], "go(es) with --batch-size"),
]


@pytest.mark.parametrize("args, fragment", BAD_OPTIONS, ids=lambda v: repr(v)[:40])
def test_every_bad_train_option_is_one_line(tmp_path, args, fragment):
    """Issue 21, cause 5: ``--hidden 99999999999999999999`` and ``--prune nan`` were
    tracebacks, ``--time-limit nan`` was accepted: every bad value of every option of
    ``train`` (``--help-all``'s too) exits 2 with one line naming the option, before any
    work (nothing on stdout: no data loaded, no training)."""
    result = run("train", "--objective", "gd", *args, "--out", tmp_path / "m.json")
    assert_user_error(result, fragment)
    assert result.stdout == "", result.stdout
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("command", [
    ["export", "@MODEL", "--out", ""], ["export", "@MODEL", "--arduino", ""],
    ["export", "@MODEL", "--out", "@DIR", "--name", ""],
    ["export", "@MODEL", "--out", "@DIR", "--target", ""],
    ["export", "@MODEL", "--out", "@DIR", "--flash-budget", "0"],
    ["export", "@MODEL", "--out", "@DIR", "--strategy", "fast"],
    ["export", ""], ["eval", ""], ["eval", "@MODEL", "--csv", ""],
    ["eval", "@MODEL", "--dataset", ""], ["datasets", "--data-dir", ""],
    ["firmware", "@MODEL", "--target", ""], ["firmware", "@MODEL", "--target", "host",
                                             "--vectors", "-1"],
    ["firmware", "@MODEL", "--target", "host", "--random", "-1"],
    ["firmware", "@MODEL", "--target", "host", "--build-dir", ""],
    ["firmware", "@MODEL", "--target", "host", "--report", ""],
    ["firmware", "@MODEL", "--target", "z80"],
], ids=lambda v: " ".join(v)[:40])
def test_every_bad_option_of_the_other_commands_is_one_line(trained, tmp_path, command):
    args = [str(trained) if a == "@MODEL" else str(tmp_path / "c") if a == "@DIR" else a
            for a in command]
    result = run(*args)
    assert_user_error(result)
    assert result.stdout == "", result.stdout


@pytest.mark.parametrize("option, where", [
    ("--out", "/proc/m.json"), ("--out", "@FILE/m.json"), ("--out", "@DIR"),
    ("--plot", "/proc/p.png"), ("--plot", "@FILE/p.png"),
])
def test_train_output_paths_are_checked_before_any_work(tmp_path, option, where):
    """Issue 21, cause 5: --plot to an unwritable path failed only after training (with
    matplotlib's warnings first); every output path is checked before the data are
    loaded."""
    (tmp_path / "file").write_text("x")
    path = where.replace("@FILE", str(tmp_path / "file")).replace("@DIR", str(tmp_path))
    args = {"--out": tmp_path / "m.json", option: path}
    result = run("train", "--objective", "gd", *[str(a) for kv in args.items() for a in kv])
    assert_user_error(result, option)
    assert result.stdout == "", result.stdout


def test_batch_checkpoint_is_checked_before_any_work(tmp_path):
    result = run("train", "--batch-size", "20", "--checkpoint", "/proc/c.json", "--out",
                 tmp_path / "m.json")
    assert_user_error(result, "--checkpoint /proc/c.json")
    assert result.stdout == ""


@pytest.mark.parametrize("option, where", [
    ("--report", "/proc/r.json"), ("--build-dir", "@FILE/b"), ("--report", "@DIR"),
])
def test_firmware_output_paths_are_checked_before_building(trained, tmp_path, option, where):
    (tmp_path / "file").write_text("x")
    path = where.replace("@FILE", str(tmp_path / "file")).replace("@DIR", str(tmp_path))
    result = run("firmware", trained, "--target", "host", option, path)
    assert_user_error(result, option)
    assert result.stdout == ""


def test_the_network_size_is_checked_with_the_data_before_training(tmp_path):
    """A network that passes the option check but whose MIP on this data set HiGHS cannot
    take is refused before the gradient baseline allocates anything."""
    result = run("train", "--hidden", "200000", "--time-limit", "5", "--out",
                 tmp_path / "m.json")
    assert_user_error(result, "--hidden 200000", "HiGHS takes at most")


# ---------------------------------------------------------------- echoing text from files


def test_eval_escapes_control_characters_from_the_model_file(trained, tmp_path):
    """Issue 21: eval printed model names as they are, so a model file could put terminal
    escape sequences on the screen, reorder the line or split it."""

    def edit(data: dict) -> None:
        data["name"] = "net\x1b]0;owned\x07\x1b[2J\u202e\u2028"

    result = run("eval", _with(trained, tmp_path, edit))
    assert result.exit_code == 0, result.output
    assert "net\\x1b]0;owned\\x07\\x1b[2J\\u202e\\u2028" in result.stdout
    assert "\x1b" not in result.output and "\u202e" not in result.output
