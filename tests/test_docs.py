"""The docs a user of the project has: no file points to the development machine's
../shared/docs (the contract and the embedded notes are the project's own, in docs/), the
training guide stays a guide (at most 300 lines; the lab notebook is docs/research/), and
every relative markdown link resolves to an existing file (and heading, for an anchor)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import IN_CI

REPO = Path(__file__).resolve().parents[1]
# Not part of the project: what git ignores, when the tree is not a git checkout.
SKIP_DIRS = {".git", ".venv", "__pycache__", "build", "out", ".pytest_cache", ".ruff_cache",
             ".hypothesis"}

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.M)
FENCE = re.compile(r"^\s{0,3}(```|~~~).*?^\s{0,3}\1", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def project_files() -> list[Path]:
    """The project's files: what git tracks, or, outside a git checkout, every file but
    the ignored build and cache folders (and *.egg-info)."""
    if (REPO / ".git").exists() and shutil.which("git"):
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True).stdout.decode()
        return [REPO / name for name in out.split("\0") if name and (REPO / name).is_file()]
    return [p for p in REPO.rglob("*") if p.is_file()
            and not any(part in SKIP_DIRS or part.endswith(".egg-info")
                        for part in p.relative_to(REPO).parts)]


def markdown_files() -> list[Path]:
    """README.md, docs/ and every other markdown file of the project outside tests/."""
    return sorted(p for p in project_files()
                  if p.suffix == ".md" and p.relative_to(REPO).parts[0] != "tests")


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a markdown file: lower case, punctuation
    dropped, spaces as hyphens, a repeated one suffixed -1, -2, ..."""
    seen: dict[str, int] = {}
    out = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def links(path: Path) -> list[str]:
    """The link targets of a markdown file, outside code blocks and code spans."""
    text = CODE_SPAN.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))
    return LINK.findall(text) + REFERENCE.findall(text)


def broken_links(path: Path) -> list[str]:
    """The relative links of ``path`` that name no existing file (or no heading of it)."""
    bad = []
    for target in links(path):
        if SCHEME.match(target):
            continue  # https:, mailto:, ...
        file_part, _, fragment = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif fragment and dest.suffix == ".md" and fragment.lower() not in anchors(dest):
            bad.append(f"{target}: no heading with that anchor in {dest.name}")
    return bad


def test_no_file_points_to_the_shared_docs():
    """A user of the project does not have ../shared/docs: the docs are in docs/."""
    offenders = [str(p.relative_to(REPO)) for p in project_files()
                 if p.relative_to(REPO).parts[0] != "tests"
                 and b"shared/docs" in p.read_bytes()]
    assert offenders == []


def test_the_contract_and_the_embedded_notes_are_the_projects_own():
    for name in ("ARCHITECTURE.md", "EMBEDDED.md"):
        assert (REPO / "docs" / name).is_file(), f"docs/{name} is missing"


@pytest.mark.parametrize("name", ["ARCHITECTURE.md", "EMBEDDED.md"])
def test_the_project_copies_of_the_design_documents_are_in_step(name):
    """docs/ holds verbatim copies of the team's design documents (../shared/docs): what
    mipnn decides beyond them goes to docs/DESIGN.md, never into the copies."""
    shared = REPO.parent / "shared" / "docs" / name
    if not shared.is_file():
        if IN_CI:
            pytest.fail(f"CI=true but the design documents are missing at {shared.parent}")
        pytest.skip(f"the design documents are not at {shared.parent}")
    assert (REPO / "docs" / name).read_bytes() == shared.read_bytes(), \
        f"docs/{name} differs from {shared}: copy it again, and put mipnn's own " \
        "decisions in docs/DESIGN.md"


def test_the_training_guide_is_at_most_300_lines():
    guide = REPO / "docs" / "TRAINING.md"
    lines = len(guide.read_text(encoding="utf-8").splitlines())
    assert lines <= 300, f"docs/TRAINING.md has {lines} lines; the lab notebook is " \
                         "docs/research/TRAINING-notebook.md"


def test_every_relative_markdown_link_resolves():
    files = markdown_files()
    names = {str(p.relative_to(REPO)) for p in files}
    assert {"README.md", "docs/TRAINING.md", "docs/ARCHITECTURE.md"} <= names
    bad = {str(p.relative_to(REPO)): broken for p in files if (broken := broken_links(p))}
    assert bad == {}


@pytest.mark.parametrize("text, expected", [
    ("[a](docs/X.md) and ![b](img.png \"title\") and [c](https://x.org/y)",
     ["docs/X.md", "img.png", "https://x.org/y"]),
    ("`[not](a link)`\n\n```\n[nor](this)\n```\n[ref]: ../Y.md\n", ["../Y.md"]),
])
def test_links_are_found_outside_code(tmp_path, text, expected):
    page = tmp_path / "page.md"
    page.write_text(text)
    assert links(page) == expected


def test_anchors_follow_githubs_rule(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Guide\n## Continuing a run (`--start`)\n## Notes\n## Notes\n"
                    "```\n# not a heading\n```\n")
    assert anchors(page) == {"guide", "continuing-a-run---start", "notes", "notes-1"}
    (tmp_path / "other.md").write_text("[x](page.md#notes-1) [y](page.md#nope) [z](gone.md)\n"
                                       "[w](#guide)\n")
    assert broken_links(tmp_path / "other.md") == [
        "page.md#nope: no heading with that anchor in page.md", "gone.md: no such file",
        "#guide: no heading with that anchor in other.md"]
