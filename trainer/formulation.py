"""The training MIP, written once as data: variables, a sparse constraint matrix, bounds,
integrality and a linear objective (minimised), built with numpy/scipy.

Network: inputs ``x`` (integers in ``[0, L]``), hidden layers of sign neurons, a linear
output layer. Weights are integers in ``[-P, P]``; hidden and output biases in ``[-P, P]``;
the first layer's bias in ``[-P*L, P*L]`` (inputs are scaled by ``L``, ARCHITECTURE.md 3).

* First layer: the pre-activation ``z = X W^T + b`` is linear in the variables.
* Later layers see activations ``a = 2u - 1`` (``u`` binary); each product ``W[j,i] * a[i]``
  is a continuous variable ``c`` tied to ``W`` and ``u`` by four exact big-M rows.
* ``sign``: ``u = 1  =>  z >= 0`` and ``u = 0  =>  z <= -1``. The strict inequality is the
  exact integer one; big-M values are the tightest bounds of ``z`` implied by the input and
  weight bounds, per example for the first layer.
Objectives (``NetworkSpec.objective``), all minimised, for any number of hidden layers:

* ``sat_margin`` (Thorbjarnarson & Yorke-Smith 2023): a binary ``q[n,k]`` per (example,
  class) pair; ``q = 1`` forces the score of the true class ``>= margin`` and of every other
  class ``<= -margin``. The objective is the number of unsatisfied pairs.
  With ``margin >= 1`` an example whose pairs are all satisfied is classified correctly.
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

Symmetry breaking (``build_problem(..., symmetry=True)``): hidden neurons of a layer are
interchangeable, so they are ordered by the key ``(2P+1) b[j] + W[j, i0]`` (lexicographic
on the bias, then the first active input's weight): ``key[j] >= key[j+1]``. Any network
can be permuted to satisfy it (:func:`order_neurons`), so no solution is lost.

For the objectives without hard rows the all-zero network is feasible; ``zero_start``
returns it so a solver never ends without a solution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

OBJECTIVES = ("sat_margin", "max_correct", "min_hinge", "min_w", "max_m")
HARD_OBJECTIVES = ("min_w", "max_m")  # every training example must be classified correctly


@dataclass(frozen=True)
class VarBlock:
    start: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def index(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.size).reshape(self.shape)


@dataclass
class MipProblem:
    """A MIP in matrix form: minimise ``cost @ v + offset`` subject to
    ``row_lower <= A v <= row_upper``, ``col_lower <= v <= col_upper``, ``v[integrality]``
    integer."""

    cost: np.ndarray
    offset: float
    A: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    blocks: dict[str, VarBlock]
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def n_cols(self) -> int:
        return int(self.cost.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.shape[0])

    def values(self, solution: np.ndarray, name: str) -> np.ndarray:
        """The block ``name`` of a solution vector, in the block's shape."""
        return np.asarray(solution)[self.blocks[name].index()]


