"""The command group and its small commands (mipnn/cli/main.py): ``mipnn datasets`` and
``mipnn eval``, and the one-line errors of a bad model file."""

from __future__ import annotations

import json

from conftest import assert_user_error, run_cli


def test_datasets_lists_the_built_in_sets():
    result = run_cli("datasets")
    assert result.exit_code == 0
    for name in ("breast_cancer", "heart", "adult"):
        assert name in result.output


def test_train_then_eval_report_the_same_accuracies(trained_cli_model):
    out, train_output = trained_cli_model
    model = json.loads(out.read_text())
    acc = model["training"]["accuracy"]
    assert model["training"]["status"] in ("optimal", "time_limit")
    assert model["training"]["examples"]["train"] == 40
    assert "accuracy: train" in train_output
    result = run_cli("eval", str(out))
    assert result.exit_code == 0, result.output
    for split in ("train", "val", "test"):
        line = next(x for x in result.output.splitlines() if x.strip().startswith(f"{split}:"))
        assert f"{100 * acc[split]:5.1f}%" in line
        assert f"{100 * acc[split]:5.1f}%" in train_output


def test_missing_model_file(tmp_path):
    assert_user_error(run_cli("eval", str(tmp_path / "nope.json")), "nope.json", "no such")
    assert_user_error(run_cli("export", str(tmp_path / "nope.json"), "--out", str(tmp_path)),
                      "no such")


def test_malformed_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_user_error(run_cli("eval", str(bad)), "bad.json", "not valid JSON")
    assert_user_error(run_cli("firmware", str(bad), "--target", "host"), "not valid JSON")
