"""The measured defaults (trainer/defaults.py): the rule by validation-split size and
objective, explicit values winning, the teacher left out where it cannot run, the line that
says what was chosen, and train_with_defaults recording the choice (and training on without
a teacher that cannot be fitted)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import toy_splits

from mipnn.trainer.defaults import (
    AUTO_LEVERS,
    PLAIN,
    SMALL_VALIDATION,
    measured_settings,
    resolve_defaults,
    validation_note,
)
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.teacher import TeacherError
from mipnn.trainer.train_config import TrainConfig


def splits(n_val: int, counts: tuple[int, ...] = (20, 20)) -> SimpleNamespace:
    y = np.concatenate([np.full(c, k) for k, c in enumerate(counts)])
    return SimpleNamespace(y_train=y, y_val=np.zeros(n_val, dtype=np.int64))


def test_the_rule_is_the_benchmarks_configuration_by_validation_size():
    large, small = SMALL_VALIDATION, SMALL_VALIDATION - 1
    # Adult (6,513 validation examples): bench/paper.py version 4
    assert measured_settings("sat_margin", large) == {"gd_restarts": 8, "select": "val",
                                                      "margin": 2}
    assert measured_settings("max_correct", 6513) == {"gd_restarts": 8, "select": "val"}
    assert measured_settings("gd", large) == {"gd_restarts": 8}
    # Heart (25 validation examples): version 7
    assert measured_settings("sat_margin", small) == {
        "select": "train+val", "weight_penalty": 0.0025, "teacher": "logreg", "margin": 2}
    assert measured_settings("min_hinge", 25) == {
        "select": "train+val", "weight_penalty": 0.0025, "teacher": "logreg"}
    assert measured_settings("gd", 25) == {"teacher": "logreg"}
    # the weight penalty was measured at 60 s and 300 s; with less time it is left out
    assert "weight_penalty" not in measured_settings("sat_margin", small, time_limit=59.0)
    assert measured_settings("max_correct", small, time_limit=60.0)["weight_penalty"] > 0
    # objectives the benchmark did not run keep the plain defaults
    assert measured_settings("min_w", 25) == measured_settings("max_m", 6513) == {}
    assert PLAIN == {"gd_restarts": 1, "select": "objective", "margin": 1,
                     "weight_penalty": 0.0, "teacher": None}


def test_only_the_levers_left_out_are_set_and_recorded():
    given = TrainConfig(margin=3, select="objective")
    config, chosen = resolve_defaults(given, {"gd_restarts", "weight_penalty", "teacher"},
                                      splits(25))
    assert (config.margin, config.select) == (3, "objective")
    assert (config.gd_restarts, config.weight_penalty, config.teacher) == (1, 0.0025, "logreg")
    assert chosen.rule == "small" and chosen.validation_examples == 25
    assert chosen.settings == {"gd_restarts": 1, "weight_penalty": 0.0025, "teacher": "logreg"}
    assert chosen.describe() == ("defaults for 25 validation examples: --weight-penalty "
                                 "0.0025 --teacher logreg (docs/TRAINING.md)")
    assert chosen.to_dict()["settings"] == chosen.settings
    config, chosen = resolve_defaults(TrainConfig(), set(AUTO_LEVERS), splits(6513))
    assert chosen.describe() == ("defaults for 6,513 validation examples: --gd-restarts 8 "
                                 "--select val --margin 2 (docs/TRAINING.md)")
    assert config.teacher is None and config.weight_penalty == 0.0
    _, chosen = resolve_defaults(TrainConfig(objective="min_w"), set(AUTO_LEVERS), splits(5))
    assert "the plain ones" in chosen.describe()
    with pytest.raises(MipnnError, match="no default rule for bound"):
        resolve_defaults(TrainConfig(), {"bound"}, splits(5))


def test_the_teacher_is_left_out_where_it_cannot_run():
    config, chosen = resolve_defaults(TrainConfig(guard_folds=3), {"teacher"}, splits(25))
    assert config.teacher is None and chosen.notes == ("no teacher with --guard-folds",)
    config, chosen = resolve_defaults(TrainConfig(), {"teacher"}, splits(25, (20, 1)))
    assert config.teacher is None and "fewer than 2 training examples" in chosen.notes[0]
    assert "no teacher" in chosen.describe()


def test_a_small_validation_split_is_noted_when_chosen_by_hand():
    assert validation_note(TrainConfig(select="val"), 25).startswith(
        "the validation split has 25 examples")
    assert validation_note(TrainConfig(gd_restarts=8), 25) is not None
    assert validation_note(TrainConfig(select="train+val"), 25) is None
    assert validation_note(TrainConfig(select="val"), SMALL_VALIDATION) is None


def test_train_with_defaults_records_the_choice_and_drops_a_teacher_that_fails(monkeypatch):
    import mipnn.trainer.train as train_module

    ds = toy_splits(n=40, seed=2)
    config, chosen = resolve_defaults(TrainConfig(hidden=(2,), time_limit=3, seed=1),
                                      set(AUTO_LEVERS), ds)
    assert config.teacher == "logreg"
    real = train_module.train
    calls = []

    def failing_teacher(dataset, cfg, *args):
        calls.append(cfg.teacher)
        if cfg.teacher is not None:
            raise TeacherError("--teacher: the teacher predicts one class")
        return real(dataset, cfg, *args)

    monkeypatch.setattr(train_module, "train", failing_teacher)
    messages = []
    result = train_module.train_with_defaults(ds, config, chosen, on_message=messages.append)
    assert calls == ["logreg", None]
    record = result.model.training["defaults"]
    assert record["settings"]["teacher"] is None and record["rule"] == "small"
    assert record["notes"] == ["no teacher: the teacher predicts one class"]
    assert "defaults: no teacher: the teacher predicts one class; training without it" in (
        messages)
    # a teacher the user gave is not dropped
    given = resolve_defaults(config, set(), ds)[1]
    with pytest.raises(TeacherError):
        train_module.train_with_defaults(ds, config, given)