class ProblemBuilder:
    """Accumulates variable blocks and vectorised constraint rows (COO triplets)."""

    def __init__(self) -> None:
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self.blocks: dict[str, VarBlock] = {}
        self.n_cols = 0
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._rlo: list[np.ndarray] = []
        self._rhi: list[np.ndarray] = []
        self.n_rows = 0
        self.extra: dict[str, object] = {}

    def add_var(
        self,
        name: str,
        shape: tuple[int, ...],
        lower: float | np.ndarray,
        upper: float | np.ndarray,
        integer: bool,
    ) -> np.ndarray:
        block = VarBlock(self.n_cols, tuple(int(s) for s in shape))
        size = block.size
        self.blocks[name] = block
        self._lower.append(np.broadcast_to(np.asarray(lower, dtype=float), shape).ravel())
        self._upper.append(np.broadcast_to(np.asarray(upper, dtype=float), shape).ravel())
        self._int.append(np.full(size, integer))
        self._cost.append(np.zeros(size))
        self.n_cols += size
        return block.index()

    def add_rows(
        self,
        n: int,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        lower: float | np.ndarray,
        upper: float | np.ndarray,
    ) -> None:
        """Add ``n`` rows; ``rows`` are local indices in ``[0, n)`` of each triplet."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).ravel()
        self._rows.append(rows + self.n_rows)
        self._cols.append(cols)
        self._vals.append(vals)
        self._rlo.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).ravel())
        self._rhi.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).ravel())
        self.n_rows += n

    def set_cost(self, index: np.ndarray, value: float | np.ndarray) -> None:
        cost = np.concatenate(self._cost) if len(self._cost) > 1 else self._cost[0]
        cost[np.asarray(index).ravel()] = value
        self._cost = [cost]

    def build(self, offset: float = 0.0, meta: dict[str, object] | None = None) -> MipProblem:
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, np.int64)
        cols = np.concatenate(self._cols) if self._cols else np.zeros(0, np.int64)
        vals = np.concatenate(self._vals) if self._vals else np.zeros(0)
        keep = vals != 0
        A = sp.csc_matrix(
            (vals[keep], (rows[keep], cols[keep])), shape=(self.n_rows, self.n_cols)
        )
        A.sum_duplicates()
        return MipProblem(
            cost=np.concatenate(self._cost),
            offset=offset,
            A=A,
            row_lower=np.concatenate(self._rlo) if self._rlo else np.zeros(0),
            row_upper=np.concatenate(self._rhi) if self._rhi else np.zeros(0),
            col_lower=np.concatenate(self._lower),
            col_upper=np.concatenate(self._upper),
            integrality=np.concatenate(self._int),
            blocks=dict(self.blocks),
            meta=(meta or {}) | self.extra,
        )


@dataclass(frozen=True)
class NetworkSpec:
    """What to train: layer sizes and bounds."""

    n_inputs: int
    hidden: tuple[int, ...]
    n_classes: int
    bound: int  # P
    levels: int  # L
    objective: str = "sat_margin"
    margin: int = 1
    prune: float | None = None  # ALPHA: cost of each active hidden neuron (None: no switches)
    weight_penalty: float = 0.0  # cost of each unit of sum |W| (a regulariser; 0: none)

    @property
    def sizes(self) -> list[int]:
        return [self.n_inputs, *self.hidden, self.n_classes]


def _linear_first_layer(
    b: ProblemBuilder, X: np.ndarray, W: np.ndarray, bias: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Triplets of ``z[n, j] = sum_i X[n, i] W[j, i] + bias[j]`` as rows ``n * J + j``."""
    N = X.shape[0]
    J = W.shape[0]
    ex, feat = np.nonzero(X)
    xv = X[ex, feat].astype(float)
    # rows (n, j) for every nonzero input (n, i) and every neuron j
    rows = (ex[:, None] * J + np.arange(J)[None, :]).ravel()
    cols = W[:, feat].T.ravel()
    vals = np.repeat(xv, J)
    brows = np.arange(N * J)
    bcols = np.tile(bias, N)
    return (
        np.concatenate([rows, brows]),
        np.concatenate([cols, bcols]),
        np.concatenate([vals, np.ones(N * J)]),
    )


def _product_layer(
    b: ProblemBuilder, name: str, W: np.ndarray, u_prev: np.ndarray, P: int
) -> np.ndarray:
    """Variables ``c[n, j, i] = W[j, i] * (2 u_prev[n, i] - 1)`` with four exact rows each."""
    N, n_prev = u_prev.shape
    J = W.shape[0]
    c = b.add_var(name, (N, J, n_prev), -P, P, integer=False)
    cc = c.ravel()
    ww = np.broadcast_to(W[None, :, :], (N, J, n_prev)).ravel()
    uu = np.broadcast_to(u_prev[:, None, :], (N, J, n_prev)).ravel()
    m = cc.size
    r = np.arange(m)
    trip_r = np.concatenate([r, r, r])
    trip_c = np.concatenate([cc, ww, uu])
    two_p = 2.0 * P
    # u = 1: c == W ;  u = 0: c == -W
    b.add_rows(m, trip_r, trip_c, np.concatenate([np.ones(m), -np.ones(m), np.full(m, two_p)]),
               -np.inf, two_p)            # c - W + 2P u <= 2P
    b.add_rows(m, trip_r, trip_c, np.concatenate([np.ones(m), -np.ones(m), np.full(m, -two_p)]),
               -two_p, np.inf)            # c - W - 2P u >= -2P
    b.add_rows(m, trip_r, trip_c, np.concatenate([np.ones(m), np.ones(m), np.full(m, -two_p)]),
               -np.inf, 0.0)              # c + W - 2P u <= 0
    b.add_rows(m, trip_r, trip_c, np.concatenate([np.ones(m), np.ones(m), np.full(m, two_p)]),
               0.0, np.inf)               # c + W + 2P u >= 0
    return c


