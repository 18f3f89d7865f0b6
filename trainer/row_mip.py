"""A neighbourhood sub-MIP that is exact on every training row (``--all-rows``).

One linear function of the network is freed: a class row of a layer without hidden layers
after it, or one hidden neuron's pre-activation. Its value on row ``r`` is

    f[r] = base[r] + sum_{i in S} A[r, i] * w[i] + b

(``S``: the freed weights, ``base``: the part that stays fixed, ``b``: the freed bias), and
whether row ``r`` ends up correctly classified depends on ``f[r]`` alone, through one
threshold (the caller computes which, from the rest of the network): ``mode`` 1, correct
iff ``f >= thr``; ``mode`` 2, correct iff ``f <= thr``; ``mode`` 0, correct or not
whatever ``f`` is (``const``).

Inside the window (``w[i]`` in ``[lo[i], hi[i]]`` or 0, ``b`` in ``[b_lo, b_hi]``) the range
of ``f[r]`` is known, so every row whose outcome cannot change is a constant; rows with
equal coefficients, fixed part and threshold are one group, weighted by its size. Only the
groups left get a binary ``c`` (big-M rows with the exact bounds of ``f`` over the window),
so the sub-MIP maximises the number of correct training rows exactly, on all of them.

The budget is inside: with ``budget`` set, a binary ``z[i]`` per freed weight,
``lo z <= w <= hi z`` (a weight is 0 or in its window, so the solver may drop a weight or
bring in a new one), and ``sum z <= budget`` (the non-zeros the rest of the layer leaves).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from mipnn.trainer.highs import solve_highs
from mipnn.trainer.problem import ProblemBuilder


@dataclass(frozen=True)
class RowProblem:
    """A freed linear function and what each training row needs of it (module docstring).
    ``A``: ``[N, |S|]`` ints; ``base``, ``thr``: ``[N]`` ints; ``mode``: ``[N]`` in 0, 1, 2;
    ``const``: ``[N]`` bool (the outcome of the mode-0 rows)."""

    A: np.ndarray
    base: np.ndarray
    mode: np.ndarray
    thr: np.ndarray
    const: np.ndarray

    def correct(self, w: np.ndarray, b: int) -> int:
        """How many rows are correct with the freed weights ``w`` and bias ``b``."""
        f = self.base + self.A @ w + b
        ok = np.where(self.mode == 1, f >= self.thr, np.where(self.mode == 2, f <= self.thr,
                                                             self.const))
        return int(ok.sum())


@dataclass(frozen=True)
class Window:
    """The freed parameters' ranges: ``w[i]`` is 0 or in ``[lo[i], hi[i]]`` (with a
    budget; otherwise in ``[lo[i], hi[i]]``), ``b`` in ``[b_lo, b_hi]``."""

    lo: np.ndarray
    hi: np.ndarray
    b_lo: int
    b_hi: int
    budget: int | None = None  # at most this many non-zero freed weights (None: no limit)


def bounds_of_f(rp: RowProblem, win: Window) -> tuple[np.ndarray, np.ndarray]:
    """The exact range ``[f_lo, f_hi]`` of every row's ``f`` over the window."""
    A = rp.A
    lo, hi = win.lo[None, :] * A, win.hi[None, :] * A
    low, high = np.minimum(lo, hi), np.maximum(lo, hi)
    if win.budget is not None:  # a weight may also be 0
        low, high = np.minimum(low, 0), np.maximum(high, 0)
    return rp.base + low.sum(axis=1) + win.b_lo, rp.base + high.sum(axis=1) + win.b_hi


