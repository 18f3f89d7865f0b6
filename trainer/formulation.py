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
* ``sat_margin`` (Thorbjarnarson & Yorke-Smith 2023): a binary ``q[n,k]`` per (example,
  class) pair; ``q = 1`` forces the score of the true class ``>= margin`` and of every other
  class ``<= -margin``. The objective minimises the number of unsatisfied pairs.
  With ``margin >= 1`` an example whose pairs are all satisfied is classified correctly.

The all-zero network with every ``u = 1`` and ``q = 0`` is always feasible; ``zero_start``
returns it so a solver never ends without a solution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

OBJECTIVES = ("sat_margin",)


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
            meta=meta or {},
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


def build_problem(spec: NetworkSpec, X: np.ndarray, y: np.ndarray) -> MipProblem:
    """Build the training MIP of ``spec`` for examples ``X`` (ints in [0, L]) and labels
    ``y`` (class indices)."""
    if spec.objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {spec.objective!r}; expected one of {OBJECTIVES}")
    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    N, n = X.shape
    P, L, K = spec.bound, spec.levels, spec.n_classes
    sizes = spec.sizes
    b = ProblemBuilder()
    # Inputs that are zero in every training example get zero weights.
    active = X.any(axis=0)
    weights, biases = [], []
    for li in range(len(sizes) - 1):
        n_in, n_out = sizes[li], sizes[li + 1]
        if li == 0:
            wl = np.where(active[None, :], -P, 0) * np.ones((n_out, n_in))
            wu = -wl
            bb = P * L
        else:
            wl, wu, bb = -P, P, P
        weights.append(b.add_var(f"W{li}", (n_out, n_in), wl, wu, integer=True))
        biases.append(b.add_var(f"b{li}", (n_out,), -bb, bb, integer=True))

    # Bounds of the first layer's pre-activation, per example: |z| <= P*sum(x) + P*L.
    first_bound = P * X.sum(axis=1).astype(float) + P * L  # (N,)

    u_prev = None
    n_layers = len(sizes) - 1
    for li in range(n_layers):
        J = sizes[li + 1]
        last = li == n_layers - 1
        if li == 0:
            rows, cols, vals = _linear_first_layer(b, X, weights[0], biases[0], N * J)
            zbound = np.repeat(first_bound, J)  # per row (n, j)
        else:
            c = _product_layer(b, f"c{li}", weights[li], u_prev, P)
            # z[n, j] = bias[j] + sum_i c[n, j, i]
            n_prev = sizes[li]
            rows = np.concatenate([np.repeat(np.arange(N * J), n_prev), np.arange(N * J)])
            cols = np.concatenate([c.ravel(), np.tile(biases[li], N)])
            vals = np.ones(rows.shape[0])
            zbound = np.full(N * J, float(P * n_prev + P))
        if not last:
            u = b.add_var(f"u{li}", (N, J), 0, 1, integer=True)
            ur = u.ravel()
            r_u = np.arange(N * J)
            # u = 1 => z >= 0 :  z - M u >= -M
            b.add_rows(N * J, np.concatenate([rows, r_u]), np.concatenate([cols, ur]),
                       np.concatenate([vals, -zbound]), -zbound, np.inf)
            # u = 0 => z <= -1:  z - (M + 1) u <= -1
            b.add_rows(N * J, np.concatenate([rows, r_u]), np.concatenate([cols, ur]),
                       np.concatenate([vals, -(zbound + 1)]), -np.inf, -1.0)
            u_prev = u
        else:
            _sat_margin(b, rows, cols, vals, zbound, y, N, K, spec.margin)

    meta = {"spec": spec, "n_examples": N}
    return b.build(offset=float(N * K), meta=meta)


def _sat_margin(
    b: ProblemBuilder,
    rows: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    sbound: np.ndarray,
    y: np.ndarray,
    N: int,
    K: int,
    margin: int,
) -> None:
    q = b.add_var("q", (N, K), 0, 1, integer=True)
    qr = q.ravel()
    target = (np.arange(K)[None, :] == y[:, None]).ravel()  # row (n, k) is the true class
    big = sbound + margin
    r_q = np.arange(N * K)
    # true class:  s >= m - (m + M)(1 - q)  <=>  s - (m + M) q >= -M
    # other class: s <= -m + (m + M)(1 - q) <=>  s + (m + M) q <= M
    coef = np.where(target, -big, big)
    lower = np.where(target, -sbound, -np.inf)
    upper = np.where(target, np.inf, sbound)
    b.add_rows(N * K, np.concatenate([rows, r_q]), np.concatenate([cols, qr]),
               np.concatenate([vals, coef]), lower, upper)
    b.set_cost(qr, -1.0)  # minimise N*K - sum(q): the number of unsatisfied pairs


def zero_start(problem: MipProblem) -> np.ndarray:
    """The all-zero network (every sign active, no pair satisfied): always feasible."""
    v = np.zeros(problem.n_cols)
    for name, block in problem.blocks.items():
        if name.startswith("u"):
            v[block.index().ravel()] = 1.0
    return v


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
