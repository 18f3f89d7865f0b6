"""Combining the batch solutions of an epoch and the next epoch's parameter bounds: the
paper's weighted mean (weights: validation accuracy rescaled to [0, 1]), the shrinking
window around a center network, and the per-parameter spread of the batch solutions that
narrows it (mipnn's variant)."""

from __future__ import annotations

import numpy as np

from mipnn.trainer.formulation import ParamBounds

Network = list[tuple[np.ndarray, np.ndarray]]


def combine(networks: list[Network], val_accuracies: list[float],
            limits: ParamBounds) -> Network:
    """The paper's combination: weights = validation accuracy rescaled to [0, 1] (equal
    weights when all are equal), weighted mean of every parameter, rounded, clipped."""
    acc = np.asarray(val_accuracies, dtype=float)
    span = acc.max() - acc.min()
    w = (acc - acc.min()) / span if span > 0 else np.ones_like(acc)
    w = w / w.sum()
    out: Network = []
    for li, (wl, wu, bl, bu) in enumerate(limits):
        W = sum(wi * net[li][0] for wi, net in zip(w, networks, strict=True))
        b = sum(wi * net[li][1] for wi, net in zip(w, networks, strict=True))
        out.append((np.clip(np.rint(W), wl, wu).astype(np.int64),
                    np.clip(np.rint(b), bl, bu).astype(np.int64)))
    return out


def next_bounds(center: Network, limits: ParamBounds, radius: int, levels: int,
                spread: tuple[Network, Network] | None = None) -> ParamBounds:
    """``[center - r, center + r]`` clipped to the limits (first-layer bias radius ``r*L``);
    with ``spread`` (per-parameter min and max of the batch solutions) the window is
    narrowed to ``[min - 1, max + 1]``, always containing the center."""
    r = max(radius, 0)
    out: ParamBounds = []
    for li, ((W, b), (wl, wu, bl, bu)) in enumerate(zip(center, limits, strict=True)):
        rb = r * levels if li == 0 else r
        lo_w, hi_w = np.maximum(W - r, wl), np.minimum(W + r, wu)
        lo_b, hi_b = np.maximum(b - rb, bl), np.minimum(b + rb, bu)
        if spread is not None:
            (smin_w, smin_b), (smax_w, smax_b) = spread[0][li], spread[1][li]
            lo_w = np.maximum(lo_w, np.minimum(smin_w - 1, W))
            hi_w = np.minimum(hi_w, np.maximum(smax_w + 1, W))
            sb = levels if li == 0 else 1
            lo_b = np.maximum(lo_b, np.minimum(smin_b - sb, b))
            hi_b = np.minimum(hi_b, np.maximum(smax_b + sb, b))
        out.append((lo_w, hi_w, lo_b, hi_b))
    return out


def _spread(networks: list[Network]) -> tuple[Network, Network]:
    lo = [(np.min([n[li][0] for n in networks], axis=0), np.min([n[li][1] for n in networks], axis=0))
          for li in range(len(networks[0]))]
    hi = [(np.max([n[li][0] for n in networks], axis=0), np.max([n[li][1] for n in networks], axis=0))
          for li in range(len(networks[0]))]
    return lo, hi
