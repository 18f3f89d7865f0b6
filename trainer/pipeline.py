"""One training run on a data set (no guard folds, no teacher): the gradient baseline's
network and the better of it and the all-zero network start the search (the full MIP until
it stalls, then large-neighbourhood search: :mod:`mipnn.trainer.search`) on the chosen
solver route (:mod:`mipnn.trainer.routes`); a selection rule may keep another network of
the run; the kept network becomes a model whose every accuracy is
``forward``'s, with the whole run recorded in ``model.training``."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from mipnn.trainer.errors import InfeasibleError, SolverError
from mipnn.trainer.formulation import (
    NetworkSpec,
    build_problem,
    lexicographic_stage,
    order_neurons,
)
from mipnn.trainer.gd_run import finish_gd, gradient_restarts
from mipnn.trainer.lns import descend_output, polish_output
from mipnn.trainer.model import accuracy, forward, network_model
from mipnn.trainer.objectives import HARD_OBJECTIVES, resolve_margin
from mipnn.trainer.problem import MipProblem, is_feasible, objective_value
from mipnn.trainer.prune import silence_dead_neurons, simplify
from mipnn.trainer.routes import solve_function
from mipnn.trainer.search import search
from mipnn.trainer.selection import SELECT_RULES, Candidate, select_candidate
from mipnn.trainer.solution import (
    mip_scores,
    network_from_solution,
    start_from_network,
    zero_start,
)
from mipnn.trainer.solve_result import Progress, SolveStatus
from mipnn.trainer.train_config import TrainConfig
from mipnn.trainer.train_result import IncumbentReport, TrainResult, trajectory_summary


def model_name(dataset_name: str) -> str:
    """A C identifier made from a data set's name (``my-data.csv`` -> ``my_data``)."""
    name = re.sub(r"\W+", "_", dataset_name.removesuffix(".csv")).strip("_") or "model"
    return f"m_{name}" if name[0].isdigit() else name


def train_once(
    dataset: Any,
    config: TrainConfig,
    on_progress: Callable[[IncumbentReport], None] | None = None,
    on_message: Callable[[str], None] | None = None,
    start_network: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> TrainResult:
    """One run of ``config`` (already checked; ``guard_folds`` and ``teacher`` are the
    caller's, :func:`mipnn.trainer.train.train`) on ``dataset``.

    MIP objectives: the gradient baseline's network (``warm_start``) or the all-zero one,
    whichever has the better objective, starts the full MIP, which runs until it stalls
    (``stall_share``) or proves its optimum; large-neighbourhood search (``lns``) uses the
    rest (:mod:`mipnn.trainer.search`). The whole run, gradient baseline included, stays
    within ``time_limit``.
    ``start_network`` replaces the gradient baseline as the MIP's start. Raises SolverError
    when no solution is found and InfeasibleError when ``min_w``/``max_m`` cannot fit the
    training set."""
    t_start = time.perf_counter()
    X, y = dataset.X_train, dataset.y_train
    n_classes = len(dataset.classes)
    objective = config.objective
    spec = NetworkSpec(
        n_inputs=int(X.shape[1]), hidden=tuple(config.hidden), n_classes=n_classes,
        bound=config.bound, levels=int(dataset.levels),
        objective="sat_margin" if objective == "gd" else objective,
        margin=resolve_margin(config.margin, config.hidden, config.bound), prune=config.prune, weight_penalty=config.weight_penalty,
        max_nonzeros=config.max_nonzeros, max_neurons=config.max_neurons,
    )
    name = model_name(dataset.name)

    def acc(net: list[tuple[np.ndarray, np.ndarray]], Xs: np.ndarray, ys: np.ndarray) -> float:
        return accuracy(network_model(net, dataset.classes, spec.levels, name), Xs, ys)

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
        gd_result, gd_choice = gradient_restarts(config, spec, X, y, val_acc)
    if objective == "gd":
        assert gd_result is not None
        return finish_gd(dataset, config, spec, name, gd_result, t_start, report_network,
                          gd_choice)

    symmetry = config.symmetry and bool(config.hidden)
    t0 = time.perf_counter()
    problem = build_problem(spec, X, y, symmetry=symmetry, tight_big_m=config.tight_big_m)
    build_time = time.perf_counter() - t0
    first_active = int(problem.meta["first_active"])  # type: ignore[call-overload]

    def canonical(net: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
        return order_neurons(net, config.bound, first_active) if symmetry else net

    solve = solve_function(config.solver, dict(config.highs_options))
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
        if spec.switches:  # dead neurons would be charged ALPHA (or count) in the start
            base_net = silence_dead_neurons(base_net)
        candidates.append((base_kind, start_from_network(problem, canonical(base_net))))
        if config.polish_start and config.hidden:
            try:
                polished, _ = polish_output(
                    spec, X, y, base_net, solve=solve,
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
    lexicographic = config.prune is not None and config.prune_mode == "lexicographic"
    deadline = t_start + (config.time_limit / 2 if lexicographic else config.time_limit)
    result, lns_stats, phases = search(problem, spec, X, y, start, solve=solve, config=config,
                                       deadline=deadline, on_progress=progress,
                                       on_improve=report_network, canonical=canonical)
    if lexicographic and result.solution is not None:
        # stage 2: the same accuracy objective at most what stage 1 reached, fewest neurons
        accuracy_value = accuracy_part(problem, result.solution)
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
        if result.status == SolveStatus.INFEASIBLE or (objective in HARD_OBJECTIVES
                                                       and result.status != SolveStatus.OPTIMAL):
            what = ("proved infeasible" if result.status == SolveStatus.INFEASIBLE
                    else "no solution found")
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
    model = network_model(net, dataset.classes, spec.levels, name, dataset.features)
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
        "margin": spec.margin,  # the integer margin (--margin paper resolved)
        "solver": result.solver,
        "status": result.status.value,
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
            "stalled": lns_stats.stalled,
        },
        "search": phases,  # the full MIP and LNS phases run (trainer/search.py)
        "trajectory": trajectory_summary(trajectory),
        "selected": selected,
        "best_by_val": by_rule["val"],
        "best_by_train_val": by_rule["train+val"],
    }
    return TrainResult(
        model=model, solve=result, build_time=build_time, train_accuracy=train_acc,
        val_accuracy=val_acc, test_accuracy=test_acc, mip_train_accuracy=mip_train,
        trajectory=trajectory, candidates=pool,
    )


def accuracy_part(problem: MipProblem, solution: np.ndarray) -> float:
    """The accuracy objective (unsatisfied pairs) of a solution, without switch costs."""
    cost = problem.cost.copy()
    for name, block in problem.blocks.items():
        if name.startswith("s"):
            cost[block.index().ravel()] = 0.0
    return float(cost @ solution + problem.offset)
