"""Output folders that are whole or absent: every command writes its files through :func:`staged_output`.

- :func:`check_out` runs before any work: ``--out`` must be a folder, or a path where one can be made, that we
  may write; otherwise one line and exit status 2 (a bad ``--out`` never costs a whole run).
- :func:`staged_output` yields a temporary folder beside the target (``.NAME.XXXX.partial``, same file system);
  the command writes everything there. Only when every file is written are they moved into the target, with
  SIGINT and SIGTERM held for that moment (a few renames), so the target never holds a partial set or a mix
  of two runs: the files of the previous run that this run does not write again are moved out with it (the
  folder's ``.rehabflow-outputs`` lists what the last run wrote). The renames are journaled
  (``.rehabflow-commit``), so a process killed among them (SIGKILL, power loss) leaves a folder that the next
  command writing it completes first (:func:`recover`). A failure, a full disk or a signal while
  writing removes the temporary folder and leaves the target as it was; a write error is one line, exit 3.
- :func:`default_out` names ``out/<name>`` so that no name (``..``, ``a/b``) leaves ``out/``.

Files in the target that rehabflow did not write (the user's own) are left alone.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from scenarios import InputError
from scenarios.errors import escape_text

from .app import EXIT_WRITE_FAILED, fail, raise_if_interrupted

INDEX = ".rehabflow-outputs"
JOURNAL = ".rehabflow-commit"
_SAFE_NAME = re.compile(r"(?!\.\.?$)[^/\\\x00]+")
_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def default_out(name: str, prefix: str = "") -> Path:
    """``out/<prefix><name>``, the name made safe: only letters, digits, ``_ . -``, and never ``.`` or ``..``."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", f"{prefix}{name}").strip(".") or "run"
    return Path("out") / safe


def _first_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def check_out(out: Path, option: str = "--out") -> Path:
    """``out`` if it is, or can become, a folder this process may write; else an :class:`InputError`."""
    shown = escape_text(out)
    try:
        if out.exists() and not out.is_dir():
            raise InputError(f"{option}: {shown} is a file, not a folder")
        anchor = _first_existing(out.absolute())
    except OSError as e:  # a name too long for the file system, a loop of links
        raise InputError(f"{option}: {shown}: {escape_text(e.strerror or e)}") from None
    if not anchor.is_dir():
        raise InputError(f"{option}: {shown} is under {escape_text(anchor)}, which is a file, not a folder")
    if not os.access(anchor, os.W_OK | os.X_OK):
        raise InputError(f"{option}: cannot write in {escape_text(anchor)} (read-only or no permission)")
    return out


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT/SIGTERM that arrive during the block take effect when it ends (main thread only: elsewhere there is
    no handler to hold). Python runs handlers in the main thread whichever thread the signal reached, so the
    handlers are swapped for a recorder rather than the signals masked."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            signal.raise_signal(pending[0])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _previous_outputs(out: Path, stale: Sequence[str]) -> set[str]:
    names: set[str] = set()
    try:
        names.update(json.loads((out / INDEX).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        pass
    for pattern in stale:
        names.update(p.name for p in out.glob(pattern))
    return {n for n in names if isinstance(n, str) and n and "/" not in n and n not in (".", "..")}


def _commit(stage: Path, out: Path, stale: Sequence[str]) -> None:
    """Move the staged files into ``out``; the previous run's files go to the stage's trash (removed after).

    When ``out`` exists the moves are a few renames, not one: a journal (``.rehabflow-commit``: the stage's name,
    the files written, the previous run's files) is written first and removed after, so that a process killed
    in between (SIGKILL, power loss) leaves a folder that :func:`recover` completes before any later command
    writes or reads it."""
    written = sorted(p.name for p in stage.iterdir())
    (stage / INDEX).write_text(json.dumps(written) + "\n", encoding="utf-8")
    os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes 0700; an output folder is shared like any new folder
    raise_if_interrupted()  # a SIGINT/SIGTERM whose exception a finalizer swallowed: nothing is committed
    with _signals_held():
        if not os.path.lexists(out):
            os.rename(stage, out)
            return
        plan = {"stage": stage.name, "written": written, "previous": sorted(_previous_outputs(out, stale))}
        _write_synced(out / JOURNAL, json.dumps(plan) + "\n")
        _move_in(stage, out, written, plan["previous"])
        os.unlink(out / JOURNAL)


def _write_synced(path: Path, text: str) -> None:
    """``text`` in ``path``, on disk before this returns (file and folder synced)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _move_in(stage: Path, out: Path, written: Sequence[str], previous: Sequence[str]) -> None:
    """The renames of a commit; safe to repeat after an interruption (each name's place says what is left).

    A name still in the stage has not been moved: the file of that name in ``out`` is the previous run's and
    goes to the trash first. A previous run's file that this run does not write goes to the trash too."""
    new = [*written, INDEX]
    trash = stage / ".previous"
    trash.mkdir(exist_ok=True)
    for name in sorted(set(previous) | set(new)):
        if os.path.lexists(out / name) and (name not in new or os.path.lexists(stage / name)):
            os.rename(out / name, trash / name)
    for name in new:
        if os.path.lexists(stage / name):
            os.rename(stage / name, out / name)


def _journal_plan(out: Path) -> tuple[Path, list[str], list[str]] | None:
    """The stage, written and previous names of an interrupted commit into ``out``, or None (none, or unreadable)."""
    try:
        plan = json.loads((out / JOURNAL).read_text(encoding="utf-8"))
        stage_name, written, previous = plan["stage"], plan["written"], plan["previous"]
    except (OSError, ValueError, TypeError, KeyError):
        return None
    names = [stage_name, *written, *previous] if isinstance(written, list) and isinstance(previous, list) else []
    if not names or not all(isinstance(n, str) and _SAFE_NAME.fullmatch(n) for n in names):
        return None
    if not stage_name.endswith(".partial"):
        return None
    return out.absolute().parent / stage_name, written, previous


def recover(out: Path) -> None:
    """Complete a commit into ``out`` that a killed process left half done (see :func:`_commit`); else nothing."""
    out = Path(out)
    if not os.path.lexists(out / JOURNAL):
        return
    plan = _journal_plan(out)
    with _signals_held():
        if plan is not None and plan[0].is_dir():
            _move_in(plan[0], out, plan[1], plan[2])
            shutil.rmtree(plan[0], ignore_errors=True)
        os.unlink(out / JOURNAL)


def _remove(stage: Path) -> None:
    with _signals_held():
        shutil.rmtree(stage, ignore_errors=True)


def _write_failed(out: Path, error: OSError) -> Exception:
    reason = escape_text(error.strerror or error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = "the disk is full"
    return fail(
        f"cannot write {escape_text(out)}: {reason}; nothing was written, {escape_text(out)} is as it was",
        code=EXIT_WRITE_FAILED,
    )


@contextmanager
def staged_output(out: Path, stale: Sequence[str] = ()) -> Iterator[Path]:
    """A temporary folder beside ``out`` to write into; moved into ``out`` whole when the block succeeds.

    ``stale``: glob patterns of files an earlier run of the command may have left (``event_log.*``), removed from
    ``out`` when this run does not write them again.
    """
    out = Path(out)
    stage: Path | None = None
    try:
        recover(out)
        out.absolute().parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.absolute().parent))
        yield stage
        _commit(stage, out, stale)
    except OSError as e:
        raise _write_failed(out, e) from None
    finally:
        if stage is not None:
            _remove(stage)
