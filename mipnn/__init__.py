"""mipnn: train integer-valued neural networks exactly with mixed-integer programming and
deploy them as bit-exact integer-only C (ARCHITECTURE.md 9, the Python API):

    from mipnn import MIPNetClassifier, export, verify, load_model, save_model

The names are imported on first use (PEP 562), so ``import mipnn.trainer.model`` and the
command line's start import neither scikit-learn nor pandas; nothing happens at import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mipnn.lazy import lazy_names

if TYPE_CHECKING:
    from mipnn.api import export, verify
    from mipnn.estimator import MIPNetClassifier
    from mipnn.trainer.model import load_model, save_model

__all__ = ["MIPNetClassifier", "export", "load_model", "save_model", "verify"]
_HOMES = {
    "MIPNetClassifier": "mipnn.estimator",
    "export": "mipnn.api",
    "verify": "mipnn.api",
    "load_model": "mipnn.trainer.model",
    "save_model": "mipnn.trainer.model",
}


__getattr__, __dir__ = lazy_names(__name__, _HOMES)
