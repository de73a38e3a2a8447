"""The dashboard's lever logic, upload checks and background runs, without Streamlit."""

from __future__ import annotations

import threading

import pytest

from rehabflow.services.downloads import edited_scenario_yaml, with_edited_description
from rehabflow.services.jobs import JobRegistry
from rehabflow.services.levers import LEVERS, apply_levers, diff_summary, errors_by_lever, lever_values
from rehabflow.services.uploads import decode_upload, scenario_from_upload
from scenarios import InputError, load_scenario, parse_yaml_text, scenario_hash


@pytest.mark.parametrize("name", ["baseline", "understaffed", "pt_only"])
def test_untouched_levers_give_back_the_same_scenario(name):
    base = load_scenario(name)
    assert scenario_hash(apply_levers(base, lever_values(base))) == scenario_hash(base)


def test_every_lever_reads_a_value_from_the_scenario(baseline):
    values = lever_values(baseline)
    assert set(values) == {lever.path for lever in LEVERS}
    assert values["demand.referrals_per_week"] == baseline.demand.referrals_per_week
    assert sum(v for p, v in values.items() if p.startswith("demand.condition_mix.")) == pytest.approx(100.0)


def test_head_count_lever_adds_a_practitioner_holding_the_role(baseline):
    values = lever_values(baseline) | {"staff.physiotherapists": 3, "rooms.gym_stations": 9}
    edited = apply_levers(baseline, values)
    assert edited.role_counts()["physiotherapist"] == 3
    assert edited.rooms.gym_stations == 9
    assert baseline.role_counts()["physiotherapist"] == 2  # the input is not changed


def test_percent_levers_become_shares(baseline):
    values = lever_values(baseline) | {
        "demand.condition_mix.fibromyalgia": 20.0,
        "demand.condition_mix.chronic_low_back_pain": 20.0,
    }
    edited = apply_levers(baseline, values)
    assert edited.demand.condition_mix["fibromyalgia"] == pytest.approx(0.20)
    assert edited.demand.condition_mix["chronic_low_back_pain"] == pytest.approx(0.20)


def test_hours_of_one_practitioner_change_only_that_practitioner(baseline):
    edited = apply_levers(baseline, lever_values(baseline), {"PT1": "Mon-Fri 09:00-17:00"})
    hours = {s.id: s.availability for s in edited.staff}
    assert hours["PT1"] == "Mon-Fri 09:00-17:00"
    assert hours["PT2"] == baseline.staff[[s.id for s in baseline.staff].index("PT2")].availability


def _errors(base, values=None, hours=None):
    with pytest.raises(InputError) as e:
        apply_levers(base, lever_values(base) | (values or {}), hours)
    return errors_by_lever(str(e.value), [s.id for s in base.staff])


def test_condition_mix_not_adding_up_is_reported_next_to_the_mix(baseline):
    placed, general = _errors(baseline, {"demand.condition_mix.fibromyalgia": 20.0})
    assert not general
    assert list(placed) == ["demand.condition_mix"]
    assert "sum to 1" in placed["demand.condition_mix"][0]


def test_removing_every_physiotherapist_is_reported_next_to_that_lever(baseline):
    placed, _ = _errors(baseline, {"staff.physiotherapists": 0})
    assert "physiotherapist" in " ".join(placed["staff.physiotherapists"])


def test_every_problem_is_reported_at_once(baseline):
    placed, _ = _errors(baseline, {"staff.physiotherapists": 0, "demand.condition_mix.fibromyalgia": 20.0})
    assert {"staff.physiotherapists", "demand.condition_mix"} <= set(placed)


def test_bad_hours_are_reported_next_to_that_practitioner(baseline):
    placed, general = _errors(baseline, hours={"PT2": "Mon 9-10"})
    assert not general
    assert list(placed) == ["staff_hours.PT2"]
    assert "HH:MM" in placed["staff_hours.PT2"][0]


def test_warmup_longer_than_the_run_is_reported_in_the_run_section(baseline):
    data = baseline.model_copy(deep=True)
    data.run.warmup.method = "fixed"
    data.run.warmup.weeks = 10
    placed, _ = _errors(data, {"run.horizon_weeks": 8})
    assert any("warmup" in m for m in placed.get("run", []))


def test_edited_yaml_reads_back_to_the_edited_scenario(baseline):
    edited = apply_levers(baseline, lever_values(baseline) | {"staff.acupuncturists": 4})
    text = edited_scenario_yaml(baseline, edited)
    assert "Acupuncturists: 3 → 4" in text
    # the What-if page runs the scenario with its new description: the file reproduces that run
    described = with_edited_description(baseline, edited, diff_summary(baseline, edited))
    assert scenario_hash(parse_yaml_text(text, "download.yaml")) == scenario_hash(described)


def test_upload_may_extend_a_builtin_but_not_a_server_file():
    ok = scenario_from_upload("extends: baseline\nname: mine\ndemand:\n  referrals_per_week: 15\n", "mine.yaml")
    assert ok.demand.referrals_per_week == 15
    with pytest.raises(InputError, match="may only extend a built-in"):
        scenario_from_upload("extends: /etc/passwd.yaml\nname: x\n", "evil.yaml")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"\xff\xfe\x00bad", "UTF-8"),
        (b"name: [unclosed\n", "invalid YAML"),
        (b"just text", "mapping"),
        (b"extends: baseline\nname: x\nrooms:\n  gym_stations: -1\n", "rooms.gym_stations"),
    ],
)
def test_bad_uploads_raise_input_error_naming_the_file(data, fragment):
    with pytest.raises(InputError) as e:
        scenario_from_upload(decode_upload(data, "up.yaml"), "up.yaml")
    assert "up.yaml" in str(e.value) and fragment in str(e.value)


def test_registry_runs_a_key_once_and_keeps_its_result():
    calls = []
    release = threading.Event()

    def work(progress):
        calls.append(1)
        progress(1, 2)
        release.wait(5)
        progress(2, 2)
        return 42

    reg = JobRegistry(workers=1, keep=4)
    job = reg.submit("k", work)
    assert reg.submit("k", work) is job  # a rerun while it runs joins the same job
    release.set()
    ticks = []
    reg.wait(job, lambda j: ticks.append(j.fraction), interval=0.01)
    assert job.result() == 42 and ticks[-1] == 1.0
    assert reg.submit("k", work) is job and len(calls) == 1


def test_registry_retries_a_failed_key():
    reg = JobRegistry(workers=1, keep=4)
    job = reg.submit("bad", lambda p: 1 / 0)
    reg.wait(job, lambda j: None, interval=0.01)
    assert isinstance(job.error, ZeroDivisionError)
    again = reg.submit("bad", lambda p: 7)
    reg.wait(again, lambda j: None, interval=0.01)
    assert again is not job and again.result() == 7


def test_registry_forgets_the_oldest_finished_jobs():
    reg = JobRegistry(workers=1, keep=2)
    for k in "abc":
        reg.wait(reg.submit(k, lambda p, k=k: k), lambda j: None, interval=0.01)
    assert reg.get("a") is None and reg.get("c").result() == "c"
