"""``mipnn train``: read the options (mipnn.cli.train_options), load the data, let the
measured defaults set the levers left out, train (mipnn.trainer.train) and write the model
file, printing progress and a summary. With ``--batch-size`` the run is batch training
(mipnn.cli.batch)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from mipnn.cli.batch import BATCH_KEYS, check_batch_options, checkpoint_path, run_batch
from mipnn.cli.options import (
    HelpAllCommand,
    apply_options,
    check_source,
    echo_scales,
    parse_raw_scales,
    pct,
    user_errors,
)
from mipnn.cli.train_options import TRAIN_OPTIONS
from mipnn.cli.values import parse_solver_options
from mipnn.terminal import say
from mipnn.trainer.defaults import AUTO_LEVERS, PLAIN
from mipnn.trainer.errors import MipnnError

# the options that are not TrainConfig fields (data, files, output)
NOT_CONFIG = ("dataset", "csv_path", "target_col", "data_dir", "train_size", "hidden",
              "levels", "highs_options", "plot", "start_path", "out", "quiet", "raw_scales",
              "defaults_rule", "flash_budget", "device", "learn_ranges", "val_fraction",
              "all_rows", *BATCH_KEYS)
BUDGET_KEYS = ("max_nonzeros", "max_neurons", "flash_budget", "learn_ranges", "val_fraction",
               "all_rows")


def config_from_options(opts: dict[str, Any]) -> tuple[Any, set[str]]:
    """The TrainConfig of the options and the levers left to the measured defaults (given
    as None, unless ``--defaults plain``; the config holds their plain values until
    resolve_defaults sets them)."""
    from mipnn.trainer.train_config import TrainConfig

    left_out = {lever for lever in AUTO_LEVERS if opts[lever] is None}
    auto = left_out if opts["defaults_rule"] == "measured" else set()
    fields = {k: v for k, v in opts.items() if k not in NOT_CONFIG}
    fields |= {lever: PLAIN[lever] for lever in left_out}
    if fields.get("teacher") == "none":
        fields["teacher"] = None
    if opts.get("all_rows"):
        fields["mip_scope"] = "rows"
    config = TrainConfig(hidden=opts["hidden"],
                         highs_options=parse_solver_options(opts["highs_options"]), **fields)
    config.check()
    if config.highs_options and config.solver == "highspy":
        from mipnn.trainer.highs import check_highs_options

        check_highs_options(dict(config.highs_options))  # a typo is refused before any work
    return config, auto


def apply_flash_budget(config: Any, ds: Any, load: Callable[..., Any], opts: dict[str, Any]
                       ) -> tuple[Any, Any]:
    """``--flash-budget`` for ``--device`` applied (codegen/budget.py: K, and L on AVR
    unless ``--levels`` is given), and the data encoded with that L (the features, learned
    ranges included, kept)."""
    from mipnn.codegen.budget import apply_flash_budget as translate
    from mipnn.device.targets import cost_profile

    config, budget, line = translate(config, ds.n_inputs, len(ds.classes), ds.levels,
                                     opts["flash_budget"], cost_profile(opts["device"]),
                                     choose_l=opts["levels"] is None)
    click.echo(line)
    if budget.levels != ds.levels:
        ranges = ds.ranges
        ds = load(levels=budget.levels, features=ds.features)
        ds.ranges = ranges
    return config, ds


def show_progress(r: Any) -> None:
    """One progress line: time, a ``*`` for a new incumbent, objective, bound, gap and the
    incumbent's training and validation accuracy."""
    obj = "-" if r.objective is None else f"{r.objective:g}"
    bnd = "-" if r.bound is None else f"{r.bound:g}"
    gap = "-" if r.gap is None else f"{100 * r.gap:.1f}%"
    mark = "*" if r.new_incumbent else " "
    say(f"{r.time:7.1f}s {mark}{obj:>10}  {bnd:>8}  {gap:>7}  "
        f"{pct(r.train_accuracy)}  {pct(r.val_accuracy)}")


