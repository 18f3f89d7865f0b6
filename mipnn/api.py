"""The deployment half of the Python API (ARCHITECTURE.md 9): :func:`export` writes a
model's integer-only C (or an Arduino library) and :func:`verify` builds it for a firmware
target, runs it on golden vectors and compares every score with the integer reference.
Both take a fitted :class:`mipnn.MIPNetClassifier`, a :class:`mipnn.trainer.model.Model`
or a model file's path; a model in memory goes to the code generator and the firmware
driver as it is (no temporary file). The ``mipnn export`` and ``mipnn firmware`` commands
call the same functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mipnn.codegen.arduino import export_arduino
from mipnn.codegen.export import export as export_c
from mipnn.device import cost_profile, run_firmware, target_vectors
from mipnn.trainer.model import Model, model_with_sha256

ModelSource = Any  # a fitted MIPNetClassifier, a Model, or a model file's path


def model_source(source: ModelSource) -> Model | Path:
    """The model of ``source``: a fitted estimator's ``model_``, a Model, or a model file's
    path. An estimator that is not fitted raises scikit-learn's NotFittedError; anything
    else TypeError."""
    if isinstance(source, Model):
        return source
    if isinstance(source, (str, Path)):
        return Path(source)
    model = getattr(source, "model_", None)
    if isinstance(model, Model):
        return model
    if hasattr(source, "fit"):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"this {type(source).__name__} is not fitted yet: call fit "
                             "before export or verify")
    raise TypeError(f"expected a fitted MIPNetClassifier, a Model or a model file's path, "
                    f"got {type(source).__name__}")


def export(
    clf_or_model: ModelSource,
    out_dir: str | Path,
    target: str | None = None,
    strategy: str = "auto",
    name: str | None = None,
    *,
    flash_budget: int | None = None,
    arduino: bool = False,
) -> list[Path]:
    """Write the model's C, ``NAME.h`` and ``NAME.c`` (ARCHITECTURE.md 5), into ``out_dir``
    and return the written paths. ``strategy`` says how the C computes the network
    (``auto``: the fastest by the cost model of ``target``, a firmware target such as
    ``cortex-m3``, within ``flash_budget`` bytes of model flash); ``name`` is the C prefix
    (default: the model's name). With ``arduino``, ``out_dir`` receives an Arduino (and
    PlatformIO) library instead, tuned for ``avr`` unless ``target`` says otherwise.
    Raises MipnnError (CodegenError, FirmwareError, ModelFileError) for what a user can
    cause."""
    source = model_source(clf_or_model)
    profile = cost_profile(target)
    if arduino:
        return export_arduino(source, Path(out_dir), name, strategy=strategy,
                              profile=profile or "avr", flash_budget=flash_budget)
    return export_c(source, Path(out_dir), name, strategy=strategy, profile=profile,
                    flash_budget=flash_budget)


def verify(
    clf_or_model: ModelSource,
    target: str = "host",
    *,
    strategy: str = "auto",
    X: Any = None,
    vectors: int = 256,
    n_random: int = 64,
    data_dir: str | Path | None = None,
    build_dir: str | Path | None = None,
    measure: bool = True,
    flash_budget: int | None = None,
    name: str | None = None,
    sanitize: bool = False,
) -> dict[str, object]:
    """Build the model's C for ``target`` (``host``, ``cortex-m0``, ``cortex-m3``,
    ``cortex-m4``, ``avr``, ``rv32``) with golden vectors, run it, compare every score and
    class with the integer reference, and return the fields of one run of ``mipnn
    firmware --report``: ``bit_exact``, ``mismatches``, flash and RAM, the stack and the
    instructions (AVR: cycles) of one inference, ...

    The vectors are the first ``vectors`` rows of ``X`` (raw examples as ``predict``
    takes them when an estimator is given, else integer inputs in ``[0, L]``), or of the
    test split the model file records, then edge cases and ``n_random`` random inputs; as
    many as fit half the target's flash. ``sanitize`` (host only) builds with
    AddressSanitizer and UndefinedBehaviorSanitizer, whose findings fail the run. Raises
    FirmwareError when the target cannot be built or run (missing tools, ...)."""
    source = model_source(clf_or_model)
    model, _ = model_with_sha256(source)
    notes: list[str] = []
    if X is not None:
        encode = getattr(clf_or_model, "encode", None)
        test_X = encode(X) if callable(encode) else np.asarray(X)
    else:
        from mipnn.trainer.model_data import recorded_test_inputs  # reads data: pandas

        test_X, note = recorded_test_inputs(model, None if data_dir is None else Path(data_dir))
        if note is not None and vectors > 0:
            notes.append(f"{note}; edge and random vectors only")
    X_t, note = target_vectors(model, test_X, target, vectors, n_random)
    if note is not None:
        notes.append(note)
    report = run_firmware(source, target, X_t, None if build_dir is None else Path(build_dir),
                          name, strategy=strategy, measure=measure, flash_budget=flash_budget,
                          sanitize=sanitize)
    result = report.to_dict()
    result["notes"] = [*notes, *report.notes]
    return result
