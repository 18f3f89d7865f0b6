"""Shared test helpers: tool requirements (skip locally, fail under CI), data paths, the
firmware targets, the models several test files use (random ones for hypothesis, fixed edge
cases), a Python interpreter of the unrolled programs the code generator writes, and the
data sets and MIP instances the trainer's tests build."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import strategies as st
from mipnn.codegen.cost import PROFILES
from mipnn.codegen.program import list_count
from mipnn.codegen.strategy import build_program
from mipnn.trainer.model import Layer, Model
from mipnn.trainer.raw import INT32_MIN, raw_columns

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


def make_model(
    shape: list[int],
    levels: int = 255,
    seed: int = 0,
    w_max: int = 3,
    b_max: int = 100,
    name: str = "net",
) -> Model:
    """A random model of the given layer sizes (sign hidden layers, linear output)."""
    rng = np.random.default_rng(seed)
    layers = []
    for k in range(len(shape) - 1):
        w = rng.integers(-w_max, w_max, size=(shape[k + 1], shape[k]), endpoint=True)
        b = rng.integers(-b_max, b_max, size=shape[k + 1], endpoint=True)
        layers.append(Layer(w, b, "sign" if k < len(shape) - 2 else "linear"))
    return Model(
        name=name,
        classes=[f"class{i}" for i in range(shape[-1])],
        input_size=shape[0],
        levels=levels,
        layers=layers,
    )


def write_crash_sources(gen, body: str, name: str = "crash") -> None:
    """Generated-model sources (``name``.h, ``name``.c) whose predict function runs
    ``body`` (a fault, a stack overflow, an exit), and a one-vector header, for the
    firmware crash tests."""
    gen.mkdir()
    up = name.upper()
    (gen / f"{name}.h").write_text(
        f"#ifndef {up}_MIPNN_H\n#define {up}_MIPNN_H\n#include <stdint.h>\n"
        f"#define {up}_N_INPUTS 1\n#define {up}_N_CLASSES 2\n"
        f"int {name}_predict(const uint8_t x[{up}_N_INPUTS], int32_t s[{up}_N_CLASSES]);\n"
        "#endif\n"
    )
    (gen / f"{name}.c").write_text(
        f'#include "{name}.h"\nvoid mipnn_fw_exit(int code);\n'
        f"int {name}_predict(const uint8_t x[{up}_N_INPUTS], int32_t s[{up}_N_CLASSES])\n"
        f"{{\n    (void)x; (void)s;\n    {body}\n}}\n"
    )
    (gen / "mipnn_fw_vectors.h").write_text(
        f'#include "{name}.h"\n#define MIPNN_FW_N_VECTORS 1\n#define MIPNN_FW_N_INPUTS 1\n'
        f"#define MIPNN_FW_N_CLASSES 2\n#define MIPNN_FW_PREDICT {name}_predict\n"
        "#define MIPNN_FW_RD_U8(p) (*(p))\n"
        "static const uint8_t mipnn_fw_vectors[1][1] = {{0}};\n"
    )


def random_network(seed: int, shape: list[int], levels: int, w_max: int, *,
                   sparsity: float, bias_kind: str, tie: bool, duplicates: bool = False,
                   name: str = "rnd") -> Model:
    """A random model of ``shape`` for the property tests: weights up to ``w_max`` (a share
    ``sparsity`` of them zero; 0 for dense), biases by ``bias_kind`` (zero, small, scaled by
    L, or huge: up to the int32 limits the output scores allow over the whole input box),
    optionally two identical output rows (``tie``) and, with ``duplicates``, a hidden neuron
    copying another's weights half of the time."""
    int32_max = 2**31 - 1
    rng = np.random.default_rng(seed)
    layers = []
    for k in range(len(shape) - 1):
        w = rng.integers(-w_max, w_max, size=(shape[k + 1], shape[k]), endpoint=True)
        if sparsity:
            w[rng.random(w.shape) < sparsity] = 0
        if duplicates and k + 2 < len(shape) and shape[k + 1] > 2 and rng.random() < 0.5:
            w[1] = w[0]  # a duplicate neuron (biases may differ)
        max_abs = levels if k == 0 else 1
        last = k == len(shape) - 2
        # Output scores must fit int32 over the whole input box; hidden biases may be any.
        room = int32_max - int(np.abs(w).sum(axis=1).max()) * max_abs if last else int32_max
        limit = {"zero": 0, "small": 127, "scaled": 127 * levels, "huge": room}[bias_kind]
        limit = min(limit, room)
        b = rng.integers(-limit, limit, size=shape[k + 1], endpoint=True)
        if bias_kind == "huge":
            b[rng.random(b.shape) < 0.5] = limit * rng.choice([-1, 1])
        if last and tie:
            w[1], b[1] = w[0], b[0]
        layers.append(Layer(w, b, "linear" if last else "sign"))
    return Model(name=name, classes=[f"c{i}" for i in range(shape[-1])], input_size=shape[0],
                 levels=levels, layers=layers)


