"""The all-rows neighbourhood sub-MIP (trainer/row_mip.py): exact on every row (checked by
enumerating every weight in a small window), rows that cannot change are constants, equal
rows are grouped, the budget holds."""

from __future__ import annotations

import itertools

import numpy as np

from mipnn.trainer.row_mip import RowProblem, Window, bounds_of_f, open_groups, solve_rows


def instance(seed: int = 0, n: int = 120):
    rng = np.random.default_rng(seed)
    A = rng.integers(0, 4, (n, 3))
    base = rng.integers(-6, 7, n)
    mode = rng.integers(0, 3, n)
    thr = np.where(mode == 1, 0, -1) + rng.integers(-2, 3, n)
    return RowProblem(A, base, mode, thr, rng.random(n) < 0.5)


def brute(rp: RowProblem, win: Window) -> int:
    best = -1
    ranges = []
    for lo, hi in zip(win.lo, win.hi, strict=True):
        vals = set(range(int(lo), int(hi) + 1))
        if win.budget is not None:
            vals.add(0)
        ranges.append(sorted(vals))
    for w in itertools.product(*ranges):
        if win.budget is not None and np.count_nonzero(w) > win.budget:
            continue
        for b in range(win.b_lo, win.b_hi + 1):
            best = max(best, rp.correct(np.array(w), b))
    return best


def test_the_sub_mip_is_exact_on_every_row():
    for seed in range(3):
        rp = instance(seed)
        w0, b0 = np.array([1, -1, 2]), 0
        for budget in (None, 1):
            if budget is not None:
                w0 = np.array([0, -1, 0])
            win = Window(np.array([-2, -2, 1]), np.array([2, 1, 3]), -2, 2, budget)
            w, b, info = solve_rows(rp, win, w0, b0, time_limit=20.0)
            assert rp.correct(w, b) == brute(rp, win) >= rp.correct(w0, b0)
            if budget is not None:
                assert np.count_nonzero(w) <= budget
            assert info["groups"] <= len(rp.base)


def test_constant_rows_and_groups():
    A = np.array([[1], [1], [1], [0], [2]])
    rp = RowProblem(A, np.array([0, 0, 0, 5, -100]), np.array([1, 1, 1, 1, 2]),
                    np.array([2, 2, 2, 0, 0]), np.zeros(5, bool))
    win = Window(np.array([0]), np.array([3]), 0, 0)
    lo, hi = bounds_of_f(rp, win)
    assert lo.tolist() == [0, 0, 0, 5, -100] and hi.tolist() == [3, 3, 3, 5, -94]
    keys, counts, fixed = open_groups(rp, win)
    assert fixed == 2 and counts.tolist() == [3] and keys.shape == (1, 4)
    w, b, info = solve_rows(rp, win, np.array([0]), 0, time_limit=5.0)
    assert rp.correct(w, b) == 5 and w[0] >= 2
    assert solve_rows(rp, win, np.array([0]), 0, time_limit=5.0, max_groups=0) is None