def show_summary(result: Any) -> None:
    """The lines after training: the solver's end, which network was kept and why, the
    simplification, and the saved network's accuracies."""
    s = result.solve
    say(
        f"solver: {s.solver}, status {s.status}, best objective {s.objective:g}, "
        f"gap {'-' if s.gap is None else f'{100 * s.gap:.1f}%'}, {s.time:.1f} s "
        f"(model built in {result.build_time:.3f} s)"
    )
    info = result.model.training
    rule = info.get("selected")
    if rule and rule != "objective":
        what = {"val": "the best validation accuracy",
                "train+val": "the most correct training and validation examples"}[rule]
        say(f"kept: the network with {what} (--select {rule}), objective "
            f"{info['objective_value']:g}")
    guard = info.get("guard")
    if guard:
        kept = ("the MIP's network" if guard["kept"] == "mip"
                else "the gradient start (the MIP's network did not classify more)")
        say(f"guard: {guard['folds']} folds, held-out examples classified: MIP "
            f"{guard['held_out_correct_mip']}, gradient start "
            f"{guard['held_out_correct_gd']} of {guard['held_out_examples']}; kept "
            f"{kept}")
    neurons = info.get("neurons")
    if neurons and sum(neurons["removed"]):
        say(f"neurons: hidden {neurons['hidden_before']} -> {neurons['hidden_after']} "
            "(removed neurons that cannot change any output)")
    say(
        f"accuracy: train {pct(result.train_accuracy)}  val {pct(result.val_accuracy)}  "
        f"test {pct(result.test_accuracy)}"
    )


@click.command(cls=HelpAllCommand)
@apply_options(TRAIN_OPTIONS)
@user_errors
def train(**opts: Any) -> None:
    """Train a network with the MIP solver (or the gradient baseline) and write the model
    file. Every new incumbent is shown as it is found. The levers left out are set to what
    measured best for data of this size (one line says which)."""
    check_source(opts["dataset"], opts["csv_path"], opts["target_col"])
    if opts["dataset"] is None and opts["csv_path"] is None:
        opts["dataset"] = "breast_cancer"
    if (opts["flash_budget"] is None) != (opts["device"] is None):
        raise MipnnError("--flash-budget and --device go together")
    ctx = click.get_current_context()
    if opts["all_rows"] and ctx.get_parameter_source("objective") == ParameterSource.DEFAULT:
        opts["objective"] = "max_correct"
    check_outputs(opts)
    if check_batch_options(opts):
        given = [f"--{k.replace('_', '-')}" for k in BUDGET_KEYS if opts[k] not in (None, False)]
        if given:
            raise MipnnError(f"{', '.join(given)}: not combined with batch training "
                             "(--batch-size)")
        run_batch(opts)
        return
    run_single(opts)


def check_outputs(opts: dict[str, Any]) -> None:
    """MipnnError unless every file the run will write (--out, --plot, the batch
    checkpoint) can be written: checked before any work, so a run never trains for an hour
    and then fails to write. Creates nothing."""
    from mipnn.trainer.outputs import check_output_file

    check_output_file(opts["out"], "--out")
    if opts["plot"] is not None:
        check_output_file(opts["plot"], "--plot")
    if opts["batch_size"] is not None:
        checkpoint = check_output_file(checkpoint_path(opts), "--checkpoint")
        if opts["resume"] and not checkpoint.is_file():
            raise MipnnError(f"--resume: no checkpoint {checkpoint} to resume from")


