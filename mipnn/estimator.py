"""The scikit-learn estimator (ARCHITECTURE.md 9): :class:`MIPNetClassifier` trains an
integer network with the MIP (mipnn.trainer.train) on numpy arrays or pandas DataFrames
and predicts with the exact integer reference (``forward``).

Inputs become integers exactly as for a CSV file on the command line: the feature
descriptions are fitted on the training examples (mipnn.trainer.encoding: numeric columns
quantised over their range, every non-numeric column one-hot encoded), and ``predict`` encodes
any input with the fitted model's own descriptions (as ``mipnn eval`` does). A numpy
array's columns are named ``x0``, ``x1``, ... in the model. The levers left at ``"auto"``
are set at fit time by the measured defaults (mipnn.trainer.defaults), as ``mipnn train``
sets them. Ctrl-C during ``fit`` stops the solver within about a second and raises
KeyboardInterrupt (the estimator is left unfitted), with the previous SIGINT handler back
(mipnn.trainer.stop)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from mipnn.trainer.data import dataset_from_frame
from mipnn.trainer.defaults import AUTO, AUTO_LEVERS, PLAIN, resolve_defaults
from mipnn.trainer.encoding import encode
from mipnn.trainer.errors import MipnnError, SolverError
from mipnn.trainer.model import forward
from mipnn.trainer.stop import StopRequested, interruptible, stop_requested
from mipnn.trainer.train import train_with_defaults
from mipnn.trainer.train_config import TrainConfig


class MIPNetClassifier(ClassifierMixin, BaseEstimator):
    """An integer-valued neural network trained exactly with mixed-integer programming.

    Weights and biases are integers in ``[-bound, bound]``, inputs integers in
    ``[0, levels]``, hidden activations ``sign``; the class scores are exact integers
    (``decision_function``), the same the generated C computes (``mipnn.export``).

    Parameters: ``hidden`` (hidden layer sizes; ``()`` for none), ``bound``, ``objective``
    (``sat_margin``, ``max_correct``, ``min_hinge``, ``min_w``, ``max_m``, or ``gd``: the
    gradient baseline), ``time_limit`` (seconds for the whole fit), ``levels``,
    ``random_state`` (seeds the validation split and the solvers; None: a random seed),
    the levers ``margin``, ``select``, ``gd_restarts``, ``weight_penalty``, ``teacher``
    (``"auto"``: what measured best for this many validation examples, docs/TRAINING.md;
    ``teacher=None`` for none), ``validation_fraction`` (the stratified share of the
    examples held out to choose between networks), ``solver``, ``threads``,
    ``train_options`` (a dict of any other field of mipnn.trainer.train_config.TrainConfig,
    e.g. ``{"prune": 4.0}``), ``raw_scales`` (a dict column -> scale S: the device's raw
    value of that numeric column is ``round(value * S)``, ARCHITECTURE.md 8; default the
    power of ten that makes its training values integers) and ``verbose`` (print the
    trainer's messages).

    Fitted attributes: ``classes_`` (the labels, sorted), ``n_features_in_``,
    ``feature_names_in_`` (for a DataFrame with string column names), ``model_`` (the
    model, mipnn.trainer.model.Model: ``mipnn.save_model(clf.model_, path)``), and
    ``defaults_`` (what the measured defaults chose).
    """

    def __init__(self, hidden: Any = (16,), bound: int = 1, objective: str = "sat_margin",
                 time_limit: float = 60.0, levels: int = 255, random_state: Any = None,
                 margin: Any = AUTO, select: Any = AUTO, gd_restarts: Any = AUTO,
                 weight_penalty: Any = AUTO, teacher: Any = AUTO,
                 validation_fraction: float = 0.1, solver: str = "highspy", threads: int = 1,
                 train_options: dict[str, Any] | None = None,
                 raw_scales: dict[str, int] | None = None, verbose: bool = False) -> None:
        self.hidden = hidden
        self.bound = bound
        self.objective = objective
        self.time_limit = time_limit
        self.levels = levels
        self.random_state = random_state
        self.margin = margin
        self.select = select
        self.gd_restarts = gd_restarts
        self.weight_penalty = weight_penalty
        self.teacher = teacher
        self.validation_fraction = validation_fraction
        self.solver = solver
        self.threads = threads
        self.train_options = train_options
        self.raw_scales = raw_scales
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True  # DataFrame columns of any dtype are one-hot
        return tags

    def fit(self, X: Any, y: Any) -> MIPNetClassifier:
        """Train on ``X`` (array or DataFrame, ``[n_samples, n_features]``) and the labels
        ``y``; return the estimator."""
        if y is None:
            validate_data(self, X, y)  # scikit-learn's error: this estimator requires y
        frame, y = self._frame(X, y, reset=True)
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        labels = [str(c) for c in classes]
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes in y; got 1 "
                             f"class ({labels[0]!r})")
        if len(set(labels)) != len(labels):
            raise ValueError(f"class labels must differ as text, got {list(classes)}")
        seed = self._seed()
        config, auto = self._config(seed)
        try:
            ds = dataset_from_frame(frame, y_index, labels, levels=int(self.levels), seed=seed,
                                    val_fraction=float(self.validation_fraction),
                                    raw_scales=self.raw_scales)
            config, chosen = resolve_defaults(config, auto, ds)
            with interruptible() as stop:  # Ctrl-C stops the solver within about a second
                try:
                    result = train_with_defaults(ds, config, chosen,
                                                 on_message=print if self.verbose else None)
                except (MipnnError, StopRequested):
                    if not stop_requested():
                        raise
        except SolverError:
            raise
        except MipnnError as exc:
            raise ValueError(str(exc)) from None
        if stop.requested:  # the previous SIGINT handler is back
            self._forget_fit()
            raise KeyboardInterrupt
        accuracies = result.model.training.get("accuracy", {})
        for split, value in accuracies.items():
            if isinstance(value, float) and math.isnan(value):
                accuracies[split] = None  # no examples in that split
        self.classes_ = classes
        self.model_ = result.model
        self.defaults_ = chosen.to_dict() if auto else None
        return self

    def _forget_fit(self) -> None:
        """Unfitted again (a fit stopped by Ctrl-C): every attribute a fit sets is removed,
        those scikit-learn's input checks set too."""
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)

    def encode(self, X: Any) -> np.ndarray:
        """The integer inputs the model computes on for ``X``: ``uint8 [n, model inputs]``
        in ``[0, levels]``, by the model's feature descriptions."""
        check_is_fitted(self)
        frame, _ = self._frame(X, None, reset=False)
        try:
            return encode(self.model_.features, self.model_.levels, frame, source="X")
        except MipnnError as exc:
            raise ValueError(str(exc)) from None

    def decision_function(self, X: Any) -> np.ndarray:
        """The exact integer class scores of ``forward`` (``int64 [n, n_classes]``); for two
        classes, scikit-learn's convention: ``score[1] - score[0]`` (``int64 [n]``), positive
        exactly when the second class is predicted (a tie predicts the first)."""
        check_is_fitted(self)
        scores, _ = forward(self.model_, self.encode(X))
        return scores[:, 1] - scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        """The predicted labels: the class of the largest score, the lowest on a tie."""
        check_is_fitted(self)
        _, index = forward(self.model_, self.encode(X))
        return self.classes_[index]

    def _seed(self) -> int:
        if isinstance(self.random_state, (int, np.integer)) and self.random_state >= 0:
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _config(self, seed: int) -> tuple[TrainConfig, set[str]]:
        """The TrainConfig of the parameters and the levers left to the defaults."""
        auto = {lever for lever in AUTO_LEVERS
                if isinstance(getattr(self, lever), str) and getattr(self, lever) == AUTO}
        levers = {lever: PLAIN[lever] if lever in auto else getattr(self, lever)
                  for lever in AUTO_LEVERS}
        hidden = self.hidden
        hidden = (hidden,) if isinstance(hidden, (int, np.integer)) else tuple(hidden)
        extra = dict(self.train_options or {})
        clash = sorted(set(extra) & {*AUTO_LEVERS, "hidden", "bound", "objective",
                                     "time_limit", "seed", "solver", "threads"})
        if clash:
            raise ValueError(f"train_options {clash} are parameters of the estimator")
        try:
            config = TrainConfig(
                hidden=tuple(int(h) for h in hidden if int(h) != 0), bound=self.bound,
                objective=self.objective, time_limit=float(self.time_limit), seed=seed,
                solver=self.solver, threads=self.threads, **levers, **extra)
            config.check()
        except TypeError as exc:
            raise ValueError(f"train_options: {exc}") from None
        except MipnnError as exc:
            raise ValueError(str(exc)) from None
        return config, auto

    def _frame(self, X: Any, y: Any, reset: bool) -> tuple[pd.DataFrame, Any]:
        """``X`` as a DataFrame of raw columns (checked with scikit-learn's validation;
        a DataFrame keeps its columns and dtypes, an array's columns are ``x0``, ``x1``,
        ...) and ``y`` as a 1-d array (None when not given)."""
        if isinstance(X, pd.DataFrame):
            if y is None:
                validate_data(self, X, reset=reset, skip_check_array=True)
            else:
                validate_data(self, X, y, reset=reset, skip_check_array=True)
                y = column_or_1d(check_array(y, ensure_2d=False, dtype=None,
                                             input_name="y"), warn=True)
                check_consistent_length(X, y)
            if len(X) == 0 or X.shape[1] == 0:
                raise ValueError(f"Found array with {len(X)} sample(s) and {X.shape[1]} "
                                 "feature(s); a minimum of 1 is required.")
            frame = X.reset_index(drop=True)
            frame.columns = [str(c) for c in X.columns]
            if reset:
                self._columns = list(frame.columns)
            return frame, y
        if y is None:
            array = validate_data(self, X, reset=reset)
        else:
            array, y = validate_data(self, X, y, reset=reset)
        columns = self._columns if not reset else [f"x{i}" for i in range(array.shape[1])]
        if reset:
            self._columns = columns
        return pd.DataFrame(array, columns=columns), y
