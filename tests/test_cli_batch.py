"""Batch training from the command line (mipnn/cli/batch.py): a run, and the options that
go with --batch-size only or not with it."""

from __future__ import annotations

import json

from conftest import assert_user_error, interrupt_cli, run_cli


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


def test_ctrl_c_ends_batch_training_with_its_checkpoint(tmp_path):
    # issue 21, cause 7: exit 130 with the epochs done in the checkpoint, one line
    out = tmp_path / "b.json"
    run = interrupt_cli("train", "--dataset", "breast_cancer", "--hidden", "2",
                        "--batch-size", "40", "--epochs", "200", "--time-limit", "1",
                        "--out", str(out), ready="epoch 2/")
    assert run.returncode == 130, run.stderr
    assert run.after < 30
    assert "interrupted after" in run.stderr and "--resume" in run.stderr
    assert "Traceback" not in run.stderr
    assert (tmp_path / "b.json.ckpt.json").exists()
    assert not out.exists()
