"""What the benchmarks share: their run records (bench/results/*.jsonl, one JSON object a
line, keyed by ``key``) and docs/RESULTS.md, where each owns one ``## `` section: replace a
section (its heading up to the next ``## `` heading), or add it at the end, leaving the
others as they are."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


def load_cache(path: Path) -> dict[str, dict[str, Any]]:
    """The records of ``path`` by key (a later record of a key replaces an earlier one: a
    rerun); empty when the file does not exist."""
    out: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                out[rec["key"]] = rec
    return out


def write_section(text: str, heading: str, path: Path) -> None:
    """Replace the section ``heading`` of ``path`` with ``text`` (which starts with the
    heading), or append it; the file is created with a ``# Results`` title when missing."""
    current = path.read_text(encoding="utf-8") if path.exists() else "# Results\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    block = text.rstrip("\n") + "\n\n"
    if pattern.search(current):
        updated = pattern.sub(lambda _m: block, current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")
