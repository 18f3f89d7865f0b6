"""Gradient baseline (``--objective gd``): integer weights via a straight-through estimator.

The network is the MIP's: weights in ``[-P, P]``, the first layer's bias in ``[-P*L, P*L]``
(inputs scaled by ``L``, ARCHITECTURE.md 3), later biases in ``[-P, P]``, ``sign`` hidden
activations (``z >= 0 -> +1``), a linear output. Training keeps real-valued latent
parameters; the forward pass uses them rounded to integers (and clipped to their range), the
backward pass treats rounding as the identity and ``sign`` as ``hardtanh`` (gradient 1 where
``|z| <= 1`` on the layer's normalised scale). The loss is the squared hinge
``sum_k max(0, margin - t_k s_k)^2`` (``t = +1`` for the true class, ``-1`` otherwise) with
margin 0.5, minimised by Adam on full batches (the training sets here are small).

The integer network kept is the one with the highest training accuracy by the exact integer
forward pass (ties: the lower exact loss), checked after every epoch, so the result is what
``forward`` computes, not what the latent weights suggest. Inputs that are zero in every
training example get zero weights, as in the MIP, so the network is a valid MIP start.
A stop request (Ctrl-C, mipnn.trainer.stop) ends the epochs like the time limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mipnn.trainer.stop import stop_requested

Network = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class GdConfig:
    epochs: int = 400
    lr: float = 0.02
    margin: float = 0.5
    time_limit: float = 30.0
    seed: int = 0
    # Examples per Adam step; None: the full training set (the default for the small sets
    # of exact training). Mini-batches make one epoch of a large set many steps.
    batch_size: int | None = None


@dataclass
class GdResult:
    network: Network
    train_accuracy: float
    loss: float
    epochs: int
    time: float
    history: list[tuple[float, float, float]]  # (time, train accuracy, loss) of each new best


def _int_forward(net: Network, X: np.ndarray) -> np.ndarray:
    a = X.astype(np.int64)
    for li, (W, b) in enumerate(net):
        z = a @ W.T + b
        a = np.where(z >= 0, 1, -1) if li < len(net) - 1 else z
    return a


def _loss(scores: np.ndarray, T: np.ndarray, margin: float) -> float:
    return float(np.sum(np.maximum(0.0, margin - T * scores) ** 2) / len(T))


def _predict(scores: np.ndarray) -> np.ndarray:
    return np.argmax(scores, axis=1)  # lowest index on a tie, like forward


def _adam_step(params: list[np.ndarray], m1: list[np.ndarray], m2: list[np.ndarray],
               net: Network, Xs: np.ndarray, T: np.ndarray, active: np.ndarray, L: int,
               cfg: GdConfig, P: int, step_no: int, lim: float) -> None:
    """One straight-through Adam step of the latent ``params`` on the examples ``Xs``
    (inputs divided by ``L``) with targets ``T`` (+1 true class, -1 others)."""
    b1, b2, eps = 0.9, 0.999, 1e-8
    acts = [Xs]
    pre = []
    a = Xs
    for li, (W, bias) in enumerate(net):
        scale_b = bias / float(L) if li == 0 else bias
        z = a @ W.T + scale_b
        pre.append(z)
        a = np.where(z >= 0, 1.0, -1.0) if li < len(net) - 1 else z
        acts.append(a)
    scores = acts[-1]
    g = -2.0 * T * np.maximum(0.0, cfg.margin - T * scores) / len(T)
    grads: list[np.ndarray] = [np.empty(0)] * len(params)
    for li in range(len(net) - 1, -1, -1):
        W, _ = net[li]
        grads[2 * li] = g.T @ acts[li]
        grads[2 * li + 1] = g.sum(axis=0)  # the first bias is latent on the X / L scale too
        if li > 0:
            ga = g @ W
            zprev = pre[li - 1]
            width = 1.0 if li - 1 > 0 else max(1.0, np.sqrt(active.sum()) * P / 4)
            g = ga * (np.abs(zprev) <= width)
    grads[0] = grads[0] * active[None, :]
    for i, (p, gr) in enumerate(zip(params, grads, strict=True)):
        m1[i] = b1 * m1[i] + (1 - b1) * gr
        m2[i] = b2 * m2[i] + (1 - b2) * gr * gr
        mh = m1[i] / (1 - b1**step_no)
        vh = m2[i] / (1 - b2**step_no)
        step = cfg.lr * max(1.0, P / 2) * mh / (np.sqrt(vh) + eps)
        p -= step
        np.clip(p, -lim, lim, out=p)


def train_gd(
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: tuple[int, ...],
    n_classes: int,
    bound: int,
    levels: int,
    config: GdConfig | None = None,
) -> GdResult:
    """Train the integer network on ``X`` (ints in ``[0, L]``), ``y`` (class indices)."""
    cfg = config or GdConfig()
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    N, n = X.shape
    P, L = bound, levels
    sizes = [n, *hidden, n_classes]
    active = X.any(axis=0).astype(float)
    Xs = X / float(L)
    T = np.where(np.arange(n_classes)[None, :] == y[:, None], 1.0, -1.0)
    # latent parameters; the first bias is kept on the scale of X / L
    params: list[np.ndarray] = []
    for li in range(len(sizes) - 1):
        W = rng.uniform(-0.75 * P, 0.75 * P, (sizes[li + 1], sizes[li]))
        if li == 0:
            W *= active[None, :]
        params += [W, rng.uniform(-0.5, 0.5, sizes[li + 1]) * (P if li else 1.0)]
    lim = P + 0.49  # latent values stay where rounding still gives [-P, P]
    m1 = [np.zeros_like(p) for p in params]
    m2 = [np.zeros_like(p) for p in params]

    def quantise() -> Network:
        net = []
        for li in range(len(sizes) - 1):
            W = np.clip(np.rint(params[2 * li]), -P, P).astype(np.int64)
            if li == 0:
                bias = np.clip(np.rint(params[1] * L), -P * L, P * L).astype(np.int64)
            else:
                bias = np.clip(np.rint(params[2 * li + 1]), -P, P).astype(np.int64)
            net.append((W, bias))
        return net

    best: Network | None = None
    best_key = (-1.0, np.inf)
    history: list[tuple[float, float, float]] = []

    def check(net: Network) -> bool:
        """The exact integer check of ``net``: keep it when it is the best so far (training
        accuracy, then lower loss); True when it is perfect (nothing left to learn)."""
        nonlocal best, best_key
        int_scores = _int_forward(net, X)
        acc = float(np.mean(_predict(int_scores) == y))
        loss = _loss(int_scores, T, cfg.margin)
        if (acc, -loss) > (best_key[0], -best_key[1]):
            best, best_key = net, (acc, loss)
            history.append((time.perf_counter() - t0, acc, loss))
        return acc == 1.0 and loss == 0.0

    full = not cfg.batch_size or cfg.batch_size >= N
    bs = N if full else int(cfg.batch_size)
    step_no = 0
    epoch = 0
    while epoch < cfg.epochs:
        epoch += 1
        net = quantise()
        if check(net) or time.perf_counter() - t0 > cfg.time_limit or stop_requested():
            break
        if full:
            step_no += 1
            _adam_step(params, m1, m2, net, Xs, T, active, L, cfg, P, step_no, lim)
            continue
        order = rng.permutation(N)
        for start in range(0, N, bs):
            idx = order[start:start + bs]
            step_no += 1
            _adam_step(params, m1, m2, quantise(), Xs[idx], T[idx], active, L, cfg, P,
                       step_no, lim)
            if time.perf_counter() - t0 > cfg.time_limit or stop_requested():
                break
    if not full:  # the last mini-batch steps have not been checked yet
        check(quantise())
    assert best is not None
    return GdResult(
        network=best, train_accuracy=best_key[0], loss=best_key[1], epochs=epoch,
        time=time.perf_counter() - t0, history=history,
    )
