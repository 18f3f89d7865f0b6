"""The model file (ARCHITECTURE.md 4; version 2 adds raw values, section 8) and the one
integer reference ``forward`` (section 2).

Semantics, exactly:

* inputs ``x[i]`` are integers in ``[0, L]``;
* a dense layer computes ``z[j] = b[j] + sum_i W[j][i] * a[i]`` with mathematical integers
  (numpy ``int64``; every sum the contract allows is far below ``2**63``);
* hidden activation ``sign``: ``+1 if z >= 0 else -1`` (so ``sign(0) = +1``);
* the last layer is ``linear``; its ``z`` are the class scores;
* the prediction is the lowest index among the largest scores.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mipnn.trainer.errors import ModelFileError
from mipnn.trainer.jsonfile import loads_checked, read_json_file
from mipnn.trainer.outputs import write_text
from mipnn.trainer.raw import INT32_MAX, INT32_MIN, RAW_FIELDS, has_raw_fields, raw_columns

FORMAT = "mipnn.model"
VERSION = 2  # the newest version this mipnn reads and writes
WEIGHT_MAX = 127
BIAS_MAX = 2**31 - 1
LEVELS_MAX = 255
ACTIVATIONS = ("sign", "linear")


@dataclass(frozen=True)
class Layer:
    """One dense layer: ``weights`` has shape ``[out][in]``, ``bias`` length ``out``."""

    weights: np.ndarray
    bias: np.ndarray
    activation: str

    @property
    def n_in(self) -> int:
        return int(self.weights.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.weights.shape[0])


@dataclass
class Model:
    """An integer-valued network as stored in a model file."""

    name: str
    classes: list[str]
    input_size: int
    levels: int
    layers: list[Layer]
    features: list[dict[str, Any]] | None = None
    training: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # the file version: 0 for a new model (written as 2 when its numeric features carry
    # raw fields or it has no features, else 1); a loaded model keeps its file's version
    version: int = 0

    @property
    def file_version(self) -> int:
        """The version this model is written as (and, loaded, was read as)."""
        if self.version:
            return self.version
        return 2 if self.features is None or has_raw_fields(self.features) else 1

    @property
    def has_raw_inputs(self) -> bool:
        """Whether the model takes raw values (section 8): a version-2 model with input
        features."""
        return self.file_version >= 2 and self.features is not None

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def shape(self) -> list[int]:
        """Neuron counts from input to output, e.g. ``[30, 8, 2]``."""
        return [self.input_size] + [layer.n_out for layer in self.layers]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": self.file_version,
            "name": self.name,
            "classes": list(self.classes),
            "input": {"size": self.input_size, "levels": self.levels},
            "layers": [
                {
                    "weights": layer.weights.astype(int).tolist(),
                    "bias": layer.bias.astype(int).tolist(),
                    "activation": layer.activation,
                }
                for layer in self.layers
            ],
        }
        if self.features is not None:
            data["input"]["features"] = self.features
        if self.training:
            data["training"] = json_safe(self.training)
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data

    def to_json(self) -> str:
        return _dumps(self.to_dict())

    def validate(self) -> None:
        """Check the in-memory model against the contract (raises ModelFileError)."""
        model_from_dict(loads_checked(self.to_json(), "<model>"), source="<model>")


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON has no NaN: an
    accuracy on an empty validation split is recorded as null)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _dumps(data: dict[str, Any]) -> str:
    """JSON with one matrix row per line: readable, diffable, and compact."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # Collapse the innermost integer lists (matrix rows, bias vectors) onto one line.

    def collapse(match: re.Match[str]) -> str:
        inner = re.sub(r"\s+", " ", match.group(0))
        return inner.replace("[ ", "[").replace(" ]", "]")

    return re.sub(r"\[[\s\d,\-]*\]", collapse, text) + "\n"


def save_model(model: Model, path: str | Path) -> Path:
    """Validate and write ``model`` to ``path`` (UTF-8 JSON); return the path."""
    model.validate()
    return write_text(path, model.to_json(), "model file")


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes (what generated files record of their model file)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_sha256(model: Model) -> str:
    """The sha256 of the file :func:`save_model` writes for ``model`` (equal to
    :func:`file_sha256` of that file), for a model held in memory."""
    return hashlib.sha256(model.to_json().encode("utf-8")).hexdigest()


def model_with_sha256(source: Model | str | Path) -> tuple[Model, str]:
    """A model and the sha256 its generated files record: a model file is loaded (the
    sha256 of its bytes); a Model in memory is validated (the sha256 of the file
    :func:`save_model` would write). Raises ModelFileError for an invalid model."""
    if isinstance(source, Model):
        source.validate()
        return source, model_sha256(source)
    return load_model(source), file_sha256(source)


def load_model(path: str | Path) -> Model:
    """Read and validate a model file. Every problem raises ModelFileError naming the
    file and the JSON path of the first problem found (also for text that Python's JSON
    reader cannot take: see ``mipnn.trainer.jsonfile``)."""
    path = Path(path)
    return model_from_dict(read_json_file(path), source=str(path))


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for an error message (one short line
    whatever the file holds)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_num(value: Any) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    )


