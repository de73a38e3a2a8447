"""Output folders are whole or absent: a full disk, a read-only or missing folder, SIGINT or SIGTERM while the
files are written, a rerun over an earlier run. Faults are injected at the write call (in-process) or by a
signal to a real ``rehabflow`` process; where this machine allows it (root), a tiny tmpfs fills up for real."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest

from rehabflow.cli.outputs import INDEX, default_out
from tests.hostile import (
    assert_clean,
    assert_untouched,
    invoke,
    prepare_previous_run,
    snapshot,
)

SIMULATE = ["simulate", "baseline", "-n", "1", "-w", "3", "--seed", "1"]
SIM_FILES = {
    "summary.csv",
    "summary.parquet",
    "per_replication.csv",
    "per_replication.parquet",
    "timeseries.csv",
    "timeseries.parquet",
    "utilisation.csv",
    "manifest.json",
    INDEX,
}


def _disk_full_on_call(monkeypatch, owner: object, name: str, call: int) -> None:
    original = getattr(owner, name)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, failing)


@pytest.mark.parametrize("call", [1, 2, 4])
def test_a_full_disk_while_simulate_writes_leaves_the_previous_run_as_it_was(tmp_path, monkeypatch, call):
    out = prepare_previous_run(tmp_path / "out")
    before = snapshot(out)
    _disk_full_on_call(monkeypatch, pd.DataFrame, "to_csv", call)
    outcome = invoke([*SIMULATE, "--out", out])
    assert_clean(outcome, code=3, fragment="the disk is full; nothing was written")
    assert_untouched(out, before)


def test_a_full_disk_while_sample_week_writes_leaves_no_folder(tmp_path, monkeypatch):
    import optimizer.exports

    _disk_full_on_call(monkeypatch, optimizer.exports, "write_csv", 2)
    outcome = invoke(["sample-week", "--scenario", "baseline", "--source", "mix", "--out", tmp_path / "week"])
    assert_clean(outcome, code=3, fragment="the disk is full")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture()
def tiny_tmpfs(tmp_path):
    """A 256 kB tmpfs (root only); the ENOSPC injections above cover machines where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True
        ).returncode
        != 0
    ):
        pytest.skip("cannot mount a tmpfs here (not root); ENOSPC is injected at the write call instead")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_really_full_disk_is_one_line_and_leaves_nothing(tiny_tmpfs):
    out = prepare_previous_run(tiny_tmpfs / "run")
    before = snapshot(out)
    outcome = invoke(["simulate", "baseline", "-n", "2", "-w", "30", "--event-log", "--out", out])
    assert_clean(outcome, code=3, fragment="the disk is full")
    assert_untouched(out, before)


@pytest.fixture()
def read_only_folder(tmp_path):
    """A folder this process cannot write: a read-only tmpfs as root (root ignores permissions), else chmod."""
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    if not mounted:
        if os.geteuid() == 0:
            pytest.skip("root without mount: no folder is read-only for this process")
        folder.chmod(0o555)
    try:
        yield folder
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=False)
        else:
            folder.chmod(0o755)


@pytest.mark.parametrize(
    "command",
    [
        SIMULATE,
        ["sample-week", "--scenario", "baseline", "--source", "mix"],
        ["compare", "baseline", "understaffed", "-n", "1", "-w", "2"],
    ],
)
def test_a_read_only_out_is_one_line_before_any_work(read_only_folder, command):
    outcome = invoke([*command, "--out", read_only_folder / "run"])
    assert_clean(outcome, fragment="cannot write in")
    assert list(read_only_folder.iterdir()) == []


def test_missing_parent_folders_are_made_and_hold_the_whole_run(tmp_path):
    out = tmp_path / "a" / "b" / "c"
    assert invoke([*SIMULATE, "--out", out]).code == 0
    assert {p.name for p in out.iterdir()} == SIM_FILES
    assert [p.name for p in (tmp_path / "a" / "b").iterdir()] == ["c"]  # no temporary sibling


