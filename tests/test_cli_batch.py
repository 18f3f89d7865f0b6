"""Batch training from the command line (mipnn/cli/batch.py): a run, and the options that
go with --batch-size only or not with it."""

from __future__ import annotations

import json

from conftest import assert_user_error, run_cli


def test_batch_training_from_the_command_line(tmp_path):
    out = tmp_path / "b.json"
    result = run_cli("train", "--dataset", "breast_cancer", "--hidden", "2", "--bound", "1",
                 "--batch-size", "100", "--epochs", "1", "--time-limit", "2",
                 "--batch-variant", "paper", "--out", str(out))
    assert result.exit_code == 0, result.output
    model = json.loads(out.read_text())
    assert model["training"]["status"] == "batch"
    assert model["training"]["batch"]["mips_solved"] == 4
    assert (tmp_path / "b.json.ckpt.json").exists()
    assert run_cli("eval", str(out)).exit_code == 0


def test_batch_options_need_batch_size(tmp_path):
    assert_user_error(run_cli("train", "--epochs", "3", "--out", str(tmp_path / "m.json")),
                      "--batch-size")
    assert_user_error(run_cli("train", "--batch-size", "100000", "--out", str(tmp_path / "m.json")),
                      "larger than")
