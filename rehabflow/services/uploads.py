"""Reading what a user uploads: scenario YAML and roster CSVs. Every problem becomes an ``InputError``.

No Streamlit here. Uploaded YAML is read with ``yaml.safe_load`` only (through ``scenarios``), is size-capped,
and may only ``extends:`` a built-in scenario: a path would let an upload read files on the server. Uploads
have the CLI's limits (``scenarios.limits``) and are saved under generated names (``upload-1.csv``), never the
user's file name (which may be too long for this file system, or hold a path); messages name the file as the
user called it, escaped. :func:`markdown_safe` makes a message safe to show in a Streamlit (Markdown) box.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from scenarios import InputError, Scenario, builtin_names, parse_yaml_text
from scenarios.errors import escape_text
from scenarios.limits import MAX_CSV_BYTES, MAX_SCENARIO_BYTES, too_big
from scenarios.loading import read_yaml_data

MAX_UPLOAD_BYTES = MAX_SCENARIO_BYTES
__all__ = [
    "MAX_CSV_BYTES",
    "MAX_UPLOAD_BYTES",
    "decode_upload",
    "display_name",
    "markdown_safe",
    "read_csv_uploads",
    "scenario_from_upload",
]
_MARKDOWN = re.compile(r"([\\`*{}\[\]()#!|<>~$])")  # what makes links, emphasis, HTML, tables, maths
T = TypeVar("T")


def display_name(name: str, default: str = "upload") -> str:
    """The user's file name as shown in messages: escaped, its folder dropped, at most 80 characters."""
    base = escape_text(Path(str(name or default)).name or default)
    return base if len(base) <= 80 else base[:77] + "..."


def markdown_safe(text: str) -> str:
    """``text`` with every Markdown character escaped (a key ``[click](http://x)`` stays text, not a link)."""
    return _MARKDOWN.sub(r"\\\1", text)


def read_csv_uploads(uploads: Sequence[tuple[str, bytes]], reader: Callable[..., T]) -> T:
    """Save each ``(name, bytes)`` under a generated name in a private folder and call ``reader(*paths)``;
    problems name the files as the user did."""
    shown = [display_name(name, f"upload-{i + 1}.csv") for i, (name, _) in enumerate(uploads)]
    for label, (_, data) in zip(shown, uploads, strict=True):
        if len(data) > MAX_CSV_BYTES:
            raise too_big(label, len(data), MAX_CSV_BYTES)
    with tempfile.TemporaryDirectory(prefix="rehabflow-upload-") as tmp:
        paths = [Path(tmp) / f"upload-{i + 1}.csv" for i in range(len(uploads))]
        for path, (_, data) in zip(paths, uploads, strict=True):
            path.write_bytes(data)
        try:
            return reader(*paths)
        except InputError as e:
            raise InputError(_renamed(str(e), paths, shown)) from None


def _renamed(message: str, paths: list[Path], shown: list[str]) -> str:
    for path, label in zip(paths, shown, strict=True):
        message = message.replace(str(path), label)
    return message


def decode_upload(data: bytes, name: str, limit: int = MAX_UPLOAD_BYTES) -> str:
    """UTF-8 text of an uploaded file (at most ``limit`` bytes: a scenario's by default), or an ``InputError``."""
    name = display_name(name)
    if len(data) > limit:
        raise too_big(name, len(data), limit)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not UTF-8 text (byte {e.start}); save the file as UTF-8") from None


def scenario_from_upload(text: str, name: str) -> Scenario:
    """Parse uploaded scenario YAML; ``extends:`` may name a built-in only."""
    if not text.strip():
        raise InputError(f"{display_name(name)}: the file is empty")
    data = read_yaml_data(text, display_name(name))  # the loader's limits: no RecursionError on deep nesting
    if isinstance(data, dict) and "extends" in data:
        parent = data["extends"]
        if not isinstance(parent, str) or parent not in builtin_names():
            raise InputError(
                f"{display_name(name)}: extends: an uploaded scenario may only extend a built-in scenario "
                f"({', '.join(builtin_names())}), got {parent!r}"
            )
    return parse_yaml_text(text, display_name(name))
