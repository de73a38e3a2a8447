"""The one exception type for bad user input anywhere in rehabflow.

The CLI and the dashboard catch :class:`InputError` and show its message (one line per problem, each naming
the file, the field or row, and the reason) with exit status 2; anything else is a bug and keeps its traceback.
"""


class InputError(Exception):
    """Bad user input: a scenario, a CSV, a command-line value. ``str(error)`` is what the user reads."""
