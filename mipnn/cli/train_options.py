"""The options of ``mipnn train``, in one place: the common ones ``--help`` lists, and the
research levers (:class:`~mipnn.cli.options.AdvancedOption`) that ``--help-all`` adds. The
levers the measured defaults choose (:mod:`mipnn.trainer.defaults`) default to None: left
out, they are set by the size of the validation split. A new option goes into one of these
lists; the train command receives every option as a keyword and passes the ones named as
TrainConfig fields on to it (an option that is not one is listed in mipnn.cli.train's
NOT_CONFIG)."""

from __future__ import annotations

from pathlib import Path

import click

from mipnn.cli.options import DATA_OPTIONS, AdvancedOption, Decorator
from mipnn.cli.values import TEXT, FiniteFloat, LayerSizes, MarginValue, PathValue
from mipnn.trainer.selection import SELECT_RULES
from mipnn.trainer.teacher import TEACHERS
from mipnn.trainer.train_config import (
    MAX_COST,
    MAX_THREADS,
    MAX_TIME_LIMIT,
    SOLVERS,
    TRAIN_OBJECTIVES,
)

BY_SIZE = "by data size"


def advanced(*names: str, **kwargs: object) -> Decorator:
    """An option that ``--help-all`` lists and ``--help`` leaves out."""
    return click.option(*names, cls=AdvancedOption, **kwargs)  # type: ignore[arg-type]


COMMON_OPTIONS: list[Decorator] = [
    *DATA_OPTIONS,
    click.option("--train-size", type=click.IntRange(min=2), metavar="N",
                 help="number of training examples (stratified sample); default: all"),
    click.option("--hidden", type=LayerSizes(), default="16", show_default=True,
                 help="hidden layer sizes, e.g. 16 or 16,8; 0 for none"),
    click.option("--bound", "-P", type=click.IntRange(1, 127), default=1, show_default=True,
                 help="weights and biases are integers in [-P, P]"),
    click.option("--objective", type=click.Choice(TRAIN_OBJECTIVES), default="sat_margin",
                 show_default=True,
                 help="MIP objective (docs/TRAINING.md), or gd: the gradient baseline"),
    click.option("--time-limit", type=FiniteFloat(min=0, min_open=True, max=MAX_TIME_LIMIT),
                 default=60.0, show_default=True, help="solver time limit in seconds"),
    click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
                 help="data split and solver seed"),
    click.option("--raw-scale", "raw_scales", multiple=True, metavar="COL=S",
                 help="a numeric column's raw values on the device are round(value * S) "
                      "(default: the power of ten that makes its training values integers, "
                      "at most 10**6; repeatable; ARCHITECTURE.md 8)"),
    click.option("--threads", type=click.IntRange(1, MAX_THREADS), default=1,
                 show_default=True),
    click.option("--start", "start_path", type=PathValue(path_type=Path, dir_okay=False),
                 metavar="MODEL.json",
                 help="MIP objectives: start from this model file's network instead of the "
                      "gradient baseline's, e.g. to continue a run with more time (the data "
                      "are encoded with its features)"),
    click.option("--out", type=PathValue(path_type=Path, dir_okay=False), required=True,
                 help="model file to write (JSON)"),
    click.option("--quiet", "-q", is_flag=True, help="no progress lines"),
]

# the deployment budget and the data it trains on (issue 25; docs/TRAINING.md, "Under a
# deployment budget")
BUDGET_OPTIONS: list[Decorator] = [
    advanced("--max-nonzeros", type=click.IntRange(min=1), metavar="K",
             help="at most K non-zero first-layer weights: a MIP constraint (a binary per "
                  "weight) and the gradient stage's (top-K)"),
    advanced("--flash-budget", "flash_budget", type=click.IntRange(min=1), metavar="BYTES",
             help="model flash on --device, translated into --max-nonzeros (and, on AVR, "
                  "--levels unless given) by the code generator's cost model"),
    advanced("--device", metavar="TARGET", help="the firmware target of --flash-budget"),
    advanced("--learn-ranges", type=click.IntRange(min=0), metavar="COPIES",
             help="choose the numeric columns' clamp ranges on the training rows, with up to "
                  "COPIES extra clamped copies (0: ranges only)"),
    advanced("--val-fraction", type=FiniteFloat(0, 1, max_open=True), metavar="F",
             help="validation share of the training part (default: the data set's); 0 "
                  "trains on all of it"),
    advanced("--max-neurons", type=click.IntRange(min=1), metavar="M",
             help="at most M active hidden neurons (the neuron switches, sum <= M)"),
    advanced("--all-rows", is_flag=True,
             help="MIP improvement by neighbourhoods exact on every training row, the "
                  "budget inside (large training sets; implies --objective max_correct)"),
]

