"""The matrix-form MIP (trainer/problem.py): blocks of variables, rows from triplets, and the
objective and feasibility of a solution vector, integrality included."""

from __future__ import annotations

import numpy as np

from mipnn.trainer.problem import ProblemBuilder, is_feasible, objective_value


def test_a_built_problem_checks_rows_bounds_and_integrality():
    b = ProblemBuilder()
    x = b.add_var("x", (2,), 0, 3, integer=True)
    z = b.add_var("z", (1,), -np.inf, np.inf, integer=False)
    # x0 + x1 - z == 0 and x0 - x1 >= 1
    b.add_rows(1, np.zeros(3), np.concatenate([x, z]), [1.0, 1.0, -1.0], 0.0, 0.0)
    b.add_rows(1, np.zeros(2), x, [1.0, -1.0], 1.0, np.inf)
    b.set_cost(z, 2.0)
    p = b.build(offset=5.0, meta={"what": "toy"})
    assert (p.n_cols, p.n_rows) == (3, 2) and p.meta == {"what": "toy"}
    assert p.integrality.tolist() == [True, True, False]
    assert p.values(np.array([2.0, 1.0, 3.0]), "x").tolist() == [2.0, 1.0]
    assert objective_value(p, np.array([2.0, 1.0, 3.0])) == 11.0
    assert is_feasible(p, np.array([2.0, 1.0, 3.0]))
    assert not is_feasible(p, np.array([1.0, 1.0, 2.0]))  # x0 - x1 >= 1 violated
    assert not is_feasible(p, np.array([4.0, 1.0, 5.0]))  # x0 above its bound
    assert not is_feasible(p, np.array([2.5, 1.0, 3.5]))  # x0 not integral