def toy_dataset(n: int = 24, seed: int = 0, levels: int = 3) -> SimpleNamespace:
    """A small separable problem: class 1 iff x0 + x1 > x2 + 1."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, levels + 1, (n, 4))
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 1).astype(np.int64)
    return SimpleNamespace(
        name="toy", classes=["no", "yes"], levels=levels, features=None,
        X_train=X, y_train=y, X_val=X[:0], y_val=y[:0], X_test=X[:6], y_test=y[:6],
        provenance={"dataset": "toy"},
    )


# ---------------------------------------------------------------- models


@st.composite
def random_models(draw: st.DrawFn, max_inputs: int = 40, max_hidden: int = 12) -> Model:
    """Small random networks: 0-2 hidden layers, weights up to +/-127 (dense or sparse),
    biases from zero to the int32 limits, optionally two identical output rows (a tie)."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_in = draw(st.integers(1, max_inputs))
    hidden = draw(st.lists(st.integers(1, max_hidden), min_size=0, max_size=2))
    n_classes = draw(st.integers(2, 5))
    levels = draw(st.one_of(st.sampled_from([1, 3, 255]), st.integers(1, 255)))
    w_max = draw(st.sampled_from([1, 2, 3, 127]))
    sparse = draw(st.booleans())
    bias_kind = draw(st.sampled_from(["zero", "small", "scaled", "huge"]))
    tie = draw(st.booleans())
    return random_network(seed, [n_in, *hidden, n_classes], levels, w_max,
                          sparsity=0.6 if sparse else 0.0, bias_kind=bias_kind, tie=tie,
                          duplicates=True, name="rnd")


def extreme_model() -> Model:
    """int64 partial sums, scores at INT32_MAX and INT32_MIN, a tie, constant neurons."""
    rng = np.random.default_rng(7)
    w0 = rng.integers(-127, 127, size=(5, 12), endpoint=True)
    b0 = np.array([2**31 - 1, -(2**31 - 1), 0, 3, -3])
    w1 = np.zeros((4, 5), dtype=np.int64)
    w1[0] = [100, -27, 0, 0, 0]
    w1[1] = w1[0]
    w1[2] = [-127, 127, 0, 0, 0]
    w1[3] = [1, 2, 3, 4, 5]
    s = np.abs(w1).sum(axis=1)
    b1 = np.array([INT32_MAX - int(s[0]), INT32_MAX - int(s[0]), -(2**31) + int(s[2]), 0])
    return Model(name="ext", classes=list("abcd"), input_size=12, levels=255,
                 layers=[Layer(w0, b0, "sign"), Layer(w1, b1, "linear")])