# the levers the measured defaults set when they are left out (trainer/defaults.py)
DEFAULTED_OPTIONS: list[Decorator] = [
    advanced("--gd-restarts", type=click.IntRange(1, 1000), metavar="R",
             show_default=BY_SIZE,
             help="run the gradient baseline (the MIP's start, or --objective gd) R times "
                  "from different initialisations; keep the best on the validation set"),
    advanced("--select", type=click.Choice(SELECT_RULES), show_default=BY_SIZE,
             help="keep the best-objective network, the network (gradient start or "
                  "incumbent) with the best validation accuracy, or the one that classifies "
                  "the most training and validation examples together (small data sets)"),
    advanced("--margin", type=MarginValue(), metavar="INTEGER|paper", show_default=BY_SIZE,
             help="sat_margin, min_hinge: required score margin, an integer >= 1, or paper: "
                  "the paper's (H+1)P/4 rounded up (5 at H=16, P=1)"),
    advanced("--weight-penalty", type=FiniteFloat(min=0, max=MAX_COST, max_open=True),
             metavar="LAMBDA",
             show_default=BY_SIZE,
             help="MIP objectives: add LAMBDA * sum |W| (fewer, smaller weights; "
                  "docs/TRAINING.md)"),
    advanced("--teacher", type=click.Choice([*TEACHERS, "none"]), show_default=BY_SIZE,
             help="train on a float teacher's labels of the training set (logistic "
                  "regression, regularisation by cross-validation on the training set); "
                  "accuracies are reported against the given labels (docs/TRAINING.md)"),
]

ADVANCED_OPTIONS: list[Decorator] = [
    *DEFAULTED_OPTIONS,
    advanced("--defaults", "defaults_rule", type=click.Choice(["measured", "plain"]),
             default="measured", show_default=True,
             help="the levers left out: what measured best for the data's size, or their "
                  "plain values (gd-restarts 1, select objective, margin 1, weight-penalty "
                  "0, no teacher: the runs of docs/research/, before the defaults)"),
    advanced("--levels", type=click.IntRange(1, 255), show_default="255, or the --start "
             "model's", help="inputs are quantised to integers in [0, L]"),
    advanced("--solver", type=click.Choice(SOLVERS), default="highspy", show_default=True,
             help="highspy: HiGHS directly; gurobi-direct: Gurobi directly (pip install "
                  "gurobipy); the others through Pyomo (highs = HiGHS via Pyomo)"),
    advanced("--warm-start/--no-warm-start", default=True, show_default=True,
             help="start the MIP from the gradient baseline's network"),
    advanced("--symmetry/--no-symmetry", default=False, show_default=True,
             help="order the hidden neurons (symmetry-breaking rows; no measured gain)"),
    advanced("--lns/--no-lns", default=True, show_default=True,
             help="large-neighbourhood search after the first solve"),
    advanced("--target-objective", type=FiniteFloat(), metavar="VALUE",
             help="stop as soon as an incumbent's objective is at most VALUE"),
    advanced("--highs-option", "highs_options", multiple=True, metavar="NAME=VALUE",
             help="extra solver option, e.g. mip_heuristic_effort=0.3 (repeatable)"),
    advanced("--plot", type=PathValue(path_type=Path, dir_okay=False), metavar="FILE.png",
             help="write the incumbent trajectory (objective, accuracies) as a PNG"),
    advanced("--prune", type=FiniteFloat(min=0, max=MAX_COST), metavar="ALPHA",
             help="neuron-count optimisation: each active hidden neuron costs ALPHA"),
    advanced("--prune-mode", type=click.Choice(["weighted", "lexicographic"]),
             default="weighted", show_default=True,
             help="lexicographic: best accuracy first, then fewest neurons"),
    advanced("--simplify/--no-simplify", default=True, show_default=True,
             help="remove hidden neurons that cannot change any output (exact)"),
    advanced("--guard-folds", type=click.IntRange(min=0), default=0, show_default=True,
             metavar="K",
             help="MIP objectives: keep the MIP's network only if, over K folds of the "
                  "training set, it classifies more held-out examples than its gradient "
                  "start (K + 1 MIP runs share --time-limit; 0: off; docs/TRAINING.md)"),
]

BATCH_OPTIONS: list[Decorator] = [
    click.option("--batch-size", type=click.IntRange(min=2), metavar="B",
                 help="batch training: MIPs of B examples each, combined (for thousands of "
                      "examples; docs/TRAINING.md)"),
    click.option("--epochs", type=click.IntRange(min=1), metavar="E",
                 help="batch training: passes over the data [default: 3]"),
    click.option("--workers", type=click.IntRange(1, MAX_THREADS), default=1, show_default=True,
                 help="batch training: local worker processes for the batch MIPs"),
    advanced("--batch-variant", type=click.Choice(["mipnn", "paper"]), default="mipnn",
             show_default=True, help="paper: the published algorithm unchanged"),
    advanced("--scheduler", type=TEXT, metavar="tcp://HOST:8786",
             help="run the batch MIPs on a Dask cluster (pip install 'mipnn[cluster]')"),
    advanced("--checkpoint", type=PathValue(path_type=Path, dir_okay=False),
             help="checkpoint written after each epoch [default: OUT.ckpt.json]"),
    advanced("--resume", is_flag=True, help="continue from the checkpoint"),
    advanced("--finetune", type=click.IntRange(min=0), default=0, show_default=True,
             metavar="N", help="mipnn variant: a final MIP on N examples"),
    advanced("--batch-start", type=click.Choice(["zero", "gd"]), default="gd",
             show_default=True, help="mipnn variant: the network the first epoch starts from"),
]

TRAIN_OPTIONS: list[Decorator] = [*COMMON_OPTIONS, *BUDGET_OPTIONS, *ADVANCED_OPTIONS,
                                   *BATCH_OPTIONS]
