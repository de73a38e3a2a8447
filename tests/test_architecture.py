"""The package arrows of docs/background/design.md hold in the code, and production code carries no test seams.

Imports are read with ``ast`` from every module (function-level imports included), so a lazy import cannot
slip an arrow past the check.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("scenarios", "sim", "optimizer", "rehabflow", "dashboard", "clinic")
#: package -> the packages of ours it may import (docs/background/design.md, "Architecture")
ALLOWED = {
    "scenarios": set(),
    "optimizer": {"scenarios"},
    "sim": {"scenarios", "optimizer"},
    "clinic": {"scenarios", "optimizer", "sim"},
    "rehabflow": {"scenarios", "sim", "optimizer", "clinic"},
    "dashboard": {"scenarios", "sim", "optimizer", "clinic", "rehabflow"},
}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every absolute import in the module (relative imports stay inside the package)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_arrows_allow(package):
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        for name in imported_roots(path)
        if name in OURS and name != package and name not in ALLOWED[package]
    }
    assert not wrong, sorted(wrong)


def test_the_dashboard_holds_no_command_line_code():
    offenders = [
        str(p.relative_to(ROOT))
        for p in modules("dashboard")
        if {"typer", "click"} & imported_roots(p) or "rehabflow.cli" in p.read_text(encoding="utf-8")
    ]
    assert not offenders


def test_imports_of_the_checker_are_read_from_every_level():
    """The check would miss nothing: a function-level import counts as much as a top-level one."""
    sample = ROOT / "sim" / "precision.py"
    assert {"scenarios", "numpy"} <= imported_roots(sample)


#: words of a test seam: a stand-in, fake or stub, or code kept "for tests" (a pointer to where a figure is
#: checked, such as "the tests hold the same figures", is documentation, not a seam)
SEAM = re.compile(
    r"stand[- ]in|\bfakes?\b|\bstubs?\b|\b(for|so|by|in|tests') tests?\b|\(tests?\)|tests' |pytest", re.IGNORECASE
)


def test_no_production_module_mentions_tests_fakes_or_stand_ins():
    hits = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for package in OURS
        for p in modules(package)
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if SEAM.search(line)
    ]
    assert not hits, hits