def deep_model() -> Model:
    """Three hidden layers, weights up to 127 (several bit planes for xnor), L = 1."""
    rng = np.random.default_rng(3)
    shape = [20, 9, 7, 5, 3]
    layers = []
    for k in range(len(shape) - 1):
        w = rng.integers(-127, 127, size=(shape[k + 1], shape[k]), endpoint=True)
        b = rng.integers(-300, 300, size=shape[k + 1], endpoint=True)
        layers.append(Layer(w, b, "linear" if k == len(shape) - 2 else "sign"))
    return Model(name="deep", classes=["x", "y", "z"], input_size=20, levels=1, layers=layers)


def linear_model() -> Model:
    """No hidden layer: the first layer gives the scores."""
    rng = np.random.default_rng(5)
    w = rng.integers(-3, 3, size=(3, 17), endpoint=True)
    return Model(name="lin", classes=["p", "q", "r"], input_size=17, levels=200,
                 layers=[Layer(w, np.array([5, -5, 0]), "linear")])


def sum_in_int_model() -> Model:
    """Issue 21, cause 1: neuron 1 starts from neuron 0 (``z0_1 = z0_0 + 26000``); z0_0 is
    16 bits, z0_1 needs 32, and the sum overflowed AVR's 16-bit ``int`` before the cast."""
    return Model(name="hostile", classes=["a", "b"], input_size=4, levels=255,
                 layers=[Layer(np.array([[127, 0, 0, 0], [127, -127, 0, 0]]),
                               np.array([-16000, 10000]), "sign"),
                         Layer(np.array([[1, -1], [-1, 1]]), np.array([0, 0]), "linear")])


FIXED_MODELS = {"extreme": extreme_model, "deep": deep_model, "linear": linear_model,
                "sum_in_int": sum_in_int_model}


# ---------------------------------------------------------------- adversarial models (issue 21)

# Magnitudes at which the generated C changes type: the 16-bit int of AVR (int16_t and
# int_fast16_t accumulators, plain int constants), int32_t, and the int32 scores.
TYPE_EDGES = (2**15 - 1, 2**15, 2**15 + 1, 2**31 - 1, 2**31, 2**31 + 1)


def _edge_bias(rng: np.random.Generator, lo: int, hi: int) -> int:
    """A bias that puts a neuron whose weighted sum ranges over ``[lo, hi]`` at a type
    edge: its largest or smallest value (or the bias alone) just inside or outside 16 or
    32 bits, or the bias at +/-(2**31 - 1); kept within the model file's bias range."""
    edge = int(rng.choice(TYPE_EDGES))
    kind = rng.integers(0, 5)
    if kind == 0:
        b = edge - hi  # the neuron's maximum at the edge
    elif kind == 1:
        b = -edge - lo  # its minimum at the edge
    elif kind == 2:
        b = edge * int(rng.choice([-1, 1]))  # the bias itself (the first prefix)
    elif kind == 3:
        b = (2**31 - 1) * int(rng.choice([-1, 1]))
    else:
        b = int(rng.integers(-300, 300))
    return int(np.clip(b, -(2**31 - 1), 2**31 - 1))


