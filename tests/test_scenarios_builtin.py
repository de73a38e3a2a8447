"""The built-in scenarios: they validate, they differ as described, every default is sourced."""

from __future__ import annotations

import re

import pytest

from scenarios import Role, builtin_names, builtin_text, load_scenario

EXPECTED = {"baseline", "post_surgical", "chronic_pain", "understaffed", "pt_only"}


def test_all_expected_builtins_ship():
    assert EXPECTED <= set(builtin_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_scenario_validates_and_is_named_after_its_file(name):
    s = load_scenario(name)
    assert s.name == name
    assert s.description


def test_post_surgical_is_weighted_to_post_surgical_patients():
    mix = load_scenario("post_surgical").demand.condition_mix
    top = max(mix, key=mix.get)
    assert top.value == "post_surgical_orthopaedic" and mix[top] >= 0.5


def test_chronic_pain_scenario_is_low_back_pain_and_fibromyalgia_only():
    mix = load_scenario("chronic_pain").demand.condition_mix
    nonzero = {c.value for c, share in mix.items() if share > 0}
    assert nonzero == {"chronic_low_back_pain", "fibromyalgia"}


def test_understaffed_has_less_staff_and_more_demand_than_baseline():
    base, under = load_scenario("baseline"), load_scenario("understaffed")
    assert under.demand.referrals_per_week > base.demand.referrals_per_week
    for role in (Role.acupuncturist, Role.physiotherapist):
        assert len(under.staff_with_role(role)) < len(base.staff_with_role(role))


def test_pt_only_has_no_acupuncture_anywhere():
    p = load_scenario("pt_only").protocol
    assert p.phase1.acupuncture_per_week == 0
    assert p.phase2.acupuncture_per_week == 0
    assert p.phase3.acupuncture_every_weeks == 0
    assert p.maintenance.acupuncture_every_weeks == 0
    assert p.phase2.pt_per_week > 0


SOURCE = re.compile(r"CP §\d|protocol|assumption|as low back pain|calibrat|setting", re.IGNORECASE)
VALUE_LINE = re.compile(
    r"^(?P<indent>\s*)(?:- )?(?P<key>[A-Za-z_0-9]+):\s*(?P<value>[^#\s][^#]*?)?\s*(?:#(?P<comment>.*))?$"
)


def _unsourced_parameter_lines(text: str) -> list[str]:
    """Parameter lines without a source: neither on the line, nor in its continuation comments, nor on a parent."""
    lines = text.splitlines()
    missing: list[str] = []
    parents: list[tuple[int, bool]] = []  # (indent, parent line is sourced)
    for i, line in enumerate(lines):
        m = VALUE_LINE.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        indent = len(m.group("indent"))
        while parents and parents[-1][0] >= indent:
            parents.pop()
        continuation = []
        for nxt in lines[i + 1 :]:
            if nxt.strip().startswith("#") and len(nxt) - len(nxt.lstrip()) > indent:
                continuation.append(nxt)
            else:
                break
        sourced = bool(SOURCE.search((m.group("comment") or "") + " ".join(continuation)))
        inherited = any(ok for _, ok in parents)
        if m.group("value") is None:
            parents.append((indent, sourced or inherited))
        elif not (sourced or inherited) and m.group("key") not in {
            "name",
            "description",
            "currency",
            "extends",
            "seed",
        }:
            missing.append(f"line {i + 1}: {line.strip()}")
    return missing


def test_every_baseline_default_cites_a_source_or_says_assumption():
    text = builtin_text("baseline")
    assert _unsourced_parameter_lines(text) == []


def test_source_check_flags_an_unsourced_line():
    """The sourcing check itself can fail: a parameter line with no comment is reported."""
    bad = "rooms:\n  gym_stations: 6\n  acupuncture_rooms: 4   # assumption\n"
    assert _unsourced_parameter_lines(bad) == ["line 2: gym_stations: 6"]
