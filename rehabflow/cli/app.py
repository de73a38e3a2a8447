"""The ``rehabflow`` Typer app and the rules every command follows for bad input, signals and bugs.

Commands live in their own modules (``scenarios_cmd``, ...) and register on :data:`app`. Each wraps its body
in :func:`user_errors`: an :class:`~scenarios.InputError` becomes its message on stderr (one line per problem)
and exit status 2, never a traceback. Around every command, :class:`GuardedGroup` adds the last resort:

- a usage error (unknown option, a value of the wrong type, a number that is not finite or too large) is
  one line naming the command, exit status 2;
- SIGINT and SIGTERM interrupt the command the same way (outputs being written are removed, see
  :mod:`rehabflow.cli.outputs`): one line, exit status 130 (SIGINT) or 143 (SIGTERM);
- any other exception is a bug: one line naming the command and the error, exit status 1; ``--debug`` (or
  ``REHABFLOW_DEBUG=1``) shows the traceback.

Exit statuses (README, "Bad input"; docs/reference/roster-io.md): 0 done; 1 done with problems to look at (pins not kept,
validator violations, no staffing meets the targets) or an internal error; 2 bad input or an unusable
``--out``; 3 outputs could not be written (disk full, folder turned read-only), nothing left behind;
130 / 143 interrupted, nothing left behind.
"""

from __future__ import annotations

import functools
import math
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

import click
import typer
from typer.core import TyperGroup

# typer >= 0.22 vendors its own click: its usage errors derive from TyperException, its aborts are typer's
from typer.exceptions import Abort as _TyperAbort
from typer.exceptions import TyperException as _TyperError

from optimizer.files import (  # re-exported for the commands (see __all__)
    atomic_path,
    write_text_atomic,
)
from scenarios import InputError
from scenarios.errors import cap_lines, escape_text
from scenarios.schema import MAX_ROSTER_SEED, MAX_RUN_SEED

_CLICK_ERRORS = (click.ClickException, _TyperError)
_ABORTS = (click.exceptions.Abort, _TyperAbort)


#: Integers on the command line fit in 64 bits (numpy's seeds); the roster's seed goes to OR-Tools (32 bits).
MAX_INT_OPTION = MAX_RUN_SEED
_INT_LIMITS = {("roster", "--seed"): MAX_ROSTER_SEED}
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_WRITE_FAILED = 3
EXIT_SIGINT = 130
EXIT_SIGTERM = 143
_STATE = {"debug": False}


