"""The ``mipnn`` command line (ARCHITECTURE.md 7): thin commands over library functions.

Every error a user can cause exits with status 2 and one line on stderr."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import numpy as np

from mipnn.batch_cli import batch_options
from mipnn.codegen.strategy import STRATEGY_CHOICES
from mipnn.failure import Failure
from mipnn.trainer.errors import DataError, MipnnError
from mipnn.trainer.teacher import TEACHERS

DATASET_HELP = "built-in data set (see `mipnn datasets`)"


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn MipnnError (any user-caused problem) into click's one-line error, exit 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MipnnError as exc:
            raise Failure(str(exc)) from None

    return wrapper




def _data_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option(
        "--data-dir", type=click.Path(path_type=Path, file_okay=False),
        envvar="MIPNN_DATA_DIR", show_envvar=True,
        help="directory holding the data set files (else a download cache is used)",
    )(func)
    func = click.option("--target", "target_col", metavar="COL",
                        help="the CSV column holding the class")(func)
    func = click.option("--csv", "csv_path", type=click.Path(path_type=Path),
                        help="train on a CSV file (with --target)")(func)
    func = click.option("--dataset", metavar="NAME", help=DATASET_HELP)(func)
    return func


def _check_budget(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value <= 0:
        raise Failure(f"--flash-budget {value}: give a positive number of bytes")
    return value


def _flash_budget_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--flash-budget", "flash_budget", type=int, metavar="BYTES", callback=_check_budget,
        help="model flash that --strategy auto may use: the fastest strategy whose estimated "
             "model flash fits (default: the target's cost-profile budget); with --strategy "
             "compact, the flash its mix of table and code is planned for (default: all "
             "table, the smallest)")(func)


def _check_source(dataset: str | None, csv_path: Path | None, target_col: str | None) -> None:
    if dataset and csv_path:
        raise MipnnError("give either --dataset or --csv, not both")
    if csv_path is not None and not target_col:
        raise MipnnError(f"--csv {csv_path} needs --target COL (the column holding the class)")
    if target_col and csv_path is None:
        raise MipnnError("--target goes with --csv")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mipnn")
def main() -> None:
    """Train integer-valued neural networks exactly with MIP, and deploy them as
    bit-exact integer-only C."""


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False),
              envvar="MIPNN_DATA_DIR", show_envvar=True)
@user_errors
def datasets(data_dir: Path | None) -> None:
    """List the data sets that can be loaded, and from where."""
    from mipnn.trainer.datasets import available_datasets

    for info in available_datasets(data_dir):
        click.echo(f"{info['name']:<14} {info['description']}")
        click.echo(f"{'':<14} source: {info['source']}")
        click.echo(f"{'':<14} status: {info['status']}")
    click.echo("CSV files: mipnn train --csv PATH --target COLUMN")


def _parse_hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip() != "")
    except ValueError:
        raise MipnnError(
            f"--hidden {text!r}: expected layer sizes like 16 or 16,8 (0 for no hidden layer)"
        ) from None
    if sizes == (0,) or sizes == ():
        return ()
    if any(s < 1 for s in sizes):
        raise MipnnError(f"--hidden {text!r}: layer sizes must be positive (0 alone: none)")
    return sizes


def _parse_options(items: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """``NAME=VALUE`` pairs; values become bool, int or float where they look like one."""
    out = []
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise MipnnError(f"--highs-option {item!r}: expected NAME=VALUE")
        value: Any = text.strip()
        if value.lower() in ("true", "false"):
            value = value.lower() == "true"
        else:
            for kind in (int, float):
                try:
                    value = kind(value)
                    break
                except ValueError:
                    pass
        out.append((name.strip(), value))
    return tuple(out)


SMALL_VALIDATION = 100  # fewer validation examples than this cannot rank candidates well


def _pct(value: float | None) -> str:
    return "   -  " if value is None or value != value else f"{100 * value:5.1f}%"


@main.command()
@_data_options
@click.option("--train-size", type=click.IntRange(min=2), metavar="N",
              help="number of training examples (stratified sample); default: all")
@click.option("--hidden", default="16", show_default=True,
              help="hidden layer sizes, e.g. 16 or 16,8; 0 for none")
@click.option("--bound", "-P", type=click.IntRange(1, 127), default=1, show_default=True,
              help="weights and biases are integers in [-P, P]")
@click.option("--objective",
              type=click.Choice(["sat_margin", "max_correct", "min_hinge", "min_w", "max_m",
                                 "gd"]),
              default="sat_margin", show_default=True,
              help="MIP objective (docs/TRAINING.md), or gd: the gradient baseline")
@click.option("--margin", type=click.IntRange(min=1), default=1, show_default=True,
              help="sat_margin, min_hinge: required score margin")
@click.option("--solver", type=click.Choice(["highspy", "highs", "gurobi", "cplex", "scip",
                                             "cbc"]),
              default="highspy", show_default=True,
              help="highspy: HiGHS directly; the others through Pyomo (highs = HiGHS via Pyomo)")
@click.option("--warm-start/--no-warm-start", default=True, show_default=True,
              help="start the MIP from the gradient baseline's network")
@click.option("--symmetry/--no-symmetry", default=False, show_default=True,
              help="order the hidden neurons (symmetry-breaking rows; no measured gain)")
@click.option("--lns/--no-lns", default=True, show_default=True,
              help="large-neighbourhood search after the first solve")
@click.option("--target-objective", type=float, metavar="VALUE",
              help="stop as soon as an incumbent's objective is at most VALUE")
@click.option("--select", type=click.Choice(["objective", "val", "train+val"]),
              default="objective", show_default=True,
              help="keep the best-objective network, the network (gradient start or "
                   "incumbent) with the best validation accuracy, or the one that classifies "
                   "the most training and validation examples together (small data sets)")
@click.option("--highs-option", "highs_options", multiple=True, metavar="NAME=VALUE",
              help="extra solver option, e.g. mip_heuristic_effort=0.3 (repeatable)")
@click.option("--plot", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE.png",
              help="write the incumbent trajectory (objective, accuracies) as a PNG")
@click.option("--levels", type=click.IntRange(1, 255), default=255, show_default=True,
              help="inputs are quantised to integers in [0, L]")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="solver time limit in seconds")
@click.option("--seed", type=int, default=0, show_default=True,
              help="data split and solver seed")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--prune", type=click.FloatRange(min=0), metavar="ALPHA",
              help="neuron-count optimisation: each active hidden neuron costs ALPHA")
@click.option("--prune-mode", type=click.Choice(["weighted", "lexicographic"]),
              default="weighted", show_default=True,
              help="lexicographic: best accuracy first, then fewest neurons")
@click.option("--simplify/--no-simplify", default=True, show_default=True,
              help="remove hidden neurons that cannot change any output (exact)")
@click.option("--weight-penalty", type=click.FloatRange(min=0), default=0.0, show_default=True,
              metavar="LAMBDA",
              help="MIP objectives: add LAMBDA * sum |W| (fewer, smaller weights; "
                   "docs/TRAINING.md)")
@click.option("--gd-restarts", type=click.IntRange(1, 1000), default=1, show_default=True,
              metavar="R",
              help="run the gradient baseline (the MIP's start, or --objective gd) R times "
                   "from different initialisations; keep the best on the validation set")
@click.option("--guard-folds", type=click.IntRange(min=0), default=0, show_default=True,
              metavar="K",
              help="MIP objectives: keep the MIP's network only if, over K folds of the "
                   "training set, it classifies more held-out examples than its gradient "
                   "start (K + 1 MIP runs share --time-limit; 0: off; docs/TRAINING.md)")
@click.option("--teacher", type=click.Choice(TEACHERS),
              help="train on a float teacher's labels of the training set (logistic "
                   "regression, regularisation by cross-validation on the training set); "
                   "accuracies are reported against the given labels (docs/TRAINING.md)")
@click.option("--start", "start_path", type=click.Path(path_type=Path, dir_okay=False),
              metavar="MODEL.json",
              help="MIP objectives: start from this model file's network instead of the "
                   "gradient baseline's, e.g. to continue a run with more time (the data "
                   "are encoded with its features)")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="model file to write (JSON)")
@click.option("--quiet", "-q", is_flag=True, help="no progress lines")
@batch_options
@user_errors
def train(
    dataset: str | None, csv_path: Path | None, target_col: str | None, data_dir: Path | None,
    train_size: int | None, hidden: str, bound: int, objective: str, margin: int,
    solver: str, warm_start: bool, symmetry: bool, lns: bool, target_objective: float | None,
    select: str, highs_options: tuple[str, ...], plot: Path | None, levels: int,
    time_limit: float, seed: int, threads: int, prune: float | None, prune_mode: str,
    simplify: bool, weight_penalty: float, gd_restarts: int, guard_folds: int,
    teacher: str | None, start_path: Path | None, out: Path, quiet: bool,
) -> None:
    """Train a network with the MIP solver (or the gradient baseline) and write the model
    file. Every new incumbent is shown as it is found."""
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.model import save_model
    from mipnn.trainer.train import train as run_train
    from mipnn.trainer.train_config import TrainConfig

    _check_source(dataset, csv_path, target_col)
    if dataset is None and csv_path is None:
        dataset = "breast_cancer"
    config = TrainConfig(
        hidden=_parse_hidden(hidden), bound=bound, objective=objective, margin=margin,
        time_limit=time_limit, seed=seed, threads=threads, prune=prune,
        prune_mode=prune_mode, simplify=simplify, solver=solver, warm_start=warm_start,
        symmetry=symmetry, lns=lns, target_objective=target_objective, select=select,
        highs_options=_parse_options(highs_options), weight_penalty=weight_penalty,
        gd_restarts=gd_restarts, guard_folds=guard_folds, teacher=teacher,
    )
    config.check()
    start_model = None
    if start_path is not None:
        start_model = _start_model(start_path, config, levels)
        levels = start_model.levels
    try:
        ds = load_dataset(dataset, csv=csv_path, target=target_col, data_dir=data_dir,
                          train_size=train_size, seed=seed, levels=levels,
                          features=None if start_model is None else start_model.features)
    except DataError as exc:
        if start_model is None or start_model.features is None:
            raise
        raise DataError(f"{start_path}: its input features do not fit this data: "
                        f"{exc}") from None
    start_network = None
    if start_model is not None:
        from mipnn.trainer.start import start_network_from_model

        _map_classes(ds, start_model, str(start_path), for_training=True)
        start_network = start_network_from_model(start_model, config, ds, str(start_path))
    for note in ds.notes:
        click.echo(f"note: {note}", err=True)
    uses_val = select == "val" or gd_restarts > 1
    if uses_val and len(ds.y_val) < SMALL_VALIDATION:
        click.echo(
            f"note: the validation split has {len(ds.y_val)} examples; choosing by it "
            f"(--select val, --gd-restarts) is unreliable below about {SMALL_VALIDATION} "
            "(one example moves its accuracy by "
            f"{100 / max(1, len(ds.y_val)):.1f} points); --select train+val counts the "
            "training examples too", err=True)
    shape = "-".join(str(s) for s in [ds.X_train.shape[1], *config.hidden, len(ds.classes)])
    click.echo(
        f"data: {ds.name}: {len(ds.y_train)} train / {len(ds.y_val)} val / "
        f"{len(ds.y_test)} test examples, {ds.X_train.shape[1]} inputs, "
        f"classes {', '.join(ds.classes)}"
    )
    click.echo(
        f"train: {shape} network, weights in [-{bound}, {bound}], {objective}, "
        f"time limit {time_limit:g} s, seed {seed}"
    )
    if start_model is not None:
        click.echo(f"start: the network of {start_path} "
                   f"({'-'.join(str(k) for k in start_model.shape)}), not the gradient "
                   "baseline's")
    if not quiet:
        click.echo(f"{'time':>8}  {'objective':>10}  {'bound':>8}  {'gap':>7}  "
                   f"{'train':>6}  {'val':>6}")

    def show(r: Any) -> None:
        if quiet:
            return
        obj = "-" if r.objective is None else f"{r.objective:g}"
        bnd = "-" if r.bound is None else f"{r.bound:g}"
        gap = "-" if r.gap is None else f"{100 * r.gap:.1f}%"
        mark = "*" if r.new_incumbent else " "
        click.echo(
            f"{r.time:7.1f}s {mark}{obj:>10}  {bnd:>8}  {gap:>7}  "
            f"{_pct(r.train_accuracy)}  {_pct(r.val_accuracy)}"
        )

    result = run_train(ds, config, on_progress=show,
                       on_message=None if quiet else (lambda m: click.echo(m)),
                       start_network=start_network)
    if start_path is not None:
        from mipnn.trainer.model import file_sha256

        result.model.training["start"]["model_file"] = {
            "path": str(start_path), "sha256": file_sha256(start_path)}
    save_model(result.model, out)
    if plot is not None:
        from mipnn.trainer.plot import plot_trajectory

        plot_trajectory(result.trajectory, plot,
                        f"{ds.name} {shape} P={bound} {objective} seed {seed}")
        click.echo(f"wrote {plot}")
    s = result.solve
    click.echo(
        f"solver: {s.solver}, status {s.status}, best objective {s.objective:g}, "
        f"gap {'-' if s.gap is None else f'{100 * s.gap:.1f}%'}, {s.time:.1f} s "
        f"(model built in {result.build_time:.3f} s)"
    )
    info = result.model.training
    rule = info.get("selected")
    if rule and rule != "objective":
        what = {"val": "the best validation accuracy",
                "train+val": "the most correct training and validation examples"}[rule]
        click.echo(f"kept: the network with {what} (--select {rule}), objective "
                   f"{info['objective_value']:g}")
    guard = info.get("guard")
    if guard:
        kept = ("the MIP's network" if guard["kept"] == "mip"
                else "the gradient start (the MIP's network did not classify more)")
        click.echo(f"guard: {guard['folds']} folds, held-out examples classified: MIP "
                   f"{guard['held_out_correct_mip']}, gradient start "
                   f"{guard['held_out_correct_gd']} of {guard['held_out_examples']}; kept "
                   f"{kept}")
    neurons = info.get("neurons")
    if neurons and sum(neurons["removed"]):
        click.echo(f"neurons: hidden {neurons['hidden_before']} -> {neurons['hidden_after']} "
                   "(removed neurons that cannot change any output)")
    click.echo(
        f"accuracy: train {_pct(result.train_accuracy)}  val {_pct(result.val_accuracy)}  "
        f"test {_pct(result.test_accuracy)}"
    )
    click.echo(f"wrote {out}")


def _start_model(path: Path, config: Any, levels: int) -> Any:
    """The model file ``--start`` names, checked against the options before any data is
    read (the rest is checked against the data by start_network_from_model)."""
    from mipnn.trainer.model import load_model
    from mipnn.trainer.start import check_start_config

    check_start_config(config)
    model = load_model(path)
    source = click.get_current_context().get_parameter_source("levels")
    if source is not click.core.ParameterSource.DEFAULT and levels != model.levels:
        raise MipnnError(f"{path}: the model's inputs are in [0, {model.levels}]; --levels "
                         f"{levels} would encode the data differently (leave --levels out)")
    return model


def _map_classes(ds: Any, model: Any, source: str, for_training: bool = False) -> None:
    """Map the data set's labels onto the model's classes, by label (in place). For
    training, the data must hold every class of the model, and the classes take the
    model's order."""
    index = {label: k for k, label in enumerate(model.classes)}
    unknown = [c for c in ds.classes if c not in index]
    if unknown:
        raise MipnnError(
            f"data labels {unknown} are not classes of the model"
            f"{' ' + source if source else ''} ({', '.join(model.classes)})"
        )
    if for_training and len(ds.classes) != len(model.classes):
        missing = [c for c in model.classes if c not in ds.classes]
        raise MipnnError(f"{source}: its classes {missing} do not occur in the data")
    remap = np.array([index[c] for c in ds.classes], dtype=np.int64)
    for split in ("train", "val", "test"):
        y = getattr(ds, f"y_{split}")
        setattr(ds, f"y_{split}", remap[y] if len(y) else y)
    if for_training:
        ds.classes = list(model.classes)