def model_from_dict(data: Any, source: str = "<model>") -> Model:
    """Validate a parsed model file and build a Model (raises ModelFileError)."""

    def fail(where: str, what: str) -> ModelFileError:
        return ModelFileError(f"{source}: {where}: {what}")

    if not isinstance(data, dict):
        raise fail("$", f"expected a JSON object, found {type(data).__name__}")
    fmt = data.get("format")
    if fmt != FORMAT:
        raise fail("$.format", f"expected {FORMAT!r}, found {shown(fmt)}")
    version = data.get("version")
    if not _is_int(version) or version < 1:
        raise fail("$.version", f"expected a positive integer, found {shown(version)}")
    if version > VERSION:
        raise fail(
            "$.version",
            f"version {version} is newer than this mipnn reads ({VERSION}); upgrade mipnn",
        )
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise fail("$.name", f"expected a non-empty string, found {shown(name)}")
    classes = data.get("classes")
    if not isinstance(classes, list) or len(classes) < 2:
        raise fail("$.classes", "expected a list of at least 2 class labels")
    for k, label in enumerate(classes):
        if not isinstance(label, str):
            raise fail(f"$.classes[{k}]", f"expected a string, found {shown(label)}")
    if len(set(classes)) != len(classes):
        raise fail("$.classes", "class labels must be distinct")

    inp = data.get("input")
    if not isinstance(inp, dict):
        raise fail("$.input", "expected an object with 'size' and 'levels'")
    size = inp.get("size")
    if not _is_int(size) or size < 1:
        raise fail("$.input.size", f"expected a positive integer, found {shown(size)}")
    levels = inp.get("levels")
    if not _is_int(levels) or not 1 <= levels <= LEVELS_MAX:
        raise fail("$.input.levels", f"expected an integer in [1, {LEVELS_MAX}], found {shown(levels)}")
    features = inp.get("features")
    if features is not None:
        _check_features(features, size, version, fail)

    layers_data = data.get("layers")
    if not isinstance(layers_data, list) or not layers_data:
        raise fail("$.layers", "expected a non-empty list of layers")
    layers: list[Layer] = []
    n_in = size
    for li, layer in enumerate(layers_data):
        where = f"$.layers[{li}]"
        if not isinstance(layer, dict):
            raise fail(where, "expected an object with 'weights', 'bias', 'activation'")
        act = layer.get("activation")
        if act not in ACTIVATIONS:
            raise fail(f"{where}.activation", f"expected one of {ACTIVATIONS}, found {shown(act)}")
        last = li == len(layers_data) - 1
        if last and act != "linear":
            raise fail(f"{where}.activation", "the last layer must be 'linear' (class scores)")
        if not last and act != "sign":
            raise fail(f"{where}.activation", "hidden layers must be 'sign'")
        weights = layer.get("weights")
        if not isinstance(weights, list) or not weights:
            raise fail(f"{where}.weights", "expected a non-empty list of rows")
        for j, row in enumerate(weights):
            if not isinstance(row, list) or len(row) != n_in:
                raise fail(
                    f"{where}.weights[{j}]",
                    f"expected a list of {n_in} integers (the size of the layer's input)",
                )
            for i, w in enumerate(row):
                if not _is_int(w) or not -WEIGHT_MAX <= w <= WEIGHT_MAX:
                    raise fail(
                        f"{where}.weights[{j}][{i}]",
                        f"expected an integer in [-{WEIGHT_MAX}, {WEIGHT_MAX}], found {shown(w)}",
                    )
        bias = layer.get("bias")
        n_out = len(weights)
        if not isinstance(bias, list) or len(bias) != n_out:
            raise fail(f"{where}.bias", f"expected a list of {n_out} integers (one per row)")
        for j, b in enumerate(bias):
            if not _is_int(b) or not -BIAS_MAX <= b <= BIAS_MAX:
                raise fail(
                    f"{where}.bias[{j}]",
                    f"expected an integer in [-{BIAS_MAX}, {BIAS_MAX}], found {shown(b)}",
                )
        layers.append(
            Layer(
                weights=np.array(weights, dtype=np.int64).reshape(n_out, n_in),
                bias=np.array(bias, dtype=np.int64),
                activation=act,
            )
        )
        n_in = n_out
    if n_in != len(classes):
        raise fail(
            f"$.layers[{len(layers_data) - 1}].weights",
            f"the last layer has {n_in} outputs but there are {len(classes)} classes",
        )
    # Provenance is free-form (ARCHITECTURE.md 4): an object is read as mipnn's own
    # provenance, anything else is kept as it is (an extra key) and never read.
    training = data.get("training", {})
    known = {"format", "version", "name", "classes", "input", "layers"}
    if isinstance(training, dict):
        known.add("training")
    else:
        training = {}
    extra = {k: v for k, v in data.items() if k not in known}
    return Model(
        name=name,
        classes=list(classes),
        input_size=size,
        levels=levels,
        layers=layers,
        features=features,
        training=training,
        extra=extra,
        version=version,
    )


