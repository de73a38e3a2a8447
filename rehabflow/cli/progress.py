"""One progress bar for every long command (simulate, compare, sweep, recommend): replications done, elapsed and
time left, on stderr (stdout stays the result). Started at the first finished task, so a run that fails before
any work leaves no stray ``0/?`` line; removed again if the run fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

Update = Callable[[int, int], None]


def _new_bar(console: Console) -> Progress:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=console, transient=False)


@contextmanager
def progress_bar(description: str, console: Console | None = None) -> Iterator[Update]:
    """Yields ``update(done, total)`` for the executors; the bar appears at the first call."""
    state: dict[str, Progress | int] = {}
    target = console or Console(stderr=True)

    def update(done: int, total: int) -> None:
        bar = state.get("bar")
        if not isinstance(bar, Progress):
            bar = _new_bar(target)
            bar.start()
            state["bar"], state["task"] = bar, bar.add_task(description, total=total)
        task = state["task"]
        assert isinstance(task, int)
        bar.update(task, completed=done, total=total)  # type: ignore[arg-type]  # a rich TaskID is an int

    try:
        yield update
    except BaseException:
        bar = state.get("bar")
        if isinstance(bar, Progress):
            bar.live.transient = True  # a failed run: the error line alone, no half-filled bar
        raise
    finally:
        bar = state.get("bar")
        if isinstance(bar, Progress):
            bar.stop()


#: Commands taking ``--dask [ADDRESS]`` accept one extra argument: Typer has no option with an optional value, so
#: ``--dask`` is a flag and the address, if any, arrives as the one extra argument after it.
EXTRA_ARGS = {"allow_extra_args": True}
DASK_HELP = (
    "Run on Dask: alone, a LocalCluster on this machine with --workers processes; followed by "
    "tcp://HOST:8786, a running scheduler (its workers need the same rehabflow version). Same numbers."
)


def executor_spec(workers: int | None, dask: bool, scenario: str, extra: list[str]) -> tuple[Any, str]:
    """The executor for ``--workers K`` / ``--dask [ADDRESS]``, and the scenario argument (which a user may have
    put after the address: ``--dask tcp://h:8786 baseline``)."""
    from scenarios import InputError
    from sim.executors import ExecutorSpec, default_workers

    address = None
    if extra:
        if not dask or len(extra) != 1:
            raise InputError(f"unexpected argument(s): {' '.join(extra)} (one SCENARIO; an address goes after --dask)")
        address = extra[0]
        if "://" not in address and "://" in scenario:
            scenario, address = address, scenario
    elif dask and "://" in scenario:
        raise InputError(f"missing SCENARIO (got only the --dask address {scenario})")
    spec = ExecutorSpec.parse(default_workers() if workers is None else workers, (address or "local") if dask else None)
    return spec, scenario
