"""The training MIP of a network, written once as data (a matrix-form problem built with
numpy/scipy): the parameters, the constraints every objective shares (first layer, products,
sign activations), symmetry breaking and neuron switches; the objective's own rows come from
:mod:`mipnn.trainer.objectives`.

Network: inputs ``x`` (integers in ``[0, L]``), hidden layers of sign neurons, a linear
output layer. Weights are integers in ``[-P, P]``; hidden and output biases in ``[-P, P]``;
the first layer's bias in ``[-P*L, P*L]`` (inputs are scaled by ``L``, ARCHITECTURE.md 3).

* First layer: the pre-activation ``z = X W^T + b`` is linear in the variables.
* Later layers see activations ``a = 2u - 1`` (``u`` binary); each product ``W[j,i] * a[i]``
  is a continuous variable ``c`` tied to ``W`` and ``u`` by four exact big-M rows.
* ``sign``: ``u = 1  =>  z >= 0`` and ``u = 0  =>  z <= -1``. The strict inequality is the
  exact integer one; big-M values are the tightest bounds of ``z`` implied by the input and
  weight bounds, per example for the first layer.

The objectives (``NetworkSpec.objective``) are in :mod:`mipnn.trainer.objectives`;
the matrix form in :mod:`mipnn.trainer.problem`; starts and reading solutions back in
:mod:`mipnn.trainer.solution`.

The deployment budget is part of the MIP: ``max_nonzeros`` (K) adds a binary ``nz0[j, i]``
per first-layer weight with ``lo * nz <= W <= hi * nz`` and ``sum nz <= K``, so the solver
decides which weights survive; ``max_neurons`` (M) adds the neuron switches of the
neuron-count optimisation (below) with ``sum s <= M`` over all hidden layers.

Symmetry breaking (``build_problem(..., symmetry=True)``): hidden neurons of a layer are
interchangeable, so they are ordered by the key ``(2P+1) b[j] + W[j, i0]`` (lexicographic
on the bias, then the first active input's weight): ``key[j] >= key[j+1]``. Any network
can be permuted to satisfy it (:func:`order_neurons`), so no solution is lost.

For the objectives without hard rows the all-zero network is feasible
(:func:`mipnn.trainer.solution.zero_start`), so a solver never ends without a solution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mipnn.trainer.objectives import (
    OBJECTIVES,
    abs_weight_columns,
    correct_rows,
    min_hinge_rows,
    sat_margin_rows,
)
from mipnn.trainer.problem import MipProblem, ProblemBuilder


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
    max_nonzeros: int | None = None  # K: at most K non-zero first-layer weights
    max_neurons: int | None = None  # M: at most M hidden neurons switched on

    @property
    def switches(self) -> bool:
        """Whether the MIP has neuron switches (``prune`` or ``max_neurons``)."""
        return bool(self.hidden) and (self.prune is not None or self.max_neurons is not None)

    def keep_neurons(self, n_last: int) -> int:
        """Neurons of the last hidden layer (of ``n_last``) that must stay switched on."""
        keep = min(self.n_classes, n_last)
        return keep if self.max_neurons is None else max(1, min(keep, self.max_neurons))

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
                sat_margin_rows(b, rows, cols, vals, zmin, zmax, y, N, K, spec.margin)
            elif objective == "min_hinge":
                min_hinge_rows(b, rows, cols, vals, zmin, zmax, y, N, K, spec.margin)
            else:
                correct_rows(b, scores, zmin, zmax, y, N, K, objective, margins, weights)

    if symmetry and bounds is None:
        _order_neurons_rows(b, spec, weights, biases, active)
    if spec.switches:
        _neuron_switches(b, spec, weights, biases, ranges)
    if spec.max_nonzeros is not None:
        _nonzero_budget(b, spec, weights[0], ranges[0])
    if spec.weight_penalty and objective != "min_w":
        b.set_cost(abs_weight_columns(b, weights), float(spec.weight_penalty))

    offset = {"sat_margin": float(N * K), "max_correct": float(N)}.get(objective, 0.0)
    meta = {"spec": spec, "n_examples": N, "X": X, "y": y, "symmetry": symmetry and bounds is None,
            "first_active": int(np.argmax(active)) if active.any() else 0}
    return b.build(offset=offset, meta=meta)


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
    ``min(K, H)`` neurons stay on in the last hidden layer (at most ``max_neurons``); each
    active neuron costs ``ALPHA`` in the objective (``prune``), and at most ``max_neurons``
    are on in all (``sum s <= M``)."""
    n_hidden = len(spec.hidden)
    switches = []
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
            keep = spec.keep_neurons(J)
            b.add_rows(1, np.zeros(J), s, np.ones(J), float(keep), np.inf)
        if spec.prune is not None:
            b.set_cost(s, float(spec.prune))
        switches.append(s)
    if spec.max_neurons is not None:
        every = np.concatenate(switches)
        b.add_rows(1, np.zeros(every.size), every, np.ones(every.size), -np.inf,
                   float(spec.max_neurons))


def _nonzero_budget(
    b: ProblemBuilder, spec: NetworkSpec, W: np.ndarray,
    ranges: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    """At most ``max_nonzeros`` non-zero first-layer weights: a binary ``nz0`` per weight
    (``lo * nz <= W <= hi * nz``; fixed at 0 where the weight's range is ``{0}``) and
    ``sum nz <= K``."""
    wl, wu = ranges[0].astype(float), ranges[1].astype(float)
    can = (wl < 0) | (wu > 0)
    nz = b.add_var("nz0", W.shape, 0, can.astype(float), integer=True)
    m = W.size
    r = np.concatenate([np.arange(m), np.arange(m)])
    c = np.concatenate([W.ravel(), nz.ravel()])
    b.add_rows(m, r, c, np.concatenate([np.ones(m), -np.maximum(wu, 0).ravel()]), -np.inf, 0.0)
    b.add_rows(m, r, c, np.concatenate([np.ones(m), -np.minimum(wl, 0).ravel()]), 0.0, np.inf)
    b.add_rows(1, np.zeros(m), nz.ravel(), np.ones(m), -np.inf, float(spec.max_nonzeros))


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
