"""Every relative link in the README, CONTRIBUTING, CHANGELOG and docs/ points at a file that exists (and at a
heading of it, when the link names one), and no page sends readers outside the repository (``../shared``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def without_code(text: str) -> str:
    """The page without fenced code blocks and inline code (a ``[x](y)`` there is not a link)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown page."""
    out = set()
    for line in re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M).splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return out


def links(page: Path) -> list[str]:
    return [
        t
        for t in LINK.findall(without_code(page.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", t)
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor}")
    assert not broken, broken


def test_no_page_sends_readers_outside_the_repository():
    outside = [str(p.relative_to(ROOT)) for p in PAGES if "../shared" in p.read_text(encoding="utf-8")]
    assert not outside


def test_the_link_checker_sees_a_broken_link_and_a_wrong_anchor(tmp_path):
    page = tmp_path / "a.md"
    (tmp_path / "b.md").write_text("# Title\n\n## A section\n", encoding="utf-8")
    page.write_text("[ok](b.md#a-section) [gone](c.md) [bad](b.md#nope) `[code](x.md)`\n", encoding="utf-8")
    assert links(page) == ["b.md#a-section", "c.md", "b.md#nope"]
    assert anchors(tmp_path / "b.md") == {"title", "a-section"}
