"""Weekly roster optimizer: CSV readers and writers (io, exports), the CP-SAT model and the validator."""

from .io import read_inputs, read_patients, read_roster, read_staff  # noqa: F401  (I/O)
from .tables import RosterResult  # noqa: F401
