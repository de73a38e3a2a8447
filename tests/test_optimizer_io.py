"""The optimizer's CSV readers: normalised tables from good files, one clear line per problem in bad ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from optimizer_csv_corpus import CASES, GOOD_PATIENTS, GOOD_ROSTER, GOOD_STAFF, write_case

from optimizer.io import MAX_REPORTED, read_inputs, read_patients, read_roster, read_staff
from optimizer.tables import PATIENT_COLUMNS, ROSTER_COLUMNS, STAFF_COLUMNS
from scenarios import InputError


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize("case_id,kind,content,expected", CASES, ids=[c[0] for c in CASES])
def test_each_broken_file_gives_one_line_naming_file_row_and_column(tmp_path, baseline, case_id, kind, content, expected):
    paths = write_case(tmp_path, kind, content)
    with pytest.raises(InputError) as err:
        if kind == "roster":
            read_roster(paths["roster"], "roster to check")
        else:
            read_inputs(paths["patients"], paths["staff"], baseline)
    lines = str(err.value).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(str(paths[kind])), lines[0]
    assert expected in lines[0], lines[0]
    assert "Traceback" not in lines[0]


def test_corpus_has_at_least_ten_distinct_problems():
    assert len({expected for _, _, _, expected in CASES}) >= 10


def test_several_problems_are_all_reported_in_row_order(tmp_path, baseline):
    path = _write(tmp_path, "patients.csv", "patient_id,condition,phase,priority\n"
                  "P1,migraine,1,\n"
                  "P2,fibromyalgia,7,-1\n"
                  "P1,fibromyalgia,1,\n")
    with pytest.raises(InputError) as err:
        read_patients(path, baseline)
    lines = str(err.value).splitlines()
    assert [line.split(",")[0] for line in lines] == [f"{path}: row {r}" for r in (2, 3, 3, 4)]
    assert "column 'condition'" in lines[0]
    assert "column 'phase'" in lines[1] and "column 'priority'" in lines[2]
    assert "duplicate patient_id 'P1'" in lines[3]


def test_problem_list_is_capped_with_a_count_of_the_rest(tmp_path, baseline):
    n = MAX_REPORTED + 7
    body = "".join(f"P{i},migraine,1\n" for i in range(n))
    path = _write(tmp_path, "patients.csv", "patient_id,condition,phase\n" + body)
    with pytest.raises(InputError) as err:
        read_patients(path, baseline)
    lines = str(err.value).splitlines()
    assert len(lines) == MAX_REPORTED + 1
    assert lines[-1] == "... and 7 more problems"


def test_rows_are_counted_as_in_a_spreadsheet_blank_lines_included(tmp_path, baseline):
    path = _write(tmp_path, "patients.csv", "patient_id,condition,phase\nP1,fibromyalgia,1\n\nP2,fibromyalgia,9\n")
    with pytest.raises(InputError, match=r"row 4, column 'phase'"):
        read_patients(path, baseline)


def test_missing_file_is_one_line(tmp_path, baseline):
    with pytest.raises(InputError, match=r"nope\.csv: no such file$"):
        read_patients(tmp_path / "nope.csv", baseline)


def test_good_patients_are_normalised_to_the_boundary_columns(tmp_path, baseline):
    df = read_patients(_write(tmp_path, "patients.csv", GOOD_PATIENTS), baseline)
    assert list(df.columns) == PATIENT_COLUMNS
    assert list(df["patient_id"]) == ["P1", "P2", "P3"]
    assert list(df["phase"]) == ["1", "2", "maintenance"]
    assert list(df["priority"]) == [2, 0, 0] and df["priority"].dtype.kind == "i"
    assert list(df["needs_assessment"]) == [True, False, False]
    assert df.loc[2, "availability"] == "Mon 08:00-18:00; Wed 08:00-18:00; Fri 08:00-18:00"
    assert list(df["phase_start"]) == ["2026-11-30", "", "2026-11-02"]


def test_lenient_spellings_are_read_as_the_canonical_values(tmp_path, baseline):
    text = ("\ufeff Patient_ID ; Condition ; Phase ; availability\n"
            "P1;Chronic low back pain;Phase 2;mon-wed 8:00-12:00\n")
    df = read_patients(_write(tmp_path, "p.csv", text), baseline)
    assert df.loc[0, "condition"] == "chronic_low_back_pain"
    assert df.loc[0, "phase"] == "2"
    assert df.loc[0, "availability"] == "Mon 08:00-12:00; Tue 08:00-12:00; Wed 08:00-12:00"
    assert df.loc[0, "preferred_staff"] == "" and df.loc[0, "priority"] == 0


def test_staff_roles_are_joined_in_a_fixed_order(tmp_path, baseline):
    text = GOOD_STAFF + "MDA1,Acupuncturist | physician,\n"
    df = read_staff(_write(tmp_path, "staff.csv", text), baseline)
    assert list(df.columns) == STAFF_COLUMNS
    assert df.set_index("staff_id").loc["MDA1", "role"] == "physician|acupuncturist"
    assert df.set_index("staff_id").loc["AC1", "availability"] == ""


def test_preferred_staff_is_only_checked_when_the_staff_table_is_given(tmp_path, baseline):
    path = _write(tmp_path, "patients.csv", "patient_id,condition,phase,preferred_staff\nP1,fibromyalgia,1,XY\n")
    assert read_patients(path, baseline).loc[0, "preferred_staff"] == "XY"
    staff = read_staff(_write(tmp_path, "staff.csv", GOOD_STAFF), baseline)
    with pytest.raises(InputError, match="unknown staff id 'XY'"):
        read_patients(path, baseline, staff=staff)


def test_problems_of_both_input_files_are_reported_together(tmp_path, baseline):
    p = _write(tmp_path, "patients.csv", "patient_id,condition,phase\nP1,migraine,1\n")
    s = _write(tmp_path, "staff.csv", "staff_id,role\nN1,nurse\n")
    with pytest.raises(InputError) as err:
        read_inputs(p, s, baseline)
    lines = str(err.value).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{p}: row 2") and lines[1].startswith(f"{s}: row 2")


def test_roster_reads_back_and_an_empty_roster_is_allowed(tmp_path):
    df = read_roster(_write(tmp_path, "roster.csv", GOOD_ROSTER))
    assert list(df.columns) == ROSTER_COLUMNS
    assert df.iloc[1].tolist() == ["P2", "physiotherapy", "PT1", "GYM1", "2026-12-01", "10:00", "10:45"]
    empty = read_roster(_write(tmp_path, "pinned.csv", ",".join(ROSTER_COLUMNS) + "\n"), "pinned")
    assert empty.empty and list(empty.columns) == ROSTER_COLUMNS


def test_roster_label_names_the_file_purpose_in_file_level_problems(tmp_path):
    with pytest.raises(InputError, match=r"pinned\.csv \(pinned appointments\): empty file"):
        read_roster(_write(tmp_path, "pinned.csv", ""), "pinned appointments")


def test_formula_protection_quote_is_removed_on_reading(tmp_path):
    df = read_roster(_write(tmp_path, "roster.csv", GOOD_ROSTER.replace("P1,", "'=P1,", 1)))
    assert df.loc[0, "patient_id"] == "=P1"
    df2 = read_roster(_write(tmp_path, "r2.csv", GOOD_ROSTER.replace("P1,", "'P1,", 1)))
    assert df2.loc[0, "patient_id"] == "'P1"  # a quote before ordinary text is data


def test_values_that_look_like_numbers_or_na_stay_text(tmp_path, baseline):
    path = _write(tmp_path, "patients.csv", "patient_id,condition,phase\nNA,fibromyalgia,1\n007,fibromyalgia,2\n")
    df = read_patients(path, baseline)
    assert list(df["patient_id"]) == ["NA", "007"]
    assert isinstance(df, pd.DataFrame)