def _load_for_model(model: Any, dataset: str | None, csv_path: Path | None,
                    target_col: str | None, data_dir: Path | None) -> Any:
    """The model's data, encoded with the model's own features and levels and mapped to its
    classes. The recorded provenance (free-form) is read only through read_provenance."""
    from mipnn.trainer.data import load_dataset, load_from_provenance
    from mipnn.trainer.provenance import data_provenance, recorded_split

    if model.features is None:
        raise MipnnError("the model has no input.features, so raw data cannot be encoded")
    provenance = data_provenance(model.training)
    if dataset is None and csv_path is None:
        if not provenance:
            raise MipnnError(
                "the model file records no training data set; pass --dataset or --csv"
            )
        ds = load_from_provenance(provenance, data_dir=data_dir, features=model.features,
                                  levels=model.levels)
    else:
        train_size, seed = recorded_split(provenance)
        ds = load_dataset(
            dataset, csv=csv_path, target=target_col, data_dir=data_dir,
            train_size=train_size, seed=seed, levels=model.levels, features=model.features,
        )
    _map_classes(ds, model, "")
    return ds


@main.command(name="eval")
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path, dir_okay=False))
@_data_options
@user_errors
def eval_cmd(model_path: Path, dataset: str | None, csv_path: Path | None,
             target_col: str | None, data_dir: Path | None) -> None:
    """Accuracy of MODEL on its data splits, by the integer reference."""
    from mipnn.trainer.model import accuracy, load_model

    _check_source(dataset, csv_path, target_col)
    model = load_model(model_path)
    ds = _load_for_model(model, dataset, csv_path, target_col, data_dir)
    shape = "-".join(str(s) for s in model.shape)
    click.echo(f"model: {model_path} ({model.name}, {shape}); data: {ds.name}")
    for split in ("train", "val", "test"):
        X, y = getattr(ds, f"X_{split}"), getattr(ds, f"y_{split}")
        if len(y):
            click.echo(f"{split:>5}: {_pct(accuracy(model, X, y))}  ({len(y)} examples)")


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path, file_okay=False),
              help="directory to write NAME.h and NAME.c into")
