"""Resource limits on user input, and reading a user's file within them.

Every limit is a product rule with a clear message (docs/reference/roster-io.md, "Limits"): a file that is too big, too
deep or too long is refused before it can exhaust memory or time. Only regular files are read: a FIFO would
block for ever and ``/dev/zero`` never ends, so both are refused before anything is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import InputError, escape_text

#: A scenario YAML file (or pasted YAML); the built-in ones are about 15 kB.
MAX_SCENARIO_BYTES = 1_000_000
#: A CSV (patients, staff, a roster); a 5,000-patient week is about 0.5 MB.
MAX_CSV_BYTES = 10_000_000
#: Nesting of mappings and lists in a scenario (the schema needs 4; anchors count where they are used).
MAX_YAML_DEPTH = 32
#: Values in a scenario once anchors and aliases are expanded (the built-ins have about 700).
MAX_YAML_NODES = 200_000
#: Staff in a scenario or a staff.csv.
MAX_STAFF = 500
#: Patients in one roster week (patients.csv rows).
MAX_PATIENTS = 5_000
#: Rows of a roster CSV (a roster to check, pinned appointments, last week's roster).
MAX_ROSTER_ROWS = 50_000


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n < 10e6 else f"{n / 1e6:.0f} MB"


def too_big(name: str, size: int, limit: int) -> InputError:
    return InputError(f"{escape_text(name)}: file is {_megabytes(size)}; the limit is {_megabytes(limit)}")


def _stat(path: Path, name: str) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except NotADirectoryError:
        raise InputError(f"{name}: no such file (a part of the path is a file, not a folder)") from None
    except OSError as e:
        raise InputError(f"{name}: cannot read ({escape_text(e.strerror or e)})") from None


def read_user_file(path: str | Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or an :class:`InputError` naming it."""
    path = Path(path)
    name = escape_text(path)
    info = _stat(path, name)
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{name}: is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{name}: is not a regular file (a pipe, device or socket); give a {what}")
    if info.st_size > limit:
        raise too_big(str(path), info.st_size, limit)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as e:
        raise InputError(f"{name}: cannot read ({escape_text(e.strerror or e)})") from None
    if len(data) > limit:
        raise too_big(str(path), len(data), limit)
    return data


def decode_utf8(data: bytes, name: str) -> str:
    """UTF-8 text (a byte-order mark is fine), or one line naming the line of the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(
            f"{escape_text(name)}: line {line}: not UTF-8 text (byte 0x{data[e.start]:02x}); save the file as UTF-8"
        ) from None
