"""``mipnn sweep``: a family of budgeted models for one target (mipnn.sweep does the work):
the options, the data, the table with the Pareto front and the recommendation, the plot,
the members' files and the refit of the recommended configuration."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from mipnn.cli.options import check_source, data_options, pct, user_errors
from mipnn.cli.values import FiniteFloat, PathValue, parse_hidden
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.train_config import MAX_TIME_LIMIT


@click.command()
@data_options
@click.option("--device", required=True, metavar="TARGET",
              help="the firmware target whose cost model prices each model (cortex-m3, avr, ...)")
@click.option("--flash-budget", "flash_budget", type=click.IntRange(min=1), metavar="BYTES",
              help="recommend the most accurate model (by validation) within this model flash")
@click.option("--hidden", "shapes", multiple=True, default=("0",), show_default=True,
              help="a hidden shape of the family, e.g. 0, 8 or 16,8 (repeat for several)")
@click.option("--nonzeros", metavar="K,K,...",
              help="the --max-nonzeros values (default: 8, 16, 32, ... and all weights)")
@click.option("--bound", "-P", type=click.IntRange(1, 127), default=127, show_default=True)
@click.option("--levels", type=click.IntRange(1, 255), default=255, show_default=True)
@click.option("--objective", type=click.Choice(["gd", "max_correct"]), default="gd",
              show_default=True, help="gd: the sparse gradient stage alone; max_correct: then "
                                      "the MIP (with --all-rows for large training sets)")
@click.option("--all-rows", is_flag=True, help="the MIP stage by all-rows neighbourhoods")
@click.option("--time-limit", type=FiniteFloat(min=0, min_open=True, max=MAX_TIME_LIMIT),
              default=60.0,
              show_default=True, help="per model")
@click.option("--learn-ranges", type=click.IntRange(min=0), metavar="COPIES",
              help="learned clamp ranges with up to COPIES extra copies (as mipnn train)")
@click.option("--val-fraction", type=FiniteFloat(0, 1, min_open=True, max_open=True),
              metavar="F", help="validation share (default: the data set's); it chooses")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True)
@click.option("--out-dir", type=PathValue(path_type=Path, file_okay=False),
              help="write every member's model file here")
@click.option("--plot", type=PathValue(path_type=Path, dir_okay=False), metavar="FILE.png",
              help="validation accuracy against estimated flash, front and recommendation")
@click.option("--refit", type=PathValue(path_type=Path, dir_okay=False), metavar="MODEL.json",
              help="train the recommended configuration on training + validation, write it")
@user_errors
def sweep(dataset: str | None, csv_path: Path | None, target_col: str | None,
          data_dir: Path | None, device: str, flash_budget: int | None,
          shapes: tuple[str, ...], nonzeros: str | None, bound: int, levels: int,
          objective: str, all_rows: bool, time_limit: float, learn_ranges: int | None,
          val_fraction: float | None, seed: int, out_dir: Path | None, plot: Path | None,
          refit: Path | None) -> None:
    """Train a family of budgeted models for one target, print the Pareto front of
    validation accuracy against estimated model flash and the recommended model."""
    from mipnn import sweep as sw
    from mipnn.device.targets import cost_profile
    from mipnn.trainer.data import load_dataset
    from mipnn.trainer.model import save_model
    from mipnn.trainer.outputs import check_output_file
    from mipnn.trainer.train_config import TrainConfig

    check_source(dataset, csv_path, target_col)
    if dataset is None and csv_path is None:
        dataset = "breast_cancer"
    for path, what in ((plot, "--plot"), (refit, "--refit")):
        if path is not None:  # before any work: a sweep never trains and then cannot write
            check_output_file(path, what)
    if out_dir is not None:
        check_output_file(out_dir / "member.json", "--out-dir")
    try:
        ks = None if not nonzeros else [int(k) for k in nonzeros.split(",") if k.strip()]
    except ValueError:
        raise MipnnError(f"--nonzeros {nonzeros!r}: expected numbers like 16,32,64") from None
    if ks is not None and (not ks or min(ks) < 1):
        raise MipnnError("--nonzeros: give positive numbers")
    profile = cost_profile(device)
    load = functools.partial(load_dataset, dataset, csv=csv_path, target=target_col,
                             data_dir=data_dir, seed=seed, levels=levels,
                             learn_ranges=learn_ranges is not None,
                             extra_copies=learn_ranges or 0)
    ds = load(val_fraction=val_fraction)
    if not len(ds.y_val):
        raise MipnnError("the sweep chooses by validation accuracy: it needs a validation split")
    base = TrainConfig(hidden=(), bound=bound, objective=objective, time_limit=time_limit,
                       seed=seed, mip_scope="rows" if all_rows else "full")
    base.check()
    unit = "cycles" if profile == "avr" else "instructions"
    click.echo(f"sweep: {ds.name} on {device}: {len(ds.y_train)} train / {len(ds.y_val)} val "
               f"examples, {ds.n_inputs} inputs; costs by the cost model ({profile})")
    entries = sw.run_sweep(ds, base, [parse_hidden(h) for h in shapes], ks, profile,
                           flash_budget, on_entry=lambda e: click.echo(
                               f"  trained {e.label}: val {pct(e.val_accuracy)}, about "
                               f"{e.flash:.0f} B"))
    chosen = sw.recommend(entries, flash_budget)
    for line in sw.report(entries, chosen, flash_budget, unit):
        click.echo(line)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        for e in entries:
            save_model(e.model, out_dir / e.file_name)
        click.echo(f"wrote {len(entries)} model files to {out_dir}")
    if plot is not None:
        sw.plot(entries, chosen, flash_budget, plot, f"{ds.name} on {device}")
        click.echo(f"wrote {plot}")
    if refit is not None and chosen is not None:
        result = sw.refit(load, base, chosen)
        save_model(result.model, refit)
        n = result.model.training["examples"]["train"]
        click.echo(f"refit on {n} examples (training + validation): test "
                   f"{pct(result.test_accuracy)}; wrote {refit}")
