"""Weekly roster optimizer: CSV readers and writers (io, exports), the CP-SAT model and the validator."""

from .exports import (  # noqa: F401  (roster.csv, unscheduled.csv, roster.xlsx, .ics, summary.json)
    write_roster_csv,
    write_roster_ics,
    write_roster_xlsx,
    write_staff_ics,
    write_summary,
    write_unscheduled_csv,
)
from .instances import generate_week  # noqa: F401  (benchmark weeks: demand ~ capacity)
from .io import read_inputs, read_patients, read_roster, read_staff  # noqa: F401  (I/O)
from .sample import sample_week  # noqa: F401  (a realistic week of patients and staff for a scenario)
from .solve import greedy_roster, solve_roster  # noqa: F401  (CP-SAT roster and greedy baseline)
from .tables import RosterResult  # noqa: F401
from .validate import validate_roster  # noqa: F401  (independent validator)
