"""The dashboard's only door into ``optimizer``: reading uploads, sample weeks, solving, validating, exports.

Thin calls, no scheduling logic. Uploaded files are written to a private temporary folder under generated names
(``rehabflow.services.uploads.read_csv_uploads``); the optimizer's ``InputError`` messages name the file as the
user uploaded it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import optimizer
from optimizer import RosterResult
from optimizer.progress import ProgressCallback, SolveProgress, Stopper
from scenarios import Scenario


@dataclass(frozen=True)
class RosterVerdict:
    """The independent validator's answer on a roster: every hard-rule violation, as a plain sentence."""

    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def read_uploads(
    scenario: Scenario, patients: tuple[str, bytes], staff: tuple[str, bytes]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse uploaded ``patients.csv`` and ``staff.csv`` with the optimizer's readers (``InputError`` on problems).

    Both files are read together (``optimizer.read_inputs``) so that every problem of both is reported at once and
    ``preferred_staff`` is checked against the uploaded staff.
    """
    from .uploads import (
        read_csv_uploads,  # saved under generated names, never the user's (rehabflow issue 12)
    )

    return read_csv_uploads([patients, staff], lambda p_path, s_path: optimizer.read_inputs(p_path, s_path, scenario))


def sample_week(scenario: Scenario, seed: int, week_start: dt.date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sample week: the patients a simulated run of the scenario has in each phase at its end (as
    ``rehabflow sample-week``), completed by the optimizer's sampler; ``phase_start`` relative to ``week_start``."""
    from sim.snapshot import population_at_end

    population = population_at_end(scenario, seed, week_start)
    return optimizer.sample_week(scenario, seed, week_start=week_start, population=population)


def solve(
    scenario: Scenario,
    patients: pd.DataFrame,
    staff: pd.DataFrame,
    week_start: dt.date,
    time_limit: float,
    reproducible: bool = False,
    progress: ProgressCallback | None = None,
    stopper: Stopper | None = None,
) -> RosterResult:
    """``time_limit`` wall-clock seconds (free workers); ``reproducible``: deterministic seconds instead (same
    inputs, same roster). ``progress`` gets each improvement (``optimizer.progress.SolveProgress``);
    ``stopper.stop()`` ends the search with the best roster so far."""
    return optimizer.solve_roster(
        scenario,
        patients,
        staff,
        week_start,
        time_limit=time_limit,
        reproducible=reproducible,
        progress=progress,
        stopper=stopper,
    )


def new_stopper() -> Stopper:
    """A Stop button's handle on a solve (``optimizer.progress.Stopper``)."""
    return Stopper()


def progress_text(event: SolveProgress) -> str:
    """One line for a progress report: sessions placed, objective, bound, gap."""
    gap = "n/a" if event.gap is None else f"{100 * event.gap:.1f}%"
    bound = "n/a" if event.bound is None else f"{event.bound:.0f}"
    return (
        f"{event.placed} of {event.required} sessions placed · objective {event.objective:.0f} · "
        f"bound {bound} · gap {gap} · {event.phase}"
    )


def validate(
    scenario: Scenario, patients: pd.DataFrame, staff: pd.DataFrame, result: RosterResult, week_start: dt.date
) -> RosterVerdict:
    """The independent validator (``optimizer.validate_roster``) on the roster of ``result``."""
    return RosterVerdict(list(optimizer.validate_roster(scenario, patients, staff, result.roster, week_start)))


def export_bytes(kind: str, result: RosterResult, scenario: Scenario, week_start: dt.date) -> bytes:
    """The roster as CSV, XLSX or ICS bytes, written by the optimizer's own writers (same as the CLI)."""
    writers = {
        "csv": optimizer.write_roster_csv,
        "xlsx": optimizer.write_roster_xlsx,
        "ics": optimizer.write_roster_ics,
    }
    writer = writers[kind]
    with tempfile.TemporaryDirectory(prefix="rehabflow-export-") as tmp:
        path = Path(tmp) / f"roster.{kind}"
        writer(result, path)
        return path.read_bytes()
