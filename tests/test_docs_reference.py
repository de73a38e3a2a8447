"""The generated reference pages (docs/reference/) are what the code generates now, and the generator reads the
schema, the YAML comments and the CLI correctly."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabflow import docs_gen

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(docs_gen.PAGES))
def test_generated_reference_page_is_up_to_date(name):
    path = ROOT / docs_gen.REFERENCE_DIR / name
    assert path.exists(), f"{path} is missing: run `python -m rehabflow.docs_gen`"
    assert path.read_text(encoding="utf-8") == docs_gen.PAGES[name](), (
        f"{path} is stale: run `python -m rehabflow.docs_gen` and commit the result"
    )


def test_check_mode_names_a_stale_page_and_fails(tmp_path, capsys):
    docs_gen.write_pages(tmp_path)
    assert docs_gen.main(["--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / docs_gen.REFERENCE_DIR / "cli.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert docs_gen.main(["--check", "--root", str(tmp_path)]) == 1
    assert f"{page}: stale" in capsys.readouterr().err


def test_yaml_comments_follow_nesting_continuation_lines_and_quotes():
    text = (
        "calendar:\n"
        '  opening_time: "08:00"   # assumption: a # inside quotes "is not" a comment\n'
        "  slot_minutes: 15        # first line\n"
        "                          # second line\n"
        "# a section header, not a continuation\n"
        "rooms:                    # parent comment\n"
        "  gym_stations: 6\n"
        "  acupuncture_rooms: {a: 1}\n"
        "                          # only on the next line\n"
    )
    got = docs_gen.yaml_comments(text)
    assert got["calendar.opening_time"] == 'assumption: a # inside quotes "is not" a comment'
    assert got["calendar.slot_minutes"] == "first line second line"
    assert got["rooms.acupuncture_rooms"] == "only on the next line"
    assert "rooms.gym_stations" not in got
    assert docs_gen.source_of(got, "rooms.gym_stations") == "parent comment"  # falls back to the parent
    assert docs_gen.source_of(got, "rooms.acupuncture_rooms.a") == "only on the next line"


def test_every_scenario_field_has_a_row_with_its_bounds_default_and_source():
    from scenarios import Scenario

    rows = {r.path: r for r in docs_gen.schema_rows(Scenario)}
    slot = rows["calendar.slot_minutes"]
    assert (slot.type, slot.range, slot.default) == ("integer", ">= 5, <= 120", "`15`")
    assert rows["demand.condition_mix.<condition>"].range == ">= 0.0, <= 1.0"  # bounds of the mapping's values
    assert rows["staff[].id"].range.startswith("at least 1 characters, at most 40 characters")
    assert rows["protocol.phase1.non_responder_policy"].type == "one of: `extend`, `reduced_load`, `exit`"
    page = docs_gen.scenario_page()
    # every leaf is on the page, and the baseline's source comment sits beside its value
    assert all(f"| `{path}` |" in page for path in rows)
    row = next(line for line in page.splitlines() if line.startswith("| `pain_model.effect_persistence_weekly` |"))
    assert row.startswith("| `pain_model.effect_persistence_weekly` | number | >= 0.0, <= 1.0 | required | `0.9")
    assert row.endswith("| CP §2: ~15% of the effect lost at 12 months -> 0.85^(1/52) |")


def test_cli_page_lists_every_command_and_option_of_the_app():
    import typer

    from rehabflow.cli import app

    page = docs_gen.cli_page()
    group = typer.main.get_command(app)
    sections = {s.split("`", 1)[0]: s for s in page.split("## `rehabflow ")[1:]}
    commands = list(docs_gen._commands(group))
    assert sorted(sections) == sorted(name for name, _ in commands)
    for name, command in commands:
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                assert f"| `{param.opts[0]}`" in sections[name], (name, param.opts)
