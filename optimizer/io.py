"""Reading patients.csv, staff.csv and roster CSVs into the normalised tables of :mod:`optimizer.tables`.

Every problem becomes one line of an :class:`~scenarios.InputError`, naming the file, the row as a spreadsheet
user counts it (the header is row 1) and the column: ``patients.csv: row 4, column 'phase': '4' is not a
phase (1, 2, 3 or maintenance)``. All problems of a file are reported together (up to
:data:`MAX_REPORTED` lines). Files are read as text only (pandas with ``dtype=str``), never evaluated.

Leniency, all documented here: header names ignore case and surrounding spaces; cells are stripped; a file
whose header has no comma but has tabs or semicolons is read with that separator; a UTF-8 byte-order mark is
fine; blank lines are skipped; a leading ``'`` that protects ``= + - @`` (as our CSV writer adds against
formula injection) is removed; conditions may be written with spaces (``chronic low back pain``); phases may be
written ``phase 2``; roles may be separated by ``|``, ``,`` or ``+``. Columns the format does not know are an
error (a misspelt optional column would otherwise be ignored silently).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from scenarios import AvailabilityError, InputError, Role, Scenario, parse_availability
from scenarios.availability import (
    format_availability,
    format_time,
    intersect,
    parse_time,
)
from scenarios.errors import cap_lines, escape_text
from scenarios.limits import (
    MAX_CSV_BYTES,
    MAX_PATIENTS,
    MAX_ROSTER_ROWS,
    MAX_STAFF,
    read_user_file,
)

from .tables import (
    PATIENT_COLUMNS,
    PATIENT_OPTIONAL,
    PATIENT_REQUIRED,
    PHASES,
    ROSTER_COLUMNS,
    SESSIONS,
    STAFF_COLUMNS,
    STAFF_OPTIONAL,
    STAFF_REQUIRED,
)
from .validate import canonical_room

#: At most this many problem lines per error; a last line says how many more there were.
MAX_REPORTED = 50
#: ``priority`` is a whole number 0..PRIORITY_MAX (input format rule: keeps the solver's objective small).
PRIORITY_MAX = 100
#: Same rule as a scenario's staff ids (``scenarios.schema.StaffMember``): ids also name the .ics files.
STAFF_ID_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
#: Formula triggers a spreadsheet would evaluate; our CSV writer protects them with a leading ``'``.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0", ""}


class _Problems:
    """Problem lines of one file, each ``FILE: row R, column 'C': reason``, reported in row order."""

    def __init__(self, name: str):
        self.name = name
        self._found: list[tuple[int, int, str]] = []

    @property
    def lines(self) -> list[str]:
        return [line for _, _, line in sorted(self._found)]

    def _add(self, row: int, line: str) -> None:
        self._found.append((row, len(self._found), line))

    def file(self, reason: str) -> None:
        self._add(0, f"{self.name}: {reason}")

    def cell(self, row: int, column: str, reason: str) -> None:
        self._add(row, f"{self.name}: row {row}, column '{escape_text(column)}': {reason}")

    def row(self, row: int, reason: str) -> None:
        self._add(row, f"{self.name}: row {row}: {reason}")

    def raise_if_any(self) -> None:
        raise_problems(self.lines)


def raise_problems(lines: Sequence[str]) -> None:
    """Raise one :class:`InputError` listing ``lines`` (capped at :data:`MAX_REPORTED`), if there are any."""
    if lines:
        raise InputError("\n".join(cap_lines(lines, MAX_REPORTED)))


def unescape_cell(text: str) -> str:
    """Undo the CSV writer's formula protection: ``'=x`` -> ``=x`` (only before a formula trigger)."""
    if len(text) >= 2 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        return text[1:]
    return text


# ------------------------------------------------------------------------------------------ the raw table
_SIGNATURES = (
    (b"PK\x03\x04", "is an Excel workbook or a ZIP archive, not CSV (in Excel: Save As > CSV UTF-8)"),
    (b"\xd0\xcf\x11\xe0", "is an old Excel (.xls) file, not CSV (in Excel: Save As > CSV UTF-8)"),
    (b"\xff\xfe", "is UTF-16 text, not UTF-8 (save it as CSV UTF-8)"),
    (b"\xfe\xff", "is UTF-16 text, not UTF-8 (save it as CSV UTF-8)"),
)


def _refuse_binary(data: bytes, name: str) -> None:
    for signature, reason in _SIGNATURES:
        if data.startswith(signature):
            raise InputError(f"{name}: {reason}")
    if b"\x00" in data:
        raise InputError(f"{name}: is a binary file, not CSV text")


def _refuse_other_text(text: str, name: str) -> None:
    if not text.strip():
        raise InputError(f"{name}: empty file (expected a CSV with a header row)")
    first = text.lstrip()[:1]
    if first in ("{", "["):
        raise InputError(f"{name}: looks like JSON, not CSV (expected a header row of column names)")
    if first == "<":
        raise InputError(f"{name}: looks like HTML or XML, not CSV (expected a header row of column names)")


def _decode(path: Path, name: str) -> str:
    """The text of a CSV: a regular UTF-8 file within the size limit; old Mac line endings (CR only) read as
    line breaks."""
    data = read_user_file(path, MAX_CSV_BYTES, "CSV file")
    _refuse_binary(data, name)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(
            f"{name}: row {line}: not UTF-8 text (byte 0x{data[e.start]:02x}); save the file as CSV UTF-8"
        ) from None
    _refuse_other_text(text, name)
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")
    return text


def _separator(text: str) -> str:
    header = next(line for line in text.splitlines() if line.strip())
    if "," in header:
        return ","
    if "\t" in header:
        return "\t"
    if ";" in header:
        return ";"
    return ","


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _normal_header(text: str) -> str:
    return re.sub(r"\s+", "_", text.strip().lower())


def _record_widths(text: str, sep: str, name: str, max_rows: int) -> list[int]:
    """Values per CSV record (0 for a blank line); refuses a file with more than ``max_rows`` data rows."""
    try:
        widths = [len(r) for r in csv.reader(io.StringIO(text), delimiter=sep)]
    except csv.Error as e:
        raise InputError(f"{name}: not a readable CSV file ({escape_text(e)})") from None
    records = sum(1 for w in widths if w) - 1
    if records > max_rows:
        raise InputError(f"{name}: {records:,} rows; the limit is {max_rows:,}")
    return widths


def _cells(text: str, sep: str, width: int, name: str) -> list[list[str]]:
    """Every record as stripped text cells (formula protection undone), blank lines kept as rows of ""."""
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            names=list(range(width)),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            quotechar='"',
        )
    except (pd.errors.ParserError, ValueError) as e:
        raise InputError(f"{name}: not a readable CSV file ({escape_text(str(e).strip().splitlines()[-1])})") from None
    return [
        [unescape_cell(v.strip()) if isinstance(v, str) else "" for v in row]
        for row in raw.itertuples(index=False, name=None)
    ]


def _unknown_column(problems: _Problems, row: int, col: str, header: list[str], known: list[str]) -> None:
    close = difflib.get_close_matches(col, known, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    if len(header) == 1 and (";" in col or "\t" in col):
        hint = "the header is one column: separate columns with commas; "
    problems.cell(row, col, f"unknown column ({hint}columns: {', '.join(known)})")


def _match_header(
    problems: _Problems, header: list[str], row: int, required: Sequence[str], optional: Sequence[str]
) -> dict[str, int]:
    """Column name -> index for the known columns; unknown, repeated and missing columns are problems."""
    known = list(required) + list(optional)
    columns: dict[str, int] = {}
    for j, col in enumerate(header):
        if not col:
            continue
        if col in columns:
            problems.row(
                row,
                f"column '{escape_text(col)}' appears twice "
                f"(columns {_column_letter(columns[col])} and {_column_letter(j)})",
            )
        elif col not in known:
            _unknown_column(problems, row, col, header, known)
        else:
            columns[col] = j
    missing = [c for c in required if c not in columns]
    if missing:
        have = escape_text(", ".join(c for c in header if c) or "(nothing)")
        problems.row(
            row,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(repr(c) for c in missing)} "
            f"(the header has: {have}; required: {', '.join(required)})",
        )
    return columns


def _ragged_rows(
    problems: _Problems, cells: list[list[str]], widths: list[int], nonblank: list[int], header: list[str], sep: str
) -> set[int]:
    """Rows with more values than the header has columns (or values under an unnamed column)."""
    h, width = nonblank[0], len(header)
    aligned = len(widths) == len(cells)  # one csv record per pandas row (blank lines included)
    unnamed = [j for j in range(width) if not header[j]]
    header_count = widths[h] if aligned else len(header)
    ragged = set()
    for i in nonblank[1:]:
        row = cells[i]
        count = widths[i] if aligned else max(j for j in range(width) if row[j]) + 1
        if count > header_count or any(row[j] for j in unnamed):
            ragged.add(i)
            problems.row(
                i + 1,
                f"{count} values but the header has {header_count} columns "
                f"(put text that contains '{escape_text(sep)}' in double quotes)",
            )
    return ragged


def _frame(cells: list[list[str]], rows: list[int], columns: dict[str, int], known: list[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in known})
    return pd.DataFrame({c: [cells[i][columns[c]] if c in columns else "" for i in rows] for c in known}, dtype=str)


def read_table(
    path: str | Path, required: Sequence[str], optional: Sequence[str], max_rows: int = MAX_ROSTER_ROWS
) -> tuple[pd.DataFrame, list[int], _Problems]:
    """Read a CSV as text into a frame with the known columns (missing optional ones filled with "").

    Returns the frame (stripped cells, blank rows dropped), the spreadsheet row number of each frame row, and
    the problem collector (header problems raise at once: rows cannot be checked against a wrong header).
    """
    path = Path(path)
    name = escape_text(path)
    problems = _Problems(name)
    text = _decode(path, name)
    sep = _separator(text)
    widths = _record_widths(text, sep, name, max_rows)
    cells = _cells(text, sep, max(widths), name)
    # spreadsheet row numbers: pandas keeps one row per CSV record (blank lines included), header = row 1
    nonblank = [i for i, row in enumerate(cells) if any(row)]
    if not nonblank:
        raise InputError(f"{name}: empty file (expected a CSV with a header row)")
    header = [_normal_header(v) for v in cells[nonblank[0]]]
    columns = _match_header(problems, header, nonblank[0] + 1, required, optional)
    problems.raise_if_any()
    ragged = _ragged_rows(problems, cells, widths, nonblank, header, sep)
    rows = [i for i in nonblank[1:] if i not in ragged]
    return _frame(cells, rows, columns, list(required) + list(optional)), [i + 1 for i in rows], problems


def _check_unique(problems: _Problems, frame: pd.DataFrame, rows: list[int], column: str) -> None:
    first: dict[str, int] = {}
    for value, row in zip(frame[column], rows, strict=True):
        if not value:
            continue
        if value in first:
            problems.cell(row, column, f"duplicate {column} {value!r} (first on row {first[value]})")
        else:
            first[value] = row


def _check_cells(
    problems: _Problems, frame: pd.DataFrame, rows: list[int], column: str, check: Callable[[str], str]
) -> None:
    """Replace each cell of ``column`` by ``check(cell)``; a ``ValueError`` becomes a problem line."""
    out = []
    for value, row in zip(frame[column], rows, strict=True):
        try:
            out.append(check(value))
        except ValueError as e:
            problems.cell(row, column, str(e))
            out.append(value)
    frame[column] = out


def _required_text(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value:
            raise ValueError(f"blank (every row needs a {what})")
        return value

    return check


def _availability(value: str) -> str:
    try:
        return format_availability(parse_availability(value))
    except AvailabilityError as e:
        hint = "" if any(ch.isdigit() for ch in value) else " (text with commas must be in double quotes)"
        raise ValueError(f"malformed availability: {e}{hint}") from None


def _preferred_times(value: str) -> str:
    """Same format as availability (blank = no preference)."""
    try:
        return _availability(value)
    except ValueError as e:
        raise ValueError(str(e).replace("malformed availability", "malformed preferred times")) from None


# ----------------------------------------------------------------------------------------------- patients
def _condition_checker(scenario: Scenario) -> Callable[[str], str]:
    valid = [c.value for c in scenario.conditions]

    def check(value: str) -> str:
        key = re.sub(r"[\s\-]+", "_", value.strip().lower())
        if key in valid:
            return key
        if not value:
            raise ValueError(f"blank (valid conditions: {', '.join(valid)})")
        raise ValueError(f"unknown condition {value!r} (valid in scenario {scenario.name!r}: {', '.join(valid)})")

    return check


def _phase(value: str) -> str:
    key = re.sub(r"^phase\s*", "", value.strip().lower())
    if re.fullmatch(r"[123]\.0+", key):
        key = key[0]
    if key in PHASES:
        return key
    if not value:
        raise ValueError(f"blank (a phase is one of {', '.join(PHASES)})")
    raise ValueError(f"{value!r} is not a phase (1, 2, 3 or maintenance)")


def _priority(value: str) -> str:
    if not value:
        return "0"
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number 0-{PRIORITY_MAX} (higher = more urgent)") from None
    if not number.is_integer() or not 0 <= number <= PRIORITY_MAX:
        raise ValueError(f"{value!r} is not a whole number 0-{PRIORITY_MAX} (higher = more urgent)")
    return str(int(number))


def parse_iso_date(value: str) -> dt.date:
    """``YYYY-MM-DD`` only (no other spellings: a roster is read by other tools too)."""
    if not _ISO_DATE_RE.match(value):
        raise ValueError(f"{value!r} is not a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a calendar date") from None


def _optional_date(value: str) -> str:
    return "" if not value else parse_iso_date(value).isoformat()


def _yes_no(value: str) -> str:
    key = value.strip().lower()
    if key in _TRUE:
        return "yes"
    if key in _FALSE:
        return "no"
    raise ValueError(f"{value!r} is not yes or no")


def read_patients(path: str | Path, scenario: Scenario, staff: pd.DataFrame | None = None) -> pd.DataFrame:
    """patients.csv -> the normalised patients table (``tables.PATIENT_COLUMNS``); ``InputError`` on problems.

    ``preferred_staff`` is one staff id or several joined with ``|``; with ``staff`` (a table from
    :func:`read_staff`) each must be one of its staff ids.
    """
    frame, rows, problems = read_table(path, PATIENT_REQUIRED, PATIENT_OPTIONAL, MAX_PATIENTS)
    if not rows and not problems.lines:
        problems.file("has a header but no patients")
    _check_cells(problems, frame, rows, "patient_id", _required_text("patient_id"))
    _check_unique(problems, frame, rows, "patient_id")
    _check_cells(problems, frame, rows, "condition", _condition_checker(scenario))
    _check_cells(problems, frame, rows, "phase", _phase)
    _check_cells(problems, frame, rows, "availability", _availability)
    _check_cells(problems, frame, rows, "priority", _priority)
    _check_cells(problems, frame, rows, "phase_start", _optional_date)
    _check_cells(problems, frame, rows, "needs_assessment", _yes_no)
    _check_cells(problems, frame, rows, "preferred_times", _preferred_times)
    maintenance = scenario.protocol.maintenance
    if maintenance.chronic_only:
        chronic = {c.value for c, spec in scenario.conditions.items() if spec.chronic}
        for row, cond, phase in zip(rows, frame["condition"], frame["phase"], strict=True):
            if phase == "maintenance" and cond in scenario.conditions and cond not in chronic:
                problems.cell(
                    row,
                    "phase",
                    f"maintenance is for chronic conditions only in scenario {scenario.name!r} "
                    f"(protocol.maintenance.chronic_only) and {cond} is not chronic",
                )
    frame["preferred_staff"] = [
        "|".join(p.strip() for p in re.split(r"[|;]", v) if p.strip()) for v in frame["preferred_staff"]
    ]
    if staff is not None:
        ids = list(staff["staff_id"])
        for row, prefs in zip(rows, frame["preferred_staff"], strict=True):
            for pref in filter(None, prefs.split("|")):
                if pref not in ids:
                    problems.cell(row, "preferred_staff", f"unknown staff id {pref!r} (staff: {', '.join(ids)})")
    problems.raise_if_any()
    frame["priority"] = frame["priority"].astype(int)
    frame["needs_assessment"] = frame["needs_assessment"] == "yes"
    return frame[PATIENT_COLUMNS].reset_index(drop=True)


# -------------------------------------------------------------------------------------------------- staff
def _roles(value: str) -> str:
    valid = [r.value for r in Role]
    parts = [p.strip().lower() for p in re.split(r"[|,+/]", value) if p.strip()]
    if not parts:
        raise ValueError(f"blank (roles: {', '.join(valid)}; both: physician|acupuncturist)")
    unknown = [p for p in parts if p not in valid]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r} (roles: {', '.join(valid)}; several: physician|acupuncturist)")
    return "|".join(r for r in valid if r in parts)


def _staff_id(value: str) -> str:
    if not value:
        raise ValueError("blank (every row needs a staff_id)")
    if not STAFF_ID_RE.match(value):
        raise ValueError(f"{value!r} is not a staff id (letters, digits, '_', '.', '-'; at most 40)")
    return value


def read_staff(path: str | Path, scenario: Scenario) -> pd.DataFrame:
    """staff.csv -> the normalised staff table (``tables.STAFF_COLUMNS``); ``InputError`` on problems.

    Each practitioner must have some hours inside the clinic's open days and hours (as for a scenario's staff).
    """
    frame, rows, problems = read_table(path, STAFF_REQUIRED, STAFF_OPTIONAL, MAX_STAFF)
    if not rows and not problems.lines:
        problems.file("has a header but no staff")
    _check_cells(problems, frame, rows, "staff_id", _staff_id)
    _check_unique(problems, frame, rows, "staff_id")
    _check_cells(problems, frame, rows, "role", _roles)
    _check_cells(problems, frame, rows, "availability", _availability)
    clinic = scenario.calendar.windows()
    for row, text in zip(rows, frame["availability"], strict=True):
        try:
            own = parse_availability(text)
        except AvailabilityError:
            continue  # already reported
        if own is not None and not intersect(own, clinic):
            problems.cell(
                row, "availability", f"no hours inside the clinic's opening hours ({format_availability(clinic)})"
            )
    problems.raise_if_any()
    return frame[STAFF_COLUMNS].reset_index(drop=True)


def read_inputs(
    patients_path: str | Path, staff_path: str | Path, scenario: Scenario
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both input files, problems of both reported together; ``preferred_staff`` checked against staff.csv."""
    lines: list[str] = []
    staff = None
    try:
        staff = read_staff(staff_path, scenario)
    except InputError as e:
        lines.extend(str(e).splitlines())
    try:
        patients = read_patients(patients_path, scenario, staff=staff)
    except InputError as e:
        lines = str(e).splitlines() + lines
    raise_problems(lines)
    assert staff is not None
    return patients, staff


