"""The training objectives, as rows and costs added to the network's MIP by
:func:`mipnn.trainer.formulation.build_problem`. All are minimised, for any number of hidden
layers; each works on the output scores ``s[n, k]`` as sparse triplets (row ``n * K + k``)
with their tightest bounds.

* ``sat_margin`` (Thorbjarnarson & Yorke-Smith 2023): a binary ``q[n,k]`` per (example,
  class) pair; ``q = 1`` forces the score of the true class ``>= margin`` and of every other
  class ``<= -margin``. The objective is the number of unsatisfied pairs.
  With ``margin >= 1`` an example whose pairs are all satisfied is classified correctly.
  The paper's margin is ``(H + 1) P / 4`` (:func:`paper_margin`; ``--margin paper``).
* ``max_correct``: a binary ``c[n]`` per example; ``c = 1`` forces the example to be
  classified correctly under the exact tie rule (``s_y - s_k >= 1`` for ``k < y``,
  ``>= 0`` for ``k > y``). The objective is the number of misclassified training examples,
  so it equals ``N * (1 - forward's training accuracy)`` exactly.
* ``min_hinge``: the squared hinge loss ``sum_{n,k} max(0, margin - t[n,k] s[n,k])^2``
  (``t = +1`` for the true class, ``-1`` otherwise). Convex, so its epigraph is exact with
  linear cuts and no binaries: ``h >= margin - t s``, ``h >= 0``, and ``g >=`` the secant of
  ``h^2`` between consecutive breakpoints ``0, 1, 2, 3, 4, 6, 8, 12, 16, 24, ...``
  (:func:`hinge_breakpoints`): exact at every integer up to 4 and at each breakpoint, an
  upper approximation in between; about ``2 log2(max h)`` cuts per pair instead of one per
  integer (16 instead of 256 at P=15).
* ``min_w`` (Toro Icarte et al. 2019): every training example classified correctly (hard
  rows, tie rule as above); minimise ``sum |W|`` over all layers (the number of non-zero
  weights when P=1).
* ``max_m`` (Toro Icarte et al. 2019): every training example classified correctly with
  a margin; maximise the sum of the neurons' margins: a variable ``m[j] >= 0`` per hidden
  neuron (``u = 1 => z >= m``, ``u = 0 => z <= -1 - m``) and one for the output
  (``s_y - s_k >= [k < y] + m_out``). The objective is ``-(sum of margins)``.

``min_w`` and ``max_m`` can be infeasible (no network in range fits every example).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.problem import ProblemBuilder

OBJECTIVES = ("sat_margin", "max_correct", "min_hinge", "min_w", "max_m")
HARD_OBJECTIVES = ("min_w", "max_m")  # every training example must be classified correctly
PAPER_MARGIN = "paper"  # --margin paper: the paper's threshold (paper_margin)
MAX_MARGIN = 2**31 - 1  # class scores are int32 (ARCHITECTURE.md 2): no larger margin can be met


def paper_margin(hidden: tuple[int, ...], bound: int) -> int:
    """The paper's ``sat_margin`` threshold as mipnn's integer margin.

    Thorbjarnarson & Yorke-Smith (2023) require the true class's score to be at least
    ``rho = (H + 1) P / 4`` and every other class's at most ``-rho``, where ``H`` is the
    number of neurons feeding the output layer (the last hidden layer) and ``P`` the
    weight bound: a quarter of the largest score the output layer can reach
    (``H`` inputs of +-1 times weights in ``[-P, P]``, plus a bias in ``[-P, P]``). The
    scores are integers, so ``s >= rho`` is exactly ``s >= ceil(rho)`` and ``s <= -rho``
    exactly ``s <= -ceil(rho)``: the margin is ``ceil((H + 1) P / 4)``, computed in
    integers as ``((H + 1) * P + 3) // 4``. H=16, P=1: rho = 4.25, margin 5; H=16, P=3:
    margin 13; H=16, P=15: margin 64; H=3, P=1: rho = 1, margin 1."""
    if not hidden:
        raise ValueError("the paper's margin needs a hidden layer")
    return ((int(hidden[-1]) + 1) * int(bound) + 3) // 4


def check_margin(margin: int | str, hidden: tuple[int, ...]) -> None:
    """Raise MipnnError unless ``margin`` is an integer >= 1, or ``paper`` with a hidden
    layer."""
    if margin == PAPER_MARGIN:
        if not hidden:
            raise MipnnError("--margin paper is (H+1)P/4 for H neurons in the last hidden "
                             "layer: it needs a hidden layer (--hidden)")
    elif isinstance(margin, str) or not 1 <= margin <= MAX_MARGIN:
        raise MipnnError(f"--margin must be an integer >= 1 (an exact strict margin) and at "
                         f"most {MAX_MARGIN} (class scores are int32), or 'paper', got "
                         f"{margin!r}")


def resolve_margin(margin: int | str, hidden: tuple[int, ...], bound: int) -> int:
    """The integer margin of a configuration: ``margin`` itself, or :func:`paper_margin`
    for ``"paper"``."""
    if margin == PAPER_MARGIN:
        return paper_margin(hidden, bound)
    return int(margin)


def sat_margin_rows(
    b: ProblemBuilder,
    rows: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    smin: np.ndarray,
    smax: np.ndarray,
    y: np.ndarray,
    N: int,
    K: int,
    margin: int,
) -> None:
    """The ``sat_margin`` objective's rows and cost on the score triplets ``rows, cols,
    vals`` (rows ``n * K + k``) with score bounds ``smin``/``smax``."""
    q = b.add_var("q", (N, K), 0, 1, integer=True)
    qr = q.ravel()
    target = (np.arange(K)[None, :] == y[:, None]).ravel()  # row (n, k) is the true class
    r_q = np.arange(N * K)
    # true class:  q = 1 => s >= m :  s - (m - min s) q >= min s
    # other class: q = 1 => s <= -m:  s + (max s + m) q <= max s
    coef = np.where(target, -(margin - smin), smax + margin)
    lower = np.where(target, smin, -np.inf)
    upper = np.where(target, np.inf, smax)
    b.add_rows(N * K, np.concatenate([rows, r_q]), np.concatenate([cols, qr]),
               np.concatenate([vals, coef]), lower, upper)
    b.set_cost(qr, -1.0)  # minimise N*K - sum(q): the number of unsatisfied pairs


def hinge_breakpoints(h_max: float) -> np.ndarray:
    """Breakpoints of the piecewise-linear epigraph of ``h^2`` on ``[0, h_max]``:
    ``0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, ...`` (every integer up to 4, then powers of two
    and their midpoints), the last one ``>= h_max``."""
    points = [0, 1, 2, 3, 4]
    p = 4
    while points[-1] < h_max:
        points += [p + p // 2, 2 * p]
        p *= 2
    out = np.array(points, dtype=float)
    keep = np.searchsorted(out, h_max, side="left")
    return out[: max(int(keep) + 1, 2)]


def hinge_value(h: np.ndarray, breakpoints: np.ndarray) -> np.ndarray:
    """The epigraph's value at ``h``: the largest secant (``>= h^2``, equal at breakpoints)."""
    a, c = breakpoints[:-1], breakpoints[1:]
    h = np.asarray(h, dtype=float)
    return np.maximum(0.0, np.max(h[..., None] * (a + c) - a * c, axis=-1))


