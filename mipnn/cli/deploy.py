"""``mipnn export`` (the C files or an Arduino library of a model, mipnn.api.export) and
``mipnn firmware`` (build, run and compare on targets, mipnn.device), with their output
lines and the firmware table."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mipnn.cli.options import data_dir_option, flash_budget_option, user_errors
from mipnn.cli.values import TEXT, PathValue
from mipnn.codegen.strategy import STRATEGY_CHOICES
from mipnn.device.targets import MAX_RANDOM_VECTORS
from mipnn.terminal import say
from mipnn.trainer.errors import MipnnError

MODEL_ARGUMENT = click.argument("model_path", metavar="MODEL",
                                type=PathValue(path_type=Path, dir_okay=False))


@click.command()
@MODEL_ARGUMENT
@click.option("--out", type=PathValue(path_type=Path, file_okay=False),
              help="directory to write NAME.h and NAME.c into")
@click.option("--name", type=TEXT, help="C name prefix (default: the model's name)")
@click.option("--strategy", type=click.Choice(STRATEGY_CHOICES), default="auto",
              show_default=True,
              help="how the C computes the network; auto: the fastest by the cost model")
@click.option("--target", "target", type=TEXT, metavar="TARGET",
              help="tune --strategy auto for this firmware target (default: a generic 32-bit "
                   "core; avr with --arduino)")
@click.option("--arduino", type=PathValue(path_type=Path, file_okay=False),
              help="also write an Arduino library (and PlatformIO library.json) into DIR")
@flash_budget_option
@user_errors
def export(model_path: Path, out: Path | None, name: str | None, strategy: str,
           target: str | None, arduino: Path | None, flash_budget: int | None) -> None:
    """Generate integer-only C (NAME.h, NAME.c) for MODEL, or an Arduino library."""
    from mipnn.api import export as run_export
    from mipnn.trainer.outputs import check_output_dir

    if out is None and arduino is None:
        raise MipnnError("give --out DIR (C files) and/or --arduino DIR (an Arduino library)")
    for path, what in ((out, "--out"), (arduino, "--arduino")):
        if path is not None:
            check_output_dir(path, what)
    if out is not None:
        for path in run_export(model_path, out, target, strategy, name,
                               flash_budget=flash_budget):
            say(f"wrote {path}")
    if arduino is not None:
        paths = run_export(model_path, arduino, target, strategy, name,
                           flash_budget=flash_budget, arduino=True)
        say(f"wrote Arduino library {arduino} ({len(paths)} files)")
        for path in paths:
            say(f"  {path}")


@click.command()
@MODEL_ARGUMENT
@click.option("--target", "targets", type=TEXT, required=True, multiple=True,
              help="host, cortex-m0, cortex-m3, cortex-m4, avr, rv32 (repeat), or 'all' for "
                   "every target whose tools are installed")
@click.option("--strategy", "strategies", type=click.Choice(STRATEGY_CHOICES), multiple=True,
              help="code-generation strategy (repeat to compare; default: auto, the fastest "
                   "by the target's cost model)")
@click.option("--vectors", type=click.IntRange(min=0), default=256, show_default=True,
              help="how many test-split vectors to include (plus edge and random ones)")
@click.option("--random", "n_random", type=click.IntRange(0, MAX_RANDOM_VECTORS), default=64,
              show_default=True,
              help="how many random input vectors to add")
@click.option("--build-dir", type=PathValue(path_type=Path, file_okay=False),
              help="where to build (default: a temporary directory)")
@click.option("--report", "report_path", type=PathValue(path_type=Path, dir_okay=False),
              help="also write the measurements as JSON to this file")
@click.option("--measure/--no-measure", default=True, show_default=True,
              help="measure the model's own flash/RAM and count one inference")
@click.option("--sanitize", is_flag=True,
              help="host only: build with AddressSanitizer and UndefinedBehaviorSanitizer "
                   "(every finding fails the run); checks, does not measure")
@data_dir_option()
@flash_budget_option
@user_errors
def firmware(model_path: Path, targets: tuple[str, ...], strategies: tuple[str, ...],
             vectors: int, n_random: int, build_dir: Path | None, report_path: Path | None,
             measure: bool, sanitize: bool, data_dir: Path | None,
             flash_budget: int | None) -> None:
    """Build MODEL for targets, run it, compare every output with the reference, and report
    sizes, stack and the instructions (AVR: cycles) of one inference."""
    import mipnn.device as device
    from mipnn.codegen.names import resolve_name
    from mipnn.codegen.ranges import analyse_ranges
    from mipnn.trainer.model import load_model
    from mipnn.trainer.model_data import recorded_test_split
    from mipnn.trainer.outputs import check_output_dir, check_output_file
    from mipnn.trainer.provenance import data_provenance

    if build_dir is not None:
        check_output_dir(build_dir, "--build-dir")
    if report_path is not None:
        check_output_file(report_path, "--report")
    model = load_model(model_path)
    resolve_name(model, None)  # what the C cannot take is refused before any work
    analyse_ranges(model)
    names, notes = device.expand_targets(targets)
    for t in names:
        device.cost_profile(t)  # an unknown target is refused before any build
    for note in notes:
        say(f"note: {note}")
    test_X = test_raw = None
    if data_provenance(model.training) and vectors > 0:
        test_X, test_raw, note = recorded_test_split(model, data_dir)
        if note is not None:
            say(f"note: {note}; using edge and random vectors only")
    failed = False
    reports = []
    say(device.table_header())
    for t in names:
        X_t, note = device.target_vectors(model, test_X, t, vectors, n_random,
                                          test_raw=test_raw)
        # a version-2 model: also the test split as raw values (ARCHITECTURE.md 8)
        R_t = device.target_raw_vectors(model, test_raw, t, vectors, n_random)
        if note is not None:
            say(f"note: {note}")
        for strategy in dict.fromkeys(strategies or ("auto",)):
            r = device.run_firmware(model_path, t, X_t, workdir=build_dir, strategy=strategy,
                                    measure=measure, flash_budget=flash_budget,
                                    sanitize=sanitize, raw_vectors=R_t)
            reports.append(r)
            say(device.table_row(r))
            for line in r.describe_mismatches(limit=5):
                say(f"  {line}", err=True)
            failed = failed or not r.ok
    say(device.table_legend())
    if report_path is not None:
        device.write_report(reports, report_path, model_path)
        say(f"wrote {report_path}")
    if failed:
        sys.exit(1)
