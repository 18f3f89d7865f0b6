"""Between networks and the MIP's solution vectors: the complete solution that encodes a
network (a MIP start, the all-zero one among them), the network a solution encodes (read
strictly: every parameter must be near-integral), and the hidden activations and scores as
the MIP's own variables state them, checked against the integer reference ``forward``."""

from __future__ import annotations

import numpy as np

from mipnn.trainer.formulation import NetworkSpec
from mipnn.trainer.model import Model, forward
from mipnn.trainer.objectives import hinge_value
from mipnn.trainer.problem import MipProblem


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
    """The network of ``spec`` with every weight and bias zero."""
    sizes = spec.sizes
    return [(np.zeros((sizes[i + 1], sizes[i]), np.int64), np.zeros(sizes[i + 1], np.int64))
            for i in range(len(sizes) - 1)]


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
            keep = spec.keep_neurons(on.size)
            if li == len(network) - 2 and on.sum() < keep:  # switch on just enough
                on[np.flatnonzero(~on)[: keep - int(on.sum())]] = True
            v[problem.blocks[f"s{li}"].index()] = on
    if "nz0" in problem.blocks:
        v[problem.blocks["nz0"].index()] = np.asarray(network[0][0]) != 0
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
    """``values`` rounded to integers; ValueError naming ``name`` and the position when one
    is farther than ``tol`` from its integer."""
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


def check_mip_agrees(problem: MipProblem, solution: np.ndarray, model: Model, X: np.ndarray) -> bool:
    """True when the MIP's binaries and scores equal ``forward``'s hidden signs and scores."""
    a = X.astype(np.int64)
    for li, layer in enumerate(model.layers[:-1]):
        a = np.where(a @ layer.weights.T + layer.bias >= 0, 1, -1)
        if not np.array_equal(a, mip_activations(problem, solution, li)):
            return False
    scores, _ = forward(model, X)
    return bool(np.array_equal(scores, mip_scores(problem, solution, X)))