def min_hinge_rows(
    b: ProblemBuilder,
    rows: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    smin: np.ndarray,
    smax: np.ndarray,
    y: np.ndarray,
    N: int,
    K: int,
    margin: int,
) -> None:
    """The ``min_hinge`` objective's epigraph (columns ``h``, ``g``, secant rows) and cost on
    the score triplets (rows ``n * K + k``) with score bounds ``smin``/``smax``."""
    target = (np.arange(K)[None, :] == y[:, None]).ravel()
    t = np.where(target, 1.0, -1.0)
    # h >= margin - t s ; the largest value is margin - min(t s)
    hmax = np.maximum(0.0, margin - np.where(target, smin, -smax))
    h = b.add_var("h", (N, K), 0.0, hmax.reshape(N, K), integer=False)
    hr = h.ravel()
    r = np.arange(N * K)
    # h + t s >= margin
    b.add_rows(N * K, np.concatenate([rows, r]), np.concatenate([cols, hr]),
               np.concatenate([vals * t[rows], np.ones(N * K)]), float(margin), np.inf)
    bp = hinge_breakpoints(float(hmax.max()))
    g = b.add_var("g", (N, K), 0.0, np.inf, integer=False)
    gr = g.ravel()
    lo, hi = bp[:-1], bp[1:]
    S = lo.size
    # g - (lo + hi) h >= -lo hi  for every segment: rows (segment, pair)
    rr = np.arange(S * N * K)
    b.add_rows(S * N * K, np.concatenate([rr, rr]),
               np.concatenate([np.tile(gr, S), np.tile(hr, S)]),
               np.concatenate([np.ones(S * N * K), -np.repeat(lo + hi, N * K)]),
               -np.repeat(lo * hi, N * K), np.inf)
    b.set_cost(gr, 1.0)
    b.extra["hinge_breakpoints"] = bp


