"""Neighbourhood search over all training rows under the budget (``--all-rows``): starting
from a network (the sparse gradient stage's), free one linear function at a time and solve
its sub-MIP exactly on every training row (:mod:`mipnn.trainer.row_mip`):

* ``row``: a few weights of one class row of the output layer (of the only layer, for a
  network without hidden layers) and its bias; for a network with hidden layers the whole
  row over the active neurons, whose distinct activation patterns keep the sub-MIP small;
* ``neuron``: a few incoming weights of one active hidden neuron and its bias (the rows
  whose class flips with the neuron's sign need ``z >= 0`` or ``z <= -1``).

The freed weights are some of the current non-zeros (at random) and the zero weights whose
inputs point most in the direction the misclassified rows need (a gradient-like score), so
a sub-MIP may swap which weights are non-zero: in the first layer ``sum z <= K`` holds the
budget. Each freed weight moves within ``D`` of its value (or to 0); ``D`` is halved until
at most ``max_groups`` row groups stay open. A neuron without incoming or outgoing weights
is never revived, so the active neurons never exceed their count at the start (``M``).
A result is kept when it classifies at least as many training rows (checked with the exact
integer forward pass); the search never ends worse than its start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mipnn.trainer.row_mip import RowProblem, Window, solve_rows

Network = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class RowSearchConfig:
    """Settings of the search (module docstring)."""

    sub_time: float = 5.0  # time limit of one sub-MIP (s)
    n_free: int = 8  # weights freed per neighbourhood
    max_groups: int = 3000  # open row groups a sub-MIP may have
    seed: int = 0


@dataclass
class RowSearchStats:
    iterations: int = 0
    improvements: int = 0
    sideways: int = 0
    skipped: int = 0  # no window small enough
    start_correct: int = 0
    correct: int = 0
    history: list[tuple[float, int, str]] = field(default_factory=list)


def forward_all(net: Network, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The inputs of every layer (``X`` first, then the +/-1 activations) and the scores."""
    acts = [X.astype(np.int64)]
    a = acts[0]
    for li, (W, b) in enumerate(net):
        z = a @ W.T + b
        if li == len(net) - 1:
            return acts, z
        a = np.where(z >= 0, 1, -1)
        acts.append(a)
    raise AssertionError("unreachable")


def predict(scores: np.ndarray) -> np.ndarray:
    return np.argmax(scores, axis=1)  # the lowest index on a tie, like forward


