"""Sparse mini-batch gradient training under a budget: the gradient stage for large
training sets and for ``--max-nonzeros`` / ``--max-neurons`` (the MIP's network, exactly as
in :mod:`mipnn.trainer.gd`: weights in ``[-P, P]``, the first layer's bias in
``[-P*L, P*L]``, later biases in ``[-P, P]``, ``sign`` hidden activations, a linear output).

Latent real parameters, used rounded (and clipped) in the forward pass; the backward pass
treats rounding as the identity and ``sign`` as ``hardtanh`` over a window that scales with
the layer's fan-in (a straight-through estimator). Each step is Adam on a mini-batch of
``batch_size`` examples; the learning rate decays along a cosine over the epochs.

* **Loss**: the logistic loss of the scores divided by a temperature ``T`` (binary: one
  score, class 1 iff it is at least 1; more classes: softmax cross-entropy). Scores are on
  the scale of the inputs divided by ``L``; ``T = temperature * P`` (default 1/32 of ``P``
  without hidden layers, 1/2 with: a logistic unit is then a fraction of one weight's
  range, so the loss keeps pushing examples near the boundary).
* **Budget** (top-K): after every step only the ``k`` largest first-layer latent weights
  stay non-zero; ``k`` falls linearly from all weights to ``max_nonzeros`` over the first
  ``sparsify`` share of the epochs. Likewise at most ``m`` hidden neurons keep their
  parameters (ranked by the product of their incoming and outgoing latent weight sums),
  ``m`` falling to ``max_neurons``.
* **Kept**: after every epoch the rounded network is checked exactly (the integer forward
  pass on every training example); the one with the best training accuracy among those
  within the budget is returned (ties: the lower logistic loss).

A binary network is stored with two output rows, the first all zero (bias 0), so class 1
iff the second row's score is at least 1 (a tie goes to class 0, as ``forward`` requires);
its budget counts the second row's weights only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from mipnn.trainer.gd import GdResult

Network = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class SparseGdConfig:
    """The sparse gradient stage's settings (module docstring)."""

    epochs: int | None = None  # None: enough for about 4,000 steps (60 to 600 epochs)
    batch_size: int = 512
    lr: float = 0.05
    temperature: float | None = None  # T as a share of P; None: 1/32 (no hidden), 1/2
    sparsify: float = 0.3  # share of the epochs over which the budget tightens
    max_nonzeros: int | None = None  # K: non-zero first-layer weights
    max_neurons: int | None = None  # M: hidden neurons with any non-zero parameter
    time_limit: float = 60.0
    seed: int = 0


