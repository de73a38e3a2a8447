"""``rehabflow scenarios list|show`` and ``rehabflow validate``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from scenarios import InputError, builtin_names, builtin_text, dump_scenario_yaml, load_scenario, scenario_hash

from .app import app, fail, user_errors

scenarios_app = typer.Typer(help="List and show the built-in scenarios.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.command("list")
@user_errors
def list_scenarios() -> None:
    """The built-in scenarios with their staff (people, then who holds each role), referrals and description."""
    table = Table(title="Built-in scenarios", show_lines=False)
    for col in ("name", "staff", "physicians", "acupuncturists", "physiotherapists", "referrals/week", "description"):
        table.add_column(col, overflow="fold")
    dual: set[str] = set()
    for name in builtin_names():
        s = load_scenario(name)
        counts = s.role_counts()
        dual.update(f"{m.id} ({' + '.join(r.value for r in m.roles)})" for m in s.staff if len(m.roles) > 1)
        table.add_row(
            name,
            str(len(s.staff)),
            str(counts["physician"]),
            str(counts["acupuncturist"]),
            str(counts["physiotherapist"]),
            f"{s.demand.referrals_per_week:g}",
            s.description,
        )
    console = Console(width=160)
    console.print(table)
    if dual:
        console.print(
            f"staff counts people; a practitioner with two roles counts once there and in each role's "
            f"column: {', '.join(sorted(dual))}.",
            highlight=False,
        )


@scenarios_app.command("show")
@user_errors
def show(
    name: str = typer.Argument(..., help="A built-in scenario name."),
    resolved: bool = typer.Option(
        False, "--resolved", help="Print every field (an `extends:` file merged into its base)."
    ),
) -> None:
    """Print a built-in scenario's YAML, to copy and edit (`rehabflow scenarios show baseline > my.yaml`)."""
    if resolved:
        typer.echo(dump_scenario_yaml(load_scenario(name)), nl=False)
    else:
        typer.echo(builtin_text(name), nl=False)


@app.command("validate")
@user_errors
def validate(files: list[Path] = typer.Argument(..., help="Scenario YAML files (or built-in names).")) -> None:
    """Check scenario files: `FILE: OK`, or every problem as `FILE: path.to.field: reason` (exit status 2)."""
    problems: list[str] = []
    for f in files:
        try:
            s = load_scenario(f)
        except InputError as e:
            problems.extend(str(e).splitlines())
            continue
        typer.echo(f"{f}: OK ({s.name}, hash {scenario_hash(s)})")
    if problems:
        raise fail("\n".join(problems))