class Interrupted(BaseException):
    """SIGINT or SIGTERM, raised in the main thread. A ``BaseException`` so that no ``except Exception`` of a
    library swallows it; ``finally`` blocks (removing a half-written output) still run."""

    def __init__(self, signum: int):
        self.signum = int(signum)
        super().__init__(self.signum)  # args hold the number: the exception pickles (worker processes) and back

    def __str__(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return EXIT_SIGTERM if self.signum == signal.SIGTERM else EXIT_SIGINT


#: the signals :func:`_raise_interrupted` has handled in the current :func:`signals_as_interrupts` block. Python
#: runs a handler at whatever bytecode the main thread is at, and an exception raised inside a finalizer
#: (``__del__``, a weakref or garbage-collector callback) is printed as "ignored" and lost: the record lets the
#: command still stop (:func:`raise_if_interrupted`). Once, under load, a SIGTERM was lost that way and the run
#: ended with 0.
_received: list[int] = []


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Interrupted(signum)


def raise_if_interrupted() -> None:
    """Raise :class:`Interrupted` if a SIGINT or SIGTERM came during the block (whether or not its exception
    reached the command): called before outputs are committed and when the command's block ends."""
    if _received:
        raise Interrupted(_received[0])


@contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`Interrupted` while the block runs (main thread only), and the block
    ends with it even if a finalizer swallowed it (see :data:`_received`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
        raise_if_interrupted()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _received.clear()


def _number_problem(command: str, flag: str, value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return f"{flag}: {value} is not a finite number"
    limit = _INT_LIMITS.get((command, flag), MAX_INT_OPTION)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit:
        return f"{flag}: {value} is too large (at most {limit})"
    return None


def _guard_numbers(command: Any) -> None:
    """Wrap the command's callback: every number given to it is finite and within its limit (one line if not)."""
    callback = getattr(command, "callback", None)
    if callback is None or getattr(callback, "_numbers_guarded", False):
        return
    flags = {p.name: (p.opts[0] if getattr(p, "opts", None) else str(p.name)) for p in command.params}

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        values = [(flags.get(k, k), v) for k, v in kwargs.items()]
        values += [(flags.get(k, k), x) for k, v in kwargs.items() if isinstance(v, (list, tuple)) for x in v]
        problems = [line for flag, v in values if (line := _number_problem(str(command.name), str(flag), v))]
        if problems:
            raise InputError("\n".join(problems))
        return callback(*args, **kwargs)

    checked._numbers_guarded = True  # type: ignore[attr-defined]
    command.callback = checked


def _command_name(args: Sequence[str]) -> str:
    words = [a for a in args if not a.startswith("-")][:1]
    return " ".join(["rehabflow", *(escape_text(w) for w in words)])


def _usage_error(error: Any, args: Sequence[str]) -> int:
    message = " ".join(escape_text(error.format_message()).split("\\n")).strip()
    if not message:  # no arguments at all: the help was shown
        return int(error.exit_code)
    typer.echo(f"{_command_name(args)}: {message} (see --help)", err=True)
    return error.exit_code


def _internal_error(error: BaseException, args: Sequence[str]) -> int:
    if _STATE["debug"] or os.environ.get("REHABFLOW_DEBUG"):
        traceback.print_exception(error)
    detail = escape_text(str(error))[:300]
    typer.echo(
        f"{_command_name(args)}: internal error ({type(error).__name__}{': ' + detail if detail else ''}); "
        "this is a bug: run again with --debug for the traceback and report it",
        err=True,
    )
    return EXIT_INTERNAL


def _interrupted(signal_: Interrupted, args: Sequence[str]) -> int:
    typer.echo(f"{_command_name(args)}: interrupted ({signal_}); no output left half-written", err=True)
    return signal_.exit_code


class GuardedGroup(TyperGroup):
    """The root command: every sub-command runs inside the last-resort guard described in the module doc."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            _guard_numbers(command)
        return name, command, rest

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        _STATE["debug"] = False
        code = self._guarded(argv, prog_name, complete_var, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _guarded(self, argv: list[str], prog_name: str | None, complete_var: str | None, **extra: Any) -> int:
        try:
            with signals_as_interrupts():
                result = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
            return result if isinstance(result, int) else 0
        except InputError as e:  # a number option beyond its limits (see _guard_numbers)
            typer.echo(f"{_command_name(argv)}: {e}", err=True)
            return EXIT_BAD_INPUT
        except _CLICK_ERRORS as e:
            return _usage_error(e, argv)
        except _ABORTS:
            return _interrupted(Interrupted(signal.SIGINT), argv)
        except Interrupted as e:
            return _interrupted(e, argv)
        except Exception as e:  # noqa: BLE001  (the last resort: a bug, one line; the hostile-input corpus never reaches it)
            return _internal_error(e, argv)


app = typer.Typer(
    name="rehabflow",
    cls=GuardedGroup,
    help="Capacity planning and weekly rosters for an integrated acupuncture + physical-therapy programme.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show the traceback of an unexpected error (a bug)."),
) -> None:
    _STATE["debug"] = debug


F = TypeVar("F", bound=Callable[..., Any])


def _flag_type_hidden(display_type_rich: Callable[..., str | None]) -> Callable[..., str | None]:
    """Typer's help shows ``<bool>`` beside a flag (``--event-log <bool>``), which reads as if it took a value."""

    @functools.wraps(display_type_rich)
    def wrapper(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else display_type_rich(self, ctx)

    return wrapper


typer.core.TyperOption.display_type_rich = _flag_type_hidden(typer.core.TyperOption.display_type_rich)  # type: ignore[method-assign]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` (one line per problem, at most 50 and a count) on stderr and return the Exit to raise."""
    for line in cap_lines(str(message).splitlines() or [""]):
        typer.echo(line, err=True)
    return typer.Exit(code)


def user_errors(func: F) -> F:
    """Turn :class:`InputError` into its message on stderr and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InputError as e:
            raise fail(str(e)) from None

    return wrapper  # type: ignore[return-value]


# Atomic writes (temporary file beside the target, then rename; usual permissions): one implementation, the
# optimizer's, re-exported here for every command.
__all__ = [
    "EXIT_WRITE_FAILED",
    "Interrupted",
    "app",
    "atomic_path",
    "fail",
    "raise_if_interrupted",
    "user_errors",
    "write_text_atomic",
]
