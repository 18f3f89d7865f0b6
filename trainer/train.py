"""Train an integer network on a data set with the MIP, and return a Model (file-ready)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from trainer.errors import MipnnError, SolverError
from trainer.formulation import (
    OBJECTIVES,
    NetworkSpec,
    build_problem,
    lexicographic_stage,
    mip_activations,
    mip_scores,
    network_from_solution,
    zero_start,
)
from trainer.highs import Progress, SolveResult, solve_highs
from trainer.model import Layer, Model, accuracy, forward
from trainer.prune import simplify


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``hidden`` lists the hidden layer sizes (empty: no hidden layer)."""

    hidden: tuple[int, ...] = (16,)
    bound: int = 1
    objective: str = "sat_margin"
    margin: int = 1
    time_limit: float = 60.0
    seed: int = 0
    threads: int = 1
    prune: float | None = None  # ALPHA of the neuron-count optimisation
    prune_mode: str = "weighted"  # or "lexicographic": accuracy first, then fewest neurons
    simplify: bool = True  # remove dead and constant hidden neurons (exact)

    def check(self) -> None:
        if self.objective not in OBJECTIVES:
            raise MipnnError(
                f"unknown objective {self.objective!r}; expected one of {', '.join(OBJECTIVES)}"
            )
        if not 1 <= self.bound <= 127:
            raise MipnnError(f"--bound must be in [1, 127] (weights are int8), got {self.bound}")
        if any(h < 1 for h in self.hidden):
            raise MipnnError(f"hidden layer sizes must be positive, got {list(self.hidden)}")
        if self.margin < 1:
            raise MipnnError(f"--margin must be >= 1 (an exact strict margin), got {self.margin}")
        if self.prune is not None and self.prune < 0:
            raise MipnnError(f"--prune must be >= 0, got {self.prune}")
        if self.prune is not None and not self.hidden:
            raise MipnnError("--prune needs at least one hidden layer (--hidden)")
        if self.prune_mode not in ("weighted", "lexicographic"):
            raise MipnnError(
                f"--prune-mode must be weighted or lexicographic, got {self.prune_mode!r}"
            )
        if self.time_limit <= 0:
            raise MipnnError(f"--time-limit must be positive, got {self.time_limit}")


@dataclass(frozen=True)
class IncumbentReport:
    """A new incumbent, with the accuracies of the network it encodes (by ``forward``)."""

    time: float
    objective: float | None
    bound: float | None
    gap: float | None
    train_accuracy: float | None
    val_accuracy: float | None
    new_incumbent: bool


@dataclass
class TrainResult:
    model: Model
    solve: SolveResult
    build_time: float
    train_accuracy: float
    val_accuracy: float
    test_accuracy: float
    mip_train_accuracy: float
    trajectory: list[IncumbentReport] = field(default_factory=list)


def model_name(dataset_name: str) -> str:
    """A C identifier made from a data set's name (``my-data.csv`` -> ``my_data``)."""
    name = re.sub(r"\W+", "_", dataset_name.removesuffix(".csv")).strip("_") or "model"
    return f"m_{name}" if name[0].isdigit() else name


def _make_model(
    spec: NetworkSpec, net: list[tuple[np.ndarray, np.ndarray]], name: str,
    classes: list[str], features: list[dict[str, Any]] | None,
) -> Model:
    layers = [
        Layer(weights=W, bias=b, activation="sign" if li < len(net) - 1 else "linear")
        for li, (W, b) in enumerate(net)
    ]
    return Model(
        name=name, classes=list(classes), input_size=spec.n_inputs, levels=spec.levels,
        layers=layers, features=features,
    )


