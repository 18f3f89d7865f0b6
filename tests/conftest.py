"""Shared test helpers: tool requirements (skip locally, fail under CI), data paths, the
firmware targets, the data sets and MIP instances the trainer's tests build, and running the
command line (in-process, or as a process stopped by Ctrl-C). The models the code
generator's tests use are in helpers_models.py, the raw-input models in helpers_raw.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mipnn.trainer.model import Layer, Model

REPO = Path(__file__).resolve().parents[1]
BENCH_MODELS = REPO / "bench" / "models"
ADULT = BENCH_MODELS / "adult-108-16-2.json"
REALISTIC = BENCH_MODELS / "adult-108-16-2-l255.json"  # 78.1% test, less regular weights
TRAINED = sorted(BENCH_MODELS.glob("*.json"))
INT32_MAX = 2**31 - 1
EMULATED = ("cortex-m0", "cortex-m3", "cortex-m4", "avr", "rv32")
TARGET_TOOLS = {  # the tools each firmware target's tests need
    "host": ("gcc", "make"),
    "cortex-m0": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "cortex-m3": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "cortex-m4": ("arm-none-eabi-gcc", "qemu-system-arm", "make"),
    "avr": ("avr-gcc", "gcc", "make"),
    "rv32": ("riscv64-unknown-elf-gcc", "qemu-system-riscv32", "make"),
}
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tools(*tools: str) -> None:
    """Skip the calling test when a tool is missing, with the reason; under CI=true fail
    instead, since CI installs every tool and an emulator test must run there."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"missing tools: {', '.join(missing)} (make demo installs them)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def require_package(module: str, install: str) -> None:
    """Skip the calling test when the Python package ``module`` is missing; under CI=true
    fail instead, since CI installs it (``install`` says how: e.g. the Makefile's venv
    installs the ``gurobi`` extra)."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        message = f"missing Python package {module} ({install})"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def require_targets(targets: tuple[str, ...]) -> None:
    """require_tools for every tool the firmware ``targets`` need (TARGET_TOOLS)."""
    for t in targets:
        require_tools(*TARGET_TOOLS[t])


@pytest.fixture
def shared_data() -> Path:
    """The reference data sets (../shared/data); skip locally when absent, fail in CI."""
    if not (SHARED_DATA / "heart.csv").exists():
        if IN_CI:
            pytest.fail(f"CI=true but the reference data are missing at {SHARED_DATA}")
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


def load_bench_script(file: str, module_name: str):
    """Import a script of bench/ (not a package) as a module, for its tests. ``file`` is
    the path under bench/: ``paper.py`` for a product benchmark, ``research/cv_screen.py``
    for a research script of bench/research/. The checkout goes on ``sys.path`` first, since
    the research scripts import the product benchmark as ``bench.paper``."""
    import importlib.util
    import sys

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    path = REPO / "bench" / file
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def check_arrays(ds) -> None:
    """A loaded Dataset's arrays: uint8 inputs in [0, levels], int64 class indices."""
    n = len(ds.features)
    for X, y in ((ds.X_train, ds.y_train), (ds.X_val, ds.y_val), (ds.X_test, ds.y_test)):
        assert X.dtype == np.uint8 and X.ndim == 2 and X.shape[1] == n
        assert len(X) == len(y) and int(X.max(initial=0)) <= ds.levels
        assert y.dtype == np.int64 and set(np.unique(y)) <= set(range(len(ds.classes)))


def same_split(a, b) -> bool:
    """Whether two Datasets hold the same split, encoded with the same features."""
    return all(
        np.array_equal(getattr(a, k), getattr(b, k))
        for k in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
    ) and (a.features == b.features)


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    """No MIPNN_DATA_DIR; the cache under tmp_path; the network replaced by a failure."""
    import urllib.error

    from mipnn.trainer import download

    monkeypatch.delenv("MIPNN_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def offline(url):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(download, "fetch", offline)
    return tmp_path / "cache" / "mipnn"


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sample_csv(tmp_path: Path, rows: int = 60) -> Path:
    """``sample.csv``: numeric, categorical and gappy columns and a yes/no ``label``."""
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "height": rng.normal(170, 10, rows).round(1),
            "colour": rng.choice(["red", "green", "blue"], rows),
            "count": rng.integers(0, 5, rows).astype(float),
            "label": rng.choice(["yes", "no"], rows),
        }
    )
    frame.loc[[3, 7], "height"] = np.nan
    frame.loc[[5], "colour"] = np.nan
    frame.loc[[9], "count"] = np.nan
    path = tmp_path / "sample.csv"
    text = frame.to_csv(index=False).replace(",,", ",?,", 1)  # one '?' marks a gap too
    return write_text(path, text)


def serve(monkeypatch, files: dict[str, bytes]) -> list[str]:
    """Replace the network by ``files`` (URL basename -> bytes); return the fetched URLs."""
    import urllib.error

    from mipnn.trainer import download

    fetched: list[str] = []

    def fake(url):
        fetched.append(url)
        name = url.rsplit("/", 1)[1]
        if name not in files:
            raise urllib.error.URLError(f"not served: {name}")
        return files[name]

    monkeypatch.setattr(download, "fetch", fake)
    return fetched


