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