def train(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None = None,
) -> TrainResult:
    """Train on ``dataset`` (a ``trainer.data.Dataset``) and return the model with the
    accuracies that ``forward`` gives on each split. Raises SolverError when the solver
    returns no solution (cannot happen with the built-in feasible start) and MipnnError for
    a bad configuration."""
    config.check()
    X, y = dataset.X_train, dataset.y_train
    n_classes = len(dataset.classes)
    spec = NetworkSpec(
        n_inputs=int(X.shape[1]), hidden=tuple(config.hidden), n_classes=n_classes,
        bound=config.bound, levels=int(dataset.levels), objective=config.objective,
        margin=config.margin, prune=config.prune,
    )
    t0 = time.perf_counter()
    problem = build_problem(spec, X, y)
    build_time = time.perf_counter() - t0
    name = model_name(dataset.name)

    def acc(net: list[tuple[np.ndarray, np.ndarray]], Xs: np.ndarray, ys: np.ndarray) -> float:
        return accuracy(_make_model(spec, net, name, dataset.classes, None), Xs, ys)

    trajectory: list[IncumbentReport] = []

    def progress(p: Progress) -> None:
        tr = va = None
        if p.solution is not None:
            try:
                net = network_from_solution(problem, p.solution)
            except ValueError:
                net = None
            if net is not None:
                tr = acc(net, X, y)
                va = acc(net, dataset.X_val, dataset.y_val) if len(dataset.y_val) else None
        report = IncumbentReport(p.time, p.objective, p.bound, p.gap, tr, va, p.new_incumbent)
        if p.new_incumbent:
            trajectory.append(report)
        if on_progress is not None:
            on_progress(report)

    lexicographic = config.prune is not None and config.prune_mode == "lexicographic"
    result = solve_highs(
        problem, time_limit=config.time_limit / 2 if lexicographic else config.time_limit,
        seed=config.seed, threads=config.threads, start=zero_start(problem),
        on_progress=progress,
    )
    if lexicographic and result.solution is not None:
        # stage 2: the same accuracy objective at most what stage 1 reached, fewest neurons
        accuracy_value = _accuracy_part(problem, result.solution)
        stage2 = lexicographic_stage(problem, accuracy_value)
        second = solve_highs(
            stage2, time_limit=max(1.0, config.time_limit - result.time), seed=config.seed,
            threads=config.threads, start=result.solution,
        )
        if second.solution is not None:
            second.time += result.time
            second.incumbents = result.incumbents + second.incumbents
            result = second
    if result.solution is None:
        raise SolverError(
            f"{result.solver} found no solution within {config.time_limit:g} s "
            f"(status {result.status}); raise --time-limit"
        )
    try:
        net = network_from_solution(problem, result.solution)
    except ValueError as exc:
        raise SolverError(f"{result.solver} returned an unusable solution: {exc}") from None
    model = _make_model(spec, net, name, dataset.classes, dataset.features)
    simplified = None
    if config.simplify and config.hidden:
        full = model
        model, simplified = simplify(full)

    # The solver's own view of the training set must equal the integer reference.
    scores, pred = forward(full if simplified is not None else model, X)
    mip_pred = np.argmax(mip_scores(problem, result.solution, X), axis=1)
    mip_train = float(np.mean(mip_pred == y))
    train_acc = float(np.mean(pred == y))
    if mip_train != train_acc:
        raise SolverError(
            "internal check failed: the MIP's variables imply a training accuracy of "
            f"{mip_train:.4f} but forward gives {train_acc:.4f} (numerical tolerance issue)"
        )
    val_acc = accuracy(model, dataset.X_val, dataset.y_val)
    test_acc = accuracy(model, dataset.X_test, dataset.y_test)
    model.training = {
        "objective": config.objective,
        "solver": result.solver,
        "status": result.status,
        "objective_value": result.objective,
        "bound": result.bound,
        "gap": result.gap,
        "time": round(result.time, 3),
        "build_time": round(build_time, 4),
        "config": asdict(config) | {"hidden": list(config.hidden)},
        "mip": {"rows": problem.n_rows, "cols": problem.n_cols, "nonzeros": int(problem.A.nnz)},
        "data": dict(getattr(dataset, "provenance", {}) or {}),
        "examples": {
            "train": int(len(y)), "val": int(len(dataset.y_val)), "test": int(len(dataset.y_test))
        },
        "accuracy": {"train": train_acc, "val": val_acc, "test": test_acc},
        "neurons": simplified,
        "trajectory": {
            "incumbents": len(trajectory),
            "first": _summary(trajectory[0]) if trajectory else None,
            "best": _summary(trajectory[-1]) if trajectory else None,
        },
    }
    return TrainResult(
        model=model, solve=result, build_time=build_time, train_accuracy=train_acc,
        val_accuracy=val_acc, test_accuracy=test_acc, mip_train_accuracy=mip_train,
        trajectory=trajectory,
    )


def _accuracy_part(problem: Any, solution: np.ndarray) -> float:
    """The accuracy objective (unsatisfied pairs) of a solution, without switch costs."""
    cost = problem.cost.copy()
    for name, block in problem.blocks.items():
        if name.startswith("s"):
            cost[block.index().ravel()] = 0.0
    return float(cost @ solution + problem.offset)


def _summary(r: IncumbentReport) -> dict[str, Any]:
    return {
        "time": round(r.time, 3), "objective": r.objective,
        "train_accuracy": r.train_accuracy, "val_accuracy": r.val_accuracy,
    }


def check_mip_agrees(problem: Any, solution: np.ndarray, model: Model, X: np.ndarray) -> bool:
    """True when the MIP's binaries and scores equal ``forward``'s hidden signs and scores."""
    a = X.astype(np.int64)
    for li, layer in enumerate(model.layers[:-1]):
        a = np.where(a @ layer.weights.T + layer.bias >= 0, 1, -1)
        if not np.array_equal(a, mip_activations(problem, solution, li)):
            return False
    scores, _ = forward(model, X)
    return bool(np.array_equal(scores, mip_scores(problem, solution, X)))