@click.option("--name", help="C name prefix (default: the model's name)")
@click.option("--strategy", type=click.Choice(STRATEGY_CHOICES), default="auto",
              show_default=True,
              help="how the C computes the network; auto: the fastest by the cost model")
@click.option("--target", "target", metavar="TARGET",
              help="tune --strategy auto for this firmware target (default: a generic 32-bit "
                   "core; avr with --arduino)")
@click.option("--arduino", type=click.Path(path_type=Path, file_okay=False),
              help="also write an Arduino library (and PlatformIO library.json) into DIR")
@_flash_budget_option
@user_errors
def export(model_path: Path, out: Path | None, name: str | None, strategy: str,
           target: str | None, arduino: Path | None, flash_budget: int | None) -> None:
    """Generate integer-only C (NAME.h, NAME.c) for MODEL, or an Arduino library."""
    from mipnn.codegen.arduino import export_arduino
    from mipnn.codegen.export import export as run_export

    if out is None and arduino is None:
        raise MipnnError("give --out DIR (C files) and/or --arduino DIR (an Arduino library)")
    profile = _cost_profile(target)
    if out is not None:
        for path in run_export(model_path, out, name, strategy=strategy, profile=profile,
                               flash_budget=flash_budget):
            click.echo(f"wrote {path}")
    if arduino is not None:
        paths = export_arduino(model_path, arduino, name, strategy=strategy,
                               profile=profile or "avr", flash_budget=flash_budget)
        click.echo(f"wrote Arduino library {arduino} ({len(paths)} files)")
        for path in paths:
            click.echo(f"  {path}")


