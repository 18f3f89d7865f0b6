"""Errors a user can cause. The CLI turns each into one line and exit status 2."""


class MipnnError(Exception):
    """Base class of every error caused by user input (files, options, data)."""


class ModelFileError(MipnnError):
    """A model file is missing, not JSON, or breaks the contract (ARCHITECTURE.md 4).

    The message names the file and the JSON path of the first problem.
    """


class DataError(MipnnError):
    """A data set cannot be found, read, or used (bad CSV, missing target column...)."""


class SolverError(MipnnError):
    """The solver is missing, or returned no usable solution."""


class InfeasibleError(SolverError):
    """The training set cannot be fitted under the objective's hard rows."""


def one_line(exc: BaseException) -> str:
    """The text of ``exc`` on one line (its type name when it has no text), for messages."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
