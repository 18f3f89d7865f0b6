"""What a solver route returns: the solve status (an enum), the result of one solve, the
progress reports sent while it runs, and the watch that notices a stalled solve. Every route
(``trainer/highs.py``, ``trainer/gurobi.py``, ``trainer/pyomo_route.py``) maps its
solver's own statuses onto :class:`SolveStatus`; a solve stopped by mipnn's stall limit is
``FEASIBLE``, like one stopped by the time limit.

The statuses follow python-mip's (``OPTIMAL``, ``FEASIBLE``, ``NO_SOLUTION_FOUND``,
``INFEASIBLE``) plus the two ways mipnn stops early on purpose (``TARGET``,
``INTERRUPTED``) and the gradient baseline, which runs no solver (``DONE``). Each value is
the string a model file records in ``training.status`` (``FEASIBLE`` is ``"time_limit"``, as
files have always written it), and the enum is a ``str``: comparing with, formatting or
writing a status as JSON gives that string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from mipnn.trainer.problem import MipProblem, objective_value


class SolveStatus(StrEnum):
    """How a solve ended. The value is the model file's ``training.status`` string."""

    OPTIMAL = "optimal"  # proven optimal (or equal to a proven bound)
    FEASIBLE = "time_limit"  # stopped early (time, stall or another limit) with a solution
    TARGET = "target"  # stopped with a solution as good as the requested target objective
    INTERRUPTED = "interrupted"  # interrupted (not by mipnn's target) with a solution
    NO_SOLUTION_FOUND = "no_solution"  # stopped without any solution
    INFEASIBLE = "infeasible"  # proven to have no solution
    DONE = "done"  # the gradient baseline ran its epochs (no solver, nothing proven)

    @property
    def has_solution(self) -> bool:
        """Whether a solve ending with this status returns a solution."""
        return self not in (SolveStatus.NO_SOLUTION_FOUND, SolveStatus.INFEASIBLE)


@dataclass(frozen=True)
class Progress:
    """One report while the solver runs: a new incumbent or a periodic heartbeat."""

    time: float
    objective: float | None
    bound: float | None
    gap: float | None
    new_incumbent: bool
    solution: np.ndarray | None = None


@dataclass
class SolveResult:
    """The outcome of one solve: status, the best solution (None without one), its
    objective, the proven bound and gap, and the solver's time."""

    solver: str
    status: SolveStatus
    solution: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    time: float
    incumbents: list[Progress] = field(default_factory=list)
    setup_time: float = 0.0  # handing the model (and the start) to the solver

    @property
    def has_solution(self) -> bool:
        return self.solution is not None


class StallWatch:
    """When a running solve last made progress: a new incumbent, or a dual bound that moved
    by more than ``tol``. ``stalled(now)`` is True once neither happened for ``stall``
    seconds (never when ``stall`` is None). The routes with callbacks (highspy,
    gurobi-direct) stop a solve that stalls, so the search policy can hand the rest of the
    time to large-neighbourhood search (:mod:`mipnn.trainer.search`)."""

    def __init__(self, stall: float | None, tol: float = 1e-6) -> None:
        self.stall = stall
        self.tol = tol
        self.last = 0.0
        self.bound: float | None = None
        self.stopped = False  # set by the route when it stopped the solve for a stall

    def incumbent(self, now: float) -> None:
        """A new incumbent was found at ``now`` (seconds since the solve started)."""
        self.last = now

    def dual_bound(self, now: float, bound: float | None) -> None:
        """The dual bound is ``bound`` at ``now``: progress when it moved up by > tol."""
        if bound is None:
            return
        if self.bound is None or bound > self.bound + self.tol:
            if self.bound is not None:
                self.last = now
            self.bound = bound

    def stalled(self, now: float) -> bool:
        return self.stall is not None and now - self.last >= self.stall


def stopped_result(solver: str, problem: MipProblem, start: np.ndarray | None,
                   incumbents: list[Progress], elapsed: float,
                   setup_time: float = 0.0) -> SolveResult:
    """The result of a solve of ``problem`` stopped on request (Ctrl-C, mipnn.trainer.stop)
    without the solver's own answer (before it started, or left behind): its best incumbent
    so far, or ``start`` when that is no worse, with status INTERRUPTED (NO_SOLUTION_FOUND
    without either)."""
    start_objective = None if start is None else objective_value(problem, start)
    found = [p for p in incumbents if p.solution is not None and p.objective is not None]
    best = min(found, key=lambda p: p.objective, default=None)  # type: ignore[arg-type,return-value]
    solution, objective = ((best.solution, best.objective) if best is not None
                           and (start_objective is None or best.objective <= start_objective)
                           else (start, start_objective))
    status = SolveStatus.INTERRUPTED if solution is not None else SolveStatus.NO_SOLUTION_FOUND
    return SolveResult(solver=solver, status=status, solution=solution, objective=objective,
                       bound=None, gap=None, time=elapsed, incumbents=incumbents,
                       setup_time=setup_time)
