"""Model file -> integer-only C (ARCHITECTURE.md 5).

Python computes everything that depends on the numbers (value ranges, C types, the
formatted tables, the unrolled statements); the Jinja2 templates in ``templates/`` hold only
the shape of the code. How the C computes the network is a *strategy* (``mipnn.codegen.strategy``:
``int8``, ``int16``, ``unrolled``, ``xnor``, ``compact``, or ``auto`` to let a cost model
choose within a flash budget); all compute exactly the same scores.

Range analysis (ARCHITECTURE.md 2). Layer ``l`` reads inputs ``a[i]`` from a box: ``[0, L]``
for layer 0, ``{-1, +1}`` after a ``sign`` layer. The generated loop starts the accumulator
at ``b[j]`` and adds ``W[j][i] * a[i]`` one term at a time, so every partial sum is bounded by
``|b[j]| + sum_i |W[j][i]| * max|a|``; the accumulator is the smallest of ``int16_t``,
``int32_t``, ``int64_t`` that holds that bound for every neuron of the layer. Each product
``W * a`` fits 16 bits (``127 * 255 < 2**15``), so it is computed in ``int`` on every target.
The class scores are returned as ``int32_t``: the exact range of the last layer's ``z`` over
the input box must fit, or the model is refused with a ``CodegenError``. The ``int8``
strategy uses ``int32_t`` accumulators unless 64 bits are needed; ``int16`` uses
``int_fast16_t`` where the ``int16_t`` bound above holds.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from mipnn.codegen.strategy import (
    STRATEGY_CHOICES,
    Estimate,
    build_program,
    choose_strategy,
    estimate,
    get_profile,
    list_count,
)
from mipnn.trainer.errors import MipnnError
from mipnn.trainer.model import Model, file_sha256, load_model

from mipnn.resources import templates_dir

if TYPE_CHECKING:
    import jinja2

INT16_MAX = 2**15 - 1
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)
INT64_MAX = 2**63 - 1

# Every keyword of C89 to C23 (the name prefixes every symbol, and C23 keywords such as
# ``bool`` are macros in older headers).
C_KEYWORDS = frozenset(
    """
    auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex
    _Generic _Imaginary _Noreturn _Static_assert _Thread_local alignas alignof bool
    constexpr false nullptr static_assert thread_local true typeof typeof_unqual _BitInt
    _Decimal32 _Decimal64 _Decimal128
    """.split()
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_VALUES_PER_LINE = 16


class CodegenError(MipnnError):
    """The model cannot be represented in the generated C, or the C name is unusable."""


@dataclass(frozen=True)
class LayerPlan:
    """What the generated C needs to know about one layer (all computed in Python)."""

    index: int
    n_in: int
    n_out: int
    activation: str
    input_max_abs: int  # L for layer 0, 1 after a sign layer
    acc_bound: int  # max over neurons of |b| + sum |w| * max|a|: bounds every partial sum
    acc_type: str  # int16_t / int32_t / int64_t
    bias_type: str  # int8_t / int16_t / int32_t
    z_min: tuple[int, ...]  # exact per-neuron range of z over the input box
    z_max: tuple[int, ...]


def _xref(index: int, base: int) -> str:
    """An input read of the unrolled code: ``xv[i]``, or ``xv1[i - base]`` through the
    second pointer for ``base`` <= i < ``base`` + 32 (``Program.input_base``)."""
    if index >= 32 and base and base <= index < base + 32:
        return f"xv1[{index - base}]"
    return f"xv[{index}]"


def _list_heads(table: list[int]) -> list[int]:
    """Positions of the headers in a ``compact`` term table."""
    heads, at = [], 0
    while at < len(table):
        heads.append(at)
        at += 1 + list_count(table[at])
    return heads


def mipnn_version() -> str:
    """The installed mipnn version (``0.1.0`` when running from a source tree)."""
    try:
        return importlib.metadata.version("mipnn")
    except importlib.metadata.PackageNotFoundError:
        return "0.1.0"


def check_c_name(name: str) -> str:
    """Return ``name`` if it can prefix the generated C symbols, else raise CodegenError."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise CodegenError(
            f"C name {name!r} is not a C identifier (letters, digits and '_', not starting "
            "with a digit)"
        )
    if name in C_KEYWORDS:
        raise CodegenError(f"C name {name!r} is a C keyword; choose another with --name")
    if name.startswith("__") or re.match(r"_[A-Z]", name):
        raise CodegenError(
            f"C name {name!r} is reserved for the C implementation (starts with '__' or "
            "'_' and a capital letter); choose another with --name"
        )
    return name


