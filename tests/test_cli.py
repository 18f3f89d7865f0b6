"""The command line, through click's CliRunner: the happy path and user errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import ADULT
from mipnn.codegen.strategy import STRATEGIES

from mipnn.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_user_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "m.json"
    result = run("train", "--dataset", "breast_cancer", "--train-size", "40", "--hidden", "3",
                 "--bound", "1", "--time-limit", "5", "--seed", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result.output


def test_datasets_lists_the_built_in_sets():
    result = run("datasets")
    assert result.exit_code == 0
    for name in ("breast_cancer", "heart", "adult"):
        assert name in result.output


def test_train_then_eval_report_the_same_accuracies(trained):
    out, train_output = trained
    model = json.loads(out.read_text())
    acc = model["training"]["accuracy"]
    assert model["training"]["status"] in ("optimal", "time_limit")
    assert model["training"]["examples"]["train"] == 40
    assert "accuracy: train" in train_output
    result = run("eval", str(out))
    assert result.exit_code == 0, result.output
    for split in ("train", "val", "test"):
        line = next(x for x in result.output.splitlines() if x.strip().startswith(f"{split}:"))
        assert f"{100 * acc[split]:5.1f}%" in line
        assert f"{100 * acc[split]:5.1f}%" in train_output


def test_export_writes_header_and_source(trained, tmp_path):
    out, _ = trained
    result = run("export", str(out), "--out", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c" / "breast_cancer.h").exists()
    assert (tmp_path / "c" / "breast_cancer.c").exists()


def test_missing_model_file(tmp_path):
    assert_user_error(run("eval", str(tmp_path / "nope.json")), "nope.json", "no such")
    assert_user_error(run("export", str(tmp_path / "nope.json"), "--out", str(tmp_path)),
                      "no such")


def test_malformed_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert_user_error(run("eval", str(bad)), "bad.json", "not valid JSON")
    assert_user_error(run("firmware", str(bad), "--target", "host"), "not valid JSON")


def test_unknown_dataset(tmp_path):
    assert_user_error(run("train", "--dataset", "nope", "--out", str(tmp_path / "m.json")),
                      "nope")


def test_csv_without_target_column(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n")
    assert_user_error(
        run("train", "--csv", str(csv), "--target", "class", "--out", str(tmp_path / "m.json")),
        "class", "label")


def test_csv_with_one_class_only(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,label\n1,2,x\n3,4,x\n5,6,x\n7,8,x\n")
    assert_user_error(
        run("train", "--csv", str(csv), "--target", "label", "--out", str(tmp_path / "m.json")),
        "class")


def test_csv_needs_target_and_sources_exclude_each_other(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,label\n1,x\n2,y\n")
    assert_user_error(run("train", "--csv", str(csv), "--out", str(tmp_path / "m.json")),
                      "--target")
    assert_user_error(run("train", "--csv", str(csv), "--target", "label", "--dataset", "heart",
                          "--out", str(tmp_path / "m.json")), "either")


def test_bad_hidden_option(tmp_path):
    assert_user_error(run("train", "--hidden", "a,b", "--out", str(tmp_path / "m.json")),
                      "--hidden")


def test_unknown_firmware_target(trained):
    out, _ = trained
    assert_user_error(run("firmware", str(out), "--target", "z80"), "z80")


def test_train_on_a_csv_file(tmp_path):
    rows = ["size,colour,ok"]
    for i in range(60):
        colour = ["red", "green", "blue"][i % 3]
        rows.append(f"{i % 17},{colour},{'yes' if (i % 17) > 8 else 'no'}")
    csv = tmp_path / "my-data.csv"
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "m.json"
    result = run("train", "--csv", str(csv), "--target", "ok", "--hidden", "0", "--bound", "2",
                 "--time-limit", "5", "--out", str(out))
    assert result.exit_code == 0, result.output
    model = json.loads(out.read_text())
    assert model["name"] == "my_data"
    assert sorted(model["classes"]) == ["no", "yes"]
    names = [f["name"] for f in model["input"]["features"]]
    assert "size" in names and "colour=red" in names
    assert model["training"]["data"]["csv"] == "my-data.csv"  # its name, not a path
    # the file is found by its name in the data directory given again
    assert run("eval", str(out), "--data-dir", str(tmp_path)).exit_code == 0


def test_firmware_on_the_host_is_bit_exact_for_a_trained_model(trained, tmp_path):
    from conftest import require_tools

    require_tools("gcc", "make")
    out, _ = trained
    result = run("firmware", str(out), "--target", "host", "--build-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    row = next(x for x in result.output.splitlines() if x.startswith("host"))
    assert row.endswith("bit-exact")
    assert int(row.split()[1]) > 114  # the whole test split plus edge and random vectors


def test_qemu_cortex_m3_is_bit_exact_for_a_trained_model(trained, tmp_path):
    from conftest import require_tools

    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "make")
    out, _ = trained
    result = run("firmware", str(out), "--target", "cortex-m3", "--build-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    row = next(x for x in result.output.splitlines() if x.startswith("cortex-m3"))
    assert row.endswith("bit-exact")
    assert int(row.split()[3]) > 0  # flash bytes reported


def test_firmware_mismatch_exits_non_zero(trained, tmp_path, monkeypatch):
    """A firmware whose output differs from the reference must fail the command."""
    from conftest import require_tools

    import mipnn.device as fw

    require_tools("gcc", "make")
    out, _ = trained
    real = fw.run_firmware

    def tampered(model_path, target, vectors, workdir=None, **kw):
        from mipnn.trainer.model import load_model

        other = load_model(model_path)
        other.layers[-1].bias[:] = other.layers[-1].bias + 1000  # a different reference
        return real(model_path, target, vectors, workdir=workdir, reference=other, **kw)

    monkeypatch.setattr(fw, "run_firmware", tampered)
    result = run("firmware", str(out), "--target", "host", "--build-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "MISMATCH" in result.output
    assert "ERROR at pos" in result.stderr


def test_export_strategy_option(tmp_path):
    for strategy in STRATEGIES:
        result = run("export", str(ADULT), "--out", str(tmp_path / strategy),
                     "--strategy", strategy)
        assert result.exit_code == 0, result.output
        assert f'Strategy "{strategy}"' in (tmp_path / strategy / "adult.c").read_text()
    result = run("export", str(ADULT), "--out", str(tmp_path / "a"), "--target", "avr")
    assert result.exit_code == 0
    assert 'Strategy "unrolled"' in (tmp_path / "a" / "adult.c").read_text()
    result = run("export", str(ADULT), "--out", str(tmp_path / "z"), "--target", "z80")
    assert result.exit_code == 2 and "unknown target 'z80'" in result.output


def test_batch_training_from_the_command_line(tmp_path):
    out = tmp_path / "b.json"
    result = run("train", "--dataset", "breast_cancer", "--hidden", "2", "--bound", "1",
                 "--batch-size", "100", "--epochs", "1", "--time-limit", "2",
                 "--batch-variant", "paper", "--out", str(out))
    assert result.exit_code == 0, result.output
    import json

    model = json.loads(out.read_text())
    assert model["training"]["status"] == "batch"
    assert model["training"]["batch"]["mips_solved"] == 4
    assert (tmp_path / "b.json.ckpt.json").exists()
    assert run("eval", str(out)).exit_code == 0


def test_batch_options_need_batch_size(tmp_path):
    assert_user_error(run("train", "--epochs", "3", "--out", str(tmp_path / "m.json")),
                      "--batch-size")
    assert_user_error(run("train", "--batch-size", "100000", "--out", str(tmp_path / "m.json")),
                      "larger than")


def test_guard_folds_on_the_command_line(tmp_path):
    out = tmp_path / "g.json"
    result = run("train", "--dataset", "breast_cancer", "--train-size", "30", "--hidden", "3",
                 "--objective", "max_correct", "--guard-folds", "2", "--time-limit", "6",
                 "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "guard: fold 1/2 done, held-out examples classified so far" in result.output
    assert "guard: 2 folds, held-out examples classified: MIP" in result.output
    guard = json.loads(out.read_text())["training"]["guard"]
    assert guard["held_out_examples"] == 30 and guard["kept"] in ("mip", "gd")
    assert_user_error(run("train", "--dataset", "breast_cancer", "--guard-folds", "1",
                          "--out", str(tmp_path / "x.json")), "--guard-folds must be 0")
    assert_user_error(run("train", "--dataset", "breast_cancer", "--train-size", "30",
                          "--guard-folds", "2", "--batch-size", "10",
                          "--out", str(tmp_path / "y.json")), "not combined with batch")
