"""A mixed-integer program in matrix form (variables in named blocks, a sparse constraint
matrix, bounds, integrality and a linear objective, minimised), the builder that accumulates
one from vectorised blocks of rows, and the two checks every route relies on: a solution's
objective value and its feasibility."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class VarBlock:
    """A named array of variables: ``size`` consecutive columns from ``start``."""

    start: int
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def index(self) -> np.ndarray:
        return np.arange(self.start, self.start + self.size).reshape(self.shape)


@dataclass
class MipProblem:
    """A MIP in matrix form: minimise ``cost @ v + offset`` subject to
    ``row_lower <= A v <= row_upper``, ``col_lower <= v <= col_upper``, ``v[integrality]``
    integer."""

    cost: np.ndarray
    offset: float
    A: sp.csc_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    blocks: dict[str, VarBlock]
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def n_cols(self) -> int:
        return int(self.cost.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.row_lower.shape[0])

    def values(self, solution: np.ndarray, name: str) -> np.ndarray:
        """The block ``name`` of a solution vector, in the block's shape."""
        return np.asarray(solution)[self.blocks[name].index()]


class ProblemBuilder:
    """Accumulates variable blocks and vectorised constraint rows (COO triplets)."""

    def __init__(self) -> None:
        self._lower: list[np.ndarray] = []
        self._upper: list[np.ndarray] = []
        self._int: list[np.ndarray] = []
        self._cost: list[np.ndarray] = []
        self.blocks: dict[str, VarBlock] = {}
        self.n_cols = 0
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._rlo: list[np.ndarray] = []
        self._rhi: list[np.ndarray] = []
        self.n_rows = 0
        self.extra: dict[str, object] = {}

    def add_var(
        self,
        name: str,
        shape: tuple[int, ...],
        lower: float | np.ndarray,
        upper: float | np.ndarray,
        integer: bool,
    ) -> np.ndarray:
        block = VarBlock(self.n_cols, tuple(int(s) for s in shape))
        size = block.size
        self.blocks[name] = block
        self._lower.append(np.broadcast_to(np.asarray(lower, dtype=float), shape).ravel())
        self._upper.append(np.broadcast_to(np.asarray(upper, dtype=float), shape).ravel())
        self._int.append(np.full(size, integer))
        self._cost.append(np.zeros(size))
        self.n_cols += size
        return block.index()

    def add_rows(
        self,
        n: int,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray,
        lower: float | np.ndarray,
        upper: float | np.ndarray,
    ) -> None:
        """Add ``n`` rows; ``rows`` are local indices in ``[0, n)`` of each triplet."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        vals = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).ravel()
        self._rows.append(rows + self.n_rows)
        self._cols.append(cols)
        self._vals.append(vals)
        self._rlo.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).ravel())
        self._rhi.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).ravel())
        self.n_rows += n

    def set_cost(self, index: np.ndarray, value: float | np.ndarray) -> None:
        cost = np.concatenate(self._cost) if len(self._cost) > 1 else self._cost[0]
        cost[np.asarray(index).ravel()] = value
        self._cost = [cost]

    def build(self, offset: float = 0.0, meta: dict[str, object] | None = None) -> MipProblem:
        rows = np.concatenate(self._rows) if self._rows else np.zeros(0, np.int64)
        cols = np.concatenate(self._cols) if self._cols else np.zeros(0, np.int64)
        vals = np.concatenate(self._vals) if self._vals else np.zeros(0)
        keep = vals != 0
        A = sp.csc_matrix(
            (vals[keep], (rows[keep], cols[keep])), shape=(self.n_rows, self.n_cols)
        )
        A.sum_duplicates()
        return MipProblem(
            cost=np.concatenate(self._cost),
            offset=offset,
            A=A,
            row_lower=np.concatenate(self._rlo) if self._rlo else np.zeros(0),
            row_upper=np.concatenate(self._rhi) if self._rhi else np.zeros(0),
            col_lower=np.concatenate(self._lower),
            col_upper=np.concatenate(self._upper),
            integrality=np.concatenate(self._int),
            blocks=dict(self.blocks),
            meta=(meta or {}) | self.extra,
        )


def objective_value(problem: MipProblem, v: np.ndarray) -> float:
    """The objective of solution ``v`` (``cost @ v + offset``)."""
    return float(problem.cost @ v + problem.offset)


def is_feasible(problem: MipProblem, v: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether ``v`` satisfies every row, bound and integrality of ``problem``."""
    act = problem.A @ v
    ok_rows = np.all(act >= problem.row_lower - tol) and np.all(act <= problem.row_upper + tol)
    ok_cols = np.all(v >= problem.col_lower - tol) and np.all(v <= problem.col_upper + tol)
    ints = v[problem.integrality]
    return bool(ok_rows and ok_cols and np.all(np.abs(ints - np.rint(ints)) <= tol))
