"""Range analysis (ARCHITECTURE.md 2): the value range of every sum the generated C
computes, and the C type that provably holds it, for inputs ``a[i]`` in a box: ``[0, L]``
for layer 0, ``{-1, +1}`` after a ``sign`` layer.

Both ways of computing a layer use it. The table loop (``int8``, ``int16``) starts the
accumulator at ``b[j]`` and adds ``W[j][i] * a[i]`` one term at a time, so every partial
sum is bounded by ``|b[j]| + sum_i |W[j][i]| * max|a|``; its accumulator is the smallest of
``int16_t``, ``int32_t``, ``int64_t`` that holds that bound for every neuron of the layer
(``analyse_ranges`` gives one ``LayerPlan`` per layer). Each product ``W * a`` fits 16 bits
(``127 * 255 < 2**15``), so it is computed in ``int`` on every target. The class scores are
returned as ``int32_t``: the exact range of the last layer's ``z`` over the input box must
fit, or the model is refused with a ``CodegenError``.

The unrolled programs add their terms in a fixed order, so their accumulators are typed
by interval arithmetic over every prefix of the sum (``Interval``): ``int_fast16_t`` when
all prefixes fit 16 bits, else ``int32_t``, else ``int64_t`` (``c_type``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mipnn.codegen.errors import CodegenError
from mipnn.trainer.model import Model

# The range every C integer type used by the generated code is guaranteed to hold
# (``int_fast16_t`` is at least 16 bits: 16 on AVR, the native word elsewhere).
LIMITS: dict[str, tuple[int, int]] = {
    "int8_t": (-(2**7), 2**7 - 1),
    "int16_t": (-(2**15), 2**15 - 1),
    "int_fast16_t": (-(2**15), 2**15 - 1),
    "int32_t": (-(2**31), 2**31 - 1),
    "int64_t": (-(2**63), 2**63 - 1),
}
INT16_MAX = LIMITS["int16_t"][1]
INT32_MIN, INT32_MAX = LIMITS["int32_t"]
INT64_MIN, INT64_MAX = LIMITS["int64_t"]

# The accumulator types of the unrolled programs, narrowest first.
ACCUMULATOR_TYPES = ("int_fast16_t", "int32_t", "int64_t")
# Accumulator types by width: an expression mixing two of them must be computed in the
# wider one (a sum of two ``int_fast16_t`` values is computed in ``int``: 16 bits on AVR).
TYPE_RANK = {"int_fast16_t": 1, "int32_t": 2, "int64_t": 3}


def smallest_type(lo: int, hi: int, types: tuple[str, ...]) -> str | None:
    """The first of ``types`` (narrowest first) whose range holds ``[lo, hi]``, or None."""
    for ctype in types:
        tlo, thi = LIMITS[ctype]
        if tlo <= lo and hi <= thi:
            return ctype
    return None


def c_type(lo: int, hi: int) -> str:
    """The accumulator type of the unrolled programs for values in ``[lo, hi]``; raises
    CodegenError beyond 64 bits."""
    ctype = smallest_type(lo, hi, ACCUMULATOR_TYPES)
    if ctype is None:
        raise CodegenError(f"a partial sum may reach [{lo}, {hi}], more than 64 bits hold")
    return ctype


class Interval:
    """Tracks the range of every prefix of a sum (for choosing a type): ``lo``, ``hi``
    bound the sum so far, ``min``, ``max`` every prefix since the start (0 included)."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo = self.hi = 0
        self.min = self.max = 0
        self.add(lo, hi)

    def add(self, lo: int, hi: int) -> None:
        """Add a term whose value lies in ``[lo, hi]``."""
        self.lo += lo
        self.hi += hi
        self.min = min(self.min, self.lo)
        self.max = max(self.max, self.hi)

    @property
    def ctype(self) -> str:
        """The accumulator type that holds every prefix (``c_type``)."""
        return c_type(self.min, self.max)