def auto_epochs(n_examples: int, batch_size: int) -> int:
    """Epochs for about 4,000 Adam steps, at least 60 and at most 600."""
    steps = -(-n_examples // max(1, batch_size))
    return int(min(600, max(60, -(-4000 // steps))))


def active_neurons(network: Network) -> int:
    """Hidden neurons that can change an output: some non-zero incoming weight and some
    non-zero outgoing weight (the others are removed exactly by ``simplify``)."""
    count = 0
    for li in range(len(network) - 1):
        W, _ = network[li]
        out = network[li + 1][0]
        count += int(np.count_nonzero(W.any(axis=1) & out.any(axis=0)))
    return count


def _int_forward(net: Network, X: np.ndarray) -> np.ndarray:
    a = X.astype(np.int64)
    for li, (W, b) in enumerate(net):
        z = a @ W.T + b
        a = np.where(z >= 0, 1, -1) if li < len(net) - 1 else z
    return a


class _Trainer:
    """The latent parameters and one Adam step (binary networks keep one output row)."""

    def __init__(self, sizes: list[int], P: int, L: int, active: np.ndarray,
                 cfg: SparseGdConfig, rng: np.random.Generator) -> None:
        self.sizes, self.P, self.L, self.cfg = sizes, P, L, cfg
        self.active = active
        self.params: list[np.ndarray] = []
        hidden = len(sizes) > 2
        for li in range(len(sizes) - 1):
            n_in, n_out = sizes[li], sizes[li + 1]
            if not hidden:
                W, b = np.zeros((n_out, n_in)), np.zeros(n_out)
            elif li == 0:
                W = rng.normal(0, P / 8, (n_out, n_in)) * active[None, :]
                b = rng.normal(0, 0.5, n_out) * P / 8 / max(1.0, np.sqrt(n_in))
            else:
                W, b = rng.uniform(-P / 2, P / 2, (n_out, n_in)), np.zeros(n_out)
            self.params += [W, b]
        self.m1 = [np.zeros_like(p) for p in self.params]
        self.m2 = [np.zeros_like(p) for p in self.params]
        self.step_no = 0
        share = cfg.temperature if cfg.temperature is not None else (0.5 if hidden else 1 / 32)
        self.T = max(1e-6, share * P)

    def rounded(self) -> Network:
        """The integer network of the latent parameters (internal shapes)."""
        P, L = self.P, self.L
        net = []
        for li in range(len(self.sizes) - 1):
            W = np.clip(np.rint(self.params[2 * li]), -P, P).astype(np.int64)
            if li == 0:
                b = np.clip(np.rint(self.params[1] * L), -P * L, P * L).astype(np.int64)
            else:
                b = np.clip(np.rint(self.params[2 * li + 1]), -P, P).astype(np.int64)
            net.append((W, b))
        return net

    def loss_grad(self, s: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean logistic loss of scores ``s`` (``[n, 1]`` binary) and its gradient."""
        T = self.T
        if s.shape[1] == 1:
            t = np.where(y == 1, 1.0, -1.0)[:, None]
            m = np.clip(t * s / T, -50, 50)
            loss = float(np.mean(np.logaddexp(0.0, -m)))
            return loss, -t / (1.0 + np.exp(m)) / T / len(y)
        z = s / T
        z = z - z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        loss = float(np.mean(-np.log(np.maximum(p[np.arange(len(y)), y], 1e-300))))
        p[np.arange(len(y)), y] -= 1.0
        return loss, p / T / len(y)

    def step(self, Xs: np.ndarray, y: np.ndarray, lr: float) -> None:
        """One straight-through Adam step on the examples ``Xs`` (inputs / L)."""
        net = self.rounded()
        acts, pre = [Xs], []
        a = Xs
        for li, (W, b) in enumerate(net):
            z = a @ W.T + (b / self.L if li == 0 else b)
            pre.append(z)
            a = np.where(z >= 0, 1.0, -1.0) if li < len(net) - 1 else z
            acts.append(a)
        _, g = self.loss_grad(acts[-1], y)
        grads: list[np.ndarray] = [np.empty(0)] * len(self.params)
        for li in range(len(net) - 1, -1, -1):
            grads[2 * li] = g.T @ acts[li]
            grads[2 * li + 1] = g.sum(axis=0)
            if li > 0:
                W = net[li][0]
                fan = max(1.0, np.count_nonzero(net[li - 1][0]) / max(1, W.shape[1]))
                width = max(1.0, self.P * np.sqrt(fan) / 4)
                g = (g @ W) * (np.abs(pre[li - 1]) <= width)
        grads[0] = grads[0] * self.active[None, :]
        self.step_no += 1
        lim = self.P + 0.49
        for i, (p, gr) in enumerate(zip(self.params, grads, strict=True)):
            self.m1[i] = 0.9 * self.m1[i] + 0.1 * gr
            self.m2[i] = 0.999 * self.m2[i] + 0.001 * gr * gr
            mh = self.m1[i] / (1 - 0.9**self.step_no)
            vh = self.m2[i] / (1 - 0.999**self.step_no)
            p -= lr * self.P / 8 * mh / (np.sqrt(vh) + 1e-8)
            np.clip(p, -lim, lim, out=p)

    def project(self, k: int, m: int) -> None:
        """Keep the ``k`` largest first-layer latent weights and the ``m`` strongest hidden
        neurons (at least one per hidden layer); zero the rest."""
        W0 = self.params[0]
        flat = np.abs(W0).ravel()
        if k < flat.size and np.count_nonzero(flat) > k:
            keep = np.argpartition(flat, flat.size - k)[flat.size - k:] if k > 0 else []
            mask = np.zeros(flat.size, bool)
            mask[keep] = True
            W0[~mask.reshape(W0.shape)] = 0.0
        n_hidden = len(self.sizes) - 2
        total = sum(self.sizes[1:-1])
        if n_hidden == 0 or m >= total:
            return
        scores, where = [], []
        for li in range(n_hidden):
            Win, Wout = self.params[2 * li], self.params[2 * li + 2]
            s = np.abs(Win).sum(axis=1) * np.abs(Wout).sum(axis=0)
            scores.append(s)
            where += [(li, j) for j in range(len(s))]
        flat_s = np.concatenate(scores)
        order = np.argsort(-flat_s, kind="stable")
        keep_set = set(order[:m].tolist())
        start = 0
        for s in scores:  # at least one neuron per layer
            idx = range(start, start + len(s))
            if not keep_set.intersection(idx):
                keep_set.add(start + int(np.argmax(s)))
            start += len(s)
        for pos, (li, j) in enumerate(where):
            if pos not in keep_set:
                self.params[2 * li][j, :] = 0.0
                self.params[2 * li + 1][j] = 0.0
                self.params[2 * li + 2][:, j] = 0.0


def to_network(net: Network, n_classes: int) -> Network:
    """The model file's network: a binary network's one output row becomes two, the
    first all zero (class 1 iff the score is at least 1)."""
    out = [(np.asarray(W, np.int64), np.asarray(b, np.int64)) for W, b in net]
    if n_classes == 2:
        W, b = out[-1]
        out[-1] = (np.vstack([np.zeros_like(W), W]), np.concatenate([[0], b]).astype(np.int64))
    return out


def train_sparse_gd(
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: tuple[int, ...],
    n_classes: int,
    bound: int,
    levels: int,
    config: SparseGdConfig | None = None,
) -> GdResult:
    """Train on ``X`` (ints in ``[0, L]``) and ``y`` (class indices); the returned network
    (model-file shapes) meets the budget: at most ``max_nonzeros`` non-zero first-layer
    weights and ``max_neurons`` active hidden neurons."""
    cfg = config or SparseGdConfig()
    t0 = time.perf_counter()
    rng = np.random.default_rng(cfg.seed)
    X = np.asarray(X, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    N, n = X.shape
    n_out = 1 if n_classes == 2 else n_classes
    sizes = [n, *hidden, n_out]
    active = X.any(axis=0).astype(float)
    tr = _Trainer(sizes, bound, levels, active, cfg, rng)
    Xs = X / float(levels)
    total_w = sizes[0] * sizes[1]
    total_h = sum(hidden)
    K = total_w if cfg.max_nonzeros is None else min(total_w, int(cfg.max_nonzeros))
    M = total_h if cfg.max_neurons is None else min(total_h, int(cfg.max_neurons))
    bs = max(1, min(int(cfg.batch_size), N))
    epochs = cfg.epochs or auto_epochs(N, bs)
    best: Network | None = None
    best_key = (-1.0, -np.inf)
    history: list[tuple[float, float, float]] = []
    epoch = 0
    for epoch in range(1, max(1, epochs) + 1):
        frac = min(1.0, epoch / max(1.0, cfg.sparsify * epochs))
        k = int(round(total_w - (total_w - K) * frac))
        m = int(round(total_h - (total_h - M) * frac))
        lr = cfg.lr * 0.5 * (1 + np.cos(np.pi * (epoch - 1) / max(1, epochs)))
        order = rng.permutation(N)
        for start in range(0, N, bs):
            idx = order[start:start + bs]
            tr.step(Xs[idx], y[idx], lr)
            tr.project(k, m)
        net = tr.rounded()
        scores = _int_forward(net, X)
        pred = (scores[:, 0] >= 1).astype(np.int64) if n_out == 1 else np.argmax(scores, axis=1)
        acc = float(np.mean(pred == y))
        loss, _ = tr.loss_grad(scores.astype(float) / (levels if not hidden else 1), y)
        full = to_network(net, n_classes)
        key = (acc, -loss)
        if np.count_nonzero(net[0][0]) <= K and active_neurons(full) <= M and key > best_key:
            best, best_key = full, key
            history.append((time.perf_counter() - t0, acc, loss))
        if time.perf_counter() - t0 > cfg.time_limit:
            break
    if best is None:  # the budget never held (time ran out early): force it once
        tr.project(K, M)
        net = tr.rounded()
        best = to_network(net, n_classes)
        scores = _int_forward(net, X)
        pred = (scores[:, 0] >= 1).astype(np.int64) if n_out == 1 else np.argmax(scores, axis=1)
        best_key = (float(np.mean(pred == y)), -np.inf)
        history.append((time.perf_counter() - t0, best_key[0], float("inf")))
    return GdResult(network=best, train_accuracy=best_key[0], loss=-best_key[1], epochs=epoch,
                    time=time.perf_counter() - t0, history=history)
