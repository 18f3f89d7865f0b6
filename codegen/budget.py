"""A deployment budget in bytes, translated into the trainer's budget (``mipnn train
--flash-budget BYTES --device TARGET``): the largest number of non-zero first-layer
weights ``K`` whose model, as the code generator would write it for the target, fits the
flash budget by the cost model (:mod:`mipnn.codegen.cost`) with the fastest strategy whose
code grows with ``K`` (``unrolled``, ``xnor``, ``compact``: the weight tables of ``int8``
and ``int16`` hold every weight, zero or not, so ``K`` does not change their size), the
hidden neurons ``M``, and the input levels ``L``.

The estimate is made on a stand-in network of the trained shape: ``K`` weights spread
evenly over the first layer's rows (the second output row of a binary network without
hidden layers, which the gradient stage leaves zero in the first), every hidden neuron
connected to every output, weights of about ``TYPICAL_WEIGHT`` (the mean magnitude of
trained budgeted models with ``P >= 8``; smaller ``P``: ``P``).

``L`` on a core whose ``int`` is 16 bits (the ``avr`` profile): the largest of 255, 127,
63, 31, 15 for which a first-layer row's sum stays within 16 bits with weights of typical
magnitude (``TYPICAL_WEIGHT * terms * L <= 32767``), so the accumulators stay 16-bit; the
measured Adult models need 32-bit sums at ``L = 255`` (1,103 cycles against 754 at
``L = 63``, with equal accuracy). Elsewhere ``L`` is left as given.

:func:`apply_flash_budget` applies the translation to a training configuration;
:func:`model_cost` and :func:`cost_record` are the cost model's verdict on a trained model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mipnn.codegen.cost import get_profile
from mipnn.codegen.errors import CodegenError
from mipnn.codegen.strategy import choose_strategy, estimate
from mipnn.trainer.model import Model, network_model

TYPICAL_WEIGHT = 8
# the strategies whose flash grows with the non-zero weights (int8/int16 store every weight)
SPARSE_STRATEGIES = ("unrolled", "xnor", "compact")
LEVEL_CHOICES = (255, 127, 63, 31, 15)
INT16_MAX = 32767


@dataclass(frozen=True)
class Budget:
    """The trainer's budget for one flash budget and target, with the cost model's
    estimate for it (model flash in bytes; time in instructions, cycles on AVR)."""

    max_nonzeros: int
    max_neurons: int | None
    levels: int
    flash: float
    time: float
    strategy: str
    profile: str


def stand_in(n_inputs: int, hidden: tuple[int, ...], n_classes: int, k: int, weight: int,
             levels: int) -> Model:
    """The stand-in network with ``k`` first-layer weights of magnitude ``weight`` (module
    docstring; magnitudes within 2 of it): each row's weights on its own pseudo-random
    columns, signs and magnitudes varying between rows (so rows share little, as trained
    rows do), signs alternating within a row so the sums stay small."""
    sizes = [n_inputs, *hidden, n_classes]
    perm = np.argsort((np.arange(n_inputs) * 2654435761) % 4294967291, kind="stable")
    net = []
    for li in range(len(sizes) - 1):
        n_in, n_out = sizes[li], sizes[li + 1]
        W = np.zeros((n_out, n_in), np.int64)
        if li == 0:
            rows = [1] if (not hidden and n_classes == 2) else list(range(n_out))
            for t in range(k):
                r, j = rows[t % len(rows)], t // len(rows)
                size = max(1, weight + (7 * j + 3 * r) % 5 - 2)
                W[r, perm[(j + 13 * r) % n_in]] = size * (1 if (5 * j + 3 * r) % 2 else -1)
        else:
            W[:, :] = weight
            if li == len(sizes) - 2 and n_classes == 2:
                W[0] = 0
        net.append((W, np.zeros(n_out, np.int64)))
    return network_model(net, [str(c) for c in range(n_classes)], levels, "budget")


def choose_levels(profile: str, terms_per_row: int, weight: int, levels: int) -> int:
    """``L`` for the profile (module docstring): on 16-bit cores the largest choice whose
    typical row sum fits 16 bits (at most ``levels``); elsewhere ``levels``."""
    if profile != "avr":
        return levels
    for L in LEVEL_CHOICES:
        if L <= levels and weight * max(1, terms_per_row) * L <= INT16_MAX:
            return L
    return min(levels, LEVEL_CHOICES[-1])


def translate_budget(
    flash_budget: int, profile: str | None, *, n_inputs: int, hidden: tuple[int, ...],
    n_classes: int, bound: int, levels: int = 255, max_neurons: int | None = None,
    choose_l: bool = True,
) -> Budget:
    """The trainer's budget for ``flash_budget`` bytes of model flash under the cost
    ``profile`` (module docstring). Raises CodegenError when not even one weight fits."""
    if flash_budget <= 0:
        raise CodegenError(f"flash budget {flash_budget} B: give a positive number of bytes")
    prof = get_profile(profile)
    weight = max(1, min(bound, TYPICAL_WEIGHT))
    n_hidden = tuple(hidden)
    if max_neurons is not None and n_hidden:  # the budget's neurons, spread over the layers
        n_hidden = tuple(max(1, round(h * max_neurons / sum(hidden))) for h in hidden)
    rows = n_hidden[0] if n_hidden else (1 if n_classes == 2 else n_classes)
    top = n_inputs * rows

    def fits(k: int) -> tuple[bool, float, float, str, int]:
        L = choose_levels(prof.name, -(-k // rows), weight, levels) if choose_l else levels
        model = stand_in(n_inputs, n_hidden, n_classes, k, weight, L)
        ests = [estimate(model, s, prof, flash_budget=flash_budget) for s in SPARSE_STRATEGIES]
        fitting = [e for e in ests if e.flash <= flash_budget]
        est = (min(fitting, key=lambda e: (e.time, e.flash)) if fitting
               else min(ests, key=lambda e: e.flash))
        return bool(fitting), est.flash, est.time, est.strategy, L

    lo, hi = 0, top
    while lo < hi:  # the largest k that fits
        mid = (lo + hi + 1) // 2
        if fits(mid)[0]:
            lo = mid
        else:
            hi = mid - 1
    if lo == 0:
        smallest = fits(1)[1]
        raise CodegenError(
            f"flash budget {flash_budget} B: even one weight needs about {smallest:.0f} B of "
            f"model flash on {prof.name} with this shape (hidden {list(hidden) or 0}); give "
            "a larger budget or fewer hidden neurons")
    _, flash, time, strategy, L = fits(lo)
    neurons = sum(n_hidden) if n_hidden else None
    return Budget(max_nonzeros=lo, max_neurons=neurons, levels=L, flash=flash, time=time,
                  strategy=strategy, profile=prof.name)


def apply_flash_budget(config: Any, n_inputs: int, n_classes: int, levels: int,
                       flash_budget: int, profile: str | None, choose_l: bool = True
                       ) -> tuple[Any, Budget, str]:
    """``config`` (a TrainConfig) with ``max_nonzeros`` at most the budget's K, the budget
    (its ``levels`` is the L to encode the data with) and a line for the user."""
    budget = translate_budget(
        flash_budget, profile, n_inputs=n_inputs, hidden=tuple(config.hidden),
        n_classes=n_classes, bound=config.bound, levels=levels,
        max_neurons=config.max_neurons, choose_l=choose_l)
    k = budget.max_nonzeros if config.max_nonzeros is None else min(config.max_nonzeros,
                                                                    budget.max_nonzeros)
    config = replace(config, max_nonzeros=k)
    config.check()
    unit = "cycles" if budget.profile == "avr" else "instructions"
    line = (f"budget: {flash_budget} B of model flash on {budget.profile} -> at most {k} "
            f"non-zero first-layer weights, L = {budget.levels} (cost model: about "
            f"{budget.flash:.0f} B, {budget.time:.0f} {unit}, strategy {budget.strategy})")
    return config, budget, line


def cost_record(model: Model, profile: str | None, flash_budget: int, device: str
                ) -> tuple[dict[str, Any], str]:
    """The cost model's verdict on a trained model for its flash budget: the record the
    model file keeps (``training.flash_budget``) and a line for the user."""
    strategy, flash, time = model_cost(model, profile, flash_budget)
    unit = "cycles" if get_profile(profile).name == "avr" else "instructions"
    record = {"bytes": flash_budget, "device": device, "strategy": strategy,
              "estimated_flash": round(flash), f"estimated_{unit}": round(time)}
    verdict = "fits" if flash <= flash_budget else "does NOT fit"
    line = (f"budget: {device}, strategy {strategy}: about {flash:.0f} B of model flash "
            f"({verdict} {flash_budget} B), about {time:.0f} {unit} (cost model; mipnn "
            "firmware measures)")
    return record, line


def model_cost(model: Model, profile: str | None, flash_budget: int | None = None
               ) -> tuple[str, float, float]:
    """``(strategy, model flash, time)`` the cost model estimates for ``model`` with
    ``auto`` within ``flash_budget`` (default: the profile's)."""
    strategy, estimates = choose_strategy(model, get_profile(profile), flash_budget)
    est = next(e for e in estimates if e.strategy == strategy)
    return strategy, est.flash, est.time
