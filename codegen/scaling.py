"""The integer arithmetic of a numeric raw input on the device (ARCHITECTURE.md 8), chosen
per feature and proven exact for every ``int32_t`` reading.

With ``t = clamp(r, raw_min, raw_max) - raw_min`` in ``[0, d]`` (``d = raw_max - raw_min``
< 2**32, so ``t`` is a ``uint32_t``), the input is ``x(t) = floor((2 L t + d) / (2 d))``
(0 when ``d == 0``). A division per column is far too slow on AVR, so the C computes one
of these (``Scaler.kind``), with constants only:

``mul``
    ``x = ((t >> r) * m + c) >> s``.
``fix32`` / ``fix64``
    an estimate ``q = ((t >> r) * m + c) >> s`` that is ``x`` or ``x - 1``, then the exact
    test ``x = q + (2 L t + d - 2 d q >= 2 d)``: the left side lies in ``[0, 4 d)``, so it is
    exact modulo 2**32 when ``4 d <= 2**32`` (``fix32``), else computed in 64 bits. On AVR,
    where 32-bit multiplications are library calls, the test is instead
    ``t >= T(q + 1)`` (``q`` at most ``L - 1``) with ``T(k) mod 2**16`` read from a table in
    flash (``Scaler.steps``) and compared in 16 bits, when every step is at most 2**15
    wide (so ``|t - T| < 2**15``).
``zero``
    ``d == 0``: ``x = 0``.

``Scaler.arith`` is the arithmetic of ``((t >> r) * m + c)``: ``u16`` (all of it below
2**16), ``u16x16`` (a 16 x 16 -> 32-bit multiply) or ``u32``; the narrowest is chosen, and a
shift ``s`` of whole bytes where that costs nothing (shifts by whole bytes are free on AVR).

The proof: ``x`` is a non-decreasing step function with steps at
``T_k = ceil(d (2k - 1) / (2 L))``, k = 1..L; any non-decreasing ``f`` equals ``x`` on all of
``[0, d]`` iff it does at 0, ``d`` and every ``T_k - 1``, ``T_k`` (``x`` is constant between
them); likewise ``x - 1 <= f <= x`` everywhere iff at those points. ``f = ((t >> r) * m +
c) >> s`` with ``m, c >= 0`` and no overflow is non-decreasing, so ``plan_scaler`` searches
``(r, m, c, s)`` on those ``2 L + 2`` points (the feasible ``(m, c)`` of a shift ``s`` form a
convex set: ``m`` is found by bisection on a convex function) and ``prove`` checks them with
``scaler_value`` and ``table_value``, the Python models of the C (wrap-around included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mipnn.codegen.errors import CodegenError

U16 = 0xFFFF
U32 = 0xFFFFFFFF
U64 = 2**64 - 1
MAX_SHIFT = 40  # every search below needs far fewer bits; values stay far below 2**63
ARITHS = ("u16", "u16x16", "u32")  # narrowest first
STEP_WIDTH = 2**15  # the widest step the AVR threshold table can compare in 16 bits


@dataclass(frozen=True)
class Scaler:
    """How the C maps ``t`` in ``[0, d]`` to ``x`` in ``[0, L]`` (see the module docstring).

    ``shift_in``, ``mul``, ``add``, ``shift`` are ``r``, ``m``, ``c``, ``s`` of
    ``((t >> r) * m + c) >> s`` (the result for ``mul``, the estimate for ``fix32`` and
    ``fix64``), computed in ``arith``; ``steps``: ``T(k) mod 2**16`` for k = 1..L, the AVR
    threshold table of a ``fix`` kind (empty when its steps are too wide)."""

    kind: str  # zero | mul | fix32 | fix64
    d: int
    levels: int
    shift_in: int = 0
    mul: int = 0
    add: int = 0
    shift: int = 0
    arith: str = "u32"
    steps: tuple[int, ...] = ()

    def describe(self) -> str:
        """One line for a comment in the C: what is computed, and why it is exact."""
        if self.kind == "zero":
            return "a constant feature: x = 0"
        prod = f"(t >> {self.shift_in})" if self.shift_in else "t"
        prod = f"({prod} * {self.mul} + {self.add}) >> {self.shift}"
        width = {"u16": "16-bit", "u16x16": "16 x 16 -> 32-bit multiply",
                 "u32": "32-bit"}[self.arith]
        if self.kind == "mul":
            return f"x = {prod} ({width}; equals the formula for every t in [0, {self.d}])"
        bits = 32 if self.kind == "fix32" else 64
        return (f"q = {prod} ({width}) is x or x - 1 for every t in [0, {self.d}]; "
                f"x = q + ({2 * self.levels} t + {self.d} - {2 * self.d} q >= {2 * self.d}) "
                f"in {bits}-bit arithmetic"
                + ("; on AVR x = q + (t >= T(q + 1)), from a table of T mod 2**16"
                   if self.steps else ""))


def level(t: int, d: int, levels: int) -> int:
    """``x(t) = floor((2 L t + d) / (2 d))`` for ``t`` in ``[0, d]`` (0 when ``d == 0``)."""
    return 0 if d == 0 else (2 * levels * t + d) // (2 * d)


def threshold(k: int, d: int, levels: int) -> int:
    """``T(k) = ceil(d (2k - 1) / (2 L))``: the first ``t`` with ``x(t) >= k`` (k = 1..L)."""
    return -((-d * (2 * k - 1)) // (2 * levels))


def check_points(d: int, levels: int) -> list[int]:
    """0, ``d`` and every ``T_k - 1``, ``T_k`` in ``[0, d]`` (sorted, distinct): where a
    non-decreasing function must agree with ``x`` to agree everywhere."""
    points = {0, d}
    for k in range(1, levels + 1):
        step = threshold(k, d, levels)
        if 0 < step <= d:
            points.update((step - 1, step))
    return sorted(points)


def _product(sc: Scaler, t: int) -> int:
    return (((t >> sc.shift_in) * sc.mul + sc.add) & U32) >> sc.shift


def scaler_value(sc: Scaler, t: int) -> int:
    """What the C computes for ``t`` on every target but AVR (``uint32_t`` arithmetic wraps
    modulo 2**32 here as there; ``fix64`` uses 64 bits)."""
    if sc.kind == "zero":
        return 0
    q = _product(sc, t)
    if sc.kind == "mul":
        return q
    two_l, two_d = 2 * sc.levels, 2 * sc.d
    if sc.kind == "fix32":
        rem = (two_l * t + sc.d - two_d * q) & U32
    else:
        rem = (two_l * t + sc.d - two_d * q) & U64
    return q + (1 if rem >= two_d else 0)


def table_value(sc: Scaler, t: int) -> int:
    """What the C computes for ``t`` on AVR (the threshold table when ``sc.steps``)."""
    if not sc.steps:
        return scaler_value(sc, t)
    q = min(_product(sc, t), sc.levels - 1)
    return q + (1 if ((t & U16) - sc.steps[q]) & U16 < 0x8000 else 0)


def prove(sc: Scaler) -> None:
    """Raise CodegenError unless ``sc`` gives ``x(t)`` for every ``t`` in ``[0, d]``: no
    overflow of its arithmetic, the check points (see the module docstring), and for the
    threshold table, the table itself and steps at most 2**15 wide."""
    d, levels = sc.d, sc.levels
    if sc.kind == "zero":
        if d != 0:
            raise CodegenError(f"scaler 'zero' for a span of {d}")
        return
    if d < 1 or d > U32 or sc.mul < 0 or sc.add < 0:
        raise CodegenError(f"scaler for span {d}: out of range")
    top = (d >> sc.shift_in) * sc.mul + sc.add
    limit = {"u16": U16, "u16x16": U32, "u32": U32}[sc.arith]
    if top > limit or (sc.arith != "u32" and ((d >> sc.shift_in) > U16 or sc.mul > U16)):
        raise CodegenError(f"scaler for span {d}: overflows its {sc.arith} arithmetic")
    if sc.kind == "fix32" and 4 * d > 2**32:
        raise CodegenError(f"scaler for span {d}: the remainder needs more than 32 bits")
    slack = 0 if sc.kind == "mul" else 1
    for t in check_points(d, levels):
        x = level(t, d, levels)
        q = _product(sc, t)
        if not x - slack <= q <= x or scaler_value(sc, t) != x or table_value(sc, t) != x:
            raise CodegenError(f"scaler for span {d}: wrong at t = {t} ({q} for {x})")
    if sc.steps:
        edges = [0, *(threshold(k, d, levels) for k in range(1, levels + 1)), d + 1]
        if sc.kind == "mul" or len(sc.steps) != levels or any(
                b - a > STEP_WIDTH for a, b in zip(edges, edges[1:], strict=False)) or any(
                s != e & U16 for s, e in zip(sc.steps, edges[1:-1], strict=True)):
            raise CodegenError(f"scaler for span {d}: a wrong threshold table")


def _fit(us: np.ndarray, xs: np.ndarray, s: int, slack: int, m_cap: int
         ) -> tuple[int, int] | None:
    """The smallest ``m <= m_cap`` (and then the smallest ``c >= 0``) with
    ``(x - slack) 2**s <= m u + c <= (x + 1) 2**s - 1`` at every point, or None."""
    lo = (xs - slack) << s
    hi = ((xs + 1) << s) - 1

    def gap(m: int) -> int:  # convex in m; feasible iff <= 0
        c = max(0, int((lo - m * us).max()))
        return c - int((hi - m * us).min())

    top = min(m_cap, int(((xs.max() + 1) << s) // max(1, int(us.max()))) + 1)
    a, b = 0, top  # the minimum of the convex gap, by bisection on its slope
    while a < b:
        mid = (a + b) // 2
        if gap(mid + 1) >= gap(mid):
            b = mid
        else:
            a = mid + 1
    if gap(a) > 0:
        return None
    b, a = a, 0  # the smallest feasible m: gap is non-increasing on [0, minimum]
    while a < b:
        mid = (a + b) // 2
        if gap(mid) <= 0:
            b = mid
        else:
            a = mid + 1
    return a, max(0, int((lo - a * us).max()))


def _search(d: int, levels: int, slack: int, shift_in: int, arith: str
            ) -> tuple[int, int, int] | None:
    """``(m, c, s)`` with the smallest ``s`` (then the smallest ``m``, ``c``) for which
    ``((t >> shift_in) * m + c) >> s`` is within ``slack`` below ``x`` at the check
    points, in ``arith``; shifts of whole bytes are preferred when they fit too. None if
    there is none."""
    ts = np.array(check_points(d, levels), dtype=np.int64)
    us = ts >> shift_in
    xs = np.array([level(int(t), d, levels) for t in ts], dtype=np.int64)
    u_max = d >> shift_in
    if arith != "u32" and u_max > U16:
        return None
    m_cap, limit = {"u16": (U16, U16), "u16x16": (U16, U32), "u32": (U32, U32)}[arith]

    def fits(s: int) -> tuple[int, int] | None:
        found = _fit(us, xs, s, slack, m_cap)
        if found is None or u_max * found[0] + found[1] > limit:
            return None
        return found

    s_lo, s_hi = 0, MAX_SHIFT  # feasibility is monotone in s: (2m, 2c, s + 1) also works
    if _fit(us, xs, s_hi, slack, U64) is None:
        return None
    while s_lo < s_hi:
        mid = (s_lo + s_hi) // 2
        if _fit(us, xs, mid, slack, U64) is not None:
            s_hi = mid
        else:
            s_lo = mid + 1
    for s in (-(-s_lo // 8) * 8, *range(s_lo, s_lo + 8)):
        found = fits(s)
        if found is not None:
            return found[0], found[1], s
    return None


def _steps(d: int, levels: int) -> tuple[int, ...]:
    """``T(k) mod 2**16`` for k = 1..L if every step is at most 2**15 wide, else ()."""
    edges = [0, *(threshold(k, d, levels) for k in range(1, levels + 1)), d + 1]
    if any(b - a > STEP_WIDTH for a, b in zip(edges, edges[1:], strict=False)):
        return ()
    return tuple(e & U16 for e in edges[1:-1])


def plan_scaler(d: int, levels: int) -> Scaler:
    """The cheapest proven arithmetic for a span ``d`` and ``L = levels`` (see the module
    docstring): a single multiply-shift in the narrowest arithmetic, else an estimate (its
    input shifted right by whole bytes where that suffices) and an exact correction.
    Raises CodegenError for a span outside ``[0, 2**32 - 1]``."""
    if not 0 <= d <= U32:
        raise CodegenError(f"a raw span of {d}: expected 0 to 2**32 - 1")
    if not 1 <= levels <= 255:
        raise CodegenError(f"levels {levels}: expected 1 to 255")
    if d == 0:
        return Scaler("zero", d, levels)
    for arith in ARITHS:
        found = _search(d, levels, 0, 0, arith)
        if found is not None:
            sc = Scaler("mul", d, levels, 0, found[0], found[1], found[2], arith)
            prove(sc)
            return sc
    kind = "fix32" if 4 * d <= 2**32 else "fix64"
    low = max(0, d.bit_length() - 16)
    for shift_in in dict.fromkeys([*range(-(-low // 8) * 8, d.bit_length() - 8, 8), low, 0]):
        for arith in ARITHS:
            found = _search(d, levels, 1, shift_in, arith)
            if found is not None:
                sc = Scaler(kind, d, levels, shift_in, found[0], found[1], found[2], arith,
                            _steps(d, levels))
                prove(sc)
                return sc
    raise CodegenError(f"no exact integer arithmetic found for a raw span of {d}")
