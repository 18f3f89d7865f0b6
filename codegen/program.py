"""The unrolled program: the straight-line statements (``Op``) that the ``unrolled``,
``xnor`` and ``compact`` strategies generate for one model (and ``unrolled`` and ``xnor``
for its ``NAME_predict_raw``: ``mipnn.codegen.rawprogram``), as data (``Program``), which
the template ``model_unrolled.c.j2`` writes out one macro per kind and the cost model
counts; and the header of a ``compact`` table list (``list_header``, ``list_count``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Op:
    """One statement of the unrolled program; ``kind`` selects the template macro."""

    kind: str  # let | term | walk | gather | cond | pack | xnor | comment | encode | switch
    var: str = ""
    ctype: str = ""
    value: int = 0  # let: constant start; term: coefficient; pack: the bit; xnor: 2**shift
    # let: the variable it starts from (empty: constant only); term: a local variable
    # read instead of x[index] (the raw program's numeric inputs)
    source: str = ""
    # let: the source is read as this (wider) type before the addition, so that the sum is
    # computed in ``ctype`` and not in the narrower source type (16-bit ``int`` on AVR)
    widen: str = ""
    # term, encode: input index; switch: raw column; pack: bit; gather: list; walk: lists
    index: int = 0
    wide: bool = False  # term: compute the product in int32_t
    adds: list[tuple[str, str, int]] = field(default_factory=list)  # cond: (var, type, delta)
    word: str = ""  # pack / xnor: the bit word
    word_type: str = ""
    bits: int = 0  # xnor: word width
    flip: int = 0  # xnor: T mask
    mask: int = 0  # xnor: M mask
    shift: int = 0  # xnor: popcount << shift (written as a multiplication)
    text: str = ""  # comment
    # switch (on the raw code ``var``): per case, its codes and its additions
    cases: list[tuple[list[int], list[tuple[str, str, int]]]] = field(default_factory=list)


@dataclass
class NodeTerms:
    """The input terms of one first-layer node that may be stored as table data
    (coefficient +/-1 or +/-2; a +/-2 is its index twice): the planner of ``compact``
    decides how many of them (the first ``k``) stay code."""

    node: int
    coefs: list[int]  # of the tableable terms, in emission order


@dataclass
class Program:
    """The unrolled code of one model: the statements, the class-score variables, the
    bit words and popcount widths it uses, and counts for the cost model."""

    ops: list[Op]
    scores: list[tuple[str, str]]  # (variable, type) per class
    words: list[tuple[str, str]]  # (variable, type) of the packed bit words
    popcount_widths: list[int]
    counts: Counter[str]
    notes: list[str]
    # compact: the first-layer term table (per node: n+, indices, n-, indices), its
    # element type, the helper widths used, and per node what the planner may move to code
    table: list[int] = field(default_factory=list)
    table_type: str = "uint8_t"
    gather_widths: list[int] = field(default_factory=list)
    nodes: list[NodeTerms] = field(default_factory=list)
    n_lists: int = 0  # lists in the table (= entries of d[])
    list_cap: int = 255  # most entries of one list
    input_base: int = 0  # the window x[b..b+31] read through a second pointer (0: none)


def list_header(count: int) -> int:
    """The header of a ``compact`` table list of ``count`` >= 1 entries: the iterations of
    its eight-way loop times 8, plus where the first one enters (``count % 8``)."""
    return 8 * ((count + 7) // 8) + count % 8


def list_count(header: int) -> int:
    """The number of entries of a list from its header (the inverse of ``list_header``)."""
    rem = header % 8
    return header - 8 if rem else header


def list_heads(table: list[int]) -> list[int]:
    """Positions of the headers in a ``compact`` term table."""
    heads, at = [], 0
    while at < len(table):
        heads.append(at)
        at += 1 + list_count(table[at])
    return heads
