"""The cost model: estimated time (instructions, cycles on AVR) and model flash of the
generated code on one kind of core (``CostProfile``; ``PROFILES`` by name, calibrated on the
measured targets: bench/deploy.py prints the estimates beside the measurements). The
estimates only need to rank the strategies: ``program_cost`` for an unrolled program (from
its statement counts), ``table_cost`` for the ``int8``/``int16`` table loop (from the range
analysis)."""

from __future__ import annotations

from dataclasses import dataclass

from mipnn.codegen.errors import CodegenError
from mipnn.codegen.program import Program
from mipnn.codegen.ranges import LayerPlan
from mipnn.codegen.table import loop_accumulator


@dataclass(frozen=True)
class CostProfile:
    """Estimated costs on one kind of core: time in instructions (cycles on AVR), size in
    bytes of flash. Calibrated on the measured targets (bench/deploy.py prints the
    estimates beside the measurements); they only need to rank the strategies."""

    name: str
    loop_mac: float  # one weight of the table loop (load weight and input, multiply-add, loop)
    loop_mac_wide: float  # ... with a 32-bit accumulator
    loop_neuron: float  # per neuron of the table loop (bias, activation, store)
    term: float  # one input term of unrolled code (load input, add)
    term_wide: float  # ... into a 32-bit accumulator
    term_mul: float  # extra for a weight other than +/-1 (shift-add; beyond +/-2: term_big)
    cond: float  # test of one sign neuron (compare and branch, or IT block)
    cond_add: float  # one conditional add into an accumulator
    pack: float  # setting one bit of a packed word
    popcount: float  # one XOR/AND/popcount/shift-add term (per word and bit plane)
    neuron: float  # per neuron of unrolled code (start, move)
    fixed: float  # argmax, scores, call overhead
    # flash bytes
    loop_bytes_per_weight: float
    loop_code_bytes: float
    term_bytes: float
    cond_bytes: float
    cond_add_bytes: float
    pack_bytes: float
    popcount_bytes: float
    popcount_fn_bytes: float
    neuron_bytes: float
    flash_budget: int  # largest model flash the auto strategy accepts
    # a weight beyond +/-2 (a multiply, not one shift-add): time and flash beyond ``term``
    # (None: as ``term_mul``, no extra bytes); calibrated on trained linear models with
    # P = 127, L = 63 (docs/RESULTS.md, issue 25); and the extra flash of a term into a
    # 32-bit accumulator
    term_big: float | None = None
    term_big_bytes: float = 0.0
    term_wide_bytes: float = 0.0
    # compact: first-layer terms as table entries, summed by a helper function
    gather: float = 3.25  # one table entry (load index, load input, add; 8 per loop)
    gather_list: float = 14.0  # one list: count, Duff entry, store in d[]; read of d[] and add
    gather_list_bytes: float = 2.0  # the read of d[] and the add, per list
    gather_call: float = 20.0  # the one call of the helper (arguments, return)
    gather_call_bytes: float = 14.0  # the code of the call and of the d[] frame
    gather_fn_bytes: float = 82.0  # the helper function


def _profile(name: str, wide: bool, flash_budget: int, **overrides: float) -> CostProfile:
    """A 32-bit core's costs (``wide`` selects the 8-bit AVR numbers instead)."""
    if wide:  # AVR: cycles; a 16-bit add is 2 instructions, a 32-bit add 4
        base = dict(
            loop_mac=14.0, loop_mac_wide=24.0, loop_neuron=30.0, term=5.0, term_wide=8.0,
            term_mul=10.0, cond=3.0, cond_add=3.0, pack=3.0, popcount=40.0, neuron=4.0,
            fixed=120.0, loop_bytes_per_weight=1.0, loop_code_bytes=260.0, term_bytes=6.0,
            term_big=5.5, term_big_bytes=7.4, term_wide_bytes=14.2,
            cond_bytes=6.0, cond_add_bytes=6.0, pack_bytes=6.0, popcount_bytes=40.0,
            popcount_fn_bytes=40.0, neuron_bytes=8.0,
        )
    else:
        base = dict(
            loop_mac=6.0, loop_mac_wide=6.0, loop_neuron=10.0, term=2.0, term_wide=2.0,
            term_mul=1.0, cond=2.0, cond_add=1.2, pack=2.5, popcount=14.0, neuron=1.5,
            fixed=30.0, loop_bytes_per_weight=1.0, loop_code_bytes=140.0, term_bytes=5.0,
            cond_bytes=4.0, cond_add_bytes=4.0, pack_bytes=6.0, popcount_bytes=30.0,
            popcount_fn_bytes=0.0, neuron_bytes=4.0, term_big=0.4, term_big_bytes=2.5,
        )
    if wide:
        base.update(gather=17.5, gather_list=40.0, gather_list_bytes=6.0, gather_call=60.0,
                    gather_call_bytes=18.0, gather_fn_bytes=300.0)
    base.update(overrides)
    return CostProfile(name=name, flash_budget=flash_budget, **base)


