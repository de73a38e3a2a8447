"""Where replications run: serially, in local processes, or on a Dask cluster. Same numbers on each.

Every task is a top-level function and picklable arguments (a replication builds its own SimPy environment and
draws its own streams from its seed), so the backend only changes where the work happens, never the result:
results come back in task order whatever order they finish in.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from scenarios import InputError

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExecutorSpec:
    """``kind`` is ``serial``, ``processes`` or ``dask``; ``address`` a Dask scheduler (``tcp://host:8786``) or
    None for a LocalCluster on loopback; ``workers`` the number of local processes."""

    kind: str = "processes"
    workers: int = 2
    address: str | None = None

    @classmethod
    def parse(cls, workers: int = 1, dask: str | None = None) -> ExecutorSpec:
        """From CLI options: ``--workers K`` and ``--dask [ADDRESS|local]``."""
        if workers < 1:
            raise InputError(f"--workers: must be 1 or more (got {workers})")
        if dask is not None:
            address = None if dask in ("", "local") else dask
            if address is not None and not address.startswith(("tcp://", "tls://", "inproc://", "ws://")):
                raise InputError(f"--dask: {dask!r} is not a scheduler address like tcp://HOST:8786 (or 'local')")
            return cls("dask", workers, address)
        return cls("serial" if workers == 1 else "processes", workers, None)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def run_tasks(
    fn: Callable[..., Any], tasks: Sequence[tuple], spec: ExecutorSpec | None = None, progress: Progress | None = None
) -> list[Any]:
    """``[fn(*t) for t in tasks]``, in task order, on the chosen backend; ``progress(done, total)`` as they finish."""
    with TaskRunner(spec) as runner:
        return runner.run(fn, tasks, progress)


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rehabflow")
    except PackageNotFoundError:
        return "not installed"


def check_workers(client: Any, where: str, wait_seconds: float = 10.0) -> dict[str, str]:
    """Every Dask worker has rehabflow at this machine's version; at least one worker within ``wait_seconds``.
    Returns {worker address: version}. Each problem is an :class:`InputError` naming the worker."""
    try:
        client.wait_for_workers(1, timeout=wait_seconds)
    except (TimeoutError, OSError):
        raise InputError(
            f"--dask: {where} has no workers after {wait_seconds:g} s (start some: dask worker tcp://SCHEDULER:8786)"
        ) from None
    from importlib.metadata import version as package_version

    mine = _installed_version()
    try:  # a standard-library function: it unpickles on any worker, with or without our code
        theirs = client.run(package_version, "rehabflow")
    except ImportError as e:  # PackageNotFoundError: a worker without rehabflow
        raise InputError(
            f"--dask: the workers of {where} cannot import {e.name or e}: install rehabflow {mine} on every worker"
        ) from None
    for worker, version in sorted(theirs.items()):
        if version != mine:
            raise InputError(
                f"--dask: worker {worker} has rehabflow {version}, this machine {mine}: install the "
                "same version on every worker"
            )
    return theirs


class TaskRunner:
    """A backend kept open for several batches (``recommend`` adds replications batch by batch).

    ``with TaskRunner(spec) as r: r.run(fn, tasks, progress)`` behaves like :func:`run_tasks` each time, but
    starts the process pool or the Dask cluster/client once, on the first batch that needs it.
    """

    def __init__(self, spec: ExecutorSpec | None = None):
        self.spec = spec or ExecutorSpec("serial", 1)
        self._pool: ProcessPoolExecutor | None = None
        self._cluster: Any = None
        self._client: Any = None

    def __enter__(self) -> TaskRunner:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(cancel=exc_type is not None)

    def close(self, cancel: bool = False) -> None:
        """Stop the pool or the client (and a cluster we started); ``cancel`` drops tasks not yet started."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=cancel)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def run(self, fn: Callable[..., Any], tasks: Sequence[tuple], progress: Progress | None = None) -> list[Any]:
        spec = self.spec
        total = len(tasks)
        if spec.kind == "serial" or total <= 1 or (spec.kind == "processes" and spec.workers <= 1):
            out = []
            for i, t in enumerate(tasks):
                out.append(fn(*t))
                if progress:
                    progress(i + 1, total)
            return out
        if spec.kind == "processes":
            return self._run_processes(fn, tasks, progress)
        if spec.kind == "dask":
            return self._run_dask(fn, tasks, progress)
        raise ValueError(f"unknown executor kind {spec.kind!r}")

    def _run_processes(self, fn: Callable[..., Any], tasks: Sequence[tuple], progress: Progress | None) -> list[Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.spec.workers)
        results: list[Any] = [None] * len(tasks)
        futures = {self._pool.submit(fn, *t): i for i, t in enumerate(tasks)}
        try:
            for done, fut in enumerate(as_completed(futures), start=1):
                results[futures[fut]] = fut.result()
                if progress:
                    progress(done, len(tasks))
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        return results

    def dask_client(self) -> Any:
        """The Dask client (a LocalCluster on loopback, or the scheduler at ``spec.address``), started once and
        checked: it has workers and they run the same rehabflow version (a worker that cannot unpickle a task
        leaves it pending for ever, so this is checked up front)."""
        if self._client is None:
            from dask.distributed import Client, LocalCluster

            if self.spec.address is None:
                # dashboard_address=":0": the scheduler's HTTP server (health routes) binds a free port;
                # None would still try 8787 and warn when another cluster has it
                self._cluster = LocalCluster(
                    n_workers=self.spec.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    host="127.0.0.1",
                )
                self._client = Client(self._cluster)
            else:
                try:
                    self._client = Client(self.spec.address, timeout="10s")
                except OSError as e:
                    raise InputError(f"--dask: cannot reach the scheduler at {self.spec.address}: {e}") from None
            check_workers(self._client, self.spec.address or "the LocalCluster")
        return self._client

    def _run_dask(self, fn: Callable[..., Any], tasks: Sequence[tuple], progress: Progress | None) -> list[Any]:
        from dask.distributed import as_completed as dask_completed

        client = self.dask_client()
        # pure=False: identical arguments must not be de-duplicated (ENGINEERING-NOTES)
        futures = [client.submit(fn, *t, pure=False) for t in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(tasks)
        try:
            for done, fut in enumerate(dask_completed(futures), start=1):
                results[index[fut.key]] = fut.result()
                if progress:
                    progress(done, len(tasks))
        except ImportError as e:
            # raised on a worker that cannot unpickle the task: its environment lacks our code
            client.cancel(futures)
            where = self.spec.address or "the LocalCluster"
            raise InputError(
                f"--dask: the workers of {where} cannot import {e.name or e}: install the same "
                "rehabflow version on every worker (see docs/how-to/sweeps.md)"
            ) from None
        except BaseException:
            client.cancel(futures)
            raise
        return results