def test_a_rerun_replaces_the_previous_run_and_drops_its_stale_files_but_keeps_the_users_own(tmp_path):
    out = tmp_path / "out"
    assert invoke([*SIMULATE, "--event-log", "--out", out]).code == 0
    assert (out / "event_log.csv").is_file()
    (out / "my_notes.txt").write_text("mine")
    first = json.loads((out / "manifest.json").read_text())
    assert invoke([*SIMULATE[:-1], "2", "--out", out]).code == 0
    assert {p.name for p in out.iterdir()} == SIM_FILES | {"my_notes.txt"}
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 2 != first["root_seed"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize(("name", "prefix"), [("..", ""), (".", ""), ("../../etc", ""), ("a/b", "sweep-"), ("", "")])
def test_a_default_output_name_never_leaves_out(name, prefix):
    path = default_out(name, prefix)
    assert path.parent == Path("out") and path.name not in ("", ".", "..") and "/" not in path.name


# ------------------------------------------------------------------------------- signals (real processes)
_WRAPPER = textwrap.dedent("""
    import os, signal, sys
    import pandas as pd
    mode, signum, argv = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    if mode == "write":  # the signal arrives while the second table is being written
        original, calls = pd.DataFrame.to_csv, [0]
        def to_csv(self, *a, **k):
            calls[0] += 1
            if calls[0] == 2:
                os.kill(os.getpid(), signum)
            return original(self, *a, **k)
        pd.DataFrame.to_csv = to_csv
    else:  # the signal arrives during the final renames (it is held until they are done)
        original_rename, fired = os.rename, [False]
        def rename(a, b, *r, **k):
            if not fired[0] and not str(b).endswith(".previous") and ".partial" not in str(b):
                fired[0] = True
                os.kill(os.getpid(), signum)
            return original_rename(a, b, *r, **k)
        os.rename = rename
    from rehabflow.cli import app
    app(argv, prog_name="rehabflow")
""")


def _run_wrapped(mode: str, signum: int, args: list) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _WRAPPER, mode, str(int(signum)), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parent.parent,
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_writing_leaves_the_previous_run_and_no_temporary_files(tmp_path, signum, code):
    out = prepare_previous_run(tmp_path / "out")
    before = snapshot(out)
    done = _run_wrapped("write", signum, [*SIMULATE, "--out", out])
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.strip().endswith("no output left half-written")
    assert_untouched(out, before)


def test_a_signal_during_the_final_renames_is_held_until_the_folder_is_whole(tmp_path):
    out = prepare_previous_run(tmp_path / "out")
    done = _run_wrapped("commit", signal.SIGTERM, [*SIMULATE, "--out", out])
    assert done.returncode == 143, done.stderr
    assert {p.name for p in out.iterdir()} == SIM_FILES  # the new run, whole: no file of the previous one
    assert json.loads((out / "manifest.json").read_text())["root_seed"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def _wait_for_sigterm_handler(pid: int, timeout: float = 120.0) -> str:
    """Until process ``pid`` catches SIGTERM (Linux: the SigCgt mask of /proc/PID/status), not a fixed sleep.
    Returns its signal masks then (SigBlk, SigIgn, SigCgt), for the message of a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
        if caught >> (signal.SIGTERM - 1) & 1:
            return " ".join(line for line in status.splitlines() if line.startswith(("SigBlk", "SigIgn", "SigCgt")))
        time.sleep(0.05)
    raise AssertionError(f"process {pid} installed no SIGTERM handler in {timeout:.0f} s")


def test_sigterm_to_a_running_simulation_exits_143_and_writes_nothing(tmp_path):
    out = tmp_path / f"out-{uuid.uuid4().hex[:6]}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "rehabflow", "simulate", "baseline", "-n", "40", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    masks = _wait_for_sigterm_handler(proc.pid)  # imports done (a loaded machine may take many seconds)
    time.sleep(1.0)  # replications running
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    # once (2026-12-01, full suite at load ~5) the signal had no effect and the run ended with 0. The likely cause,
    # the handler's exception lost in a finalizer, now still stops the run (the finalizer tests below); the masks
    # say whether SIGTERM was blocked or ignored in the child (a mask inherited from the test process) instead
    assert proc.returncode == 143, f"{err}\nsignal masks when the handler was seen: {masks}"
    assert "Traceback" not in err and "interrupted (SIGTERM)" in err
    assert list(tmp_path.iterdir()) == []


_KILLED_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from rehabflow.cli import outputs

    out, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    rename, calls = os.rename, [0]

    def killing_rename(src, dst):
        calls[0] += 1
        if calls[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # no finally, no handler: the process is gone mid-commit
        rename(src, dst)

    os.rename = killing_rename
    with outputs.staged_output(out) as stage:
        for name in ("a.csv", "b.csv", "new.csv"):
            (stage / name).write_text("second run " + name)
    """
)


def _first_run(out: Path) -> None:
    from rehabflow.cli.outputs import staged_output

    with staged_output(out) as stage:
        for name in ("a.csv", "b.csv", "old.csv"):
            (stage / name).write_text("first run " + name)
    (out / "mine.txt").write_text("the user's own file")


@pytest.mark.parametrize("kill_at", range(1, 9))
def test_a_process_killed_among_the_final_renames_leaves_a_folder_the_next_run_completes(tmp_path, kill_at):
    from rehabflow.cli.outputs import JOURNAL, recover

    out = tmp_path / "out"
    _first_run(out)
    done = subprocess.run([sys.executable, "-c", _KILLED_COMMIT, str(out), str(kill_at)], check=False)
    recover(out)
    files = {p.name: p.read_text() for p in out.iterdir() if p.name != INDEX}
    assert done.returncode == -signal.SIGKILL  # 8 renames: 4 of the first run's files out, 4 new ones in
    second = {name: "second run " + name for name in ("a.csv", "b.csv", "new.csv")}
    assert files == {**second, "mine.txt": "the user's own file"}
    assert json.loads((out / INDEX).read_text()) == sorted(second)
    assert not os.path.lexists(out / JOURNAL)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no stage left beside it


def test_a_journal_naming_a_folder_outside_is_ignored_and_removed(tmp_path):
    from rehabflow.cli.outputs import JOURNAL, recover

    out = tmp_path / "out"
    _first_run(out)
    victim = tmp_path / "victim.partial"
    victim.mkdir()
    (victim / "a.csv").write_text("not ours")
    before = snapshot(out)
    (out / JOURNAL).write_text(json.dumps({"stage": "../victim.partial", "written": ["a.csv"], "previous": []}))
    recover(out)
    assert snapshot(out) == before
    assert (victim / "a.csv").read_text() == "not ours"


class _LosesASignal:
    """An object whose finalizer is where a SIGTERM's handler runs: Python prints the handler's exception as
    "ignored" and goes on (what once let a terminated run end with 0)."""

    def __del__(self) -> None:
        signal.raise_signal(signal.SIGTERM)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_sigterm_lost_in_a_finalizer_still_ends_the_command_with_it():
    from rehabflow.cli.app import Interrupted, signals_as_interrupts

    went_on = False
    with pytest.raises(Interrupted) as info:
        with signals_as_interrupts():
            _LosesASignal()
            went_on = True  # the handler's exception did not reach the block
    assert went_on and info.value.signum == signal.SIGTERM


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_outputs_are_not_committed_after_a_sigterm_a_finalizer_lost(tmp_path):
    from rehabflow.cli.app import Interrupted, signals_as_interrupts
    from rehabflow.cli.outputs import staged_output

    with pytest.raises(Interrupted):
        with signals_as_interrupts():
            with staged_output(tmp_path / "out") as stage:
                (stage / "kpis.csv").write_text("a,b\n")
                _LosesASignal()
    assert list(tmp_path.iterdir()) == []