ParamBounds = list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
"""Per layer ``(W_lower, W_upper, b_lower, b_upper)``, arrays of the layer's shapes."""


def default_bounds(spec: NetworkSpec) -> ParamBounds:
    """Weights in ``[-P, P]``; the first layer's bias in ``[-P*L, P*L]``, others ``[-P, P]``."""
    P = spec.bound
    out = []
    for li in range(len(spec.sizes) - 1):
        n_in, n_out = spec.sizes[li], spec.sizes[li + 1]
        bb = P * spec.levels if li == 0 else P
        out.append((np.full((n_out, n_in), -P), np.full((n_out, n_in), P),
                    np.full(n_out, -bb), np.full(n_out, bb)))
    return out


def build_problem(
    spec: NetworkSpec,
    X: np.ndarray,
    y: np.ndarray,
    bounds: ParamBounds | None = None,
    *,
    symmetry: bool = False,
    tight_big_m: bool = True,
) -> MipProblem:
    """Build the training MIP of ``spec`` for examples ``X`` (ints in [0, L]) and labels
    ``y`` (class indices). ``bounds`` narrows each parameter's range (batch training);
    it is intersected with the default ranges of ``spec``. Big-M values are computed from
    the bounds: per (example, neuron) in the first layer, per neuron after it.
    ``symmetry`` orders the hidden neurons of each layer (module docstring); it is ignored
    when ``bounds`` is given, since per-parameter ranges break the neurons' symmetry.
    ``tight_big_m=False`` uses one global big-M per layer instead (``P L n + P L`` in the
    first layer), only to measure what the tight values are worth (docs/TRAINING.md)."""
    if spec.objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {spec.objective!r}; expected one of {OBJECTIVES}")
    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    N, n = X.shape
    P, K = spec.bound, spec.n_classes
    sizes = spec.sizes
    b = ProblemBuilder()
    # Inputs that are zero in every training example get zero weights.
    active = X.any(axis=0)
    ranges = default_bounds(spec)
    if bounds is not None:
        if len(bounds) != len(ranges):
            raise ValueError(f"bounds for {len(bounds)} layers, the network has {len(ranges)}")
        ranges = [
            (np.maximum(wl, bwl), np.minimum(wu, bwu), np.maximum(bl, bbl), np.minimum(bu, bbu))
            for (wl, wu, bl, bu), (bwl, bwu, bbl, bbu) in zip(ranges, bounds, strict=True)
        ]
    wl0, wu0, bl0, bu0 = ranges[0]
    ranges[0] = (np.where(active[None, :], wl0, 0), np.where(active[None, :], wu0, 0), bl0, bu0)
    for li, (wl, wu, bl, bu) in enumerate(ranges):
        if np.any(wl > wu) or np.any(bl > bu):
            raise ValueError(f"empty parameter range in layer {li}")
    weights, biases = [], []
    for li, (wl, wu, bl, bu) in enumerate(ranges):
        weights.append(b.add_var(f"W{li}", wl.shape, wl, wu, integer=True))
        biases.append(b.add_var(f"b{li}", bl.shape, bl, bu, integer=True))

    objective = spec.objective
    u_prev = None
    n_layers = len(sizes) - 1
    margins: list[np.ndarray] = []
    for li in range(n_layers):
        J = sizes[li + 1]
        last = li == n_layers - 1
        wl, wu, bl, bu = ranges[li]
        if li == 0:
            rows, cols, vals = _linear_first_layer(b, X, weights[0], biases[0], N * J)
            # tightest bounds of z[n, j] = b[j] + sum_i W[j, i] x[n, i] with x >= 0
            zmin = (X @ wl.T + bl).astype(float).ravel()
            zmax = (X @ wu.T + bu).astype(float).ravel()
            if not tight_big_m:
                loose = float(P * spec.levels * (n + 1))
                zmin, zmax = np.full_like(zmin, -loose), np.full_like(zmax, loose)
        else:
            wabs = np.maximum(np.abs(wl), np.abs(wu))
            c = _product_layer(b, f"c{li}", weights[li], u_prev, P)
            # z[n, j] = bias[j] + sum_i c[n, j, i]
            n_prev = sizes[li]
            rows = np.concatenate([np.repeat(np.arange(N * J), n_prev), np.arange(N * J)])
            cols = np.concatenate([c.ravel(), np.tile(biases[li], N)])
            vals = np.ones(rows.shape[0])
            zmin = np.tile(bl - wabs.sum(axis=1), N).astype(float)
            zmax = np.tile(bu + wabs.sum(axis=1), N).astype(float)
        if not last:
            u = b.add_var(f"u{li}", (N, J), 0, 1, integer=True)
            ur = u.ravel()
            r_u = np.arange(N * J)
            if objective == "max_m":
                # margin m[j] >= 0:  u = 1 => z >= m ;  u = 0 => z <= -1 - m
                mmax = np.maximum(zmax, -zmin - 1.0).reshape(N, J).max(axis=0).clip(min=0.0)
                m = b.add_var(f"m{li}", (J,), 0.0, mmax, integer=False)
                margins.append(m)
                mm = np.tile(mmax, N)
                big_lo = mm - zmin  # z - m - (mmax - zmin) u >= -(mmax - zmin)
                b.add_rows(N * J, np.concatenate([rows, r_u, r_u]),
                           np.concatenate([cols, ur, np.tile(m, N)]),
                           np.concatenate([vals, -big_lo, -np.ones(N * J)]), -big_lo, np.inf)
                big_hi = zmax + mm + 1.0  # z + m - (zmax + mmax + 1) u <= -1
                b.add_rows(N * J, np.concatenate([rows, r_u, r_u]),
                           np.concatenate([cols, ur, np.tile(m, N)]),
                           np.concatenate([vals, -big_hi, np.ones(N * J)]), -np.inf, -1.0)
            else:
                m_lo = np.maximum(0.0, -zmin)
                m_hi = np.maximum(zmax, -1.0) + 1.0
                # u = 1 => z >= 0 :  z - M u >= -M       (M = -min z)
                b.add_rows(N * J, np.concatenate([rows, r_u]), np.concatenate([cols, ur]),
                           np.concatenate([vals, -m_lo]), -m_lo, np.inf)
                # u = 0 => z <= -1:  z - (M + 1) u <= -1 (M = max z)
                b.add_rows(N * J, np.concatenate([rows, r_u]), np.concatenate([cols, ur]),
                           np.concatenate([vals, -m_hi]), -np.inf, -1.0)
            u_prev = u
        else:
            scores = (rows, cols, vals)
            if objective == "sat_margin":
                _sat_margin(b, rows, cols, vals, zmin, zmax, y, N, K, spec.margin)
            elif objective == "min_hinge":
                _min_hinge(b, rows, cols, vals, zmin, zmax, y, N, K, spec.margin)
            else:
                _correct_rows(b, scores, zmin, zmax, y, N, K, objective, margins, weights)

    if symmetry and bounds is None:
        _order_neurons_rows(b, spec, weights, biases, active)
    if spec.prune is not None:
        _neuron_switches(b, spec, weights, biases, ranges)
    if spec.weight_penalty and objective != "min_w":
        b.set_cost(_abs_weights(b, weights), float(spec.weight_penalty))

    offset = {"sat_margin": float(N * K), "max_correct": float(N)}.get(objective, 0.0)
    meta = {"spec": spec, "n_examples": N, "X": X, "y": y, "symmetry": symmetry and bounds is None,
            "first_active": int(np.argmax(active)) if active.any() else 0}
    return b.build(offset=offset, meta=meta)


