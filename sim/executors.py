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
    def parse(cls, workers: int = 1, dask: str | None = None) -> "ExecutorSpec":
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


def run_tasks(fn: Callable[..., Any], tasks: Sequence[tuple], spec: ExecutorSpec | None = None,
              progress: Progress | None = None) -> list[Any]:
    """``[fn(*t) for t in tasks]``, in task order, on the chosen backend; ``progress(done, total)`` as they finish."""
    spec = spec or ExecutorSpec("serial", 1)
    total = len(tasks)
    if spec.kind == "serial" or total <= 1 or (spec.kind == "processes" and spec.workers <= 1):
        out = []
        for i, t in enumerate(tasks):
            out.append(fn(*t))
            if progress:
                progress(i + 1, total)
        return out
    if spec.kind == "processes":
        return _run_processes(fn, tasks, spec.workers, progress)
    if spec.kind == "dask":
        return _run_dask(fn, tasks, spec, progress)
    raise ValueError(f"unknown executor kind {spec.kind!r}")


def _run_processes(fn: Callable[..., Any], tasks: Sequence[tuple], workers: int, progress: Progress | None) -> list[Any]:
    results: list[Any] = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
        futures = {pool.submit(fn, *t): i for i, t in enumerate(tasks)}
        for done, fut in enumerate(as_completed(futures), start=1):
            results[futures[fut]] = fut.result()
            if progress:
                progress(done, len(tasks))
    return results


def _run_dask(fn: Callable[..., Any], tasks: Sequence[tuple], spec: ExecutorSpec, progress: Progress | None) -> list[Any]:
    from dask.distributed import Client, LocalCluster, as_completed as dask_completed

    cluster = None
    try:
        if spec.address is None:
            cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, host="127.0.0.1")
            client = Client(cluster)
        else:
            try:
                client = Client(spec.address, timeout="10s")
            except OSError as e:
                raise InputError(f"--dask: cannot reach the scheduler at {spec.address}: {e}") from None
        with client:
            # pure=False: identical arguments must not be de-duplicated (ENGINEERING-NOTES)
            futures = [client.submit(fn, *t, pure=False) for t in tasks]
            index = {f.key: i for i, f in enumerate(futures)}
            results: list[Any] = [None] * len(tasks)
            for done, fut in enumerate(dask_completed(futures), start=1):
                results[index[fut.key]] = fut.result()
                if progress:
                    progress(done, len(tasks))
            return results
    finally:
        if cluster is not None:
            cluster.close()
