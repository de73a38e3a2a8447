"""The optimizer's CSV readers: normalised tables from good files, one clear line per problem in bad ones."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from optimizer.io import MAX_REPORTED, read_inputs, read_patients, read_roster, read_staff
from optimizer.tables import PATIENT_COLUMNS, ROSTER_COLUMNS, STAFF_COLUMNS
from optimizer_csv_corpus import CASES, GOOD_PATIENTS, GOOD_ROSTER, GOOD_STAFF, write_case
from scenarios import InputError


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize("case_id,kind,content,expected", CASES, ids=[c[0] for c in CASES])
def test_each_broken_file_gives_one_line_naming_file_row_and_column(
    tmp_path, baseline, case_id, kind, content, expected
):
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
    path = _write(
        tmp_path,
        "patients.csv",
        "patient_id,condition,phase,priority\nP1,migraine,1,\nP2,fibromyalgia,7,-1\nP1,fibromyalgia,1,\n",
    )
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
    text = "\ufeff Patient_ID ; Condition ; Phase ; availability\nP1;Chronic low back pain;Phase 2;mon-wed 8:00-12:00\n"
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


# ------------------------------------------------------------------------- sample weeks and generated weeks
import datetime as dt  # noqa: E402

import numpy as np  # noqa: E402

from optimizer.instances import DEFAULT_WEEK, generate_week, load_ratios, weekly_demand  # noqa: E402
from optimizer.sample import sample_week, steady_state_patients  # noqa: E402
from scenarios import load_scenario  # noqa: E402

MONDAY = dt.date(2026, 11, 30)


@pytest.mark.parametrize("name", ["baseline", "chronic_pain", "post_surgical", "pt_only", "understaffed"])
def test_sample_week_passes_the_readers_unchanged(tmp_path, name):
    scenario = load_scenario(name)
    patients, staff = sample_week(scenario, 3, week_start=MONDAY)
    p, s = tmp_path / "patients.csv", tmp_path / "staff.csv"
    patients.to_csv(p, index=False)
    staff.to_csv(s, index=False)
    back_p, back_s = read_inputs(p, s, scenario)
    pd.testing.assert_frame_equal(back_p, patients)
    pd.testing.assert_frame_equal(back_s, staff)


def test_sample_week_is_reproducible_from_its_seed():
    scenario = load_scenario("baseline")
    a = sample_week(scenario, 7, week_start=MONDAY)
    b = sample_week(scenario, 7, week_start=MONDAY)
    c = sample_week(scenario, 8, week_start=MONDAY)
    pd.testing.assert_frame_equal(a[0], b[0])
    assert not a[0].equals(c[0])


def test_sample_week_phase_counts_average_littles_law():
    """Mean patients per phase over 40 seeds is lambda * W within 4 standard errors of a Poisson mean."""
    scenario = load_scenario("baseline")
    lam = scenario.demand.referrals_per_week
    p = scenario.protocol
    chronic = sum(s for c, s in scenario.demand.condition_mix.items() if scenario.conditions[c].chronic)
    expected = {
        "1": lam * p.phase1.typical_weeks,
        "2": lam * p.phase2.typical_weeks,
        "3": lam * p.phase3.typical_weeks,
        "maintenance": lam * chronic * p.maintenance.duration_weeks,
    }
    assert steady_state_patients(scenario) == pytest.approx(expected)
    seeds = range(40)
    counts = pd.DataFrame(
        [sample_week(scenario, s, week_start=MONDAY)[0]["phase"].value_counts() for s in seeds]
    ).fillna(0)
    for phase, mean in expected.items():
        assert abs(counts[phase].mean() - mean) < 4 * np.sqrt(mean / len(seeds)), (phase, counts[phase].mean(), mean)


def test_sample_week_follows_the_protocol():
    scenario = load_scenario("baseline")
    patients, staff = sample_week(scenario, 1, week_start=MONDAY)
    chronic = {c.value for c, spec in scenario.conditions.items() if spec.chronic}
    maint = patients[patients["phase"] == "maintenance"]
    assert len(maint) > 0 and set(maint["condition"]) <= chronic
    weeks_in = (MONDAY - pd.to_datetime(patients["phase_start"]).dt.date).map(lambda d: d.days // 7)
    limit = patients["phase"].map({"1": 3, "2": 2, "3": 5, "maintenance": 26})
    assert ((weeks_in >= 0) & (weeks_in < limit)).all()
    new = (weeks_in == 0) & patients["phase"].isin(["1", "2", "3"])
    assert (patients["needs_assessment"] == new).all()
    assert set(staff["staff_id"]) == {s.id for s in scenario.staff}
    assert staff.set_index("staff_id").loc["MDA1", "role"] == "physician|acupuncturist"
    share_blank = (patients["availability"] == "").mean()
    assert 0.3 < share_blank < 0.7
    assert set(patients["preferred_staff"]) - {""} <= set(staff["staff_id"])


def test_sample_week_uses_a_given_population():
    scenario = load_scenario("baseline")
    population = pd.DataFrame(
        {
            "patient_id": ["A", "B"],
            "condition": ["fibromyalgia", "chronic_neck_pain"],
            "phase": ["1", "maintenance"],
            "phase_start": [MONDAY.isoformat(), "2026-10-05"],
        }
    )
    patients, _ = sample_week(scenario, 0, week_start=MONDAY, population=population)
    assert list(patients["patient_id"]) == ["A", "B"]
    assert list(patients["needs_assessment"]) == [True, False]
    with pytest.raises(InputError, match="population: missing column"):
        sample_week(scenario, 0, population=population.drop(columns="phase"))


def _independent_load(scenario, patients, staff, week):
    """Demand/capacity per role written out from the protocol table of docs/reference/formats.md, baseline numbers."""
    demand = {"physician": 0, "acupuncturist": 0, "physiotherapist": 0}
    for r in patients.itertuples():
        weeks_in = (week - dt.date.fromisoformat(r.phase_start)).days // 7
        acu = {"1": 2, "2": 1, "3": int(weeks_in % 2 == 0), "maintenance": int(weeks_in % 4 == 0)}[r.phase]
        pt = {"1": 0, "2": 2, "3": 2, "maintenance": 0}[r.phase]
        demand["acupuncturist"] += 45 * acu
        demand["physiotherapist"] += 45 * pt
        demand["physician"] += (45 if r.phase == "1" else 15) * r.needs_assessment
    capacity = {"physician": 0, "acupuncturist": 0, "physiotherapist": 0}
    per_staff = {"physician": 1, "acupuncturist": 2, "physiotherapist": 2}
    for s in staff.itertuples():
        minutes = (
            5 * 600
            if not s.availability
            else sum(
                int(b[:2]) * 60 + int(b[3:]) - int(a[:2]) * 60 - int(a[3:])
                for a, b in (w.split(" ")[1].split("-") for w in s.availability.split("; "))
            )
        )
        capacity[s.role] += per_staff[s.role] * minutes
    return {r: demand[r] / capacity[r] for r in demand}, demand


@pytest.mark.parametrize("n", [50, 200, 800])
def test_generated_week_demand_is_90_to_110_percent_of_capacity(n):
    scenario, patients, staff = generate_week(n, seed=11)
    assert len(patients) == n
    ratios, demand = _independent_load(scenario, patients, staff, DEFAULT_WEEK)
    assert weekly_demand(scenario, patients, DEFAULT_WEEK) == demand
    assert load_ratios(scenario, patients, staff, DEFAULT_WEEK) == pytest.approx(ratios)
    for role, ratio in ratios.items():
        assert 0.9 <= ratio <= 1.1, (role, ratio)
    k = scenario.rooms
    assert k.acupuncture_rooms == 2 * (staff["role"] == "acupuncturist").sum()
    assert k.gym_stations == 2 * (staff["role"] == "physiotherapist").sum()


def test_generated_week_scales_staff_with_load_and_reads_back(tmp_path):
    scenario, patients, staff = generate_week(200, seed=2)
    tight = generate_week(200, seed=2, load=1.25)
    ratios, _ = _independent_load(*tight, DEFAULT_WEEK)
    assert all(1.15 <= r <= 1.35 for r in ratios.values()), ratios
    patients.to_csv(tmp_path / "p.csv", index=False)
    staff.to_csv(tmp_path / "s.csv", index=False)
    back_p, _ = read_inputs(tmp_path / "p.csv", tmp_path / "s.csv", scenario)
    pd.testing.assert_frame_equal(back_p, patients)
    again = generate_week(200, seed=2)
    pd.testing.assert_frame_equal(again[1], patients)


# ------------------------------------------------------------------------------------- property-based
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CSV_ALPHABET = st.sampled_from(
    list("abcP1234567890 ,;\"'\n\r\t=-+@:|é")
    + ["patient_id", "condition", "phase", "fibromyalgia", "maintenance", "Mon 08:00-12:00", "\x00", "\ufeff"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), st.lists(_CSV_ALPHABET, max_size=60).map(lambda xs: "".join(xs).encode())))
def test_any_file_content_gives_a_table_or_an_input_error_never_a_crash(tmp_path, baseline, content):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(content)
    scenario = baseline
    for reader in (
        lambda: read_patients(path, scenario),
        lambda: read_staff(path, scenario),
        lambda: read_roster(path),
    ):
        try:
            df = reader()
        except InputError as e:
            assert all(line.startswith(str(path)) for line in str(e).splitlines()), str(e)
            continue
        assert isinstance(df, pd.DataFrame)


_ID = (
    st.text(alphabet=st.sampled_from(list("ABCxyz0123456789_=+-@' ")), min_size=1, max_size=8)
    .map(str.strip)
    .filter(bool)
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(
            _ID,
            st.sampled_from(["acupuncture", "physiotherapy", "assessment"]),
            st.integers(0, 6),
            st.integers(8 * 4, 17 * 4),
        ),
        min_size=0,
        max_size=12,
    )
)
def test_written_roster_reads_back_identical(tmp_path, rows):
    from optimizer.exports import roster_table, write_roster_csv
    from optimizer.tables import RosterResult

    roster = pd.DataFrame(
        [
            (
                pid,
                kind,
                "AC1",
                "ACU-1",
                (MONDAY + dt.timedelta(days=d)).isoformat(),
                f"{q // 4:02d}:{q % 4 * 15:02d}",
                f"{q // 4:02d}:{q % 4 * 15 + 10:02d}",
            )
            for pid, kind, d, q in rows
        ],
        columns=ROSTER_COLUMNS,
    )
    result = RosterResult(roster, pd.DataFrame(columns=["patient_id", "session", "reason"]))
    write_roster_csv(result, tmp_path / "r.csv")
    back = read_roster(tmp_path / "r.csv")
    # a leading quote before a formula trigger is the writer's escape, so such ids cannot be told apart
    expected = roster_table(result)
    if expected.empty:
        assert back.empty and list(back.columns) == ROSTER_COLUMNS
        return
    ambiguous = expected["patient_id"].str.match(r"^'[=+\-@]")
    pd.testing.assert_frame_equal(
        back[~ambiguous.values].reset_index(drop=True), expected[~ambiguous].reset_index(drop=True)
    )
