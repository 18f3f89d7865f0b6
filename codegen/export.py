"""Model file -> integer-only C (ARCHITECTURE.md 5): ``generate`` renders the header and
the source of a model, ``render_vectors`` the golden-vector header of the firmware harness,
``export`` writes a model's C into a directory.

Python computes everything that depends on the numbers (value ranges in
``mipnn.codegen.ranges``, the table loop's context in ``mipnn.codegen.table``, the unrolled
program in ``mipnn.codegen.unrolled``); the Jinja2 templates in ``templates/`` hold only the
shape of the code (``mipnn.codegen.templating``). How the C computes the network is a
*strategy* (``mipnn.codegen.strategy``: ``int8``, ``int16``, ``unrolled``, ``xnor``,
``compact``, or ``auto`` to let a cost model choose within a flash budget); all compute
exactly the same scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mipnn.codegen.compact import compact_note
from mipnn.codegen.cost import Estimate, get_profile
from mipnn.codegen.errors import CodegenError
from mipnn.codegen.names import resolve_name
from mipnn.codegen.ranges import INT32_MAX, INT32_MIN, analyse_ranges
from mipnn.codegen.rawinputs import RawPlan, raw_locals, raw_plan
from mipnn.codegen.rawprogram import FUSED, build_raw_program
from mipnn.codegen.strategy import STRATEGY_DOCS, build_program, resolve_strategy
from mipnn.codegen.table import table_layers
from mipnn.codegen.templating import (
    banner_lines,
    c_int,
    comment_safe,
    comment_text,
    environment,
    wrap_values,
)
from mipnn.codegen.unrolled import unrolled_context
from mipnn.trainer.model import Model, model_with_sha256
from mipnn.trainer.outputs import output_dir, write_text


@dataclass(frozen=True)
class Generated:
    """What ``generate`` produced: the files, the strategy used (``auto`` resolved), the
    cost model's estimates (when ``auto`` chose) and notes on the simplifications made."""

    files: dict[str, str]
    strategy: str
    requested: str
    profile: str
    flash_budget: float | None
    estimates: tuple[Estimate, ...]
    notes: tuple[str, ...]


def features_doc(model: Model) -> list[str]:
    """What every input ``x[i]`` is, for the header (from the model's features)."""
    if not model.features:
        return [f"x[i]: integers in [0, {model.levels}]."]
    lines = []
    for i, feat in enumerate(model.features):
        name = comment_text(str(feat.get("name", "")))
        if feat.get("kind") == "numeric":
            lines.append(
                f"x[{i}] = {name}: numeric, [{feat.get('min')}, {feat.get('max')}] "
                f"-> [0, {model.levels}]"
            )
        else:
            src = comment_text(str(feat.get("source", "")))
            val = comment_text(str(feat.get("value", "")))
            lines.append(f"x[{i}] = {name}: {model.levels} if {src} == {val}, else 0")
    return lines