def correct_rows(
    b: ProblemBuilder,
    scores: tuple[np.ndarray, np.ndarray, np.ndarray],
    smin: np.ndarray,
    smax: np.ndarray,
    y: np.ndarray,
    N: int,
    K: int,
    objective: str,
    margins: list[np.ndarray],
    weights: list[np.ndarray],
) -> None:
    """Rows ``s_y - s_k >= [k < y] (+ margin)`` for every example ``n`` and class ``k != y``:
    switched by a binary per example (max_correct) or hard (min_w, max_m)."""
    rows, cols, vals = scores
    S = sp.csr_matrix((vals, (rows, cols)), shape=(N * K, b.n_cols))
    ex, kk = np.nonzero(np.arange(K)[None, :] != y[:, None])
    yy = y[ex]
    D = (S[ex * K + yy] - S[ex * K + kk]).tocoo()
    m = ex.size
    need = (kk < yy).astype(float)  # tie rule: the lowest index wins
    dmin = smin[ex * K + yy] - smax[ex * K + kk]
    if objective == "max_correct":
        c = b.add_var("correct", (N,), 0, 1, integer=True)
        # c = 1 => d >= need :  d + (dmin - need) c >= dmin
        b.add_rows(m, np.concatenate([D.row, np.arange(m)]), np.concatenate([D.col, c[ex]]),
                   np.concatenate([D.data, dmin - need]), dmin, np.inf)
        b.set_cost(c, -1.0)  # minimise N - sum(c): the misclassified examples
        return
    if objective == "max_m":
        dmax = smax[ex * K + yy] - smin[ex * K + kk]
        mo = b.add_var("m_out", (1,), 0.0, max(0.0, float(dmax.max())), integer=False)
        margins.append(mo)
        b.add_rows(m, np.concatenate([D.row, np.arange(m)]),
                   np.concatenate([D.col, np.repeat(mo, m)]),
                   np.concatenate([D.data, -np.ones(m)]), need, np.inf)
        b.set_cost(np.concatenate(margins), -1.0)
        return
    # min_w: hard rows, minimise sum |W|
    b.add_rows(m, D.row, D.col, D.data, need, np.inf)
    b.set_cost(abs_weight_columns(b, weights), 1.0)


def abs_weight_columns(b: ProblemBuilder, weights: list[np.ndarray]) -> np.ndarray:
    """Columns ``a >= |W|`` for every weight of every layer (``a - W >= 0``, ``a + W >= 0``):
    exact at an optimum when ``a`` has a positive cost in a minimisation."""
    allw = np.concatenate([w.ravel() for w in weights])
    a = b.add_var("absW", (allw.size,), 0.0, np.inf, integer=False)
    r = np.arange(allw.size)
    rr = np.concatenate([r, r])
    cc = np.concatenate([a, allw])
    one = np.ones(allw.size)
    b.add_rows(allw.size, rr, cc, np.concatenate([one, -one]), 0.0, np.inf)  # a - W >= 0
    b.add_rows(allw.size, rr, cc, np.concatenate([one, one]), 0.0, np.inf)  # a + W >= 0
    return a
