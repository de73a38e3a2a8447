"""A corpus of broken input CSVs for the optimizer's readers, shared by the API tests and the CLI tests.

Each case: (id, which file is broken, its bytes, a fragment of the one expected problem line). The other
files of a case are the good ones below. Rows count as in a spreadsheet: the header is row 1.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

GOOD_PATIENTS = (
    "patient_id,condition,phase,availability,preferred_staff,priority,phase_start,needs_assessment\n"
    "P1,chronic_low_back_pain,1,Mon 08:00-12:00; Wed 14:00-18:00,AC1,2,2026-11-30,yes\n"
    "P2,shoulder_impingement,2,,,,,\n"
    'P3,fibromyalgia,maintenance,"Mon,Wed,Fri 08:00-18:00",,,2026-11-02,no\n'
)
GOOD_STAFF = (
    "staff_id,role,availability\n"
    "MD1,physician,Mon-Fri 08:00-16:00\n"
    "AC1,acupuncturist,\n"
    "PT1,physiotherapist,Mon-Fri 10:00-18:00\n"
)
GOOD_ROSTER = (
    "patient_id,session,staff_id,room,date,start,end\n"
    "P1,acupuncture,AC1,ACU1,2026-11-30,08:00,08:45\n"
    "P2,physiotherapy,PT1,GYM1,2026-12-01,10:00,10:45\n"
)
WEEK = "2026-11-30"


def _xlsx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    return buf.getvalue()


P_HEAD = "patient_id,condition,phase,availability,preferred_staff,priority,phase_start,needs_assessment\n"
R_HEAD = "patient_id,session,staff_id,room,date,start,end\n"

# (case id, broken file: patients | staff | roster, content, expected fragment of the problem line)
CASES: list[tuple[str, str, bytes, str]] = [
    ("missing_column", "patients", b"patient_id,condition\nP1,fibromyalgia\n", "row 1: missing column 'phase'"),
    (
        "unknown_column",
        "patients",
        b"patient_id,condition,phase,prefered_staff\nP1,fibromyalgia,1,AC1\n",
        "row 1, column 'prefered_staff': unknown column (did you mean 'preferred_staff'?",
    ),
    (
        "unknown_condition",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,,,,,\nP2,migraine,1,,,,,\n").encode(),
        "row 3, column 'condition': unknown condition 'migraine' (valid in scenario 'baseline': chronic_low_back_pain",
    ),
    (
        "bad_phase",
        "patients",
        (P_HEAD + "P1,fibromyalgia,4,,,,,\n").encode(),
        "row 2, column 'phase': '4' is not a phase (1, 2, 3 or maintenance)",
    ),
    (
        "malformed_availability",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,Mon 8-12h,,,,\n").encode(),
        "row 2, column 'availability': malformed availability: 'Mon 8-12h' is not 'Day HH:MM-HH:MM'",
    ),
    (
        "malformed_preferred_times",
        "patients",
        b"patient_id,condition,phase,preferred_times\nP1,fibromyalgia,1,mornings\n",
        "row 2, column 'preferred_times': malformed preferred times",
    ),
    (
        "duplicate_patient_id",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,,,,,\nP1,fibromyalgia,2,,,,,\n").encode(),
        "row 3, column 'patient_id': duplicate patient_id 'P1' (first on row 2)",
    ),
    ("blank_patient_id", "patients", (P_HEAD + ",fibromyalgia,1,,,,,\n").encode(), "row 2, column 'patient_id': blank"),
    (
        "bad_priority",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,,,high,,\n").encode(),
        "row 2, column 'priority': 'high' is not a whole number 0-100",
    ),
    (
        "unknown_preferred_staff",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,,ZZ9,,,\n").encode(),
        "row 2, column 'preferred_staff': unknown staff id 'ZZ9' (staff: MD1, AC1, PT1)",
    ),
    (
        "bad_phase_start",
        "patients",
        (P_HEAD + "P1,fibromyalgia,3,,,,30/11/2026,\n").encode(),
        "row 2, column 'phase_start': '30/11/2026' is not a date YYYY-MM-DD",
    ),
    (
        "bad_needs_assessment",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,,,,,perhaps\n").encode(),
        "row 2, column 'needs_assessment': 'perhaps' is not yes or no",
    ),
    (
        "maintenance_not_chronic",
        "patients",
        (P_HEAD + "P1,patellofemoral_syndrome,maintenance,,,,,\n").encode(),
        "row 2, column 'phase': maintenance is for chronic conditions only",
    ),
    (
        "unquoted_comma",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,Mon,Wed 08:00-12:00,,,,\n").encode(),
        "row 2: 9 values but the header has 8 columns (put text that contains ',' in double quotes)",
    ),
    ("header_only", "patients", P_HEAD.encode(), "has a header but no patients"),
    ("empty_file", "patients", b"  \n\n", "empty file"),
    (
        "not_utf8",
        "patients",
        (P_HEAD + "P1,fibromyalgia,1,,,,,\n").encode() + b"P2 Ren\xe9e,fibromyalgia,1,,,,,\n",
        "row 3: not UTF-8 text",
    ),
    ("excel_workbook", "patients", _xlsx_bytes(), "is an Excel workbook or a ZIP archive, not CSV"),
    ("json_not_csv", "patients", b'[{"patient_id": "P1"}]\n', "looks like JSON, not CSV"),
    (
        "unknown_role",
        "staff",
        b"staff_id,role\nMD1,physician\nN1,nurse\n",
        "row 3, column 'role': unknown role 'nurse' (roles: physician, acupuncturist, physiotherapist",
    ),
    (
        "duplicate_staff_id",
        "staff",
        b"staff_id,role\nMD1,physician\nMD1,acupuncturist\n",
        "row 3, column 'staff_id': duplicate staff_id 'MD1' (first on row 2)",
    ),
    (
        "staff_outside_clinic_hours",
        "staff",
        b"staff_id,role,availability\nMD1,physician,Sat 08:00-12:00\n",
        "row 2, column 'availability': no hours inside the clinic's opening hours",
    ),
    ("bad_staff_id", "staff", b"staff_id,role\nMD 1,physician\n", "row 2, column 'staff_id': 'MD 1' is not a staff id"),
    (
        "roster_bad_date",
        "roster",
        (R_HEAD + "P1,acupuncture,AC1,ACU1,2026-13-01,08:00,08:45\n").encode(),
        "row 2, column 'date': '2026-13-01' is not a calendar date",
    ),
    (
        "roster_bad_time",
        "roster",
        (R_HEAD + "P1,acupuncture,AC1,ACU1,2026-11-30,8h,08:45\n").encode(),
        "row 2, column 'start': '8h' is not a time HH:MM",
    ),
    (
        "roster_end_before_start",
        "roster",
        (R_HEAD + "P1,acupuncture,AC1,ACU1,2026-11-30,09:00,08:45\n").encode(),
        "row 2, column 'end': 08:45 is not after start 09:00",
    ),
    (
        "roster_unknown_session",
        "roster",
        (R_HEAD + "P1,massage,AC1,ACU1,2026-11-30,08:00,08:45\n").encode(),
        "row 2, column 'session': unknown session 'massage' (sessions: acupuncture, physiotherapy, assessment)",
    ),
    (
        "roster_missing_column",
        "roster",
        b"patient_id,session,staff_id,date,start,end\n",
        "row 1: missing column 'room'",
    ),
]


def write_case(folder: Path, kind: str, content: bytes) -> dict[str, Path]:
    """The three input files of a case in ``folder``: the broken one replaces the good one of its kind."""
    files = {"patients": GOOD_PATIENTS.encode(), "staff": GOOD_STAFF.encode(), "roster": GOOD_ROSTER.encode()}
    files[kind] = content
    paths = {}
    for k, data in files.items():
        paths[k] = folder / f"{k}.csv"
        paths[k].write_bytes(data)
    return paths
