"""The training options (trainer/train_config.py): a bad value is a user error."""

from __future__ import annotations

import pytest

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.train_config import TrainConfig


def test_bad_config_is_a_user_error():
    with pytest.raises(MipnnError, match="objective"):
        TrainConfig(objective="nope").check()
    with pytest.raises(MipnnError, match="bound"):
        TrainConfig(bound=0).check()


def test_margin_is_an_integer_of_at_least_one_or_paper():
    TrainConfig(margin=3).check()
    TrainConfig(margin="paper", hidden=(16,)).check()
    for bad in (0, -2, "papr", "2.5"):
        with pytest.raises(MipnnError, match="--margin must be an integer >= 1"):
            TrainConfig(margin=bad).check()
    with pytest.raises(MipnnError, match="needs a hidden layer"):
        TrainConfig(margin="paper", hidden=()).check()


def test_the_stall_share_is_a_share():
    with pytest.raises(MipnnError, match="stall_share"):
        TrainConfig(stall_share=0.0).check()
    with pytest.raises(MipnnError, match="stall_share"):
        TrainConfig(stall_share=1.5).check()


def test_every_route_is_a_solver_choice():
    for solver in ("highspy", "gurobi-direct", "highs", "gurobi", "cplex", "scip", "cbc"):
        TrainConfig(solver=solver).check()
    with pytest.raises(MipnnError, match="unknown solver"):
        TrainConfig(solver="xpress").check()


@pytest.mark.parametrize("field, value, fragment", [
    ("time_limit", float("nan"), "--time-limit"), ("time_limit", float("inf"), "--time-limit"),
    ("time_limit", 1e300, "one year"), ("prune", float("nan"), "--prune"),
    ("prune", float("inf"), "--prune"), ("weight_penalty", float("nan"), "--weight-penalty"),
    ("target_objective", float("nan"), "--target-objective"),
    ("target_objective", float("-inf"), "--target-objective"), ("threads", 10**6, "--threads"),
])
def test_non_finite_and_absurd_values_are_user_errors(field, value, fragment):
    """Issue 21, cause 5: the Python API (the estimator) is checked like the command line:
    ``time_limit=nan`` was accepted and ``prune=nan`` reached the solver."""
    with pytest.raises(MipnnError, match=fragment):
        TrainConfig(**{field: value}).check()