def _cost_profile(target: str | None) -> str | None:
    """The cost profile of a firmware target (``None``: the generic one)."""
    if target is None:
        return None
    from mipnn.device import target_info

    return str(target_info(target)["cost_profile"] or "generic32")


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", "targets", required=True, multiple=True,
              help="host, cortex-m0, cortex-m3, cortex-m4, avr, rv32 (repeat), or 'all' for "
                   "every target whose tools are installed")
@click.option("--strategy", "strategies", type=click.Choice(STRATEGY_CHOICES), multiple=True,
              help="code-generation strategy (repeat to compare; default: auto, the fastest "
                   "by the target's cost model)")
@click.option("--vectors", type=click.IntRange(min=0), default=256, show_default=True,
              help="how many test-split vectors to include (plus edge and random ones)")
@click.option("--random", "n_random", type=click.IntRange(min=0), default=64, show_default=True,
              help="how many random input vectors to add")
@click.option("--build-dir", type=click.Path(path_type=Path, file_okay=False),
              help="where to build (default: a temporary directory)")
@click.option("--report", "report_path", type=click.Path(path_type=Path, dir_okay=False),
              help="also write the measurements as JSON to this file")
@click.option("--measure/--no-measure", default=True, show_default=True,
              help="measure the model's own flash/RAM and count one inference")