def adversarial_network(seed: int, shape: list[int], levels: int) -> Model:
    """A model at the edges of every intermediate's range: weights mostly +/-127 (or
    sparse, or small), rows that copy a neighbour with a change or two (so the generated
    code computes one neuron from another across type boundaries), hidden biases that put a
    neuron's extreme, or its bias, just inside or outside 16 and 32 bits (or at
    +/-(2**31 - 1)), and output rows whose scores reach INT32_MAX or INT32_MIN exactly or
    nearly (always within int32, else the code generator refuses the model)."""
    rng = np.random.default_rng(seed)
    layers = []
    for k in range(len(shape) - 1):
        n_out, n_in = shape[k + 1], shape[k]
        style = rng.integers(0, 3)
        if style == 0:
            w = rng.choice([-127, 127], size=(n_out, n_in)) * (rng.random((n_out, n_in)) < 0.8)
        elif style == 1:
            w = rng.integers(-127, 127, size=(n_out, n_in), endpoint=True)
        else:
            w = rng.integers(-3, 3, size=(n_out, n_in), endpoint=True)
        for j in range(1, n_out):
            if rng.random() < 0.5:  # a near-copy of the previous row: shared work
                w[j] = w[j - 1]
                for i in rng.integers(0, n_in, size=int(rng.integers(0, 3))):
                    w[j, i] = int(rng.integers(-127, 127, endpoint=True))
        lo_in, hi_in = (0, levels) if k == 0 else (-1, 1)
        last = k == len(shape) - 2
        bias = np.zeros(n_out, dtype=np.int64)
        for j in range(n_out):
            terms = [(int(v) * lo_in, int(v) * hi_in) for v in w[j]]
            lo = sum(min(t) for t in terms)
            hi = sum(max(t) for t in terms)
            b = _edge_bias(rng, lo, hi)
            if last:  # the scores must fit int32_t: clamp, often onto the limits
                b = int(np.clip(b, -(2**31) - lo, 2**31 - 1 - hi))
                if rng.random() < 0.4:
                    b = 2**31 - 1 - hi if rng.random() < 0.5 else -(2**31) - lo
                b = int(np.clip(b, -(2**31 - 1), 2**31 - 1))
            bias[j] = b
        layers.append(Layer(w.astype(np.int64), bias, "linear" if last else "sign"))
    return Model(name="adv", classes=[f"c{i}" for i in range(shape[-1])],
                 input_size=shape[0], levels=levels, layers=layers)