def _suggest(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", name).strip("_") or "model"
    if cleaned[0].isdigit():
        cleaned = "m_" + cleaned
    if cleaned in C_KEYWORDS:
        cleaned += "_model"
    return cleaned


def resolve_name(model: Model, name: str | None) -> str:
    """The C name to use: ``name`` if given, else the model's own name (never sanitised)."""
    if name is not None:
        return check_c_name(name)
    try:
        return check_c_name(model.name)
    except CodegenError as exc:
        raise CodegenError(
            f"the model's name {model.name!r} cannot be used as the C name: {exc}; "
            f"pass --name (for example --name {_suggest(model.name)})"
        ) from None


def _smallest(bound_lo: int, bound_hi: int, types: tuple[tuple[str, int], ...]) -> str | None:
    for ctype, bits in types:
        if -(2 ** (bits - 1)) <= bound_lo and bound_hi <= 2 ** (bits - 1) - 1:
            return ctype
    return None


def analyse_ranges(model: Model) -> list[LayerPlan]:
    """Range analysis of every layer (see the module docstring); raises CodegenError when
    a partial sum needs more than 64 bits or a class score does not fit ``int32_t``."""
    if not 1 <= model.levels <= 255:
        raise CodegenError(f"input levels {model.levels} do not fit uint8_t inputs [1, 255]")
    for li, layer in enumerate(model.layers):
        if layer.weights.size and int(np.abs(layer.weights).max()) > 127:
            raise CodegenError(f"layer {li}: weights must be integers in [-127, 127] (int8_t)")
    plans: list[LayerPlan] = []
    lo_in, hi_in = 0, model.levels
    last = len(model.layers) - 1
    for li, layer in enumerate(model.layers):
        w = layer.weights.astype(np.int64)
        bias = [int(b) for b in layer.bias]
        max_abs = max(abs(lo_in), abs(hi_in))
        abs_sums = [int(s) for s in np.abs(w).sum(axis=1)]
        pos_sums = [int(s) for s in np.where(w > 0, w, 0).sum(axis=1)]
        neg_sums = [int(s) for s in np.where(w < 0, w, 0).sum(axis=1)]
        bounds = [abs(b) + s * max_abs for b, s in zip(bias, abs_sums, strict=True)]
        acc_bound = max(bounds)
        # z = b + sum w*a over the box [lo_in, hi_in]^n: each term is extreme at an end.
        z_min = tuple(
            b + p * lo_in + n * hi_in for b, p, n in zip(bias, pos_sums, neg_sums, strict=True)
        )
        z_max = tuple(
            b + p * hi_in + n * lo_in for b, p, n in zip(bias, pos_sums, neg_sums, strict=True)
        )
        acc_type = _smallest(
            -acc_bound, acc_bound, (("int16_t", 16), ("int32_t", 32), ("int64_t", 64))
        )
        if acc_type is None:
            j = int(np.argmax(bounds))
            raise CodegenError(
                f"layer {li}, neuron {j}: partial sums may reach {acc_bound} in magnitude, "
                "more than a 64-bit accumulator holds"
            )
        bias_type = _smallest(
            min(bias), max(bias), (("int8_t", 8), ("int16_t", 16), ("int32_t", 32))
        )
        if bias_type is None:  # the model file format already forbids this
            raise CodegenError(f"layer {li}: a bias does not fit int32_t")
        if li == last:
            for j, (zl, zh) in enumerate(zip(z_min, z_max, strict=True)):
                if zl < INT32_MIN or zh > INT32_MAX:
                    label = model.classes[j] if j < len(model.classes) else j
                    raise CodegenError(
                        f"layer {li} (output), neuron {j} (class {label!r}): the score ranges "
                        f"over [{zl}, {zh}] for inputs in range, which does not fit int32_t "
                        f"[{INT32_MIN}, {INT32_MAX}]; the C API returns int32_t scores, so "
                        "reduce this output's bias or weights"
                    )
        plans.append(
            LayerPlan(
                index=li,
                n_in=layer.n_in,
                n_out=layer.n_out,
                activation=layer.activation,
                input_max_abs=max_abs,
                acc_bound=acc_bound,
                acc_type=acc_type,
                bias_type=bias_type,
                z_min=z_min,
                z_max=z_max,
            )
        )
        lo_in, hi_in = -1, 1
    return plans


def _wrap(values: list[int], indent: str) -> list[str]:
    """Format integers as C initialiser lines, ``_VALUES_PER_LINE`` per line."""
    lines = []
    for k in range(0, len(values), _VALUES_PER_LINE):
        chunk = values[k : k + _VALUES_PER_LINE]
        lines.append(indent + ", ".join(str(v) for v in chunk) + ",")
    return lines


def _comment_text(text: str) -> str:
    """A string made safe for a C block comment (ASCII, no comment terminator)."""
    return json.dumps(text).replace("*/", "*\\/")


def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["cint"] = _c_int
    env.filters["xref"] = _xref
    env.filters["plus"] = _plus
    env.filters["hexu"] = _hexu
    return env


def banner_lines(model_sha256: str | None, what: str) -> list[str]:
    """The banner every generated file starts with (lines of one C block comment)."""
    source = f"model file sha256 {model_sha256}" if model_sha256 else "an in-memory model"
    return [
        f"Generated by mipnn {mipnn_version()} from {source}.",
        f"{what}",
        "Do not edit: regenerate it with mipnn instead.",
    ]


def _features_doc(model: Model) -> list[str]:
    if not model.features:
        return [f"x[i]: integers in [0, {model.levels}]."]
    lines = []
    for i, feat in enumerate(model.features):
        name = _comment_text(str(feat.get("name", "")))
        if feat.get("kind") == "numeric":
            lines.append(
                f"x[{i}] = {name}: numeric, [{feat.get('min')}, {feat.get('max')}] "
                f"-> [0, {model.levels}]"
            )
        else:
            src = _comment_text(str(feat.get("source", "")))
            val = _comment_text(str(feat.get("value", "")))
            lines.append(f"x[{i}] = {name}: {model.levels} if {src} == {val}, else 0")
    return lines


STRATEGY_DOCS = {
    "int8": "int8_t weight tables, one loop per layer, 32-bit accumulators",
    "int16": "int8_t weight tables, one loop per layer, 16-bit accumulators where proven safe",
    "unrolled": "straight-line add/subtract, zero weights skipped, weights in the code",
    "xnor": "unrolled first layer, then +/-1 activations packed into bits (XOR/popcount)",
    "compact": "as unrolled, but first-layer input terms are index tables read by a small "
               "gather loop, except where the flash budget allows code",
}


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


def check_flash_budget(flash_budget: int | None) -> int | None:
    """``flash_budget`` if it is None or a positive number of bytes, else CodegenError."""
    if flash_budget is not None and (isinstance(flash_budget, bool) or flash_budget <= 0):
        raise CodegenError(f"flash budget {flash_budget} B: give a positive number of bytes")
    return flash_budget


def resolve_strategy(
    model: Model, strategy: str = "auto", profile: str | None = None,
    flash_budget: int | None = None,
) -> tuple[str, list[Estimate]]:
    """The concrete strategy for ``strategy`` (``auto``: the cost model of ``profile``
    chooses the fastest whose estimated model flash fits ``flash_budget``, default the
    profile's) and the estimates behind the choice."""
    if strategy not in STRATEGY_CHOICES:
        raise CodegenError(
            f"unknown strategy {strategy!r}; choose one of {', '.join(STRATEGY_CHOICES)}"
        )
    check_flash_budget(flash_budget)
    prof = get_profile(profile)
    if strategy == "auto":
        return choose_strategy(model, prof, flash_budget)
    return strategy, [estimate(model, strategy, prof, flash_budget=flash_budget)]


def _c_int(value: int) -> str:
    """An integer constant that has its value on every target (``int`` may be 16 bits)."""
    v = int(value)
    if -INT16_MAX <= v <= INT16_MAX:
        return str(v)
    if v == INT32_MIN:
        return "(INT32_C(-2147483647) - 1)"
    if INT32_MIN < v <= INT32_MAX:
        return f"INT32_C({v})"
    if v == -INT64_MAX - 1:
        return "(INT64_C(-9223372036854775807) - 1)"
    return f"INT64_C({v})"


def _plus(value: int) -> str:
    v = int(value)
    if v == 0:
        return ""
    return f" + {_c_int(v)}" if v > 0 else f" - {_c_int(-v)}"


def _hexu(value: int, ctype: str = "uint32_t") -> str:
    digits = {"uint8_t": 2, "uint16_t": 4}.get(ctype, 8)
    return f"0x{int(value):0{digits}X}u"


def _table_layers(model: Model, plans: list[LayerPlan], strategy: str) -> list[dict[str, object]]:
    reader = {"int8_t": "RD_I8", "int16_t": "RD_I16", "int32_t": "RD_I32"}
    layers = []
    for plan, layer in zip(plans, model.layers, strict=True):
        if plan.acc_type == "int64_t":
            acc_type = "int64_t"
        elif strategy == "int16" and plan.acc_type == "int16_t":
            acc_type = "int_fast16_t"
        else:
            acc_type = "int32_t"
        rows = [
            {"neuron": j, "lines": _wrap([int(v) for v in layer.weights[j]], "    ")}
            for j in range(plan.n_out)
        ]
        layers.append(
            {
                "plan": plan,
                "acc_type": acc_type,
                "rows": rows,
                "bias_lines": _wrap([int(b) for b in layer.bias], "    "),
                "bias_reader": reader[plan.bias_type],
                "input": "x" if plan.index == 0 else f"h{plan.index}",
                "output": f"h{plan.index + 1}" if plan.activation == "sign" else "s",
                "input_desc": (
                    f"x[i], with x[i] in [0, {model.levels}]"
                    if plan.index == 0
                    else f"h{plan.index}[i], with h{plan.index}[i] in {{-1, +1}}"
                ),
            }
        )
    return layers


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
    default the profile's budget; see ``mipnn.codegen.strategy``). ``compact`` mixes table and
    code to fit ``flash_budget`` (``auto``: its budget); without one, it is all table.

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
            _banner_safe(line)
            for line in banner_lines(
                model_sha256, f"Integer-only C for model {_comment_text(model.name)}."
            )
        ],
        "model_name": _comment_text(model.name),
        "shape": "-".join(str(n) for n in model.shape),
        "n_inputs": model.input_size,
        "n_classes": model.n_classes,
        "levels": model.levels,
        "classes": [(k, _comment_text(c)) for k, c in enumerate(model.classes)],
        "features": _features_doc(model),
        "index_type": index_type,
        "strategy": chosen,
        "strategy_doc": STRATEGY_DOCS[chosen],
    }
    env = _environment()
    notes: list[str] = []
    if chosen in ("int8", "int16"):
        context["layers"] = _table_layers(model, plans, chosen)
        source = env.get_template("model.c.j2").render(context)
    else:
        program = build_program(model, chosen, prof, budget)
        notes = list(program.notes)
        if chosen == "compact":
            entries = program.counts["gather"]
            code = program.counts["term"] + program.counts["term_wide"]
            notes.append(
                f"compact: {entries} table entries in {program.n_lists} lists, "
                f"{code} input terms as code"
                + (f" (planned for a flash budget of {budget:g} B)" if budget is not None
                   else "")
            )
        top = "int_fast16_t"
        if any(ctype != "int_fast16_t" for _, ctype in program.scores):
            top = "int32_t"
        context.update(
            ops=program.ops,
            scores=program.scores,
            popcount_widths=program.popcount_widths,
            notes=[_banner_safe(n) for n in notes],
            top_type=top,
            gather_widths=program.gather_widths,
            table_type=program.table_type,
            table_size=len(program.table),
            n_lists=program.n_lists,
            input_base=program.input_base if any(
                op.kind == "term" and _xref(op.index, program.input_base).startswith("xv1")
                for op in program.ops) else 0,
            list_count_type="uint_fast16_t" if program.n_lists <= 0xFFFF else "uint_fast32_t",
            list_cap=max((list_count(program.table[k]) for k in _list_heads(program.table)),
                         default=0),
            table_lines=_wrap(program.table, "    "),
        )
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