@click.option("--sanitize", is_flag=True,
              help="host only: build with AddressSanitizer and UndefinedBehaviorSanitizer "
                   "(every finding fails the run); checks, does not measure")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False),
              envvar="MIPNN_DATA_DIR", show_envvar=True)
@_flash_budget_option
@user_errors
def firmware(model_path: Path, targets: tuple[str, ...], strategies: tuple[str, ...],
             vectors: int, n_random: int, build_dir: Path | None, report_path: Path | None,
             measure: bool, sanitize: bool, data_dir: Path | None,
             flash_budget: int | None) -> None:
    """Build MODEL for targets, run it, compare every output with the reference, and report
    sizes, stack and the instructions (AVR: cycles) of one inference."""
    from mipnn.codegen.names import resolve_name
    from mipnn.codegen.ranges import analyse_ranges
    from mipnn.device import (
        golden_vectors,
        list_targets,
        missing_tools,
        run_firmware,
        table_header,
        table_legend,
        table_row,
        vector_budget,
        write_report,
    )
    from mipnn.trainer.model import load_model
    from mipnn.trainer.provenance import data_provenance

    model = load_model(model_path)
    resolve_name(model, None)  # what the C cannot take is refused before any work
    analyse_ranges(model)
    names: list[str] = []
    for t in targets:
        if t == "all":
            for n in list_targets():
                missing = missing_tools(n)
                if missing:
                    click.echo(f"note: skipping {n}: missing {', '.join(missing)} "
                               "(scripts/install-deps.sh installs them)", err=True)
                else:
                    names.append(n)
        else:
            names.append(t)
    test_X = None
    if data_provenance(model.training) and vectors > 0:
        try:
            test_X = _load_for_model(model, None, None, None, data_dir).X_test
        except MipnnError as exc:
            click.echo(f"note: test split not available ({exc}); using edge and random "
                       "vectors only", err=True)
    X = golden_vectors(model, test_X, n_random=n_random, seed=0, limit=vectors)
    extra = len(golden_vectors(model, None, n_random=n_random, seed=0))
    failed = False
    reports = []
    click.echo(table_header())
    for t in dict.fromkeys(names):
        X_t, budget = X, vector_budget(t, model.input_size)
        if budget is not None and len(X) > budget:
            X_t = golden_vectors(model, test_X, n_random=n_random, seed=0,
                                 limit=max(0, min(vectors, budget - extra)))
            click.echo(f"note: {t}: {len(X_t)} of {len(X)} vectors (the rest do not fit "
                       "half its flash)", err=True)
        for strategy in dict.fromkeys(strategies or ("auto",)):
            r = run_firmware(model_path, t, X_t, workdir=build_dir, strategy=strategy,
                             measure=measure, flash_budget=flash_budget, sanitize=sanitize)
            reports.append(r)
            click.echo(table_row(r))
            for line in r.describe_mismatches(limit=5):
                click.echo(f"  {line}", err=True)
            failed = failed or not r.ok
    click.echo(table_legend())
    if report_path is not None:
        write_report(reports, report_path, model_path)
        click.echo(f"wrote {report_path}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
