"""The raw inputs of a version-2 model in the generated C (ARCHITECTURE.md 8): one
``int32_t`` per raw column (``NAME_N_RAW``, ``NAME_RAW_<IDENT>``), documented in the header,
and what ``NAME_encode`` and ``NAME_predict_raw`` compute from them.

``raw_plan`` gathers, per numeric feature, its clamp range and the proven arithmetic of
``mipnn.codegen.scaling`` (``NumericInput``), and per categorical source its one-hot inputs
in code order (``SourceInput``); the templates (``templates/raw.c.j2``) write the C from
these numbers. A version-1 model, or one without input features, has no raw plan: its C has
no raw entry points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mipnn.codegen.errors import CodegenError
from mipnn.codegen.scaling import Scaler, plan_scaler
from mipnn.codegen.templating import comment_text, wrap_values
from mipnn.trainer.model import Model
from mipnn.trainer.raw import INT32_MAX, INT32_MIN, RawColumn, raw_columns


@dataclass
class NumericInput:
    """The encoder of one numeric feature: ``x[index]`` from ``raw[column]``."""

    index: int
    column: int
    macro: str  # NAME_RAW_<IDENT>
    name: str  # comment-safe
    raw_min: int
    raw_max: int
    scaler: Scaler

    @property
    def clamp_lo(self) -> bool:
        """Whether a reading can be below ``raw_min`` (else the test would be always false)."""
        return self.raw_min > INT32_MIN

    @property
    def clamp_hi(self) -> bool:
        """Whether a reading can be above ``raw_max``."""
        return self.raw_max < INT32_MAX

    @property
    def steps_lines(self) -> list[str]:
        """The AVR threshold table (``Scaler.steps``) as C initialiser lines."""
        return wrap_values(list(self.scaler.steps), "    ")

    @property
    def offset(self) -> str:
        """``t = (uint32_t)r`` plus this: `` - UINT32_C(raw_min)`` (modulo 2**32)."""
        if self.raw_min == 0:
            return ""
        if self.raw_min > 0:
            return f" - UINT32_C({self.raw_min})"
        return f" + UINT32_C({-self.raw_min})"


@dataclass
class SourceInput:
    """A categorical source: ``raw[column]`` is a code, ``features[k]`` the input of code
    ``k`` (``base`` when they are consecutive inputs, else None)."""

    column: int
    macro: str
    name: str
    features: list[int]
    values: list[str]
    base: int | None


@dataclass
class RawPlan:
    """Everything the C needs about the raw inputs of one model."""

    columns: list[RawColumn]
    macros: list[str]
    numeric: list[NumericInput] = field(default_factory=list)
    sources: list[SourceInput] = field(default_factory=list)
    doc: list[str] = field(default_factory=list)

    @property
    def locals(self) -> dict[str, bool]:
        """The temporaries ``NAME_encode`` declares (see ``raw_locals``)."""
        return raw_locals(self.numeric)

    @property
    def tables(self) -> list[NumericInput]:
        """The numeric inputs with an AVR threshold table (``Scaler.steps``)."""
        return [e for e in self.numeric if e.scaler.steps]


def raw_locals(inputs: list[NumericInput]) -> dict[str, bool]:
    """Which temporaries the C of these numeric inputs uses: ``rv`` (the clamped reading),
    ``rt`` (``t`` in 32 bits), ``ru`` (``t`` in 16 bits, for spans below 2**16 computed
    in one multiply-shift) and ``rq`` (an estimate)."""
    kinds = [e.scaler for e in inputs if e.scaler.kind != "zero"]
    return {
        "rv": bool(kinds),
        "rt": any(sc.d > 0xFFFF or sc.kind != "mul" for sc in kinds),
        "ru": any(sc.d <= 0xFFFF and sc.kind == "mul" for sc in kinds),
        "rq": any(sc.kind != "mul" for sc in kinds),
    }


IDENT_MAX = 40  # characters of a raw column's macro suffix


def raw_idents(names: list[str]) -> list[str]:
    """C identifier suffixes for the raw columns: upper case, other characters ``_``, at
    most ``IDENT_MAX`` characters, made distinct with ``_2``, ``_3``, ... in order."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()[:IDENT_MAX].rstrip("_")
        base = base or "COLUMN"
        ident, k = base, 1
        while ident in seen:
            k += 1
            ident = f"{base}_{k}"
        seen.add(ident)
        out.append(ident)
    return out


def raw_plan(model: Model, cname: str) -> RawPlan | None:
    """The raw inputs of ``model`` for the C name ``cname``, or None when the model has no
    raw entry points (version 1, or no input features). Raises CodegenError for features
    the C cannot take raw."""
    if not model.has_raw_inputs or model.features is None:
        return None
    features = model.features
    try:
        columns = raw_columns(features)
    except ValueError as exc:
        raise CodegenError(f"raw inputs: {exc}") from None
    macros = [f"{cname.upper()}_RAW_{ident}" for ident in raw_idents([c.name for c in columns])]
    plan = RawPlan(columns, macros)
    for c, col in enumerate(columns):
        label = comment_text(col.name)
        if col.kind == "numeric":
            targets = []
            for i in col.features:
                f = features[i]
                lo, hi = int(f["raw_min"]), int(f["raw_max"])
                scaler = plan_scaler(hi - lo, model.levels)
                plan.numeric.append(NumericInput(i, c, macros[c], label, lo, hi, scaler))
                targets.append(f"x[{i}] over [{lo}, {hi}]")
            plan.doc.append(f"raw[{macros[c]}] = {label}: numeric, round(value * "
                            f"{col.scale}) -> {', '.join(targets)}")
        else:
            feats = col.features
            if len(feats) > 0xFFFF:
                raise CodegenError(f"raw column {col.name!r}: {len(feats)} categories; the C "
                                   "takes at most 65535 per column")
            base = feats[0] if feats == list(range(feats[0], feats[0] + len(feats))) else None
            plan.sources.append(SourceInput(c, macros[c], label, feats, col.values, base))
            where = (f"x[{feats[0]}..{feats[-1]}]" if base is not None and len(feats) > 1
                     else ", ".join(f"x[{i}]" for i in feats))
            plan.doc.append(f"raw[{macros[c]}] = {label}: a category code -> {where}; "
                            "codes:")
            plan.doc.extend(f"    {k} = {comment_text(v)}" for k, v in enumerate(col.values))
    plan.numeric.sort(key=lambda e: e.index)
    return plan