# ------------------------------------------------------------------------------------------------- roster
def _session(value: str) -> str:
    key = value.strip().lower()
    if key in SESSIONS:
        return key
    if not value:
        raise ValueError(f"blank (sessions: {', '.join(SESSIONS)})")
    raise ValueError(f"unknown session {value!r} (sessions: {', '.join(SESSIONS)})")


def _time(value: str) -> str:
    try:
        return format_time(parse_time(value))
    except AvailabilityError:
        raise ValueError(f"{value!r} is not a time HH:MM") from None


def _room_name(value: str) -> str:
    """A room in its canonical spelling (``ACU-01`` -> ``ACU-1``); anything else as written (the validator and the
    pin check say why it is not a room)."""
    room = canonical_room(value)
    return f"{room[0]}-{room[1]}" if room else value


def _date(value: str) -> str:
    return parse_iso_date(value).isoformat()


def _check_known(
    problems: _Problems, frame: pd.DataFrame, rows: list[int], column: str, known: set[str], what: str
) -> None:
    for row, value in zip(rows, frame[column], strict=True):
        if value and value not in known:
            problems.cell(row, column, f"{value!r} is not in the {what} file")


def _check_in_week(problems: _Problems, frame: pd.DataFrame, rows: list[int], week_start: dt.date) -> None:
    last = week_start + dt.timedelta(days=6)
    for row, value in zip(rows, frame["date"], strict=True):
        if _is_date(value) and not week_start.isoformat() <= value <= last.isoformat():
            problems.cell(row, "date", f"{value} is not in the week {week_start} to {last}")


