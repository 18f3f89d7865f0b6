"""Large-neighbourhood search around an incumbent network.

HiGHS barely improves a good warm start on these weak formulations (docs/TRAINING.md), so
the search around the start comes from here: fix most parameters at their incumbent
values, free a neighbourhood, and re-solve the small MIP that remains (the same
formulation with per-parameter bounds, so presolve removes the fixed part), starting from
the incumbent. Neighbourhoods alternate between

* ``neurons``: every parameter of ``k`` random hidden neurons of one layer (incoming
  weights, bias, outgoing weights);
* ``random``: a random ``fraction`` of all parameters;

and the output layer's parameters are always free. A sub-MIP's start is the incumbent, so
its result is never worse; it is accepted when its objective is at most the incumbent's
(equal moves let the search drift across plateaus). ``k`` grows after a sub-MIP solved to
optimality quickly and shrinks after one that hit its time limit. The search never ends
worse than its start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mipnn.trainer.formulation import NetworkSpec, ParamBounds, build_problem, default_bounds
from mipnn.trainer.problem import MipProblem, objective_value
from mipnn.trainer.solution import network_from_solution, start_from_network
from mipnn.trainer.solve_result import SolveStatus
from mipnn.trainer.stop import stop_requested

Network = list[tuple[np.ndarray, np.ndarray]]
SolveFn = Callable[..., object]  # solve_highs-compatible


@dataclass(frozen=True)
class LnsConfig:
    sub_time: float = 3.0  # time limit of one sub-MIP (s)
    neurons: int = 2  # hidden neurons freed at first (adapts)
    fraction: float = 0.05  # share of parameters freed by a random neighbourhood
    seed: int = 0
    threads: int = 1


@dataclass
class LnsStats:
    iterations: int = 0
    improvements: int = 0
    sideways: int = 0
    optimal: int = 0
    start_objective: float = float("nan")
    objective: float = float("nan")
    stalled: bool = False  # stopped after ``stall`` seconds without a strict improvement
    history: list[tuple[float, float, str]] = field(default_factory=list)  # (t, obj, kind)


def neighbourhood_bounds(
    spec: NetworkSpec, network: Network, free: list[tuple[np.ndarray, np.ndarray]]
) -> ParamBounds:
    """Bounds that fix every parameter to ``network`` except where ``free`` (per layer,
    boolean masks of the weights and biases) is True: those keep the default range."""
    out = []
    for (W, bias), (fw, fb), (wl, wu, bl, bu) in zip(
        network, free, default_bounds(spec), strict=True
    ):
        out.append((np.where(fw, wl, W), np.where(fw, wu, W),
                    np.where(fb, bl, bias), np.where(fb, bu, bias)))
    return out


def _free_masks(
    spec: NetworkSpec, network: Network, kind: str, k: int, fraction: float,
    rng: np.random.Generator,
) -> list[tuple[np.ndarray, np.ndarray]]:
    free = [(np.zeros(W.shape, bool), np.zeros(b.shape, bool)) for W, b in network]
    n_layers = len(network)
    if kind == "neurons" and spec.hidden:
        li = int(rng.integers(len(spec.hidden)))
        chosen = rng.choice(spec.hidden[li], size=min(k, spec.hidden[li]), replace=False)
        free[li][0][chosen, :] = True
        free[li][1][chosen] = True
        free[li + 1][0][:, chosen] = True
    else:
        for fw, fb in free:
            fw |= rng.random(fw.shape) < fraction
            fb |= rng.random(fb.shape) < fraction
    free[n_layers - 1] = (np.ones_like(free[-1][0]), np.ones_like(free[-1][1]))
    return free


def lns(
    spec: NetworkSpec,
    X: np.ndarray,
    y: np.ndarray,
    network: Network,
    *,
    deadline: float,
    solve: SolveFn,
    config: LnsConfig | None = None,
    on_improve: Callable[[Network, float], None] | None = None,
    target: float | None = None,
    stall: float | None = None,
) -> tuple[Network, float, LnsStats]:
    """Improve ``network`` (feasible for ``spec``'s MIP on ``X``, ``y``) until
    ``time.perf_counter() >= deadline``, the objective reaches ``target``, or (``stall``)
    that many seconds pass without a strict improvement. Returns the best network, its
    objective and statistics; ``on_improve`` sees every strict improvement."""
    cfg = config or LnsConfig()
    rng = np.random.default_rng(cfg.seed)
    t0 = time.perf_counter()
    net = [(np.asarray(W, np.int64), np.asarray(b, np.int64)) for W, b in network]
    full = build_problem(spec, X, y)
    current = objective_value(full, start_from_network(full, net))
    stats = LnsStats(start_objective=current, objective=current)
    k = max(1, cfg.neurons)
    max_k = max(spec.hidden) if spec.hidden else 1
    it = 0
    last_improvement = t0
    while True:
        now = time.perf_counter()
        remaining = deadline - now
        if remaining < 0.5 or (target is not None and current <= target + 1e-9):
            break
        if stop_requested():  # Ctrl-C (mipnn.trainer.stop): the best network so far
            break
        if stall is not None and now - last_improvement >= stall:
            stats.stalled = True
            break
        it += 1
        kind = "neurons" if (it % 2 == 1 and spec.hidden) else "random"
        free = _free_masks(spec, net, kind, k, cfg.fraction, rng)
        sub = build_problem(spec, X, y, bounds=neighbourhood_bounds(spec, net, free))
        start = start_from_network(sub, net)
        limit = min(cfg.sub_time, remaining)
        res = solve(sub, time_limit=limit, seed=cfg.seed + it, threads=cfg.threads,
                    start=start, target=target)
        stats.iterations += 1
        status = getattr(res, "status", "")
        sol = getattr(res, "solution", None)
        if status == SolveStatus.OPTIMAL:
            stats.optimal += 1
            if getattr(res, "time", limit) < limit / 3 and kind == "neurons":
                k = min(max_k, k + 1)
        elif kind == "neurons":
            k = max(1, k - 1)
        if sol is None:
            continue
        try:
            cand = network_from_solution(sub, sol)
        except ValueError:
            continue
        value = objective_value(full, start_from_network(full, cand))
        if value < current - 1e-9:
            net, current = cand, value
            last_improvement = time.perf_counter()
            stats.improvements += 1
            stats.history.append((time.perf_counter() - t0, value, kind))
            if on_improve is not None:
                on_improve(net, value)
        elif value <= current + 1e-9:
            net = cand
            stats.sideways += 1
    stats.objective = current
    return net, current, stats


def polish_output(
    spec: NetworkSpec,
    X: np.ndarray,
    y: np.ndarray,
    network: Network,
    *,
    solve: SolveFn,
    time_limit: float,
    seed: int = 0,
    threads: int = 1,
) -> tuple[Network, float]:
    """Re-solve only the output layer of ``network`` for ``spec``'s objective (the hidden
    layers fixed): turns a gradient network into a start that suits the MIP's objective
    (e.g. smaller output weights for ``min_hinge``). Never worse than ``network``."""
    net = [(np.asarray(W, np.int64), np.asarray(b, np.int64)) for W, b in network]
    free = [(np.zeros(W.shape, bool), np.zeros(b.shape, bool)) for W, b in net]
    free[-1] = (np.ones(net[-1][0].shape, bool), np.ones(net[-1][1].shape, bool))
    sub = build_problem(spec, X, y, bounds=neighbourhood_bounds(spec, net, free))
    start = start_from_network(sub, net)
    current = objective_value(sub, start)
    res = solve(sub, time_limit=time_limit, seed=seed, threads=threads, start=start)
    sol = getattr(res, "solution", None)
    if sol is not None:
        try:
            cand = network_from_solution(sub, sol)
        except ValueError:
            return net, current
        value = objective_value(sub, start_from_network(sub, cand))
        if value <= current:
            return cand, value
    return net, current


def descend_output(
    problem: object, network: Network, *, max_sweeps: int = 6, deadline: float | None = None
) -> tuple[Network, float]:
    """Coordinate descent on the output layer of ``network`` by ``problem``'s exact
    objective (no solver): each weight and bias in turn takes its best value in its range,
    until a sweep changes nothing. A fallback when the solver-based polish could not make
    the gradient network a better start than the all-zero one (e.g. min_hinge on a loaded
    machine). Never worse than ``network``."""
    assert isinstance(problem, MipProblem)
    spec: NetworkSpec = problem.meta["spec"]  # type: ignore[assignment]
    net = [(np.array(W, np.int64), np.array(b, np.int64)) for W, b in network]

    def value(n: Network) -> float:
        return objective_value(problem, start_from_network(problem, n))

    best = value(net)
    last = len(net) - 1
    wl, wu, bl, bu = default_bounds(spec)[last]
    for _ in range(max_sweeps):
        changed = False
        W, b = net[last]
        coords = [(0, k, j) for k in range(W.shape[0]) for j in range(W.shape[1])]
        coords += [(1, k, 0) for k in range(b.shape[0])]
        for kind, k, j in coords:
            if (deadline is not None and time.perf_counter() > deadline) or stop_requested():
                return net, best
            lo, hi = (wl[k, j], wu[k, j]) if kind == 0 else (bl[k], bu[k])
            target = W if kind == 0 else b
            idx = (k, j) if kind == 0 else (k,)
            keep = target[idx]
            for cand in range(int(lo), int(hi) + 1):
                if cand == keep:
                    continue
                target[idx] = cand
                v = value(net)
                if v < best - 1e-9:
                    best, keep, changed = v, cand, True
            target[idx] = keep
        if not changed:
            break
    return net, best