def open_groups(rp: RowProblem, win: Window) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows whose outcome the window can change, grouped: ``(keys, counts, fixed)``
    with ``keys`` the distinct ``[A | base | mode | thr]`` rows, ``counts`` their sizes
    and ``fixed`` the number of rows correct whatever the freed parameters are."""
    f_lo, f_hi = bounds_of_f(rp, win)
    m1, m2 = rp.mode == 1, rp.mode == 2
    always = (m1 & (f_lo >= rp.thr)) | (m2 & (f_hi <= rp.thr)) | ((rp.mode == 0) & rp.const)
    never = (m1 & (f_hi < rp.thr)) | (m2 & (f_lo > rp.thr)) | ((rp.mode == 0) & ~rp.const)
    open_rows = ~(always | never)
    stacked = np.column_stack([rp.A[open_rows], rp.base[open_rows], rp.mode[open_rows],
                               rp.thr[open_rows]]).astype(np.int64)
    if stacked.shape[0] == 0:
        return stacked, np.zeros(0, np.int64), int(always.sum())
    keys, counts = np.unique(stacked, axis=0, return_counts=True)
    return keys, counts, int(always.sum())


def solve_rows(
    rp: RowProblem, win: Window, w0: np.ndarray, b0: int, *, time_limit: float,
    seed: int = 0, max_groups: int = 4000,
) -> tuple[np.ndarray, int, dict[str, Any]] | None:
    """The best freed weights and bias in the window (at least as good as ``w0``, ``b0``,
    which must lie in it): maximises the number of correct rows over all of them. None
    when more than ``max_groups`` groups stay open (the caller narrows the window)."""
    keys, counts, fixed = open_groups(rp, win)
    G, k = len(counts), rp.A.shape[1]
    if G > max_groups:
        return None
    info: dict[str, Any] = {"groups": G, "fixed_correct": fixed, "status": "trivial",
                            "time": 0.0}
    if G == 0:
        return w0.copy(), int(b0), info
    A_g, base_g, mode_g, thr_g = keys[:, :k], keys[:, k], keys[:, k + 1], keys[:, k + 2]
    sub = RowProblem(A_g, np.zeros(G, np.int64), mode_g, thr_g - base_g, np.zeros(G, bool))
    e_lo, e_hi = bounds_of_f(sub, win)  # the range of A w + b, per group
    bld = ProblemBuilder()
    with_z = win.budget is not None
    w_lo = np.minimum(win.lo, 0) if with_z else win.lo
    w_hi = np.maximum(win.hi, 0) if with_z else win.hi
    wv = bld.add_var("w", (k,), w_lo.astype(float), w_hi.astype(float), integer=True)
    bv = bld.add_var("b", (1,), float(win.b_lo), float(win.b_hi), integer=True)
    cv = bld.add_var("c", (G,), 0, 1, integer=True)
    rr, cc = np.nonzero(A_g)
    rows = np.concatenate([rr, np.arange(G), np.arange(G)])
    cols = np.concatenate([wv[cc], np.repeat(bv, G), cv])
    need = sub.thr
    big = np.where(mode_g == 1, need - e_lo, e_hi - need).astype(float)
    vals = np.concatenate([A_g[rr, cc].astype(float), np.ones(G),
                           np.where(mode_g == 1, -big, big)])
    lower = np.where(mode_g == 1, e_lo, -np.inf).astype(float)
    upper = np.where(mode_g == 1, np.inf, e_hi).astype(float)
    bld.add_rows(G, rows, cols, vals, lower, upper)  # c = 1 => A w + b >= / <= need
    start_parts = [w0.astype(float), [float(b0)]]
    e0 = A_g @ w0 + b0
    start_parts.append(np.where(mode_g == 1, e0 >= need, e0 <= need).astype(float))
    if with_z:
        zv = bld.add_var("z", (k,), 0, 1, integer=True)
        r2 = np.concatenate([np.arange(k), np.arange(k)])
        c2 = np.concatenate([wv, zv])
        bld.add_rows(k, r2, c2, np.concatenate([np.ones(k), -win.hi.astype(float)]),
                     -np.inf, 0.0)  # w <= hi z
        bld.add_rows(k, r2, c2, np.concatenate([np.ones(k), -win.lo.astype(float)]),
                     0.0, np.inf)  # w >= lo z
        bld.add_rows(1, np.zeros(k), zv, np.ones(k), -np.inf, float(win.budget))
        start_parts.append((w0 != 0).astype(float))
    bld.set_cost(cv, -counts.astype(float))
    problem = bld.build()
    t0 = time.perf_counter()
    res = solve_highs(problem, time_limit=time_limit, seed=seed, threads=1,
                      start=np.concatenate(start_parts))
    info.update(status=getattr(res.status, "value", str(res.status)),
                time=round(time.perf_counter() - t0, 3))
    if res.solution is None:
        return w0.copy(), int(b0), info
    sol = np.asarray(res.solution)
    w = np.rint(sol[wv]).astype(np.int64)
    b = int(np.rint(sol[bv][0]))
    if np.abs(sol[wv] - w).max(initial=0.0) > 1e-5 or abs(sol[bv][0] - b) > 1e-5:
        return w0.copy(), int(b0), info  # never guess a non-integral solver value
    return w, b, info
