"""``mipnn sweep`` (mipnn/cli/sweep.py): the family's table, the recommendation, the plot,
the members' files and the refit on training and validation together; a bad --nonzeros is
a user error."""

from __future__ import annotations

import json

from conftest import run_cli


def test_the_sweep_command(tmp_path):
    png, refit = tmp_path / "f.png", tmp_path / "r.json"
    result = run_cli(*[
        "sweep", "--dataset", "breast_cancer", "--device", "avr", "--flash-budget", "150",
        "--nonzeros", "2,4,30", "--bound", "15", "--levels", "63", "--plot", str(png),
        "--refit", str(refit), "--out-dir", str(tmp_path / "family")])
    assert result.exit_code == 0, result.output
    assert "recommended: hidden 0, K" in result.output and png.exists()
    assert len(list((tmp_path / "family").glob("*.json"))) == 3
    model = json.loads(refit.read_text())
    assert model["training"]["examples"]["val"] == 0
    bad = run_cli(*["sweep", "--device", "avr", "--nonzeros", "a"])
    assert bad.exit_code == 2 and "--nonzeros" in bad.output
