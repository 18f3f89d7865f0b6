"""The solve status (trainer/solve_result.py): python-mip's statuses plus mipnn's, each the
string a model file has always recorded in ``training.status``."""

from __future__ import annotations

import json

from mipnn.trainer.solve_result import SolveStatus


def test_each_status_is_the_string_model_files_record():
    assert {s.name: s.value for s in SolveStatus} == {
        "OPTIMAL": "optimal", "FEASIBLE": "time_limit", "TARGET": "target",
        "INTERRUPTED": "interrupted", "NO_SOLUTION_FOUND": "no_solution",
        "INFEASIBLE": "infeasible", "DONE": "done",
    }
    assert SolveStatus("time_limit") is SolveStatus.FEASIBLE
    assert SolveStatus.OPTIMAL == "optimal" and f"{SolveStatus.FEASIBLE}" == "time_limit"
    assert json.dumps({"status": SolveStatus.INFEASIBLE}) == '{"status": "infeasible"}'


def test_which_statuses_come_with_a_solution():
    without = {s for s in SolveStatus if not s.has_solution}
    assert without == {SolveStatus.NO_SOLUTION_FOUND, SolveStatus.INFEASIBLE}


def test_the_stall_watch_counts_incumbents_and_bound_moves_as_progress():
    from mipnn.trainer.solve_result import StallWatch

    w = StallWatch(2.0)
    assert not w.stalled(1.9) and w.stalled(2.0)  # nothing since the start
    w.incumbent(3.0)
    assert not w.stalled(4.5) and w.stalled(5.0)
    w.dual_bound(4.0, 0.0)  # the first bound seen is no move
    assert w.stalled(5.0)
    w.dual_bound(5.5, 1e-9)  # within the tolerance: no move
    assert w.stalled(5.5)
    w.dual_bound(6.0, 1.0)  # moved up
    assert not w.stalled(7.9) and w.stalled(8.0)
    w.dual_bound(6.5, None)  # no bound reported: nothing changes
    assert w.stalled(8.0)
    assert not StallWatch(None).stalled(1e9)  # no stall limit
