"""A data set as a reader returns it, before splitting and encoding: the raw feature columns,
the string labels, the classes, and a given test set when the data set has one. Every reader
(the built-in data sets, any CSV file) produces one; :func:`mipnn.trainer.data.load_dataset`
splits and encodes it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

VAL_FRACTION = 0.1  # share of the training part held out for validation, unless a set says


@dataclass
class RawData:
    """A data set as read, before splitting: raw feature columns and string labels.

    ``frame``/``labels`` are all examples, or, when ``test_frame`` is given, the training part.
    """

    frame: pd.DataFrame
    labels: np.ndarray
    classes: list[str]
    where: str  # the file(s), for messages
    categorical: list[str] = field(default_factory=list)
    test_frame: pd.DataFrame | None = None
    test_labels: np.ndarray | None = None
    val_fraction: float = VAL_FRACTION