def uci_heart(shared_data: Path, *, bad: bool = False) -> bytes:
    """processed.cleveland.data-like bytes built from heart.csv: UCI codes, '?' gaps."""
    import pandas as pd

    h = pd.read_csv(shared_data / "heart.csv", encoding="utf-8-sig")
    lines = []
    for i, r in enumerate(h.itertuples(index=False)):
        fields = [
            r.age, r.sex, r.cp + 1, r.trestbps, r.chol, r.fbs, r.restecg, r.thalach,
            r.exang, r.oldpeak, r.slope + 1,
        ]  # fmt: skip
        values = [f"{float(v)}" for v in fields]
        values.append("?" if r.ca == 4 else f"{float(r.ca)}")
        values.append({0: "?", 1: "6.0", 2: "3.0", 3: "7.0"}[r.thal])
        values.append("0" if r.target == 1 else str(1 + i % 4))
        lines.append(",".join(values))
    if bad:
        lines[10] = lines[10].replace(",", ",9.0,", 1).rsplit(",", 1)[0]  # age,9.0(sex),...
    return ("\n".join(lines) + "\n").encode()


# ----------------------------------------------------------------- MIP training (trainer/...)


def tiny_problem(objective: str, seed: int = 0, n: int = 8):
    """A tiny instance (spec, X, y); labels of a random network for the objectives that must
    fit every example, random labels (not separable in general) for the others."""
    from mipnn.trainer.formulation import NetworkSpec
    from mipnn.trainer.objectives import HARD_OBJECTIVES

    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, (n, 3))
    X[:, 2] = 0  # a column zero in every example
    spec = NetworkSpec(3, (2,), 2, bound=1, levels=3, objective=objective)
    if objective in HARD_OBJECTIVES:
        y = (X[:, 0] > X[:, 1]).astype(np.int64)
    else:
        y = rng.integers(0, 2, n)
    return spec, X, y


def net_model(net, levels: int = 3, classes=("a", "b")) -> Model:
    """The model of a network ``[(W, b), ...]``: sign hidden layers, a linear output."""
    layers = [Layer(W, b, "sign") for W, b in net[:-1]] + [Layer(*net[-1], "linear")]
    return Model("t", list(classes), net[0][0].shape[1], levels, layers)


def toy_splits(n: int = 40, seed: int = 0, levels: int = 3) -> SimpleNamespace:
    """A small problem with training, validation and test splits and numeric features:
    class 1 iff x0 + x1 > x2 + 1; the last column is zero everywhere."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, levels + 1, (n, 4)).astype(np.uint8)
    X[:, 3] = 0
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 1).astype(np.int64)
    return SimpleNamespace(
        name="toy", classes=["no", "yes"], levels=levels,
        features=[{"name": f"x{i}", "kind": "numeric", "min": 0.0, "max": float(levels)}
                  for i in range(4)],
        X_train=X[:24], y_train=y[:24], X_val=X[24:32], y_val=y[24:32], X_test=X[32:],
        y_test=y[32:], provenance={},
    )


def batch_dataset(n: int = 64, seed: int = 0) -> SimpleNamespace:
    """A toy data set for batch training: n training, 20 validation and 20 test examples."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 4, (n + 40, 4))
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 1).astype(np.int64)
    return SimpleNamespace(
        name="toy", classes=["no", "yes"], levels=3, features=None,
        X_train=X[:n], y_train=y[:n], X_val=X[n:n + 20], y_val=y[n:n + 20],
        X_test=X[n + 20:], y_test=y[n + 20:], provenance={"dataset": "toy", "seed": seed},
    )


def run_cli(*args: str):
    """``mipnn ARGS`` through click's CliRunner (exceptions propagate)."""
    from click.testing import CliRunner

    from mipnn.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_user_error(result, *fragments: str) -> None:
    """The command failed as a user error: exit status 2, one line on stderr holding every
    fragment, no traceback."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="session")
def trained_cli_model(tmp_path_factory) -> tuple[Path, str]:
    """A small breast_cancer model trained by ``mipnn train`` (40 examples, 3 hidden
    neurons, 5 s), and the command's output."""
    out = tmp_path_factory.mktemp("cli") / "m.json"
    result = run_cli("train", "--dataset", "breast_cancer", "--train-size", "40", "--hidden",
                     "3", "--bound", "1", "--time-limit", "5", "--seed", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result.output


def interrupt_cli(*args: str, ready: str, timeout: float = 120.0) -> SimpleNamespace:
    """Run ``python -m mipnn ARGS`` in a process of its own, send it SIGINT (as Ctrl-C does)
    once a line of its standard output matches the regular expression ``ready``, and wait
    for it to end:
    ``returncode``, ``stdout``, ``stderr``, ``after`` (seconds from the signal to the end)."""
    import re
    import signal
    import subprocess
    import sys
    import threading
    import time

    proc = subprocess.Popen([sys.executable, "-m", "mipnn", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO)
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if re.search(ready, line):
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not seen.wait(timeout):
        proc.kill()
        raise AssertionError(f"no line with {ready!r} in {timeout:g} s: {''.join(lines)}")
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"still running {timeout:g} s after SIGINT") from None
    after = time.perf_counter() - sent
    reader.join(5)
    stderr = proc.stderr.read()  # type: ignore[union-attr]
    return SimpleNamespace(returncode=proc.returncode, stdout="".join(lines), stderr=stderr,
                           after=after)
