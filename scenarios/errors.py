"""The one exception type for bad user input anywhere in rehabflow, and how user text is shown in messages.

The CLI and the dashboard catch :class:`InputError` and show its message (one line per problem, each naming
the file, the field or row, and the reason) with exit status 2; anything else is a bug and keeps its traceback.

Text that comes from a user file (keys, cells, file names) is shown through :func:`escape_text`, so that a
key holding a newline or an ANSI escape cannot split a message into two lines or reach the terminal; a list
of problems is shown through :func:`cap_lines`, so that a file with a million bad keys prints a page, not a
million lines.
"""

from __future__ import annotations

from collections.abc import Sequence

#: At most this many problem lines in one message; a last line says how many more there were.
MAX_PROBLEM_LINES = 50


class InputError(Exception):
    """Bad user input: a scenario, a CSV, a command-line value. ``str(error)`` is what the user reads."""


def _escape_char(ch: str) -> str:
    return ch if ch.isprintable() else repr(ch)[1:-1]  # '\n', '\x1b', '\u2028', ...


def escape_text(text: object) -> str:
    """``text`` with every control or non-printable character written as its escape (``\\n``, ``\\x1b``)."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(_escape_char(ch) for ch in value)


def cap_lines(lines: Sequence[str], limit: int = MAX_PROBLEM_LINES) -> list[str]:
    """The first ``limit`` lines, then ``... and N more problems`` if there were more."""
    shown = list(lines[:limit])
    if len(lines) > limit:
        shown.append(f"... and {len(lines) - limit} more problems")
    return shown
