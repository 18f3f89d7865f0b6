"""``mipnn train`` (mipnn/cli/train.py): training from a data set or a CSV file, the
measured defaults it chooses and says, --help and --help-all, --margin paper, --solver
gurobi-direct (a missing gurobipy, an instance over its licence), and the user errors."""

from __future__ import annotations

import json

from conftest import assert_user_error, interrupt_cli, require_package, run_cli


def test_unknown_dataset(tmp_path):
    assert_user_error(run_cli("train", "--dataset", "nope", "--out", str(tmp_path / "m.json")),
                      "nope")


def test_csv_without_target_column(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
    assert_user_error(
        run_cli("train", "--csv", str(csv), "--target", "class", "--out", str(tmp_path / "m.json")),
        "class", "label")


def test_csv_with_one_class_only(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n")
    assert_user_error(
        run_cli("train", "--csv", str(csv), "--target", "label", "--out", str(tmp_path / "m.json")),
        "class")


def test_csv_needs_target_and_sources_exclude_each_other(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,label\n1,x\n2,y\n")
    assert_user_error(run_cli("train", "--csv", str(csv), "--out", str(tmp_path / "m.json")),
                      "--target")
    assert_user_error(run_cli("train", "--csv", str(csv), "--target", "label", "--dataset", "heart",
                          "--out", str(tmp_path / "m.json")), "either")


def test_bad_hidden_option(tmp_path):
    assert_user_error(run_cli("train", "--hidden", "a,b", "--out", str(tmp_path / "m.json")),
                      "--hidden")


def test_train_on_a_csv_file(tmp_path):
    rows = ["size,colour,ok"]
    for i in range(60):
        colour = ["red", "green", "blue"][i % 3]
        rows.append(f"{i % 17},{colour},{'yes' if (i % 17) > 8 else 'no'}")
    csv = tmp_path / "my-data.csv"
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "m.json"
    result = run_cli("train", "--csv", str(csv), "--target", "ok", "--hidden", "0", "--bound", "2",
                 "--time-limit", "5", "--out", str(out))
    assert result.exit_code == 0, result.output
    model = json.loads(out.read_text())
    assert model["name"] == "my_data"
    assert sorted(model["classes"]) == ["no", "yes"]
    names = [f["name"] for f in model["input"]["features"]]
    assert "size" in names and "colour=red" in names
    assert model["training"]["data"]["csv"] == "my-data.csv"  # its name, not a path
    # the file is found by its name in the data directory given again
    assert run_cli("eval", str(out), "--data-dir", str(tmp_path)).exit_code == 0


def test_raw_scale_option(tmp_path):
    """--raw-scale COL=S sets a numeric column's scale (ARCHITECTURE.md 8) and the raw: line
    says it; a malformed pair, a categorical column or an unknown one is a user error."""
    rows = ["level,colour,ok"] + [f"{i * 0.25:.2f},{['red', 'blue'][i % 2]},"
                                  f"{'yes' if i > 20 else 'no'}" for i in range(40)]
    csv = tmp_path / "r.csv"
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "r.json"
    base = ["train", "--csv", str(csv), "--target", "ok", "--hidden", "0", "--time-limit", "2",
            "--out", str(out), "-q"]
    result = run_cli(*base)
    assert result.exit_code == 0, result.output
    assert "raw: decimal columns on the device are round(value * scale): level x100" in \
        result.output
    result = run_cli(*base, "--raw-scale", "level=4")
    assert result.exit_code == 0, result.output
    level = json.loads(out.read_text())["input"]["features"][0]
    assert level["scale"] == 4 and level["raw_min"] == round(level["min"] * 4)
    assert "level x4" in result.output
    assert_user_error(run_cli(*base, "--raw-scale", "level"), "--raw-scale 'level'")
    assert_user_error(run_cli(*base, "--raw-scale", "level=0"), "positive integer")
    assert_user_error(run_cli(*base, "--raw-scale", "colour=10"), "categorical")
    assert_user_error(run_cli(*base, "--raw-scale", "nope=10"), "raw-scale column")


def test_guard_folds_on_the_command_line(tmp_path):
    out = tmp_path / "g.json"
    result = run_cli("train", "--dataset", "breast_cancer", "--train-size", "30", "--hidden", "3",
                 "--objective", "max_correct", "--guard-folds", "2", "--time-limit", "6",
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "guard: fold 1/2 done, held-out examples classified so far" in result.output
    assert "guard: 2 folds, held-out examples classified: MIP" in result.output
    guard = json.loads(out.read_text())["training"]["guard"]
    assert guard["held_out_examples"] == 30 and guard["kept"] in ("mip", "gd")
    assert_user_error(run_cli("train", "--dataset", "breast_cancer", "--guard-folds", "1",
                          "--out", str(tmp_path / "x.json")), "--guard-folds must be 0")
    assert_user_error(run_cli("train", "--dataset", "breast_cancer", "--train-size", "30",
                          "--guard-folds", "2", "--batch-size", "10",
                          "--out", str(tmp_path / "y.json")), "not combined with batch")


def test_the_measured_defaults_are_chosen_said_and_recorded(tmp_path):
    out = tmp_path / "m.json"
    common = ["train", "--dataset", "breast_cancer", "--train-size", "40", "--hidden", "2",
              "--time-limit", "3", "-q"]
    result = run_cli(*common, "--out", str(out))
    assert result.exit_code == 0, result.output
    # 46 validation examples: the small-split rule (Heart's benchmark configuration)
    line = next(x for x in result.output.splitlines() if x.startswith("defaults for"))
    # (the weight penalty only from 60 s on)
    assert line == ("defaults for 46 validation examples: --select train+val --margin 2 "
                    "--teacher logreg (docs/TRAINING.md)")
    training = json.loads(out.read_text())["training"]
    assert training["defaults"]["rule"] == "small"
    assert training["defaults"]["settings"] == {"gd_restarts": 1, "select": "train+val",
                                                "margin": 2, "weight_penalty": 0.0,
                                                "teacher": "logreg"}
    assert training["config"]["margin"] == 2 and training["teacher"]["kind"] == "logreg"
    # explicit options win; only the levers left out are chosen and recorded
    result = run_cli(*common, "--margin", "1", "--teacher", "none", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert ("defaults for 46 validation examples: --select train+val (docs/TRAINING.md)"
            in result.output)
    training = json.loads(out.read_text())["training"]
    assert set(training["defaults"]["settings"]) == {"gd_restarts", "select", "weight_penalty"}
    assert training["config"]["margin"] == 1 and training["config"]["teacher"] is None
    assert "teacher" not in training
    # every lever given: nothing is chosen, no line, no record
    result = run_cli(*common, "--margin", "1", "--teacher", "none", "--select", "objective",
                     "--gd-restarts", "1", "--weight-penalty", "0", "--out", str(out))
    assert result.exit_code == 0 and "defaults for" not in result.output
    assert "defaults" not in json.loads(out.read_text())["training"]
    # --defaults plain: the levers left out take their plain values (the research runs')
    result = run_cli(*common, "--defaults", "plain", "--margin", "3", "--out", str(out))
    assert result.exit_code == 0 and "defaults for" not in result.output
    training = json.loads(out.read_text())["training"]
    assert "defaults" not in training and "teacher" not in training
    assert (training["config"]["margin"], training["config"]["select"]) == (3, "objective")


def test_a_large_validation_split_gets_the_adult_configuration(tmp_path):
    out = tmp_path / "m.json"
    result = run_cli("train", "--dataset", "digits", "--train-size", "60", "--hidden", "2",
                     "--time-limit", "3", "-q", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert ("defaults for 144 validation examples: --gd-restarts 8 --select val --margin 2 "
            "(docs/TRAINING.md)") in result.output
    training = json.loads(out.read_text())["training"]
    assert training["defaults"]["rule"] == "large"
    assert training["start"]["gd_restarts"]["restarts"] == 8


def test_help_lists_the_common_options_and_help_all_the_levers():
    short = run_cli("train", "--help").output
    full = run_cli("train", "--help-all").output
    assert len(short.splitlines()) < 50 < len(full.splitlines())
    for option in ("--dataset", "--csv", "--hidden", "--bound", "--objective", "--time-limit",
                   "--out", "--batch-size", "--help-all"):
        assert option in short
    for lever in ("--margin", "--select", "--gd-restarts", "--teacher", "--weight-penalty",
                  "--guard-folds", "--symmetry", "--prune", "--scheduler"):
        assert lever not in short and lever in full
    assert "advanced options (research levers): --help-all" in short
    assert "Advanced options (research levers, docs/TRAINING.md):" in full


def _error_line(result) -> str:
    """The one error line of a run that exited 2 (notes may come before it)."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("mipnn: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_margin_paper_is_the_papers_threshold_as_an_integer(tmp_path):
    out = tmp_path / "m.json"
    result = run_cli("train", "--dataset", "breast_cancer", "--train-size", "40", "--hidden", "4",
                 "--margin", "paper", "--time-limit", "5", "--out", str(out))
    assert result.exit_code == 0, result.output
    training = json.loads(out.read_text())["training"]
    assert training["margin"] == 2  # ceil((4 + 1) * 1 / 4)
    assert training["config"]["margin"] == "paper"
    for bad in ("0", "papers"):
        line = _error_line(run_cli("train", "--margin", bad, "--out", str(out)))
        assert "--margin must be an integer >= 1" in line
    line = _error_line(run_cli("train", "--hidden", "0", "--margin", "paper", "--out", str(out)))
    assert "needs a hidden layer" in line


def test_gurobi_direct_without_gurobipy_is_one_line(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gurobipy", None)  # as if not installed
    line = _error_line(run_cli("train", "--dataset", "breast_cancer", "--train-size", "40",
                           "--solver", "gurobi-direct", "--out", str(tmp_path / "m.json")))
    assert "pip install gurobipy" in line


def test_gurobi_direct_trains_and_refuses_an_instance_over_its_licence(tmp_path):

    require_package("gurobipy", "pip install 'mipnn[gurobi]'; the Makefile's venv has it")
    out = tmp_path / "m.json"
    result = run_cli("train", "--dataset", "breast_cancer", "--train-size", "40", "--hidden", "3",
                 "--time-limit", "20", "--solver", "gurobi-direct", "--out", str(out))
    assert result.exit_code == 0, result.output
    training = json.loads(out.read_text())["training"]
    assert training["solver"].startswith("gurobi ") and training["status"] == "optimal"
    big = run_cli("train", "--dataset", "breast_cancer", "--train-size", "200", "--hidden", "16",
              "--time-limit", "20", "--solver", "gurobi-direct", "--out", str(out))
    if big.exit_code == 0:
        return  # an unrestricted Gurobi licence: nothing refused
    line = _error_line(big)
    assert "licence is too small" in line and "variables" in line and "constraints" in line


def test_the_deployment_budget_on_the_command_line(tmp_path):
    """--flash-budget/--device become --max-nonzeros (and L on AVR) through the cost model;
    --val-fraction 0 trains on the whole training part; --learn-ranges adds features."""
    out = tmp_path / "fb.json"
    result = run_cli("train", "--dataset", "breast_cancer", "--hidden", "0", "--bound", "31",
                     "--objective", "gd", "--teacher", "none", "--flash-budget", "120",
                     "--device", "avr", "--val-fraction", "0", "--learn-ranges", "1",
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "budget: 120 B of model flash on avr -> at most" in result.output
    assert "(cost model; mipnn firmware measures)" in result.output
    model = json.loads(out.read_text())
    k = int(result.output.split("at most ")[1].split()[0])
    weights = [w for row in model["layers"][0]["weights"] for w in row if w]
    assert 1 <= len(weights) <= k
    assert model["training"]["examples"]["val"] == 0
    assert model["training"]["data"]["val_fraction"] == 0.0
    assert model["training"]["flash_budget"]["device"] == "avr"
    assert "ranges" in model["training"] and model["input"]["size"] >= 30
    assert run_cli("eval", str(out)).exit_code == 0
    assert_user_error(run_cli("train", "--flash-budget", "100", "--out", str(out)),
                      "--flash-budget and --device go together")
    assert_user_error(run_cli("train", "--dataset", "breast_cancer", "--hidden", "0",
                          "--flash-budget", "4", "--device", "cortex-m3", "--out", str(out)),
                      "even one weight")


def test_max_nonzeros_and_all_rows_on_the_command_line(tmp_path):
    out = tmp_path / "ar.json"
    result = run_cli("train", "--dataset", "breast_cancer", "--hidden", "2", "--bound", "7",
                     "--max-nonzeros", "6", "--max-neurons", "2", "--all-rows",
                     "--time-limit", "4", "--out", str(out))
    assert result.exit_code == 0, result.output
    model = json.loads(out.read_text())
    assert model["training"]["objective"] == "max_correct"
    assert sum(1 for row in model["layers"][0]["weights"] for w in row if w) <= 6
    assert model["training"]["all_rows"]["iterations"] >= 0
    assert_user_error(run_cli("train", "--dataset", "breast_cancer", "--all-rows", "--objective",
                          "sat_margin", "--out", str(out)), "max_correct")
    assert_user_error(run_cli("train", "--dataset", "breast_cancer", "--hidden", "0",
                          "--max-neurons", "2", "--out", str(out)), "--max-neurons needs")


# Ctrl-C (issue 21, cause 7): the run stops within about a second, keeps the best network
# found so far, writes it (training.status "interrupted"), says so and exits 130. The bound
# checked is far below the 120 s time limit (the ~1 s is measured in the closing note, not
# asserted on this shared machine).
INCUMBENT = r"^ *[0-9.]+s \*"  # a progress line of a new incumbent
SLOW_RUN = ("train", "--dataset", "breast_cancer", "--hidden", "32", "--time-limit", "120")


def check_interrupted(run, out) -> dict:
    assert run.returncode == 130, run.stderr
    assert run.after < 30, f"{run.after:.1f} s after SIGINT"
    assert "interrupted (Ctrl-C): wrote the best network found so far" in run.stderr
    assert "Traceback" not in run.stderr
    model = json.loads(out.read_text())
    assert model["training"]["status"] == "interrupted"
    return model


def test_ctrl_c_keeps_the_best_network_and_exits_130(tmp_path):
    out = tmp_path / "m.json"
    run = interrupt_cli(*SLOW_RUN, "--out", str(out), ready=INCUMBENT)
    model = check_interrupted(run, out)
    assert model["training"]["solver_status"] == "interrupted"
    assert run_cli("eval", str(out)).exit_code == 0


def test_ctrl_c_stops_a_pyomo_solve_left_running(tmp_path):
    # HiGHS inside Pyomo has no interrupt callback: the solve is left in its thread and
    # everything printed after it still reaches the terminal (Pyomo redirects the output)
    out = tmp_path / "m.json"
    run = interrupt_cli(*SLOW_RUN, "--solver", "highs", "--out", str(out), ready="^teacher:")
    check_interrupted(run, out)
    assert "wrote " in run.stdout


def test_ctrl_c_stops_gurobi(tmp_path, shared_data):
    require_package("gurobipy", "pip install gurobipy")
    out = tmp_path / "m.json"
    run = interrupt_cli("train", "--dataset", "heart", "--data-dir", str(shared_data),
                        "--hidden", "4", "--train-size", "40", "--time-limit", "120",
                        "--solver", "gurobi-direct", "--out", str(out), ready=INCUMBENT)
    check_interrupted(run, out)


def test_ctrl_c_before_training_is_one_line(tmp_path):
    run = interrupt_cli("train", "--dataset", "breast_cancer", "--hidden", "32",
                        "--time-limit", "120", "--out", str(tmp_path / "m.json"),
                        ready="^data:")
    assert run.returncode == 130, run.stderr
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().startswith("mipnn:"), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
