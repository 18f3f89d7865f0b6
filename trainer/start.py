"""Starting a run from a saved model (``--start``): whether the configuration can take a
start network, the start model file read and checked against the options, the network of a
model as a MIP start for another configuration (padded with silent neurons when the model
was simplified, refused with a clear message when it cannot fit), and what the new model
file records of its start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import Model, file_sha256, load_model
from mipnn.trainer.train_config import TrainConfig


def check_start_config(config: TrainConfig) -> None:
    """Raise MipnnError when ``config`` cannot take a start network (``--start``)."""
    if config.objective == "gd":
        raise MipnnError("--start gives the MIP a starting network; the gradient baseline "
                         "(--objective gd) does not take one")
    if config.guard_folds:
        raise MipnnError("--guard-folds compares the MIP with its gradient start; it cannot "
                         "be combined with --start")


def load_start_model(path: Path, config: TrainConfig, levels: int | None = None) -> Model:
    """The model file ``--start`` names, checked against the options before any data is
    read (:func:`start_network_from_model` checks it against the data). ``levels``: the
    input levels the user gave (None: none; the model's are used); MipnnError when they
    differ from the model's, which would encode the data differently."""
    check_start_config(config)
    model = load_model(path)
    if levels is not None and levels != model.levels:
        raise MipnnError(f"{path}: the model's inputs are in [0, {model.levels}]; --levels "
                         f"{levels} would encode the data differently (leave --levels out)")
    return model


def start_file_record(path: Path) -> dict[str, str]:
    """What a model file records of the start model file (``training.start.model_file``):
    its name and sha256. Model files never record absolute paths."""
    return {"path": Path(path).name, "sha256": file_sha256(path)}


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
