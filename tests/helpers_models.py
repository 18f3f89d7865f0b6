"""Models for the code generator's and the reference's tests: hand-made and random networks
(hypothesis strategies), fixed edge cases, adversarial models at the extremes of every
intermediate's range, and a Python interpreter of the unrolled programs the code generator
writes, checking every intermediate at the target's ``int`` width."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from conftest import INT32_MAX
from hypothesis import strategies as st

from mipnn.codegen.cost import PROFILES
from mipnn.codegen.program import list_count
from mipnn.codegen.strategy import build_program
from mipnn.trainer.model import Layer, Model


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
