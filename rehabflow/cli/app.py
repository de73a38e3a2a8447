"""The ``rehabflow`` Typer app and the rule every command follows for bad input.

Commands live in their own modules (``scenarios_cmd``, ...) and register on :data:`app`. Each wraps its body
in :func:`user_errors`: an :class:`~scenarios.InputError` becomes its message on stderr (one line per problem)
and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from optimizer.files import atomic_path, write_text_atomic  # noqa: F401  (re-exported for the commands)
from scenarios import InputError

app = typer.Typer(
    name="rehabflow",
    help="Capacity planning and weekly rosters for an integrated acupuncture + physical-therapy programme.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

F = TypeVar("F", bound=Callable[..., Any])


def _flag_type_hidden(display_type_rich: Callable[..., str | None]) -> Callable[..., str | None]:
    """Typer's help shows ``<bool>`` beside a flag (``--event-log <bool>``), which reads as if it took a value."""

    @functools.wraps(display_type_rich)
    def wrapper(self: Any, ctx: Any) -> str | None:
        return None if getattr(self, "is_flag", False) else display_type_rich(self, ctx)

    return wrapper


typer.core.TyperOption.display_type_rich = _flag_type_hidden(typer.core.TyperOption.display_type_rich)  # type: ignore[method-assign]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` (one line per problem) on stderr and return the Exit to raise."""
    for line in str(message).splitlines() or [""]:
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
__all__ = ["app", "atomic_path", "fail", "user_errors", "write_text_atomic"]