def _banner_safe(line: str) -> str:
    return line.replace("*/", "*\\/")


def render_vectors(
    model: Model, vectors: np.ndarray, name: str | None = None, model_sha256: str | None = None
) -> str:
    """The golden-vector header the firmware harness includes (``mipnn_fw_vectors.h``):
    the inputs as a ``const uint8_t`` table in flash (PROGMEM on AVR) and the macros that
    bind the harness to ``NAME_predict``."""
    cname = resolve_name(model, name)
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[1] != model.input_size or vectors.shape[0] < 1:
        raise CodegenError(
            f"golden vectors must have shape [V >= 1, {model.input_size}], got {vectors.shape}"
        )
    if vectors.min() < 0 or vectors.max() > model.levels:
        raise CodegenError(f"golden vectors must be integers in [0, {model.levels}]")
    rows = [
        {"index": v, "lines": _wrap([int(x) for x in vectors[v]], "        ")}
        for v in range(vectors.shape[0])
    ]
    context = {
        "name": cname,
        "NAME": cname.upper(),
        "banner": [
            _banner_safe(line)
            for line in banner_lines(
                model_sha256, f"Golden input vectors for the firmware harness of {cname}."
            )
        ],
        "n_vectors": int(vectors.shape[0]),
        "rows": rows,
    }
    return _environment().get_template("vectors.h.j2").render(context)