def run_single(opts: dict[str, Any]) -> None:
    """One training run (not batch training) of the options, to the model file."""
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.defaults import resolve_defaults, validation_note
    from mipnn.trainer.model import save_model
    from mipnn.trainer.stop import (
        StopRequested,
        exit_after_stop,
        interruptible,
        mark_interrupted,
        stop_requested,
    )
    from mipnn.trainer.train import train_with_defaults

    config, auto = config_from_options(opts)
    start_path: Path | None = opts["start_path"]
    source = dict(csv=opts["csv_path"], target=opts["target_col"], data_dir=opts["data_dir"],
                  train_size=opts["train_size"], seed=config.seed)
    start_model, start_network = None, None
    if start_path is not None:
        from mipnn.trainer.model_data import load_for_start
        from mipnn.trainer.start import load_start_model

        start_model = load_start_model(start_path, config, opts["levels"])
        ds = load_for_start(start_model, str(start_path), opts["dataset"], **source)
    else:
        load = functools.partial(load_dataset, opts["dataset"], val_fraction=opts["val_fraction"],
                                 raw_scales=parse_raw_scales(opts["raw_scales"]), **source)
        ds = load(levels=opts["levels"] or 255, learn_ranges=opts["learn_ranges"] is not None,
                  extra_copies=opts["learn_ranges"] or 0)
        if opts["flash_budget"] is not None:
            config, ds = apply_flash_budget(config, ds, load, opts)
    for note in ds.notes:
        say(f"note: {note}")
    config, chosen = resolve_defaults(config, auto, ds)
    if start_model is not None:
        from mipnn.trainer.start import start_network_from_model

        start_network = start_network_from_model(start_model, config, ds, str(start_path))
    note = validation_note(config, len(ds.y_val))
    if note is not None:
        say(f"note: {note}")
    shape = "-".join(str(s) for s in [ds.X_train.shape[1], *config.hidden, len(ds.classes)])
    say(
        f"data: {ds.name}: {len(ds.y_train)} train / {len(ds.y_val)} val / "
        f"{len(ds.y_test)} test examples, {ds.X_train.shape[1]} inputs, "
        f"classes {', '.join(ds.classes)}"
    )
    echo_scales(ds.features)
    say(
        f"train: {shape} network, weights in [-{config.bound}, {config.bound}], "
        f"{config.objective}, time limit {config.time_limit:g} s, seed {config.seed}"
    )
    if auto:
        say(chosen.describe())
    if start_model is not None:
        say(f"start: the network of {start_path} "
            f"({'-'.join(str(k) for k in start_model.shape)}), not the gradient baseline's")
    quiet = opts["quiet"]
    if not quiet:
        say(f"{'time':>8}  {'objective':>10}  {'bound':>8}  {'gap':>7}  "
            f"{'train':>6}  {'val':>6}")
    with interruptible() as stop:  # Ctrl-C: stop, keep the best network so far, exit 130
        try:
            result = train_with_defaults(ds, config, chosen,
                                         on_progress=None if quiet else show_progress,
                                         on_message=None if quiet else say,
                                         start_network=start_network)
        except (MipnnError, StopRequested) as exc:
            if not stop_requested():
                raise
            say(f"mipnn: interrupted (Ctrl-C) before a network was found ({exc}); nothing "
                "written", err=True)
            exit_after_stop(130, at_once=True)
    if stop.requested:
        mark_interrupted(result.model.training)
    if start_path is not None:
        from mipnn.trainer.start import start_file_record

        result.model.training["start"]["model_file"] = start_file_record(start_path)
    if opts["flash_budget"] is not None:
        from mipnn.codegen.budget import cost_record
        from mipnn.device.targets import cost_profile

        record, line = cost_record(result.model, cost_profile(opts["device"]),
                                   opts["flash_budget"], opts["device"])
        result.model.training["flash_budget"] = record
        click.echo(line)
    out: Path = opts["out"]
    save_model(result.model, out)
    if opts["plot"] is not None:
        from mipnn.trainer.plot import plot_trajectory

        plot_trajectory(result.trajectory, opts["plot"],
                        f"{ds.name} {shape} P={config.bound} {config.objective} "
                        f"seed {config.seed}")
        say(f"wrote {opts['plot']}")
    show_summary(result)
    say(f"wrote {out}")
    if stop.requested:
        say(interrupted_line(result, out), err=True)
        exit_after_stop(130, at_once=True)


def interrupted_line(result: Any, out: Path) -> str:
    """The line on stderr after a run stopped by Ctrl-C: the network kept and written."""
    info = result.model.training
    value = info.get("objective_value")
    objective = "" if value is None else f"objective {value:g}, "
    return (f"mipnn: interrupted (Ctrl-C): wrote the best network found so far to {out} "
            f"({objective}train {pct(result.train_accuracy).strip()}, val "
            f"{pct(result.val_accuracy).strip()}; training.status \"interrupted\")")
