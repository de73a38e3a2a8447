"""Shared checks of the hostile-input corpus (tests/test_hostile_*.py).

Every case runs a command in-process (Typer's CliRunner) and is judged on three things, the columns of the
corpus's result table: it exits with the documented status and prints one line per problem (no traceback, no
"internal error" from the last-resort guard, no raw control character), and the output folder it was given is
untouched (same files, same bytes) with no temporary file or folder left beside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from rehabflow.cli import app

runner = CliRunner()

#: What a previous run left in an output folder; a failed command must leave exactly this.
PREVIOUS_RUN = {"manifest.json": '{"run": "previous"}\n', "summary.csv": "kpi,mean\nold,1\n"}


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        """The lines on stderr, less the progress bar's (a finished run's bar stays on screen)."""
        return [line for line in self.stderr.splitlines() if "━" not in line]


def invoke(args: list[str]) -> Outcome:
    result = runner.invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"exception escaped the CLI: {result.exception!r}")
    return Outcome(result.exit_code, result.stdout, result.stderr)


def assert_clean(outcome: Outcome, code: int = 2, lines: int | None = 1, fragment: str | None = None) -> None:
    """Exit ``code``; ``lines`` lines on stderr (None: any number, at most 51); no traceback or raw control bytes."""
    text = outcome.stdout + outcome.stderr
    assert outcome.code == code, (outcome.code, text)
    assert "Traceback" not in text and "internal error" not in outcome.stderr, text
    assert not any(ch in text for ch in "\x1b\x00\r\u2028\u2029\x85"), repr(text)
    if lines is not None:
        assert len(outcome.lines) == lines, outcome.lines[:3]
    assert len(outcome.lines) <= 51, len(outcome.lines)
    if fragment is not None:
        assert fragment in outcome.stderr, (fragment, outcome.stderr)


def prepare_previous_run(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in PREVIOUS_RUN.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder``'s parent (so temporary siblings count) with a hash of its bytes."""
    root = folder.parent
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
        if "inputs" not in p.relative_to(root).parts
    }


def assert_untouched(folder: Path, before: dict[str, str]) -> None:
    assert snapshot(folder) == before, (before, snapshot(folder))