# Budgets: the model flash ``auto`` accepts for speed (a quarter of a 128K part; a quarter
# of the Uno's 32K).
PROFILES: dict[str, CostProfile] = {
    "generic32": _profile("generic32", False, 32 * 1024),
    "host": _profile("host", False, 32 * 1024, term_bytes=7.0),
    # Cortex-M0: 16-bit Thumb only (no IT blocks: a conditional add is a branch).
    "cortex-m0": _profile("cortex-m0", False, 32 * 1024, loop_mac=10.0, loop_mac_wide=10.0,
                          cond=3.0, cond_add=1.5, term=2.8, term_mul=2.0, term_bytes=5.8,
                          term_big=1.6, term_big_bytes=2.6,
                          popcount=18.0, gather=5.0, gather_list=20.0, gather_call=30.0,
                          gather_fn_bytes=92.0),
    "cortex-m3": _profile("cortex-m3", False, 32 * 1024, loop_mac=5.2, loop_mac_wide=5.2,
                          term_bytes=5.2),
    "cortex-m4": _profile("cortex-m4", False, 32 * 1024, loop_mac=5.2, loop_mac_wide=5.2,
                          term_bytes=5.6, term_big_bytes=2.3),
    "rv32": _profile("rv32", False, 32 * 1024, loop_mac=8.0, loop_mac_wide=8.0, cond=2.0,
                     cond_add=1.5, term_bytes=7.4, term_big=1.4, term_big_bytes=2.7,
                     popcount=16.0, gather=5.5,
                     gather_list=16.0, gather_call=30.0, gather_call_bytes=14.0,
                     gather_fn_bytes=150.0),
    "avr": _profile("avr", True, 8 * 1024, loop_mac=24.0, loop_mac_wide=29.0, term_bytes=7.7,
                    term_wide=11.4),
}


def get_profile(name: str | None) -> CostProfile:
    """The cost profile called ``name`` (``None``: ``generic32``)."""
    key = name or "generic32"
    if key not in PROFILES:
        raise CodegenError(f"unknown cost profile {key!r}; known: {', '.join(sorted(PROFILES))}")
    return PROFILES[key]


@dataclass(frozen=True)
class Estimate:
    """The cost model's estimate of one strategy for one model; ``fits``: the model flash
    is within the flash budget."""

    strategy: str
    time: float  # instructions (cycles on AVR)
    flash: float  # bytes
    fits: bool


def term_cost(p: CostProfile, coef: int) -> tuple[float, float]:
    """Estimated (time, flash) of one 16-bit unrolled input term with weight ``coef``."""
    time, flash = p.term, p.term_bytes
    if abs(coef) > 2:
        time += p.term_big if p.term_big is not None else p.term_mul
        flash += p.term_big_bytes
    elif abs(coef) != 1:
        time += p.term_mul
    return time, flash


def program_cost(prog: Program, p: CostProfile) -> tuple[float, float]:
    """Estimated (time, model flash) of an unrolled program under profile ``p``."""
    c = prog.counts
    elem = 1 if prog.table_type == "uint8_t" else 2
    time = (
        p.fixed
        + c["term"] * p.term
        + c["term_wide"] * p.term_wide
        + c["term_mul"] * p.term_mul
        + c["term_big"] * ((p.term_big if p.term_big is not None else p.term_mul) - p.term_mul)
        + c["cond"] * p.cond
        + c["cond_add"] * p.cond_add
        + c["pack"] * p.pack
        + c["popcount"] * p.popcount
        + c["neuron"] * p.neuron
        + c["gather"] * p.gather
        + c["gather_list"] * p.gather_list
        + c["gather_call"] * p.gather_call
    )
    flash = (
        60
        + (c["term"] + c["term_wide"]) * p.term_bytes
        + c["term_big"] * p.term_big_bytes
        + c["term_wide"] * p.term_wide_bytes
        + c["cond"] * p.cond_bytes
        + c["cond_add"] * p.cond_add_bytes
        + c["pack"] * p.pack_bytes
        + c["popcount"] * p.popcount_bytes
        + len(prog.popcount_widths) * p.popcount_fn_bytes
        + c["neuron"] * p.neuron_bytes
        + c["table"] * elem
        + c["gather_list"] * p.gather_list_bytes
        + c["gather_call"] * (p.gather_call_bytes + p.gather_fn_bytes)
    )
    return float(time), float(flash)


def table_cost(plans: list[LayerPlan], strategy: str, p: CostProfile) -> tuple[float, float]:
    """Estimated (time, model flash) of the table loop of ``strategy`` (``int8``,
    ``int16``) for the layers of ``plans`` under profile ``p``."""
    time = p.fixed
    flash = p.loop_code_bytes
    for plan in plans:
        narrow = loop_accumulator(plan, strategy) == "int_fast16_t"
        per = p.loop_mac if narrow else p.loop_mac_wide
        time += plan.n_in * plan.n_out * per + plan.n_out * p.loop_neuron
        flash += plan.n_in * plan.n_out * p.loop_bytes_per_weight + plan.n_out * 4 + 24
    return float(time), float(flash)
