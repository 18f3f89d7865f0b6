"""``mipnn export`` and ``mipnn firmware`` (mipnn/cli/deploy.py): the C files, strategies,
the firmware run on the host and QEMU, and a mismatch that fails the command."""

from __future__ import annotations

from conftest import ADULT, assert_user_error, run_cli

from mipnn.codegen.strategy import STRATEGIES


def test_export_writes_header_and_source(trained_cli_model, tmp_path):
    out, _ = trained_cli_model
    result = run_cli("export", str(out), "--out", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "c" / "breast_cancer.h").exists()
    assert (tmp_path / "c" / "breast_cancer.c").exists()


def test_unknown_firmware_target(trained_cli_model):
    out, _ = trained_cli_model
    assert_user_error(run_cli("firmware", str(out), "--target", "z80"), "z80")


def test_firmware_on_the_host_is_bit_exact_for_a_trained_model(trained_cli_model, tmp_path):
    from conftest import require_tools

    require_tools("gcc", "make")
    out, _ = trained_cli_model
    result = run_cli("firmware", str(out), "--target", "host", "--build-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    row = next(x for x in result.output.splitlines() if x.startswith("host"))
    assert row.endswith("bit-exact")
    assert int(row.split()[1]) > 114  # the whole test split plus edge and random vectors


def test_qemu_cortex_m3_is_bit_exact_for_a_trained_model(trained_cli_model, tmp_path):
    from conftest import require_tools

    require_tools("arm-none-eabi-gcc", "qemu-system-arm", "make")
    out, _ = trained_cli_model
    result = run_cli("firmware", str(out), "--target", "cortex-m3", "--build-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    row = next(x for x in result.output.splitlines() if x.startswith("cortex-m3"))
    assert row.endswith("bit-exact")
    assert int(row.split()[3]) > 0  # flash bytes reported


def test_firmware_mismatch_exits_non_zero(trained_cli_model, tmp_path, monkeypatch):
    """A firmware whose output differs from the reference must fail the command."""
    from conftest import require_tools

    import mipnn.device as fw

    require_tools("gcc", "make")
    out, _ = trained_cli_model
    real = fw.run_firmware

    def tampered(model_path, target, vectors, workdir=None, **kw):
        from mipnn.trainer.model import load_model

        other = load_model(model_path)
        other.layers[-1].bias[:] = other.layers[-1].bias + 1000  # a different reference
        return real(model_path, target, vectors, workdir=workdir, reference=other, **kw)

    monkeypatch.setattr(fw, "run_firmware", tampered)
    result = run_cli("firmware", str(out), "--target", "host", "--build-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "MISMATCH" in result.output
    assert "ERROR at pos" in result.stderr


def test_export_strategy_option(tmp_path):
    for strategy in STRATEGIES:
        result = run_cli("export", str(ADULT), "--out", str(tmp_path / strategy),
                     "--strategy", strategy)
        assert result.exit_code == 0, result.output
        assert f'Strategy "{strategy}"' in (tmp_path / strategy / "adult.c").read_text()
    result = run_cli("export", str(ADULT), "--out", str(tmp_path / "a"), "--target", "avr")
    assert result.exit_code == 0
    assert 'Strategy "unrolled"' in (tmp_path / "a" / "adult.c").read_text()
    result = run_cli("export", str(ADULT), "--out", str(tmp_path / "z"), "--target", "z80")
    assert result.exit_code == 2 and "unknown target 'z80'" in result.output