def generate(
    model: Model,
    name: str | None = None,
    model_sha256: str | None = None,
    strategy: str = "auto",
    profile: str | None = None,
    flash_budget: int | None = None,
) -> Generated:
    """Render the C for ``model`` with ``strategy`` (``auto``: chosen by the cost model of
    ``profile``, default ``generic32``, within ``flash_budget`` bytes of model flash,
    default the profile's budget; see ``mipnn.codegen.strategy``). ``compact`` mixes table
    and code to fit ``flash_budget`` (``auto``: its budget); without one, it is all table.

    ``name`` (default: the model's name) must be a C identifier and not a C keyword.
    Raises CodegenError for a bad name, an unknown strategy, or a model the C cannot
    represent exactly.
    """
    cname = resolve_name(model, name)
    if model.n_classes > 32767:
        raise CodegenError(
            f"{model.n_classes} classes: NAME_predict returns the class as an int, "
            "which is 16 bits on AVR"
        )
    plans = analyse_ranges(model)
    chosen, estimates = resolve_strategy(model, strategy, profile, flash_budget)
    prof = get_profile(profile)
    budget = flash_budget
    if budget is None and strategy == "auto":
        budget = prof.flash_budget
    max_dim = max([model.input_size] + [p.n_out for p in plans])
    index_type = "uint_fast16_t" if max_dim <= 0xFFFF else "uint_fast32_t"
    context: dict[str, object] = {
        "name": cname,
        "NAME": cname.upper(),
        "banner": [
            comment_safe(line)
            for line in banner_lines(
                model_sha256, f"Integer-only C for model {comment_text(model.name)}."
            )
        ],
        "model_name": comment_text(model.name),
        "shape": "-".join(str(n) for n in model.shape),
        "n_inputs": model.input_size,
        "n_classes": model.n_classes,
        "levels": model.levels,
        "classes": [(k, comment_text(c)) for k, c in enumerate(model.classes)],
        "features": features_doc(model),
        "index_type": index_type,
        "strategy": chosen,
        "strategy_doc": STRATEGY_DOCS[chosen],
        "raw": raw_plan(model, cname),
    }
    env = environment()
    notes: list[str] = []
    if chosen in ("int8", "int16"):
        context["layers"] = table_layers(model, plans, chosen)
        source = env.get_template("model.c.j2").render(context)
    else:
        program = build_program(model, chosen, prof, budget)
        notes = list(program.notes)
        if chosen == "compact":
            notes.append(compact_note(program, budget))
        context.update(unrolled_context(program), notes=[comment_safe(n) for n in notes])
        context.update(raw_context(model, chosen, context["raw"]))
        source = env.get_template("model_unrolled.c.j2").render(context)
    files = {
        f"{cname}.h": env.get_template("model.h.j2").render(context),
        f"{cname}.c": source,
    }
    return Generated(
        files=files,
        strategy=chosen,
        requested=strategy,
        profile=profile or "generic32",
        flash_budget=budget,
        estimates=tuple(estimates),
        notes=tuple(notes),
    )


def raw_context(model: Model, strategy: str, raw: RawPlan | None) -> dict[str, object]:
    """What ``model_unrolled.c.j2`` needs for the fused ``NAME_predict_raw`` of ``unrolled``
    and ``xnor`` (``mipnn.codegen.rawprogram``); ``raw_ops`` None for the others."""
    if raw is None or strategy not in FUSED:
        return {"raw_ops": None, "raw_inputs": {}}
    program = build_raw_program(model, strategy, raw)
    inputs = {e.index: e for e in raw.numeric}
    return {
        "raw_ops": program.ops,
        "raw_inputs": inputs,
        "raw_scores": program.scores,
        "raw_top_type": unrolled_context(program)["top_type"],
        "raw_locals": raw_locals([inputs[op.index] for op in program.ops
                                  if op.kind == "encode"]),
    }


def render(
    model: Model,
    name: str | None = None,
    model_sha256: str | None = None,
    strategy: str = "auto",
    profile: str | None = None,
    flash_budget: int | None = None,
) -> dict[str, str]:
    """Render the C for ``model``: ``{"NAME.h": text, "NAME.c": text}`` (see ``generate``)."""
    return generate(model, name, model_sha256, strategy, profile, flash_budget).files


