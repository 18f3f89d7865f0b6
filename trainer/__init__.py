"""mipnn trainer: data sets, the model file and its integer reference, and MIP training."""

from mipnn.trainer.errors import DataError, MipnnError, ModelFileError, SolverError
from mipnn.trainer.model import Layer, Model, forward, load_model, save_model

__all__ = [
    "DataError",
    "Layer",
    "MipnnError",
    "Model",
    "ModelFileError",
    "SolverError",
    "forward",
    "load_model",
    "save_model",
]