def z_range(row: dict[int, int], bias: int, lo: int, hi: int) -> tuple[int, int]:
    """The exact range of ``bias + sum_i row[i] * a[i]`` over inputs ``a[i]`` in
    ``[lo, hi]`` (each term is extreme at an end of the box)."""
    zl = zh = bias
    for w in row.values():
        a, b = w * lo, w * hi
        zl += min(a, b)
        zh += max(a, b)
    return zl, zh


@dataclass(frozen=True)
class LayerPlan:
    """What the generated C needs to know about one layer (all computed in Python)."""

    index: int
    n_in: int
    n_out: int
    activation: str
    input_max_abs: int  # L for layer 0, 1 after a sign layer
    acc_bound: int  # max over neurons of |b| + sum |w| * max|a|: bounds every partial sum
    acc_type: str  # int16_t / int32_t / int64_t
    bias_type: str  # int8_t / int16_t / int32_t
    z_min: tuple[int, ...]  # exact per-neuron range of z over the input box
    z_max: tuple[int, ...]


def analyse_ranges(model: Model) -> list[LayerPlan]:
    """Range analysis of every layer (see the module docstring); raises CodegenError when
    a partial sum needs more than 64 bits or a class score does not fit ``int32_t``."""
    if not 1 <= model.levels <= 255:
        raise CodegenError(f"input levels {model.levels} do not fit uint8_t inputs [1, 255]")
    for li, layer in enumerate(model.layers):
        if layer.weights.size and int(np.abs(layer.weights).max()) > 127:
            raise CodegenError(f"layer {li}: weights must be integers in [-127, 127] (int8_t)")
    plans: list[LayerPlan] = []
    lo_in, hi_in = 0, model.levels
    last = len(model.layers) - 1
    for li, layer in enumerate(model.layers):
        w = layer.weights.astype(np.int64)
        bias = [int(b) for b in layer.bias]
        max_abs = max(abs(lo_in), abs(hi_in))
        abs_sums = [int(s) for s in np.abs(w).sum(axis=1)]
        bounds = [abs(b) + s * max_abs for b, s in zip(bias, abs_sums, strict=True)]
        acc_bound = max(bounds)
        z = [z_range({i: int(v) for i, v in enumerate(w[j]) if v}, b, lo_in, hi_in)
             for j, b in enumerate(bias)]
        z_min = tuple(zl for zl, _ in z)
        z_max = tuple(zh for _, zh in z)
        acc_type = smallest_type(-acc_bound, acc_bound, ("int16_t", "int32_t", "int64_t"))
        if acc_type is None:
            j = int(np.argmax(bounds))
            raise CodegenError(
                f"layer {li}, neuron {j}: partial sums may reach {acc_bound} in magnitude, "
                "more than a 64-bit accumulator holds"
            )
        bias_type = smallest_type(min(bias), max(bias), ("int8_t", "int16_t", "int32_t"))
        if bias_type is None:  # the model file format already forbids this
            raise CodegenError(f"layer {li}: a bias does not fit int32_t")
        if li == last:
            for j, (zl, zh) in enumerate(z):
                if zl < INT32_MIN or zh > INT32_MAX:
                    label = model.classes[j] if j < len(model.classes) else j
                    raise CodegenError(
                        f"layer {li} (output), neuron {j} (class {label!r}): the score ranges "
                        f"over [{zl}, {zh}] for inputs in range, which does not fit int32_t "
                        f"[{INT32_MIN}, {INT32_MAX}]; the C API returns int32_t scores, so "
                        "reduce this output's bias or weights"
                    )
        plans.append(
            LayerPlan(
                index=li,
                n_in=layer.n_in,
                n_out=layer.n_out,
                activation=layer.activation,
                input_max_abs=max_abs,
                acc_bound=acc_bound,
                acc_type=acc_type,
                bias_type=bias_type,
                z_min=z_min,
                z_max=z_max,
            )
        )
        lo_in, hi_in = -1, 1
    return plans