def _is_date(value: str) -> bool:
    try:
        parse_iso_date(value)
    except ValueError:
        return False  # already reported
    return True


def _check_end_after_start(problems: _Problems, frame: pd.DataFrame, rows: list[int]) -> None:
    for row, start, end in zip(rows, frame["start"], frame["end"], strict=True):
        try:
            if parse_time(start) >= parse_time(end):
                problems.cell(row, "end", f"{end} is not after start {start}")
        except AvailabilityError:
            pass  # already reported


def read_roster(
    path: str | Path,
    label: str = "roster",
    *,
    patients: pd.DataFrame | None = None,
    staff: pd.DataFrame | None = None,
    week_start: dt.date | None = None,
) -> pd.DataFrame:
    """A roster CSV (``tables.ROSTER_COLUMNS``: a roster to check, pinned appointments, last week's roster).

    ``label`` says what the file is for in the one file-level message (a header-only file is an empty roster).
    With ``patients``/``staff`` tables each row must name a known patient/practitioner, with ``week_start`` a
    date of that week (for pinned appointments, which must be real bookings of the week being built).
    """
    name = escape_text(path)
    try:
        frame, rows, problems = read_table(path, ROSTER_COLUMNS, ())
    except InputError as e:
        raise InputError(str(e).replace(f"{name}: ", f"{name} ({label}): ", 1)) from None
    for column in ("patient_id", "staff_id", "room"):
        _check_cells(problems, frame, rows, column, _required_text(column))
    _check_cells(problems, frame, rows, "session", _session)
    if week_start is not None:  # pinned appointments: booked as the solver names rooms (ACU-01 -> ACU-1)
        _check_cells(problems, frame, rows, "room", _room_name)
    _check_cells(problems, frame, rows, "date", _date)
    _check_cells(problems, frame, rows, "start", _time)
    _check_cells(problems, frame, rows, "end", _time)
    for column, table, key in (("patient_id", patients, "patient_id"), ("staff_id", staff, "staff_id")):
        if table is not None:
            _check_known(problems, frame, rows, column, set(table[key]), "patients" if key == "patient_id" else "staff")
    if week_start is not None:
        _check_in_week(problems, frame, rows, week_start)
    _check_end_after_start(problems, frame, rows)
    problems.raise_if_any()
    return frame[ROSTER_COLUMNS].reset_index(drop=True)
