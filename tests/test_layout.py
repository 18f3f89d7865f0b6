"""The layout rules (ARCHITECTURE.md 1, issue 22): no import cycles between mipnn's modules
(function-level imports count: deferring an import does not remove the dependency), no
private name imported from another module, the layering (trainer never imports codegen or
the device driver), and no module over about 500 lines."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

# import name -> source folder (pyproject's package-dir)
PACKAGES = {"mipnn": "mipnn", "mipnn.trainer": "trainer", "mipnn.codegen": "codegen"}
MAX_LINES = 520  # "about 500"


def modules() -> dict[str, Path]:
    """Every Python module of the distribution, by its import name."""
    found: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        root = REPO / folder
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            name = ".".join([package, *parts])
            if name in PACKAGES and name != package:
                continue
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import in ``path``, resolved
    to the known modules (``from pkg import module`` counts as importing the module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    here = name if is_pkg else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    out.append((alias.name, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here.split(".")
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in known:
                    out.append((full, "", node.lineno))
                elif base in known:
                    out.append((base, alias.name, node.lineno))
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: {m for m, _, _ in imports_of(name, path, known) if m != name}
            for name, path in mods.items()}


def test_there_are_no_import_cycles():
    edges = graph()
    # a package's __init__ re-exporting its own submodules is not a cycle of jobs
    for name in list(edges):
        edges[name] = {m for m in edges[name] if not name.startswith(m + ".")}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_no_private_names_are_imported_across_modules():
    mods = modules()
    known = set(mods)
    bad = []
    for name, path in mods.items():
        for module, imported, line in imports_of(name, path, known):
            if imported.startswith("_") and module != name:
                bad.append(f"{path.relative_to(REPO)}:{line}: {imported} from {module}")
            if any(part.startswith("_") and part != "__init__" for part in
                   module.split(".")) and not name.startswith(module.rpartition(".")[0]):
                bad.append(f"{path.relative_to(REPO)}:{line}: private module {module}")
    # the tests and benchmarks use the public names too
    for path in sorted([*(REPO / "tests").glob("*.py"), *(REPO / "bench").rglob("*.py")]):
        for module, imported, line in imports_of("outside", path, known):
            if imported.startswith("_"):
                bad.append(f"{path.relative_to(REPO)}:{line}: {imported} from {module}")
    assert not bad, "\n".join(bad)


def test_the_trainer_never_imports_codegen_or_the_device_driver():
    edges = graph()
    bad = [f"{a} imports {b}" for a, targets in edges.items() if a.startswith("mipnn.trainer")
           for b in targets if b.startswith(("mipnn.codegen", "mipnn.device", "mipnn.cli"))]
    assert not bad, "\n".join(bad)


def test_no_module_is_over_about_500_lines():
    big = {str(p.relative_to(REPO)): n for p in modules().values()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"
