"""The trajectory plot (trainer/plot.py) and the kinds of training runs behind it, from the
command line."""

from __future__ import annotations

from click.testing import CliRunner

from mipnn.trainer.errors import MipnnError


def test_cli_trains_each_kind_and_plots(tmp_path):
    from mipnn.cli import main

    runner = CliRunner()
    out = tmp_path / "m.json"
    png = tmp_path / "t.png"
    r = runner.invoke(main, ["train", "--dataset", "breast_cancer", "--train-size", "30",
                             "--hidden", "2", "--objective", "max_correct", "--time-limit", "4",
                             "--plot", str(png), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert png.stat().st_size > 1000 and out.exists()
    assert "accuracy: train" in r.output
    r = runner.invoke(main, ["train", "--dataset", "breast_cancer", "--train-size", "30",
                             "--objective", "gd", "-q", "--out", str(out)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["train", "--dataset", "breast_cancer", "--solver", "cplex",
                             "--out", str(out)])
    from mipnn.trainer.pyomo_route import pyomo_solver

    try:
        pyomo_solver("cplex")
    except MipnnError:
        assert r.exit_code == 2 and "cplex" in r.output
        assert "Traceback" not in r.output
