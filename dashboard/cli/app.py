"""The ``rehabflow`` Typer app and the rule every command follows for bad input.

Commands live in their own modules (``scenarios_cmd``, ...) and register on :data:`app`. Each wraps its body
in :func:`user_errors`: an :class:`~scenarios.InputError` becomes its message on stderr (one line per problem)
and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer

from scenarios import InputError

app = typer.Typer(
    name="rehabflow",
    help="Capacity planning and weekly rosters for an integrated acupuncture + physical-therapy programme.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

F = TypeVar("F", bound=Callable[..., Any])


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


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: Path, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