@st.composite
def adversarial_models(draw: st.DrawFn, max_inputs: int = 16, max_hidden: int = 8) -> Model:
    """Hypothesis strategy of ``adversarial_network`` models: 0-2 hidden layers, 2-4
    classes, levels 1, 2, 255 or any."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_in = draw(st.integers(1, max_inputs))
    hidden = draw(st.lists(st.integers(1, max_hidden), min_size=0, max_size=2))
    n_classes = draw(st.integers(2, 4))
    levels = draw(st.one_of(st.sampled_from([1, 2, 255]), st.integers(1, 255)))
    return adversarial_network(seed, [n_in, *hidden, n_classes], levels)


def extreme_vectors(model: Model) -> np.ndarray:
    """For every first-layer neuron, the two inputs at which its weighted sum is largest
    and smallest (``L`` where its weight is positive, resp. negative; else 0)."""
    w = model.layers[0].weights
    L = model.levels
    return np.concatenate([np.where(w > 0, L, 0), np.where(w < 0, L, 0)]).astype(np.int64)


# ---------------------------------------------------------------- unrolled programs, in Python

RANGES = {
    "int_fast16_t": (-(2**15), 2**15 - 1),  # the narrowest it can be (AVR)
    "int32_t": (-(2**31), 2**31 - 1),
    "int64_t": (-(2**63), 2**63 - 1),
    "uint8_t": (0, 2**8 - 1),
    "uint16_t": (0, 2**16 - 1),
    "uint32_t": (0, 2**32 - 1),
}


WIDTH_RANK = {"int_fast16_t": 1, "int32_t": 2, "int64_t": 3}


def const_type(value: int) -> str:
    """The type of an integer constant as the generated C writes it (``c_int``): plain
    ``int`` within 16 bits, else ``INT32_C``, else ``INT64_C``."""
    if abs(value) <= 2**15 - 1:
        return "int_fast16_t"
    return "int32_t" if -(2**31) <= value <= 2**31 - 1 else "int64_t"


def interpret(model: Model, strategy: str, X: np.ndarray, budget: int | None = None,
              profile: str = "cortex-m3", *, program=None, raw: np.ndarray | None = None
              ) -> np.ndarray:
    """Run the unrolled program's statements with Python integers, checking that every
    value assigned fits the type the program declared for it (what the C relies on).
    A raw program (``mipnn.codegen.rawprogram``) is given as ``program``, with the raw
    rows ``raw`` its switches read and their encoded inputs ``X``."""
    if program is None:
        program = build_program(model, strategy, PROFILES[profile], budget)
    out = np.zeros((len(X), model.n_classes), dtype=np.int64)
    env: dict[str, int] = {}

    types: dict[str, str] = {}

    def put(var: str, value: int, ctype: str) -> None:
        lo, hi = RANGES[ctype]
        assert lo <= value <= hi, f"{var} = {value} does not fit {ctype}"
        env[var] = value
        types[var] = ctype

    def expr(what: str, value: int, *operand_types: str) -> int:
        """A sum computed in C: in the widest operand type, at least ``int`` (16 bits on
        AVR, like ``int_fast16_t``); the value must fit that type, not only the variable
        that receives it."""
        ctype = max(("int_fast16_t", *operand_types), key=WIDTH_RANK.__getitem__)
        lo, hi = RANGES[ctype]
        assert lo <= value <= hi, f"{what}: {value} overflows {ctype} (an intermediate)"
        return value

    for v, x in enumerate(X.astype(int).tolist()):
        env.clear()
        for op in program.ops:
            if op.kind == "let":
                if op.source:
                    value = expr(f"{op.var} = {op.source} + {op.value}",
                                 env[op.source] + op.value,
                                 op.widen or types[op.source], const_type(op.value))
                else:
                    value = op.value
                put(op.var, value, op.ctype)
            elif op.kind == "term":
                product = expr(f"{op.value} * x[{op.index}]", op.value * x[op.index],
                               "int32_t" if op.wide else "int_fast16_t")
                put(op.var, expr(f"{op.var} + {op.value} * x", env[op.var] + product,
                                 op.ctype, "int32_t" if op.wide else "int_fast16_t"),
                    op.ctype)
            elif op.kind == "walk":
                # the helper: d[k] = the sum of x over list k, every partial sum 16 bits
                d, at = [], 0
                for _ in range(op.index):
                    n = list_count(program.table[at])
                    assert 1 <= n <= program.list_cap
                    total = 0
                    for i in program.table[at + 1: at + 1 + n]:
                        total += x[i]
                        assert total <= RANGES["int_fast16_t"][1], "gather sum"
                    d.append(total)
                    at += 1 + n
                assert at == len(program.table)
            elif op.kind == "gather":
                put(op.var, expr(f"{op.var} +- d", env[op.var] + op.value * d[op.index],
                                 op.ctype), op.ctype)
            elif op.kind == "cond":
                if env[op.var] >= 0:
                    for target, ctype, delta in op.adds:
                        put(target, expr(f"{target} + {delta}", env[target] + delta, ctype,
                                         const_type(delta)), ctype)
            elif op.kind == "switch":
                assert raw is not None
                code = int(raw[v][op.index])
                for codes, adds in op.cases:
                    if code in codes:
                        for target, ctype, delta in adds:
                            put(target, expr(f"{target} + {delta}", env[target] + delta,
                                             ctype, const_type(delta)), ctype)
            elif op.kind == "pack":
                if env[op.var] >= 0:
                    put(op.word, env[op.word] | op.value, op.word_type)
            elif op.kind == "xnor":
                mask = op.mask or (1 << op.bits) - 1
                count = bin((env[op.word] ^ op.flip) & mask).count("1")
                wide = "int32_t" if op.wide else "int_fast16_t"
                product = expr(f"popcount * {op.value}", count * op.value, wide)
                put(op.var, expr(f"{op.var} + popcount", env[op.var] + product, op.ctype, wide),
                    op.ctype)
        out[v] = [env[var] for var, _ in program.scores]
    return out


# ----------------------------------------------------------------- data sets (trainer/data...)


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


# ---------------------------------------------------------------- raw inputs (version 2)


def raw_features(seed: int, spec: list, scale_max: int = 10**6) -> list[dict]:
    """Version-2 input features from ``spec``: an int ``n`` is a categorical source of ``n``
    values; ``(lo, hi)`` a numeric feature with that raw range; ``(lo, hi, source)`` one
    reading the raw column ``source`` (shared scale). Scales are random powers of ten."""
    rng = np.random.default_rng(seed)
    features: list[dict] = []
    scales: dict[str, int] = {}
    for k, item in enumerate(spec):
        if isinstance(item, int):
            features += [{"name": f"c{k}={v}", "kind": "onehot", "source": f"c{k}",
                          "value": f"v{v}"} for v in range(item)]
            continue
        lo, hi = int(item[0]), int(item[1])
        source = item[2] if len(item) > 2 else f"n{k}"
        scale = scales.setdefault(source, int(10 ** rng.integers(0, 7)) if scale_max > 1
                                  else 1)
        feat = {"name": f"n{k}", "kind": "numeric", "min": lo / scale, "max": hi / scale,
                "scale": scale, "raw_min": lo, "raw_max": hi}
        if len(item) > 2:
            feat["source"] = source
        features.append(feat)
    return features


def raw_model(seed: int, spec: list, hidden: list[int], levels: int = 255, w_max: int = 3,
              n_classes: int = 3, name: str = "rawnet") -> Model:
    """A random version-2 model whose inputs are the features of ``raw_features``."""
    features = raw_features(seed, spec)
    net = random_network(seed, [len(features), *hidden, n_classes], levels, w_max,
                         sparsity=0.3, bias_kind="scaled", tie=False, name=name)
    net.features = features
    return net


RAW_MAIN = r"""
#include <stdio.h>
#include "{name}.h"
int main(void)
{{
    int32_t raw[{NAME}_N_RAW];
    uint8_t x[{NAME}_N_INPUTS];
    int32_t s[{NAME}_N_CLASSES];
    long long v;
    int i, c;
    for (;;) {{
        for (i = 0; i < {NAME}_N_RAW; ++i) {{
            if (scanf("%lld", &v) != 1) return 0;
            raw[i] = (int32_t)v;
        }}
        {name}_encode(raw, x);
        c = {name}_predict_raw(raw, s);
        if ({name}_predict_raw(raw, 0) != c) return 3;
        for (i = 0; i < {NAME}_N_INPUTS; ++i) printf("%d ", x[i]);
        printf("| %d |", c);
        for (i = 0; i < {NAME}_N_CLASSES; ++i) printf(" %ld", (long)s[i]);
        printf("\n");
    }}
}}
"""


PGMSPACE_STUB = (  # <avr/pgmspace.h> for compiling the __AVR__ branches on the host
    "#include <stdint.h>\n"
    "#define PROGMEM\n"
    "#define pgm_read_byte(p) (*(const uint8_t *)(p))\n"
    "#define pgm_read_word(p) (*(const uint16_t *)(p))\n"
    "#define pgm_read_dword(p) (*(const uint32_t *)(p))\n"
)


def raw_host_runner(files: dict[str, str], tmp_path: Path, avr_branch: bool = False):
    """Compile generated C with strict flags and the undefined-behaviour sanitiser on the
    host, with a main that reads raw rows; returns ``run(raw) -> (X, classes, scores)``
    (``NAME_encode`` and ``NAME_predict_raw`` of every row). ``avr_branch``: compile the
    code's ``__AVR__`` branches (with a stand-in for <avr/pgmspace.h>)."""
    import subprocess

    require_tools("gcc")
    name = next(f[:-2] for f in files if f.endswith(".c"))
    for fname, text in files.items():
        (tmp_path / fname).write_text(text, encoding="utf-8")
    (tmp_path / "raw_main.c").write_text(RAW_MAIN.format(name=name, NAME=name.upper()))
    extra = []
    if avr_branch:
        (tmp_path / "stub" / "avr").mkdir(parents=True, exist_ok=True)
        (tmp_path / "stub" / "avr" / "pgmspace.h").write_text(PGMSPACE_STUB)
        extra = ["-D__AVR__", f"-I{tmp_path / 'stub'}"]
    strict = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wsign-conversion", "-Werror",
              "-pedantic"]
    exe = tmp_path / "raw_main"
    proc = subprocess.run(
        ["gcc", *strict, *extra, "-O1", "-fsanitize=undefined", "-fno-sanitize-recover=all",
         f"{name}.c", "raw_main.c", "-o", str(exe)],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr

    def run(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        text = "\n".join(" ".join(str(int(v)) for v in row) for row in np.asarray(raw))
        out = subprocess.run([str(exe)], input=text + "\n", capture_output=True, text=True,
                             check=False)
        assert out.returncode == 0, out.stderr
        X, classes, scores = [], [], []
        for line in out.stdout.splitlines():
            xs, c, ss = line.split("|")
            X.append([int(v) for v in xs.split()])
            classes.append(int(c))
            scores.append([int(v) for v in ss.split()])
        return np.array(X), np.array(classes), np.array(scores)

    return run


def adult_version_2() -> Model:
    """The Adult bench model as version 2: its numeric columns are integers (scale 1), so
    raw_min and raw_max are its min and max."""
    from mipnn.trainer.model import load_model, model_from_dict

    data = json.loads(load_model(ADULT).to_json())
    data["version"] = 2
    for f in data["input"]["features"]:
        if f["kind"] == "numeric":
            f.update(scale=1, raw_min=int(f["min"]), raw_max=int(f["max"]))
    return model_from_dict(data)


EDGE = (INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX)


def edge_rows(features: list[dict], n_random: int = 40, seed: int = 0) -> np.ndarray:
    """Raw rows that visit, per column, every int32 edge, raw_min - 1, raw_min, raw_max,
    raw_max + 1, the middle, and unknown codes (-1, n, the int32 limits), then random ones."""
    rng = np.random.default_rng(seed)
    per_col = []
    for col in raw_columns(features):
        vals = set(EDGE)
        if col.kind == "numeric":
            for i in col.features:
                lo, hi = features[i]["raw_min"], features[i]["raw_max"]
                vals |= {lo, hi, (lo + hi) // 2, lo - 1, hi + 1, lo + 1, hi - 1}
            vals = {v for v in vals if INT32_MIN <= v <= INT32_MAX}
            lo = min(features[i]["raw_min"] for i in col.features)
            hi = max(features[i]["raw_max"] for i in col.features)
            rand = rng.integers(lo, hi, size=n_random, endpoint=True)
        else:
            n = len(col.values)
            vals |= set(range(n)) | {n, n + 1}
            rand = rng.integers(-1, n, size=n_random, endpoint=True)
        per_col.append((sorted(vals), rand))
    n_edge = max(len(v) for v, _ in per_col)
    rows = [[vals[(k + c) % len(vals)] for c, (vals, _) in enumerate(per_col)]
            for k in range(n_edge)]
    rows += [[int(r[k]) for _, r in per_col] for k in range(n_random)]
    return np.array(rows, dtype=np.int64)



@st.composite
def raw_specs(draw: st.DrawFn) -> list:
    """Columns: numeric ranges (random, near the int32 limits, constant, shared sources)
    and categorical sources of 1 to 6 values."""
    spec: list = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["num", "num", "edge", "const", "cat", "shared"]))
        if kind == "cat":
            spec.append(draw(st.integers(1, 6)))
            continue
        if kind == "edge":
            lo = draw(st.sampled_from([INT32_MIN, INT32_MIN + 1, -(2**30), 0, 2**30]))
            hi = draw(st.sampled_from([INT32_MAX, INT32_MAX - 1, 2**30, lo + 1]))
            lo, hi = min(lo, hi), max(lo, hi)
        elif kind == "const":
            lo = hi = draw(st.integers(INT32_MIN, INT32_MAX))
        else:
            lo = draw(st.integers(-(10**6), 10**6))
            hi = lo + draw(st.one_of(st.integers(0, 300), st.integers(0, 10**7)))
        item = (lo, min(hi, INT32_MAX))
        numeric = [s for s in spec if not isinstance(s, int)]
        if kind == "shared" and numeric:
            item = (*item, numeric[0][2] if len(numeric[0]) > 2 else f"n{spec.index(numeric[0])}")
        spec.append(item)
    return spec




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
