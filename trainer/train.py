"""Train an integer network on a data set with the MIP, and return a Model (file-ready)."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from mipnn.trainer.errors import MipnnError, SolverError
from mipnn.trainer.formulation import (
    HARD_OBJECTIVES,
    OBJECTIVES,
    NetworkSpec,
    build_problem,
    is_feasible,
    lexicographic_stage,
    mip_activations,
    mip_scores,
    network_from_solution,
    objective_value,
    order_neurons,
    start_from_network,
    zero_start,
)
from mipnn.trainer.highs import Progress, SolveResult, solve_highs
from mipnn.trainer.model import Model, accuracy, forward, network_model
from mipnn.trainer.prune import silence_dead_neurons, simplify

TRAIN_OBJECTIVES = (*OBJECTIVES, "gd")
SOLVERS = ("highspy", "highs", "gurobi", "cplex", "scip", "cbc")
"""``highspy``: HiGHS through highspy directly (fast hand-off, progress callbacks); the
others: the same matrix through Pyomo (``highs`` is HiGHS via Pyomo's appsi interface)."""


class InfeasibleError(SolverError):
    """The training set cannot be fitted under the objective's hard rows."""


SELECT_RULES = ("objective", "val", "train+val")


@dataclass(frozen=True)
class Candidate:
    """A network the run produced (a starting network or an incumbent), with its
    objective value, time (s from the start of the run) and accuracies."""

    network: list[tuple[np.ndarray, np.ndarray]]
    objective: float | None
    time: float
    train_accuracy: float
    val_accuracy: float | None


def select_candidate(candidates: list[Candidate], rule: str, n_train: int, n_val: int
                     ) -> Candidate | None:
    """The candidate a selection rule keeps: ``val`` the best validation accuracy,
    ``train+val`` the most correct examples of the training and validation sets together;
    ties go to the later candidate (the better objective). None without validation data
    (``val``) or without candidates."""
    if rule == "val":
        if not n_val:
            return None

        def key(c: Candidate) -> float:
            return float(c.val_accuracy or 0.0)
    elif rule == "train+val":
        def key(c: Candidate) -> float:
            return round(c.train_accuracy * n_train + (c.val_accuracy or 0.0) * n_val)
    else:
        raise ValueError(f"no selection rule {rule!r} over candidates")
    best = None
    for c in candidates:
        if best is None or key(c) >= key(best):
            best = c
    return best


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
    weight_penalty: float = 0.0  # objective cost of each unit of sum |W| (regulariser)
    # --- how hard to try (docs/TRAINING.md measures each lever) ---
    solver: str = "highspy"  # HiGHS through highspy, or a Pyomo solver (SOLVERS)
    warm_start: bool = True  # start from the gradient baseline's network
    symmetry: bool = False  # order the hidden neurons (no measurable gain: docs/TRAINING.md)
    lns: bool = True  # large-neighbourhood search after the first solve
    lns_sub_time: float = 3.0  # time limit of one LNS sub-MIP
    full_solve_share: float = 0.1  # share of the time for the full MIP before LNS
    target_objective: float | None = None  # stop once an incumbent reaches this objective
    highs_options: tuple[tuple[str, Any], ...] = ()  # extra HiGHS options (name, value)
    gd_epochs: int = 400
    gd_restarts: int = 1  # gradient runs; the one with the best validation accuracy is kept
    tight_big_m: bool = True  # False only to measure the tight big-M values' effect
    polish_start: bool = True  # re-solve the gradient start's output layer for the objective
    # the model: the best objective, "val": the best validation accuracy, or "train+val":
    # the most correct training and validation examples together (for small validation sets)
    select: str = "objective"
    # > 0: K-fold guard. Estimate on K folds of the training set whether this configuration
    # classifies more held-out examples than its gradient start; keep the gradient network
    # when it does not. The time limit is shared by the K fold runs and the final run.
    guard_folds: int = 0
    # train on a float teacher's labels of the training set (trainer/teacher.py; None: off)
    teacher: str | None = None

    def check(self) -> None:
        if self.objective not in TRAIN_OBJECTIVES:
            raise MipnnError(
                f"unknown objective {self.objective!r}; expected one of "
                f"{', '.join(TRAIN_OBJECTIVES)}"
            )
        if self.solver not in SOLVERS:
            raise MipnnError(
                f"unknown solver {self.solver!r}; expected one of {', '.join(SOLVERS)}"
            )
        if self.select not in SELECT_RULES:
            raise MipnnError(
                f"--select must be one of {', '.join(SELECT_RULES)}, got {self.select!r}")
        if not 0.0 <= self.full_solve_share <= 1.0:
            raise MipnnError(f"full_solve_share must be in [0, 1], got {self.full_solve_share}")
        if not 1 <= self.bound <= 127:
            raise MipnnError(f"--bound must be in [1, 127] (weights are int8), got {self.bound}")
        if any(h < 1 for h in self.hidden):
            raise MipnnError(f"hidden layer sizes must be positive, got {list(self.hidden)}")
        if self.margin < 1:
            raise MipnnError(f"--margin must be >= 1 (an exact strict margin), got {self.margin}")
        if self.guard_folds == 1 or self.guard_folds < 0:
            raise MipnnError(f"--guard-folds must be 0 (off) or at least 2, got {self.guard_folds}")
        if self.teacher is not None:
            from mipnn.trainer.teacher import TEACHERS

            if self.teacher not in TEACHERS:
                raise MipnnError(f"--teacher must be one of {', '.join(TEACHERS)}, "
                                 f"got {self.teacher!r}")
            if self.guard_folds:
                raise MipnnError("--guard-folds and --teacher cannot be combined (the guard "
                                 "counts held-out examples by their given labels)")
        if self.guard_folds and not self.warm_start:
            raise MipnnError("--guard-folds compares the MIP with its gradient start: it needs "
                             "--warm-start")
        if self.prune is not None and self.prune < 0:
            raise MipnnError(f"--prune must be >= 0, got {self.prune}")
        if self.prune is not None and not self.hidden:
            raise MipnnError("--prune needs at least one hidden layer (--hidden)")
        if self.prune_mode not in ("weighted", "lexicographic"):
            raise MipnnError(
                f"--prune-mode must be weighted or lexicographic, got {self.prune_mode!r}"
            )
        if not 0 <= self.weight_penalty < 1e6 or self.weight_penalty != self.weight_penalty:
            raise MipnnError(f"--weight-penalty must be >= 0, got {self.weight_penalty}")
        if not 1 <= self.gd_restarts <= 1000:
            raise MipnnError(f"--gd-restarts must be in [1, 1000], got {self.gd_restarts}")
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
    # every network of the run in order (starts, then incumbents): --select chooses among them
    candidates: list[Candidate] = field(default_factory=list)


def model_name(dataset_name: str) -> str:
    """A C identifier made from a data set's name (``my-data.csv`` -> ``my_data``)."""
    name = re.sub(r"\W+", "_", dataset_name.removesuffix(".csv")).strip("_") or "model"
    return f"m_{name}" if name[0].isdigit() else name


def _make_model(
    spec: NetworkSpec, net: list[tuple[np.ndarray, np.ndarray]], name: str,
    classes: list[str], features: list[dict[str, Any]] | None,
) -> Model:
    assert int(net[0][0].shape[1]) == spec.n_inputs
    return network_model(net, classes, spec.levels, name, features)


def _solver_fn(config: TrainConfig) -> Callable[..., SolveResult]:
    """``solve_highs`` or the Pyomo route, with the configured extra options."""
    options = dict(config.highs_options)
    if config.solver == "highspy":

        def run(problem: Any, **kw: Any) -> SolveResult:
            return solve_highs(problem, options=options or None, **kw)

        return run
    from mipnn.trainer.pyomo_route import solve_pyomo

    def run_pyomo(problem: Any, **kw: Any) -> SolveResult:
        return solve_pyomo(problem, solver=config.solver, options=options or None, **kw)

    return run_pyomo


def check_start_config(config: TrainConfig) -> None:
    """Raise MipnnError when ``config`` cannot take a start network (``--start``)."""
    if config.objective == "gd":
        raise MipnnError("--start gives the MIP a starting network; the gradient baseline "
                         "(--objective gd) does not take one")
    if config.guard_folds:
        raise MipnnError("--guard-folds compares the MIP with its gradient start; it cannot "
                         "be combined with --start")


def start_network_from_model(
    model: Model, config: TrainConfig, dataset: Any, source: str = "the start model"
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The network of ``model`` as a MIP start for ``config`` on ``dataset`` (weights and
    biases per layer). A hidden layer smaller than ``config.hidden``'s (the model was
    simplified) is padded with silent neurons (all parameters zero), which changes no
    output. Raises MipnnError, naming ``source``, when the model cannot start this
    training: other inputs, classes or input resolution, another number of hidden layers,
    a wider layer, or a parameter outside the bounds of ``config.bound``."""
    if model.input_size != int(dataset.X_train.shape[1]):
        raise MipnnError(f"{source}: the model has {model.input_size} inputs, the data "
                         f"{dataset.X_train.shape[1]}")
    if list(model.classes) != list(dataset.classes):
        raise MipnnError(f"{source}: the model's classes {list(model.classes)} differ from "
                         f"the data's {list(dataset.classes)}")
    if model.levels != int(dataset.levels):
        raise MipnnError(f"{source}: the model's inputs are in [0, {model.levels}], the "
                         f"data's in [0, {dataset.levels}] (--levels)")
    sizes = [layer.n_out for layer in model.layers[:-1]]
    if len(sizes) != len(config.hidden) or any(
            a > b for a, b in zip(sizes, config.hidden, strict=True)):
        wanted = ",".join(map(str, config.hidden)) or "0"
        raise MipnnError(f"{source}: its hidden layers {sizes or 'none'} do not fit --hidden "
                         f"{wanted} (same number of layers, each at most as wide)")
    P, L = config.bound, int(dataset.levels)
    net: list[tuple[np.ndarray, np.ndarray]] = []
    n_in = model.input_size
    for li, layer in enumerate(model.layers):
        W = np.asarray(layer.weights, dtype=np.int64)
        b = np.asarray(layer.bias, dtype=np.int64)
        n_out = config.hidden[li] if li < len(config.hidden) else W.shape[0]
        Wp = np.zeros((n_out, n_in), dtype=np.int64)
        Wp[: W.shape[0], : W.shape[1]] = W
        bp = np.zeros(n_out, dtype=np.int64)
        bp[: b.shape[0]] = b
        if li > 0:
            # simplify() folds constant hidden neurons into the next layer's bias, which can
            # leave it outside [-P, P]: the padded neurons of the layer before (all zero, so
            # constantly +1) take the excess back as outgoing weights (exact)
            excess = bp - np.clip(bp, -P, P)
            bp -= excess
            for slot in range(W.shape[1], n_in):
                if not excess.any():
                    break
                Wp[:, slot] = np.clip(excess, -P, P)
                excess -= Wp[:, slot]
            bp += excess  # what no padded neuron could take: reported below
        bias_bound = P * L if li == 0 else P
        for kind, values, limit in (("weight", Wp, P), ("bias", bp, bias_bound)):
            largest = int(np.abs(values).max(initial=0))
            if largest > limit:
                raise MipnnError(
                    f"{source}: layer {li + 1} has a {kind} of magnitude {largest}, outside "
                    f"[-{limit}, {limit}] (--bound {P}); use a larger --bound"
                    + (" or a wider --hidden (a simplified model folds its constant neurons "
                       "into this bias; padded neurons take them back)"
                       if kind == "bias" and li > 0 else ""))
        net.append((Wp, bp))
        n_in = n_out
    return net


def train(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None = None,
    on_message: Callable[[str], None] | None = None,
    start_network: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> TrainResult:
    """Train on ``dataset`` (a ``mipnn.trainer.data.Dataset``) and return the model with the
    accuracies that ``forward`` gives on each split.

    MIP objectives: the gradient baseline's network (``warm_start``) or the all-zero one,
    whichever has the better objective, starts the full MIP, which runs for
    ``full_solve_share`` of the time limit; large-neighbourhood search (``lns``) uses the
    rest. The whole run, gradient baseline included, stays within ``time_limit``.
    ``start_network`` (e.g. :func:`start_network_from_model`) replaces the gradient
    baseline as the MIP's start: the run continues from that network.
    Raises SolverError when no solution is found, InfeasibleError when ``min_w``/``max_m``
    cannot fit the training set, and MipnnError for a bad configuration."""
    config.check()
    if start_network is not None:
        check_start_config(config)
    if config.solver != "highspy" and config.objective != "gd":
        from mipnn.trainer.pyomo_route import pyomo_solver

        pyomo_solver(config.solver)  # a missing solver is a user error, before any work
    if config.teacher is not None:
        return _train_with_teacher(dataset, config, on_progress, on_message, start_network)
    if config.guard_folds and config.objective != "gd":
        return _train_guarded(dataset, config, on_progress, on_message)
    t_start = time.perf_counter()
    X, y = dataset.X_train, dataset.y_train
    n_classes = len(dataset.classes)
    objective = config.objective
    spec = NetworkSpec(
        n_inputs=int(X.shape[1]), hidden=tuple(config.hidden), n_classes=n_classes,
        bound=config.bound, levels=int(dataset.levels),
        objective="sat_margin" if objective == "gd" else objective,
        margin=config.margin, prune=config.prune, weight_penalty=config.weight_penalty,
    )
    name = model_name(dataset.name)

    def acc(net: list[tuple[np.ndarray, np.ndarray]], Xs: np.ndarray, ys: np.ndarray) -> float:
        return accuracy(_make_model(spec, net, name, dataset.classes, None), Xs, ys)

    trajectory: list[IncumbentReport] = []
    pool: list[Candidate] = []  # every network of the run, for --select

    def candidate(net: list[tuple[np.ndarray, np.ndarray]], value: float | None,
                  t: float) -> Candidate:
        """A network of the run, with its training and validation accuracy, into the pool."""
        c = Candidate(net, value, t, acc(net, X, y),
                      acc(net, dataset.X_val, dataset.y_val) if len(dataset.y_val) else None)
        pool.append(c)
        return c

    def report_network(net: list[tuple[np.ndarray, np.ndarray]], value: float | None,
                       bound: float | None = None) -> None:
        c = candidate(net, value, time.perf_counter() - t_start)
        r = IncumbentReport(c.time, value, bound, None, c.train_accuracy, c.val_accuracy, True)
        trajectory.append(r)
        if on_progress is not None:
            on_progress(r)

    gd_result = None
    gd_choice: dict[str, Any] | None = None
    if objective == "gd" or (config.warm_start and start_network is None):
        val_acc = ((lambda net: acc(net, dataset.X_val, dataset.y_val))
                   if len(dataset.y_val) else None)
        gd_result, gd_choice = _gradient_restarts(config, spec, X, y, val_acc)
    if objective == "gd":
        assert gd_result is not None
        return _finish_gd(dataset, config, spec, name, gd_result, t_start, report_network,
                          gd_choice)

    symmetry = config.symmetry and bool(config.hidden)
    t0 = time.perf_counter()
    problem = build_problem(spec, X, y, symmetry=symmetry, tight_big_m=config.tight_big_m)
    build_time = time.perf_counter() - t0
    first_active = int(problem.meta["first_active"])  # type: ignore[call-overload]

    def canonical(net: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
        return order_neurons(net, config.bound, first_active) if symmetry else net

    # the starting network: the better of the all-zero one and the gradient baseline's
    start: np.ndarray | None = None
    start_kind = "none"
    candidates: list[tuple[str, np.ndarray]] = []
    if objective not in HARD_OBJECTIVES:
        candidates.append(("zero", zero_start(problem)))
    base_net, base_kind = None, "gd"
    if start_network is not None:
        base_net, base_kind = start_network, "model"
    elif gd_result is not None:
        base_net = gd_result.network
    if base_net is not None:
        if config.prune is not None:  # dead neurons would be charged ALPHA in the start
            base_net = silence_dead_neurons(base_net)
        candidates.append((base_kind, start_from_network(problem, canonical(base_net))))
        if config.polish_start and config.hidden:
            from mipnn.trainer.lns import polish_output

            try:
                polished, _ = polish_output(
                    spec, X, y, base_net, solve=_solver_fn(config),
                    time_limit=max(1.0, min(10.0, 0.05 * config.time_limit)),
                    seed=config.seed, threads=config.threads)
                candidates.append((f"{base_kind}+output",
                                   start_from_network(problem, canonical(polished))))
            except ValueError:  # e.g. hard rows the start network violates
                pass
    feasible = [(kind, v) for kind, v in candidates if is_feasible(problem, v)]
    if (start_network is not None and on_message is not None
            and not any(kind.startswith("model") for kind, _ in feasible)):
        why = (" (it must classify every training example correctly)"
               if objective in HARD_OBJECTIVES else "")
        on_message(f"note: the start network is not a feasible solution of {objective}{why}; "
                   "the solver starts without it")
    candidates = feasible
    for kind, v in candidates:
        if start is None or objective_value(problem, v) < objective_value(problem, start):
            start, start_kind = v, kind
    if start_kind == "zero" and base_net is not None and config.polish_start and config.hidden:
        # the gradient network (even polished) scores worse than the all-zero one: descend
        # on its output layer by the exact objective (cheap, no solver) before giving up on it
        from mipnn.trainer.lns import descend_output

        gd_best = max((v for k, v in candidates if k != "zero"),
                      key=lambda v: -objective_value(problem, v), default=None)
        if gd_best is not None:
            net_d, value_d = descend_output(
                problem, network_from_solution(problem, gd_best),
                deadline=time.perf_counter() + max(1.0, 0.05 * config.time_limit))
            v_d = start_from_network(problem, canonical(net_d))
            if is_feasible(problem, v_d) and value_d < objective_value(problem, start):
                start, start_kind = v_d, f"{base_kind}+descent"
    # The other feasible starting networks (e.g. the gradient network before its polish)
    # are candidates of the selection by accuracy too, so --select val (train+val) never
    # ends below the gradient network on the validation set (training and validation sets).
    for kind, v in candidates:
        if kind not in ("zero", start_kind):
            candidate(network_from_solution(problem, v), objective_value(problem, v),
                      time.perf_counter() - t_start)
    if start is not None:
        report_network(network_from_solution(problem, start), objective_value(problem, start))

    def progress(p: Progress) -> None:
        tr = va = None
        if p.solution is not None:
            try:
                net = network_from_solution(problem, p.solution)
            except ValueError:
                net = None
            if net is not None:
                c = candidate(net, p.objective, p.time + offset[0])
                tr, va = c.train_accuracy, c.val_accuracy
        report = IncumbentReport(p.time + offset[0], p.objective, p.bound, p.gap, tr, va,
                                 p.new_incumbent)
        if p.new_incumbent:
            trajectory.append(report)
        if on_progress is not None:
            on_progress(report)

    offset = [time.perf_counter() - t_start]
    solve = _solver_fn(config)
    lexicographic = config.prune is not None and config.prune_mode == "lexicographic"
    budget = config.time_limit - (time.perf_counter() - t_start)
    if lexicographic:
        budget /= 2
    use_lns = config.lns and bool(config.hidden) and start is not None
    first_time = max(1.0, budget * config.full_solve_share) if use_lns else max(1.0, budget)
    result = solve(
        problem, time_limit=first_time, seed=config.seed, threads=config.threads,
        start=start, on_progress=progress, target=config.target_objective,
    )
    lns_stats = None
    if use_lns and result.status not in ("optimal", "target"):
        from mipnn.trainer.lns import LnsConfig, lns

        best = result.solution if result.solution is not None else start
        assert best is not None
        if objective_value(problem, best) > objective_value(problem, start) + 1e-9:
            best = start  # a solver may end worse than a start it was not given back
        deadline = t_start + (config.time_limit / 2 if lexicographic else config.time_limit)

        def improved(net: list[tuple[np.ndarray, np.ndarray]], value: float) -> None:
            report_network(canonical(net), value)

        # stop at the full MIP's proven bound: nothing can be better (at small N the search
        # reaches it early, e.g. every training pair satisfied, and would only move sideways)
        bound = result.bound if result.bound is not None and np.isfinite(result.bound) else None
        target = max((t for t in (config.target_objective, bound) if t is not None),
                     default=None)
        net, _, lns_stats = lns(
            spec, X, y, network_from_solution(problem, best), deadline=deadline, solve=solve,
            config=LnsConfig(sub_time=config.lns_sub_time, seed=config.seed,
                             threads=config.threads),
            on_improve=improved, target=target,
        )
        final = start_from_network(problem, canonical(net))
        if objective_value(problem, final) <= objective_value(problem, best) + 1e-9:
            best = final
        value = objective_value(problem, best)
        status = "time_limit"
        if bound is not None and value <= bound + 1e-9:
            status = "optimal"  # equal to a proven lower bound
        elif config.target_objective is not None and value <= config.target_objective + 1e-9:
            status = "target"
        result = SolveResult(
            solver=result.solver + " + lns", status=status, solution=best,
            objective=value, bound=result.bound, gap=0.0 if status == "optimal" else None,
            time=time.perf_counter() - t_start - offset[0],
            incumbents=result.incumbents, setup_time=result.setup_time,
        )
    if lexicographic and result.solution is not None:
        # stage 2: the same accuracy objective at most what stage 1 reached, fewest neurons
        accuracy_value = _accuracy_part(problem, result.solution)
        stage2 = lexicographic_stage(problem, accuracy_value)
        second = solve(
            stage2, time_limit=max(1.0, config.time_limit - (time.perf_counter() - t_start)),
            seed=config.seed, threads=config.threads, start=result.solution,
        )
        if second.solution is not None:
            second.time += result.time
            second.incumbents = result.incumbents + second.incumbents
            result = second
    if result.solution is None:
        if result.status == "infeasible" or (objective in HARD_OBJECTIVES
                                             and result.status != "optimal"):
            what = "proved infeasible" if result.status == "infeasible" else "no solution found"
            raise InfeasibleError(
                f"{objective}: {what}: no network found that classifies every training "
                f"example correctly with weights in [-{config.bound}, {config.bound}] "
                f"({result.solver}, {result.time:.0f} s); use max_correct, sat_margin or "
                "min_hinge, or a larger --bound / --hidden"
            )
        raise SolverError(
            f"{result.solver} found no solution within {config.time_limit:g} s "
            f"(status {result.status}); raise --time-limit"
        )
    try:
        net = network_from_solution(problem, result.solution)
    except ValueError as exc:
        raise SolverError(f"{result.solver} returned an unusable solution: {exc}") from None
    selected = "objective"
    kept_objective = result.objective
    by_rule: dict[str, dict[str, Any] | None] = {}
    for rule in SELECT_RULES[1:]:
        chosen = select_candidate(pool, rule, len(y), len(dataset.y_val))
        by_rule[rule] = None if chosen is None else {
            "time": round(chosen.time, 3), "objective": chosen.objective,
            "train": chosen.train_accuracy, "val": chosen.val_accuracy,
            "test": acc(chosen.network, dataset.X_test, dataset.y_test),
        }
        if config.select == rule and chosen is not None:
            vsol = start_from_network(problem, chosen.network)
            if is_feasible(problem, vsol):
                result.solution, net, selected = vsol, chosen.network, rule
                kept_objective = objective_value(problem, vsol)
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
        "objective_value": kept_objective,  # of the network kept (see "selected")
        "best_objective": result.objective,  # the best the solver found
        "bound": result.bound,
        "gap": result.gap,
        "time": round(time.perf_counter() - t_start, 3),
        "build_time": round(build_time, 4),
        "handoff_time": round(result.setup_time, 4),
        "config": asdict(config) | {"hidden": list(config.hidden),
                                    "highs_options": dict(config.highs_options)},
        "mip": {"rows": problem.n_rows, "cols": problem.n_cols, "nonzeros": int(problem.A.nnz)},
        "data": dict(getattr(dataset, "provenance", {}) or {}),
        "examples": {
            "train": int(len(y)), "val": int(len(dataset.y_val)), "test": int(len(dataset.y_test))
        },
        "accuracy": {"train": train_acc, "val": val_acc, "test": test_acc},
        "neurons": simplified,
        "start": {
            "kind": start_kind,
            "objective": None if start is None else objective_value(problem, start),
            "gd_train_accuracy": None if gd_result is None else gd_result.train_accuracy,
            "gd_restarts": gd_choice,
        },
        "lns": None if lns_stats is None else {
            "iterations": lns_stats.iterations, "improvements": lns_stats.improvements,
            "sideways": lns_stats.sideways, "optimal_subproblems": lns_stats.optimal,
            "start_objective": lns_stats.start_objective, "objective": lns_stats.objective,
        },
        "trajectory": _trajectory_summary(trajectory),
        "selected": selected,
        "best_by_val": by_rule["val"],
        "best_by_train_val": by_rule["train+val"],
    }
    return TrainResult(
        model=model, solve=result, build_time=build_time, train_accuracy=train_acc,
        val_accuracy=val_acc, test_accuracy=test_acc, mip_train_accuracy=mip_train,
        trajectory=trajectory, candidates=pool,
    )


def _train_with_teacher(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None,
    on_message: Callable[[str], None] | None,
    start_network: list[tuple[np.ndarray, np.ndarray]] | None,
) -> TrainResult:
    """Train on the teacher's labels of the training set (``config.teacher``), then report
    the training accuracy against the given labels. The model file records the teacher in
    ``training.teacher`` (with the training accuracy on its labels)."""
    from dataclasses import replace

    from mipnn.trainer.teacher import teacher_labels

    X, y = dataset.X_train, dataset.y_train
    labels, info = teacher_labels(X, y, config.teacher or "", config.seed)
    if on_message is not None:
        on_message(f"teacher: {info['kind']} (C={info['C']:g}) relabelled "
                   f"{info['relabelled']} of {info['examples']} training examples; the "
                   "progress lines' train column counts its labels")
    fit = copy.copy(dataset)  # a Dataset or any object with its attributes
    fit.y_train = labels
    result = train(fit, replace(config, teacher=None), on_progress, on_message,
                   start_network=start_network)
    training = result.model.training
    train_acc = accuracy(result.model, X, y)
    training["teacher"] = info | {"train_accuracy_on_teacher_labels": result.train_accuracy}
    training["accuracy"]["train"] = train_acc
    training["config"]["teacher"] = config.teacher
    result.train_accuracy = train_acc
    return result


def _train_guarded(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None,
    on_message: Callable[[str], None] | None,
) -> TrainResult:
    """The K-fold guard (``guard_folds``): train the configuration and its gradient start on
    K-1 folds of the training set, count the held-out examples each classifies, over all K
    folds; then train both on the whole training set and keep the MIP's network only when
    it classified strictly more held-out examples than the gradient network (ties keep the
    gradient network, the simpler procedure). Each of the K + 1 MIP runs gets an equal share
    of ``time_limit``. The decision and the counts are in ``model.training["guard"]``;
    ``on_message`` hears about each fold, ``on_progress`` about the final MIP run."""
    from dataclasses import replace

    from sklearn.model_selection import StratifiedKFold

    t_start = time.perf_counter()
    k = config.guard_folds
    X, y = dataset.X_train, dataset.y_train
    smallest = int(np.bincount(y, minlength=len(dataset.classes)).min())
    if smallest < k:
        raise MipnnError(
            f"--guard-folds {k}: every class needs at least {k} training examples, the "
            f"smallest has {smallest}; use fewer folds or more training data")
    inner = replace(config, guard_folds=0, time_limit=config.time_limit / (k + 1))
    gd_config = replace(inner, objective="gd")
    held_out = {"mip": 0, "gd": 0, "examples": 0}
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=config.seed)
    for part, (fit, out) in enumerate(folds.split(X, y)):
        sub = copy.copy(dataset)  # a Dataset or any object with its attributes
        sub.X_train, sub.y_train = X[fit], y[fit]
        fold_seed = config.seed * 1000 + part  # the folds' runs differ from the final one
        for key, cfg in (("mip", inner), ("gd", gd_config)):
            res = train(sub, replace(cfg, seed=fold_seed))
            held_out[key] += int(round(accuracy(res.model, X[out], y[out]) * len(out)))
        held_out["examples"] += int(len(out))
        if on_message is not None:
            on_message(f"guard: fold {part + 1}/{k} done, held-out examples classified so "
                       f"far: MIP {held_out['mip']}, gradient start {held_out['gd']} of "
                       f"{held_out['examples']}")
    result = train(dataset, inner, on_progress)
    keep_mip = held_out["mip"] > held_out["gd"]
    if not keep_mip:
        mip_training = result.model.training
        result = train(dataset, gd_config)
        result.model.training["guard_mip"] = {
            key: mip_training.get(key) for key in ("status", "objective_value", "accuracy")}
    result.model.training["guard"] = {
        "folds": k, "objective": config.objective, "held_out_examples": held_out["examples"],
        "held_out_correct_mip": held_out["mip"], "held_out_correct_gd": held_out["gd"],
        "kept": "mip" if keep_mip else "gd", "time": round(time.perf_counter() - t_start, 3),
    }
    return result


def _gradient_restarts(
    config: TrainConfig, spec: NetworkSpec, X: np.ndarray, y: np.ndarray,
    val_accuracy: Callable[[list[tuple[np.ndarray, np.ndarray]]], float] | None,
) -> tuple[Any, dict[str, Any]]:
    """The gradient baseline, run ``config.gd_restarts`` times from different random
    initialisations (the first with ``config.seed`` itself); the run kept is the one with the
    best validation accuracy (training accuracy when there is no validation set; ties: the
    earlier run). With one restart this is the single baseline run of the paper."""
    from mipnn.trainer.gd import GdConfig, train_gd

    runs = config.gd_restarts
    limit = max(1.0, config.time_limit / 4 / runs)
    best = None
    key_best: tuple[float, float] | None = None
    scores = []
    chosen = 0
    for r in range(runs):
        seed = config.seed if r == 0 else int(np.random.SeedSequence([config.seed, r])
                                               .generate_state(1)[0])
        res = train_gd(X, y, hidden=tuple(config.hidden), n_classes=spec.n_classes,
                       bound=config.bound, levels=spec.levels,
                       config=GdConfig(epochs=config.gd_epochs, seed=seed, time_limit=limit))
        va = res.train_accuracy if val_accuracy is None else val_accuracy(res.network)
        scores.append(round(va, 4))
        key = (va, res.train_accuracy)
        if key_best is None or key > key_best:
            best, key_best, chosen = res, key, r
    by = "training" if val_accuracy is None else "validation"
    return best, {"restarts": runs, "chosen": chosen, "by": f"{by} accuracy",
                  "scores": scores}


def _finish_gd(
    dataset: Any, config: TrainConfig, spec: NetworkSpec, name: str, gd: Any, t_start: float,
    report_network: Callable[..., None], choice: dict[str, Any] | None = None,
) -> TrainResult:
    """The gradient baseline's model, in the same model file format as the MIP's."""
    report_network(gd.network, gd.loss)
    model = _make_model(spec, gd.network, name, dataset.classes, dataset.features)
    simplified = None
    if config.simplify and config.hidden:
        model, simplified = simplify(model)
    X, y = dataset.X_train, dataset.y_train
    train_acc = accuracy(model, X, y)
    val_acc = accuracy(model, dataset.X_val, dataset.y_val)
    test_acc = accuracy(model, dataset.X_test, dataset.y_test)
    elapsed = time.perf_counter() - t_start
    result = SolveResult(solver="gd (numpy, straight-through estimator)", status="done",
                         solution=None, objective=gd.loss, bound=None, gap=None, time=elapsed)
    model.training = {
        "objective": "gd",
        "solver": result.solver,
        "status": "done",
        "objective_value": gd.loss,
        "loss": "squared hinge, margin 0.5 (mean over examples)",
        "epochs": gd.epochs,
        "restarts": choice,
        "time": round(elapsed, 3),
        "config": asdict(config) | {"hidden": list(config.hidden),
                                    "highs_options": dict(config.highs_options)},
        "data": dict(getattr(dataset, "provenance", {}) or {}),
        "examples": {
            "train": int(len(y)), "val": int(len(dataset.y_val)), "test": int(len(dataset.y_test))
        },
        "accuracy": {"train": train_acc, "val": val_acc, "test": test_acc},
        "neurons": simplified,
        "trajectory": {"incumbents": len(gd.history),
                       "first": {"time": round(gd.history[0][0], 3), "objective": gd.history[0][2],
                                 "train_accuracy": gd.history[0][1], "val_accuracy": None},
                       "best": {"time": round(gd.history[-1][0], 3),
                                "objective": gd.history[-1][2],
                                "train_accuracy": gd.history[-1][1], "val_accuracy": val_acc}},
    }
    return TrainResult(
        model=model, solve=result, build_time=0.0, train_accuracy=train_acc,
        val_accuracy=val_acc, test_accuracy=test_acc, mip_train_accuracy=train_acc,
        trajectory=[],
    )


def _trajectory_summary(trajectory: list[IncumbentReport]) -> dict[str, Any]:
    """What the model file keeps of the incumbent trajectory: count, first, best, and up
    to 50 points (time, objective, train and validation accuracy)."""
    points = trajectory
    if len(points) > 50:
        idx = np.unique(np.linspace(0, len(points) - 1, 50).round().astype(int))
        points = [trajectory[i] for i in idx]
    return {
        "incumbents": len(trajectory),
        "first": _summary(trajectory[0]) if trajectory else None,
        "best": _summary(trajectory[-1]) if trajectory else None,
        "points": [[round(r.time, 3), r.objective, r.train_accuracy, r.val_accuracy]
                   for r in points],
    }


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
