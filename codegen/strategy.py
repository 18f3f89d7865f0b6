"""The code-generation strategies and the choice between them.

Every strategy computes exactly ``mipnn.trainer.model.forward`` (ARCHITECTURE.md 2) for
every input in range; they differ only in how the C does it:

``int8``, ``int16``
    The table loop, one per layer (``mipnn.codegen.table``): the readable reference.
``unrolled``
    Straight-line code with the weights in the instructions, first-layer work shared
    along a tree (``mipnn.codegen.unrolled``).
``xnor``
    As ``unrolled`` for the first layer, then packed sign bits and popcounts
    (``mipnn.codegen.xnor``).
``compact``
    As ``unrolled``, with first-layer terms as index tables summed by a small gather loop,
    except where a flash budget allows code (``mipnn.codegen.compact``).

``auto`` picks, per target, the strategy the cost model (``mipnn.codegen.cost``)
estimates to be fastest among those whose estimated model flash fits the budget
(``--flash-budget``, default the profile's); ``compact`` is planned for that same budget.
If nothing fits, the smallest estimate.
"""

from __future__ import annotations

from mipnn.codegen.compact import build_compact
from mipnn.codegen.cost import CostProfile, Estimate, get_profile, program_cost, table_cost
from mipnn.codegen.errors import CodegenError
from mipnn.codegen.program import Program
from mipnn.codegen.ranges import analyse_ranges
from mipnn.codegen.simplify import simplify
from mipnn.codegen.unrolled import UnrolledBuilder
from mipnn.codegen.xnor import XnorBuilder
from mipnn.trainer.model import Model

STRATEGIES = ("int8", "int16", "unrolled", "xnor", "compact")
STRATEGY_CHOICES = (*STRATEGIES, "auto")

# One line per strategy for the comment at the top of the generated C.
STRATEGY_DOCS = {
    "int8": "int8_t weight tables, one loop per layer, 32-bit accumulators",
    "int16": "int8_t weight tables, one loop per layer, 16-bit accumulators where proven safe",
    "unrolled": "straight-line add/subtract, zero weights skipped, weights in the code",
    "xnor": "unrolled first layer, then +/-1 activations packed into bits (XOR/popcount)",
    "compact": "as unrolled, but first-layer input terms are index tables read by a small "
               "gather loop, except where the flash budget allows code",
}

# Straight-line code beyond this many statements is refused: it would take more flash than
# a microcontroller has for a model, and GCC's time grows faster than linearly with the
# size of one function (about 10 s for 10,000 statements here).
MAX_UNROLLED_STATEMENTS = 6000


def build_program(model: Model, strategy: str, profile: CostProfile | None = None,
                  flash_budget: float | None = None) -> Program:
    """The unrolled program of ``model`` for ``unrolled``, ``xnor`` or ``compact``; raises
    CodegenError when its straight-line code would exceed ``MAX_UNROLLED_STATEMENTS``.

    ``compact`` with a ``flash_budget`` (and the ``profile`` whose costs it uses) keeps as
    many first-layer terms in code as the budget allows, where they save the most time
    (``plan_compact``); without one, every term that can be is a table entry."""
    net = simplify(model)
    if strategy == "compact":
        program = build_compact(net, profile, flash_budget)
    elif strategy == "xnor":
        program = XnorBuilder(net).build()
    else:
        program = UnrolledBuilder(net).build()
    size = sum(program.counts[k] for k in
               ("term", "term_wide", "cond_add", "pack", "popcount", "gather_call"))
    if size > MAX_UNROLLED_STATEMENTS:
        raise CodegenError(
            f"strategy {strategy!r}: the straight-line code of this model would have {size} "
            f"statements (more than {MAX_UNROLLED_STATEMENTS}: too big for a microcontroller "
            "and slow to compile); use --strategy int8, int16 or auto"
        )
    return program


def estimate(model: Model, strategy: str, profile: CostProfile,
             program: Program | None = None, flash_budget: float | None = None) -> Estimate:
    """Estimated time and flash of ``strategy`` for ``model`` under ``profile``; ``fits``
    compares the flash with ``flash_budget`` (default: the profile's). ``compact`` is
    planned for ``flash_budget`` (None: all table; see ``build_program``)."""
    p = profile
    budget = p.flash_budget if flash_budget is None else flash_budget
    if strategy in ("int8", "int16"):
        time, flash = table_cost(analyse_ranges(model), strategy, p)
    else:
        prog = program if program is not None else build_program(model, strategy, p,
                                                                 flash_budget)
        time, flash = program_cost(prog, p)
    return Estimate(strategy, float(time), float(flash), flash <= budget)


def choose_strategy(model: Model, profile: CostProfile,
                    flash_budget: float | None = None) -> tuple[str, list[Estimate]]:
    """The strategy ``auto`` uses: the fastest estimate whose model flash fits
    ``flash_budget`` (default: the profile's; the smaller flash on a tie, then the earlier
    strategy); if nothing fits, the smallest. Strategies that refuse the model (too much
    straight-line code) do not fit."""
    if flash_budget is None:
        flash_budget = profile.flash_budget
    estimates = []
    for s in STRATEGIES:
        try:
            estimates.append(estimate(model, s, profile, flash_budget=flash_budget))
        except CodegenError:
            estimates.append(Estimate(s, float("inf"), float("inf"), False))
    fitting = [e for e in estimates if e.fits]
    if not fitting:
        return min(estimates, key=lambda e: (e.flash, e.time)).strategy, estimates
    best = min(fitting, key=lambda e: (e.time, e.flash))
    return best.strategy, estimates


def check_flash_budget(flash_budget: int | None) -> int | None:
    """``flash_budget`` if it is None or a positive number of bytes, else CodegenError."""
    if flash_budget is not None and (isinstance(flash_budget, bool) or flash_budget <= 0):
        raise CodegenError(f"flash budget {flash_budget} B: give a positive number of bytes")
    return flash_budget


def resolve_strategy(
    model: Model, strategy: str = "auto", profile: str | None = None,
    flash_budget: int | None = None,
) -> tuple[str, list[Estimate]]:
    """The concrete strategy for ``strategy`` (``auto``: the cost model of ``profile``
    chooses the fastest whose estimated model flash fits ``flash_budget``, default the
    profile's) and the estimates behind the choice."""
    if strategy not in STRATEGY_CHOICES:
        raise CodegenError(
            f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGY_CHOICES)}"
        )
    check_flash_budget(flash_budget)
    prof = get_profile(profile)
    if strategy == "auto":
        return choose_strategy(model, prof, flash_budget)
    return strategy, [estimate(model, strategy, prof, flash_budget=flash_budget)]
