"""Teacher labels (knowledge distillation): a float model fitted on the training set
relabels it, and the integer network is trained on its labels instead of the given ones.

On small, noisy data the MIP fits the training labels better than the gradient baseline and
tests worse (docs/TRAINING.md, Heart N=200): it fits the noise. A teacher's labels follow a
smooth decision boundary, so fitting them well is no longer overfitting. Only the training
labels are replaced; validation and test accuracy, and the accuracy the model file reports
for the training set, are against the given labels (the incumbent trajectory, live and in
``training.trajectory``, and ``training.teacher.train_accuracy_on_teacher_labels`` count
the teacher's).

``logreg``: logistic regression on standardised inputs, its regularisation strength chosen
by stratified 5-fold cross-validation accuracy on the training set alone
(``LogisticRegressionCV``, C in 10^-3 .. 10^2), so no validation or test label is used.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from mipnn.trainer.errors import MipnnError

TEACHERS = ("logreg",)


class TeacherError(MipnnError):
    """The teacher cannot be fitted to this training set or gives unusable labels."""


def fit_teacher(X: np.ndarray, y: np.ndarray, kind: str, seed: int = 0) -> Any:
    """The fitted teacher (a scikit-learn pipeline, refitted on all of ``X`` with the chosen
    C). Raises MipnnError for an unknown kind, TeacherError for too few examples of
    a class."""
    if kind not in TEACHERS:
        raise MipnnError(f"--teacher must be one of {', '.join(TEACHERS)}, got {kind!r}")
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(y)
    counts = np.bincount(y)
    present = counts[counts > 0]
    if len(present) < 2:
        raise TeacherError("--teacher: the training set holds one class only")
    folds = int(min(5, present.min()))
    if folds < 2:
        raise TeacherError("--teacher: every class needs at least 2 training examples (the "
                           "teacher's regularisation is chosen by cross-validation)")
    model = make_pipeline(
        StandardScaler(),
        LogisticRegressionCV(Cs=np.logspace(-3, 2, 11),
                             cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
                             scoring="accuracy", max_iter=5000),
    )
    with warnings.catch_warnings():
        # scikit-learn 1.8+ announces a change of LogisticRegressionCV's fitted attributes;
        # C_ is read in a form both layouts give
        warnings.simplefilter("ignore", FutureWarning)
        model.fit(np.asarray(X, dtype=np.float64), y)
    return model


def teacher_labels(X: np.ndarray, y: np.ndarray, kind: str, seed: int = 0
                   ) -> tuple[np.ndarray, dict[str, Any]]:
    """The teacher's labels for the training inputs ``X`` (class indices like ``y``) and a
    record of the teacher (kind, chosen C, how many labels it changed). Raises MipnnError
    for an unknown kind, TeacherError for too few examples of a class or a teacher that
    predicts one class for every example."""
    y = np.asarray(y)
    model = fit_teacher(X, y, kind, seed)
    labels = model.predict(np.asarray(X, dtype=np.float64)).astype(y.dtype)
    if len(np.unique(labels)) < 2:
        raise TeacherError("--teacher: the teacher predicts one class for every training "
                           "example; train without --teacher")
    info = {"kind": kind, "C": float(np.ravel(model[-1].C_)[0]),
            "folds": int(model[-1].cv.get_n_splits()),
            "relabelled": int(np.sum(labels != y)), "examples": int(len(y))}
    return labels, info
