"""Reading what a user uploads: scenario YAML and roster CSVs. Every problem becomes an ``InputError``.

No Streamlit here. Uploaded YAML is read with ``yaml.safe_load`` only (through ``scenarios``), is size-capped,
and may only ``extends:`` a built-in scenario: a path would let an upload read files on the server.
"""

from __future__ import annotations

import yaml

from scenarios import InputError, Scenario, builtin_names, parse_yaml_text

MAX_UPLOAD_BYTES = 2_000_000


def decode_upload(data: bytes, name: str) -> str:
    """UTF-8 text of an uploaded file, or an ``InputError`` naming the file."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"{name}: file is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not UTF-8 text (byte {e.start}); save the file as UTF-8") from None


def scenario_from_upload(text: str, name: str) -> Scenario:
    """Parse uploaded scenario YAML; ``extends:`` may name a built-in only."""
    if not text.strip():
        raise InputError(f"{name}: the file is empty")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None  # parse_yaml_text reports the line and column below
    if isinstance(data, dict) and "extends" in data:
        parent = data["extends"]
        if not isinstance(parent, str) or parent not in builtin_names():
            raise InputError(
                f"{name}: extends: an uploaded scenario may only extend a built-in scenario "
                f"({', '.join(builtin_names())}), got {parent!r}"
            )
    return parse_yaml_text(text, name)