def _check_raw_fields(feat: dict[str, Any], where: str, version: int, fail: Any) -> None:
    """A numeric feature's ``scale``, ``raw_min``, ``raw_max`` (required in version 2,
    refused in version 1) and optional ``source``."""
    present = [k for k in RAW_FIELDS if k in feat]
    if version < 2:
        if present:
            raise fail(f"{where}.{present[0]}", "a version-2 field in a version-1 model file")
        return
    for key in RAW_FIELDS:
        if key not in feat:
            raise fail(f"{where}.{key}", "missing (a version-2 numeric feature needs scale, "
                       "raw_min and raw_max)")
    scale, lo, hi = feat["scale"], feat["raw_min"], feat["raw_max"]
    if not _is_int(scale) or not 1 <= scale <= INT32_MAX:
        raise fail(f"{where}.scale", f"expected a positive integer, found {shown(scale)}")
    if not _is_int(lo) or not INT32_MIN <= lo <= INT32_MAX:
        raise fail(f"{where}.raw_min", f"expected an int32 integer, found {shown(lo)}")
    if not _is_int(hi) or not lo <= hi <= INT32_MAX:
        raise fail(f"{where}.raw_max", f"expected an int32 integer >= raw_min, found {shown(hi)}")


def _check_features(features: Any, size: int, version: int, fail: Any) -> None:
    if not isinstance(features, list) or len(features) != size:
        raise fail("$.input.features", f"expected a list of {size} feature descriptions")
    for i, feat in enumerate(features):
        where = f"$.input.features[{i}]"
        if not isinstance(feat, dict):
            raise fail(where, "expected an object")
        if not isinstance(feat.get("name"), str):
            raise fail(f"{where}.name", f"expected a string, found {shown(feat.get('name'))}")
        kind = feat.get("kind")
        if kind == "numeric":
            lo, hi = feat.get("min"), feat.get("max")
            if not _is_num(lo):
                raise fail(f"{where}.min", f"expected a finite number, found {shown(lo)}")
            if not _is_num(hi) or hi < lo:
                raise fail(f"{where}.max", f"expected a finite number >= min, found {shown(hi)}")
            if "missing" in feat and not _is_num(feat["missing"]):
                raise fail(f"{where}.missing", "expected a finite number (the imputed value)")
            if "source" in feat and not isinstance(feat["source"], str):
                raise fail(f"{where}.source", "expected the name of the column it reads")
            _check_raw_fields(feat, where, version, fail)
        elif kind == "onehot":
            if not isinstance(feat.get("source"), str):
                raise fail(f"{where}.source", "expected the name of the source column")
            if not isinstance(feat.get("value"), str):
                raise fail(f"{where}.value", "expected the category value as a string")
        else:
            raise fail(f"{where}.kind", f"expected 'numeric' or 'onehot', found {shown(kind)}")
    if version >= 2:
        try:
            raw_columns(features)
        except ValueError as exc:
            raise fail("$.input.features", str(exc)) from None


def network_model(
    net: list[tuple[np.ndarray, np.ndarray]], classes: list[str], levels: int,
    name: str = "model", features: list[dict[str, Any]] | None = None,
) -> Model:
    """The model of a network given as ``[(W, b), ...]``, first layer first: ``sign``
    hidden layers and a linear output layer."""
    layers = [
        Layer(weights=W, bias=b, activation="sign" if li < len(net) - 1 else "linear")
        for li, (W, b) in enumerate(net)
    ]
    return Model(name=name, classes=list(classes), input_size=int(net[0][0].shape[1]),
                 levels=levels, layers=layers, features=features)


def forward(model: Model, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The exact integer reference: ``(scores, classes)`` for a batch of inputs.

    ``X`` is ``[n_examples, input_size]`` (or one vector) of integers in ``[0, L]``.
    ``scores`` is ``int64 [n_examples, n_classes]``; ``classes`` is the lowest index among
    the largest scores. Raises ValueError for inputs outside ``[0, L]`` or of the wrong shape.
    """
    X = np.asarray(X)
    single = X.ndim == 1
    if single:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != model.input_size:
        raise ValueError(f"expected inputs of shape [n, {model.input_size}], got {X.shape}")
    if X.size and (X.min() < 0 or X.max() > model.levels):
        raise ValueError(f"inputs must be integers in [0, {model.levels}]")
    a = X.astype(np.int64)
    for layer in model.layers:
        z = a @ layer.weights.T + layer.bias
        a = np.where(z >= 0, 1, -1).astype(np.int64) if layer.activation == "sign" else z
    scores = a
    classes = np.argmax(scores, axis=1)  # numpy returns the first (lowest) index on ties
    if single:
        return scores[0], classes[:1]
    return scores, classes


def accuracy(model: Model, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of examples whose predicted class index equals ``y`` (by ``forward``)."""
    if len(y) == 0:
        return float("nan")
    _, pred = forward(model, X)
    return float(np.mean(pred == np.asarray(y)))