def class_row_needs(scores: np.ndarray, y: np.ndarray, k: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What each row needs of class ``k``'s score for a correct class, the other scores
    fixed: ``(mode, thr, const)`` as in :class:`RowProblem`."""
    N, C = scores.shape
    neg = np.iinfo(np.int64).min // 4
    below = scores[:, :k].max(axis=1) + 1 if k > 0 else np.full(N, neg)
    above = scores[:, k + 1:].max(axis=1) if k < C - 1 else np.full(N, neg)
    rest = scores.copy()
    rest[:, k] = neg
    wins = predict(rest) == y
    true_s = scores[np.arange(N), y]
    is_k = y == k
    mode = np.where(is_k, 1, np.where(wins, 2, 0))
    thr = np.where(is_k, np.maximum(below, above), true_s - (k < y))
    return mode, thr.astype(np.int64), np.zeros(N, bool)


def neuron_needs(net: Network, acts: list[np.ndarray], y: np.ndarray, li: int, j: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What each row needs of hidden neuron ``j`` of layer ``li`` (``z >= 0``, mode 1, or
    ``z <= -1``, mode 2), the rest of the network fixed."""
    ok = []
    for sign in (1, -1):
        a = acts[li + 1].copy()
        a[:, j] = sign
        for lj in range(li + 1, len(net)):
            W, b = net[lj]
            z = a @ W.T + b
            a = np.where(z >= 0, 1, -1) if lj < len(net) - 1 else z
        ok.append(predict(a) == y)
    plus, minus = ok
    mode = np.where(plus == minus, 0, np.where(plus, 1, 2))
    thr = np.where(plus, 0, -1).astype(np.int64)
    return mode, thr, plus & minus


def active_hidden(net: Network, li: int) -> np.ndarray:
    """The neurons of hidden layer ``li`` with incoming and outgoing non-zero weights."""
    return net[li][0].any(axis=1) & net[li + 1][0].any(axis=0)


def improve_all_rows(
    X: np.ndarray, y: np.ndarray, network: Network, *, bound: int, levels: int,
    max_nonzeros: int | None, deadline: float, config: RowSearchConfig | None = None,
    on_improve: Callable[[Network, int], None] | None = None,
) -> tuple[Network, RowSearchStats]:
    """Improve the number of correctly classified rows of ``network`` (model-file shapes;
    within the budget) until ``time.perf_counter() >= deadline``."""
    cfg = config or RowSearchConfig()
    rng = np.random.default_rng(cfg.seed)
    X = np.asarray(X, np.int64)
    y = np.asarray(y, np.int64)
    net = [(np.array(W, np.int64), np.array(b, np.int64)) for W, b in network]
    usable = X.any(axis=0)
    binary_zero_row = net[-1][0].shape[0] == 2 and not net[-1][0][0].any() and net[-1][1][0] == 0
    acts, scores = forward_all(net, X)
    current = int(np.sum(predict(scores) == y))
    stats = RowSearchStats(start_correct=current, correct=current)
    t0 = time.perf_counter()
    it = 0
    while time.perf_counter() < deadline - 0.5:
        it += 1
        kind, li, j = _pick(net, it, rng, binary_zero_row)
        if kind == "none":
            break
        W, b = net[li]
        A_full = acts[li]
        if kind == "row":
            mode, thr, const = class_row_needs(scores, y, j)
            f = scores[:, j]
        else:
            mode, thr, const = neuron_needs(net, acts, y, li, j)
            f = A_full @ W[j] + b[j]
        allowed = usable if li == 0 else active_hidden(net, li - 1)
        S = _choose(W[j], A_full, mode, thr, f, allowed, cfg.n_free, rng,
                    whole=(li > 0 and kind == "row"))
        if S.size == 0:
            stats.skipped += 1
            continue
        w0 = W[j, S].copy()
        base = f - A_full[:, S] @ w0 - b[j]
        rp = RowProblem(A_full[:, S], base, mode, thr, const)
        budget = None
        if li == 0 and max_nonzeros is not None:
            budget = int(max_nonzeros - (np.count_nonzero(W) - np.count_nonzero(w0)))
        b_max = bound * levels if li == 0 else bound
        scale = levels if li == 0 else 1
        result = None
        D = bound if (li > 0 and kind == "row") else max(2, bound // 4)
        while result is None:
            lo, hi = np.maximum(-bound, w0 - D), np.minimum(bound, w0 + D)
            B = max(1, D * scale // 2)
            win = Window(lo, hi, max(-b_max, int(b[j]) - B), min(b_max, int(b[j]) + B), budget)
            remaining = deadline - time.perf_counter()
            if remaining < 0.5:
                break
            result = solve_rows(rp, win, w0, int(b[j]), time_limit=min(cfg.sub_time, remaining),
                                seed=cfg.seed + it, max_groups=cfg.max_groups)
            if result is None and D == 1:
                break
            D = max(1, D // 2)
        stats.iterations += 1
        if result is None:
            stats.skipped += 1
            continue
        w_new, b_new, _ = result
        if np.array_equal(w_new, w0) and b_new == b[j]:
            continue
        cand = [(Wc.copy(), bc.copy()) for Wc, bc in net]
        cand[li][0][j, S] = w_new
        cand[li][1][j] = b_new
        if max_nonzeros is not None and np.count_nonzero(cand[0][0]) > max_nonzeros:
            continue
        acts_c, scores_c = forward_all(cand, X)
        correct = int(np.sum(predict(scores_c) == y))
        if correct < current:
            continue
        if correct > current:
            stats.improvements += 1
            stats.history.append((round(time.perf_counter() - t0, 3), correct, kind))
            if on_improve is not None:
                on_improve(cand, correct)
        else:
            stats.sideways += 1
        net, acts, scores, current = cand, acts_c, scores_c, correct
    stats.correct = current
    return net, stats


def _pick(net: Network, it: int, rng: np.random.Generator, binary_zero_row: bool
          ) -> tuple[str, int, int]:
    """The next neighbourhood: (kind, layer, row or neuron). Networks with hidden layers
    alternate between an output row and an active hidden neuron."""
    last = len(net) - 1
    n_rows = net[last][0].shape[0]
    rows = [1] if binary_zero_row else list(range(n_rows))
    if last == 0 or it % 2 == 1:
        return "row", last, int(rng.choice(rows))
    choices = [(li, j) for li in range(last) for j in np.flatnonzero(active_hidden(net, li))]
    if not choices:
        return "row", last, int(rng.choice(rows))
    li, j = choices[int(rng.integers(len(choices)))]
    return "neuron", li, int(j)


def _choose(w: np.ndarray, A: np.ndarray, mode: np.ndarray, thr: np.ndarray, f: np.ndarray,
            allowed: np.ndarray, n_free: int, rng: np.random.Generator, whole: bool
            ) -> np.ndarray:
    """The weights to free: every allowed one (``whole``), else some non-zeros at random and
    the zero weights whose inputs best match what the failing rows need."""
    if whole:
        return np.flatnonzero(allowed)
    support = np.flatnonzero((w != 0) & allowed)
    zeros = np.flatnonzero((w == 0) & allowed)
    fail_up = (mode == 1) & (f < thr)
    fail_down = (mode == 2) & (f > thr)
    n_new = min(len(zeros), max(1, n_free // 4))
    new = np.zeros(0, np.int64)
    if n_new:
        pull = A[fail_up].sum(axis=0) - A[fail_down].sum(axis=0)
        new = zeros[np.argsort(-np.abs(pull[zeros]), kind="stable")[:n_new]]
    n_old = min(len(support), n_free - len(new))
    old = rng.choice(support, n_old, replace=False) if n_old else np.zeros(0, np.int64)
    return np.unique(np.concatenate([old, new]).astype(np.int64))