def render_vectors(
    model: Model, vectors: np.ndarray, name: str | None = None, model_sha256: str | None = None,
    raw_vectors: np.ndarray | None = None,
) -> str:
    """The golden-vector header the firmware harness includes (``mipnn_fw_vectors.h``):
    the inputs as a ``const uint8_t`` table in flash (PROGMEM on AVR) and the macros that
    bind the harness to ``NAME_predict``; with ``raw_vectors`` (a version-2 model), also
    the raw rows (``const int32_t``) for ``NAME_predict_raw`` and ``NAME_encode``."""
    cname = resolve_name(model, name)
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[1] != model.input_size or vectors.shape[0] < 1:
        raise CodegenError(
            f"golden vectors must have shape [V >= 1, {model.input_size}], got {vectors.shape}"
        )
    raw_rows = []
    if raw_vectors is not None and len(raw_vectors):
        plan = raw_plan(model, cname)
        raw_vectors = np.asarray(raw_vectors)
        if plan is None:
            raise CodegenError("raw golden vectors need a version-2 model with input features")
        if raw_vectors.ndim != 2 or raw_vectors.shape[1] != len(plan.columns):
            raise CodegenError(f"raw golden vectors must have shape [V, {len(plan.columns)}], "
                               f"got {raw_vectors.shape}")
        if raw_vectors.min() < INT32_MIN or raw_vectors.max() > INT32_MAX:
            raise CodegenError("raw golden vectors must be int32 values")
        raw_rows = [{"index": v, "lines": wrap_values([c_int(int(r)) for r in row], "        ")}
                    for v, row in enumerate(raw_vectors)]
    return render_vector_header(cname, vectors, model.levels, model_sha256, raw_rows)


def render_vector_header(
    cname: str, vectors: np.ndarray, levels: int = 255, model_sha256: str | None = None,
    raw_rows: list[dict[str, object]] | None = None,
) -> str:
    """The golden-vector header for any classifier with the ``NAME_predict`` API of
    ARCHITECTURE.md 5 (``NAME.h`` defining ``NAME_N_INPUTS`` and ``NAME_N_CLASSES``; e.g. C
    that mipnn did not generate, :mod:`mipnn.device.foreign`): ``vectors`` are
    ``[V >= 1, n]`` integers in ``[0, levels]``; ``raw_rows`` the rendered raw rows of
    :func:`render_vectors`."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] < 1:
        raise CodegenError(f"golden vectors must have shape [V >= 1, n], got {vectors.shape}")
    if vectors.min() < 0 or vectors.max() > levels:
        raise CodegenError(f"golden vectors must be integers in [0, {levels}]")
    rows = [
        {"index": v, "lines": wrap_values([int(x) for x in vectors[v]], "        ")}
        for v in range(vectors.shape[0])
    ]
    context = {
        "name": cname,
        "NAME": cname.upper(),
        "banner": [
            comment_safe(line)
            for line in banner_lines(
                model_sha256, f"Golden input vectors for the firmware harness of {cname}."
            )
        ],
        "n_vectors": int(vectors.shape[0]),
        "rows": rows,
        "raw_rows": list(raw_rows or []),
    }
    return environment().get_template("vectors.h.j2").render(context)


def render_null_model(name: str, model_sha256: str | None = None, raw: bool = False) -> str:
    """The stand-in for ``NAME_predict`` (and with ``raw``, ``NAME_encode`` and
    ``NAME_predict_raw``) that the firmware harness links instead of the model
    (``mipnn_fw_null_model.c``): the same image without the model, whose sizes the driver
    subtracts to get the model's own flash and RAM."""
    return environment().get_template("null_model.c.j2").render(
        name=name,
        NAME=name.upper(),
        raw=raw,
        banner=banner_lines(
            model_sha256, f"Stand-in for {name}_predict: the firmware without the model."
        ),
    )


def write_if_changed(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` unless it already holds exactly that (keeps mtimes, so
    ``make`` does not rebuild what did not change)."""
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    return write_text(path, text, "generated file")


def export(
    model: Model | str | Path,
    out_dir: Path,
    name: str | None = None,
    strategy: str = "auto",
    profile: str | None = None,
    flash_budget: int | None = None,
) -> list[Path]:
    """Render the C of a model file or a Model (``strategy``, cost ``profile``: see
    ``generate``) into ``out_dir`` and return the written paths (``[NAME.h, NAME.c]``). The
    banner records the model file's sha256 (of a Model: the file ``save_model`` writes)."""
    model, sha = model_with_sha256(model)
    files = render(
        model, name=name, model_sha256=sha, strategy=strategy,
        profile=profile, flash_budget=flash_budget,
    )
    out_dir = output_dir(out_dir, "export directory")
    return [write_if_changed(out_dir / fname, text) for fname, text in files.items()]