def render_null_model(name: str, model_sha256: str | None = None) -> str:
    """The stand-in for ``NAME_predict`` that the firmware harness links instead of the
    model (``mipnn_fw_null_model.c``): the same image without the model, whose sizes the
    driver subtracts to get the model's own flash and RAM."""
    return _environment().get_template("null_model.c.j2").render(
        name=name,
        NAME=name.upper(),
        banner=banner_lines(
            model_sha256, f"Stand-in for {name}_predict: the firmware without the model."
        ),
    )


def write_if_changed(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` unless it already holds exactly that (keeps mtimes, so
    ``make`` does not rebuild what did not change)."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    path.write_text(text, encoding="utf-8")
    return path


def export(
    model_path: Path,
    out_dir: Path,
    name: str | None = None,
    strategy: str = "auto",
    profile: str | None = None,
    flash_budget: int | None = None,
) -> list[Path]:
    """Load the model file, render its C (``strategy``, cost ``profile``: see ``generate``)
    into ``out_dir`` and return the written paths (``[NAME.h, NAME.c]``). The banner records
    the model file's sha256."""
    model_path = Path(model_path)
    model = load_model(model_path)
    files = render(
        model, name=name, model_sha256=file_sha256(model_path), strategy=strategy,
        profile=profile, flash_budget=flash_budget,
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [write_if_changed(out_dir / fname, text) for fname, text in files.items()]