def _sat_margin(
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


def _min_hinge(
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


def _correct_rows(
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
    b.set_cost(_abs_weights(b, weights), 1.0)


def _abs_weights(b: ProblemBuilder, weights: list[np.ndarray]) -> np.ndarray:
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


def _order_neurons_rows(
    b: ProblemBuilder,
    spec: NetworkSpec,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    active: np.ndarray,
) -> None:
    """``key[j] >= key[j+1]`` with ``key = (2P+1) b[j] + W[j, i0]`` in every hidden layer."""
    R = 2.0 * spec.bound + 1.0
    for li in range(len(spec.hidden)):
        J = spec.hidden[li]
        if J < 2:
            continue
        i0 = int(np.argmax(active)) if li == 0 else 0
        w = weights[li][:, i0]
        bb = biases[li]
        r = np.arange(J - 1)
        rr = np.concatenate([r, r, r, r])
        cc = np.concatenate([bb[:-1], w[:-1], bb[1:], w[1:]])
        vv = np.concatenate([np.full(J - 1, R), np.ones(J - 1), np.full(J - 1, -R),
                             -np.ones(J - 1)])
        b.add_rows(J - 1, rr, cc, vv, 0.0, np.inf)


def order_neurons(
    network: list[tuple[np.ndarray, np.ndarray]], bound: int, first_active: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The same function with the hidden neurons of each layer permuted so that their keys
    ``(2P+1) b[j] + W[j, i0]`` do not increase (the order ``symmetry=True`` imposes)."""
    net = [(np.array(W), np.array(bias)) for W, bias in network]
    R = 2 * bound + 1
    for li in range(len(net) - 1):
        W, bias = net[li]
        i0 = first_active if li == 0 else 0
        key = R * bias.astype(np.int64) + W[:, i0].astype(np.int64)
        perm = np.argsort(-key, kind="stable")
        net[li] = (W[perm], bias[perm])
        Wn, bn = net[li + 1]
        net[li + 1] = (Wn[:, perm], bn)
    return net


def _neuron_switches(
    b: ProblemBuilder,
    spec: NetworkSpec,
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    ranges: ParamBounds,
) -> None:
    """Neuron-count optimisation (the paper's): a binary ``s[j]`` per hidden neuron; when
    it is 0 the neuron's incoming weights, bias and outgoing weights are all zero. At least
    ``min(K, H)`` neurons stay on in the last hidden layer; each active neuron costs
    ``ALPHA`` in the objective."""
    n_hidden = len(spec.hidden)
    for li in range(n_hidden):
        J = spec.hidden[li]
        s = b.add_var(f"s{li}", (J,), 0, 1, integer=True)
        wl, wu, bl, bu = ranges[li]
        owl, owu = ranges[li + 1][0], ranges[li + 1][1]
        # (variable, its neuron, lower, upper) for every parameter the switch controls
        var = np.concatenate([weights[li].ravel(), biases[li], weights[li + 1].T.ravel()])
        neuron = np.concatenate([
            np.repeat(np.arange(J), weights[li].shape[1]), np.arange(J),
            np.repeat(np.arange(J), weights[li + 1].shape[0]),
        ])
        lo = np.concatenate([wl.ravel(), bl, owl.T.ravel()]).astype(float)
        hi = np.concatenate([wu.ravel(), bu, owu.T.ravel()]).astype(float)
        m = var.size
        r = np.concatenate([np.arange(m), np.arange(m)])
        c = np.concatenate([var, s[neuron]])
        # v <= hi * s   and   v >= lo * s
        b.add_rows(m, r, c, np.concatenate([np.ones(m), -np.maximum(hi, 0)]), -np.inf, 0.0)
        b.add_rows(m, r, c, np.concatenate([np.ones(m), -np.minimum(lo, 0)]), 0.0, np.inf)
        if li == n_hidden - 1:
            keep = min(spec.n_classes, J)
            b.add_rows(1, np.zeros(J), s, np.ones(J), float(keep), np.inf)
        b.set_cost(s, float(spec.prune))


def lexicographic_stage(problem: MipProblem, cap: float) -> MipProblem:
    """Second stage of the lexicographic mode: keep the accuracy objective at most ``cap``
    (a row) and minimise only the number of active neurons (the switch costs)."""
    switches = np.zeros(problem.n_cols, dtype=bool)
    for name, block in problem.blocks.items():
        if name.startswith("s"):
            switches[block.index().ravel()] = True
    if not switches.any():
        raise ValueError("lexicographic_stage needs a problem built with prune set")
    accuracy_cost = np.where(switches, 0.0, problem.cost)
    A = sp.vstack([problem.A, sp.csr_matrix(accuracy_cost[None, :])]).tocsc()
    return MipProblem(
        cost=np.where(switches, 1.0, 0.0),
        offset=0.0,
        A=A,
        row_lower=np.append(problem.row_lower, -np.inf),
        row_upper=np.append(problem.row_upper, cap - problem.offset + 1e-6),
        col_lower=problem.col_lower,
        col_upper=problem.col_upper,
        integrality=problem.integrality,
        blocks=problem.blocks,
        meta=dict(problem.meta, stage="lexicographic"),
    )


def zero_start(problem: MipProblem) -> np.ndarray:
    """The all-zero network (every sign active, every neuron switched on): feasible for the
    objectives without hard rows when zero lies in every parameter's range (the default
    ranges). For ``min_w``/``max_m`` it is returned too, but it is infeasible."""
    v = start_from_network(problem, zero_network(problem.meta["spec"]))  # type: ignore[arg-type]
    for name, block in problem.blocks.items():
        if name.startswith("s") and name[1:].isdigit():
            v[block.index().ravel()] = 1.0
    return v


def zero_network(spec: NetworkSpec) -> list[tuple[np.ndarray, np.ndarray]]:
    sizes = spec.sizes
    return [(np.zeros((sizes[i + 1], sizes[i]), np.int64), np.zeros(sizes[i + 1], np.int64))
            for i in range(len(sizes) - 1)]


def objective_value(problem: MipProblem, v: np.ndarray) -> float:
    """The objective of solution ``v`` (``cost @ v + offset``)."""
    return float(problem.cost @ v + problem.offset)


def start_from_network(
    problem: MipProblem, network: list[tuple[np.ndarray, np.ndarray]]
) -> np.ndarray:
    """A complete solution vector encoding ``network`` (weights, biases per layer) on the
    problem's examples: activations, products and the objective's variables follow from
    it, each at its best value. It is feasible when the network's parameters lie within the
    problem's bounds (and, for ``min_w``/``max_m``, it classifies every example correctly;
    with ``symmetry``, its neurons must be ordered: :func:`order_neurons`)."""
    spec: NetworkSpec = problem.meta["spec"]  # type: ignore[assignment]
    X: np.ndarray = problem.meta["X"]  # type: ignore[assignment]
    y: np.ndarray = problem.meta["y"]  # type: ignore[assignment]
    v = np.zeros(problem.n_cols)
    a = X.astype(np.int64)
    hidden_z = []
    for li, (W, bias) in enumerate(network):
        W = np.asarray(W, dtype=np.int64)
        bias = np.asarray(bias, dtype=np.int64)
        v[problem.blocks[f"W{li}"].index()] = W
        v[problem.blocks[f"b{li}"].index()] = bias
        if li > 0:
            v[problem.blocks[f"c{li}"].index()] = W[None, :, :] * a[:, None, :]
        z = a @ W.T + bias
        if li < len(network) - 1:
            v[problem.blocks[f"u{li}"].index()] = z >= 0
            hidden_z.append(z)
            a = np.where(z >= 0, 1, -1)
    for li in range(len(network) - 1):
        if f"s{li}" in problem.blocks:  # a neuron is on unless all its parameters are zero
            W, bias = network[li]
            on = W.any(axis=1) | (bias != 0) | network[li + 1][0].any(axis=0)
            if li == len(network) - 2 and on.sum() < min(spec.n_classes, on.size):
                on[np.argsort(on, kind="stable")[: min(spec.n_classes, on.size)]] = True
            v[problem.blocks[f"s{li}"].index()] = on
    s = z
    m = spec.margin
    K = spec.n_classes
    target = np.arange(K)[None, :] == y[:, None]
    if "q" in problem.blocks:
        v[problem.blocks["q"].index()] = np.where(target, s >= m, s <= -m)
    if "h" in problem.blocks:
        h = np.maximum(0, m - np.where(target, s, -s))
        v[problem.blocks["h"].index()] = h
        bp = np.asarray(problem.meta["hinge_breakpoints"])
        v[problem.blocks["g"].index()] = hinge_value(h, bp)
    d = s[np.arange(len(y)), y][:, None] - s  # s_y - s_k
    need = (np.arange(K)[None, :] < y[:, None]).astype(np.int64)
    slack = np.where(target, np.iinfo(np.int64).max // 4, d - need)
    if "correct" in problem.blocks:
        v[problem.blocks["correct"].index()] = slack.min(axis=1) >= 0
    if "absW" in problem.blocks:
        v[problem.blocks["absW"].index()] = np.concatenate(
            [np.abs(np.asarray(W)).ravel() for W, _ in network])
    for li, z in enumerate(hidden_z):
        if f"m{li}" in problem.blocks:
            idx = problem.blocks[f"m{li}"].index()
            margin = np.where(z >= 0, z, -1 - z).min(axis=0)
            v[idx] = np.minimum(margin, problem.col_upper[idx])
    if "m_out" in problem.blocks:
        idx = problem.blocks["m_out"].index()
        v[idx] = np.clip(slack.min(), 0, problem.col_upper[idx])
    return v


def is_feasible(problem: MipProblem, v: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether ``v`` satisfies every row, bound and integrality of ``problem``."""
    act = problem.A @ v
    ok_rows = np.all(act >= problem.row_lower - tol) and np.all(act <= problem.row_upper + tol)
    ok_cols = np.all(v >= problem.col_lower - tol) and np.all(v <= problem.col_upper + tol)
    ints = v[problem.integrality]
    return bool(ok_rows and ok_cols and np.all(np.abs(ints - np.rint(ints)) <= tol))


def network_from_solution(
    problem: MipProblem, solution: np.ndarray, tol: float = 1e-5
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Weights and biases of every layer, read strictly: each value must be within
    ``tol`` of an integer (otherwise ValueError: a solver result is never guessed)."""
    spec: NetworkSpec = problem.meta["spec"]  # type: ignore[assignment]
    out = []
    for li in range(len(spec.sizes) - 1):
        W = _strict_int(problem.values(solution, f"W{li}"), f"W{li}", tol)
        bias = _strict_int(problem.values(solution, f"b{li}"), f"b{li}", tol)
        out.append((W, bias))
    return out


def _strict_int(values: np.ndarray, name: str, tol: float) -> np.ndarray:
    r = np.rint(values)
    bad = np.abs(values - r) > tol
    if bad.any():
        idx = np.argwhere(bad)[0]
        raise ValueError(f"solver value of {name}{list(idx)} = {values[tuple(idx)]} is not integral")
    return r.astype(np.int64)


def mip_scores(problem: MipProblem, solution: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Class scores as the MIP's own variables state them (products ``c`` and output
    biases for a hidden network; the linear expression for a network without hidden
    layers). Used to check that the solver's view equals ``forward``."""
    spec: NetworkSpec = problem.meta["spec"]  # type: ignore[assignment]
    last = len(spec.sizes) - 2
    bias = problem.values(solution, f"b{last}")
    if last == 0:
        W = problem.values(solution, "W0")
        s = np.asarray(X, dtype=float) @ W.T + bias
    else:
        c = problem.values(solution, f"c{last}")
        s = c.sum(axis=2) + bias
    return np.rint(s).astype(np.int64)


def mip_activations(problem: MipProblem, solution: np.ndarray, layer: int) -> np.ndarray:
    """Hidden activations (+1/-1) of ``layer`` as the MIP's binaries state them."""
    u = problem.values(solution, f"u{layer}")
    return np.where(np.rint(u) > 0, 1, -1)
