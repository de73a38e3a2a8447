"""Executors: the same results in task order on every backend, one backend reused across batches, clear errors."""

from __future__ import annotations

import os
import time

import pytest

from scenarios import InputError
from sim.executors import ExecutorSpec, TaskRunner, run_tasks


def slow_square(x: int, delay: float) -> tuple[int, int]:
    """Later tasks finish first (decreasing delays), so order must come from the executor, not from luck."""
    time.sleep(delay)
    return x * x, os.getpid()


TASKS = [(i, 0.02 * (5 - i)) for i in range(6)]
EXPECTED = [i * i for i in range(6)]


@pytest.mark.parametrize("spec", [ExecutorSpec("serial", 1), ExecutorSpec("processes", 2)], ids=["serial", "processes"])
def test_results_come_back_in_task_order(spec):
    seen = []
    out = run_tasks(slow_square, TASKS, spec, progress=lambda d, t: seen.append((d, t)))
    assert [r for r, _ in out] == EXPECTED
    assert seen == [(i, 6) for i in range(1, 7)]


def test_processes_really_use_other_processes():
    out = run_tasks(slow_square, TASKS, ExecutorSpec("processes", 2))
    assert os.getpid() not in {pid for _, pid in out}


def test_dask_local_cluster_keeps_task_order_and_one_client_serves_several_batches():
    with TaskRunner(ExecutorSpec.parse(2, "local")) as runner:
        first = runner.run(slow_square, TASKS)
        client = runner.dask_client()
        second = runner.run(slow_square, TASKS[:3])
        assert runner.dask_client() is client
    assert [r for r, _ in first] == EXPECTED and [r for r, _ in second] == EXPECTED[:3]
    assert os.getpid() not in {pid for _, pid in first}


def test_process_pool_is_reused_between_batches():
    with TaskRunner(ExecutorSpec("processes", 2)) as runner:
        pids = {pid for _, pid in runner.run(slow_square, TASKS)} | {pid for _, pid in runner.run(slow_square, TASKS)}
    assert len(pids) <= 2


def test_a_failing_task_raises_its_error():
    with pytest.raises(ZeroDivisionError):
        run_tasks(divmod, [(1, 1), (1, 0)], ExecutorSpec("processes", 2))


@pytest.mark.parametrize(
    "workers,dask,kind,address",
    [
        (1, None, "serial", None),
        (3, None, "processes", None),
        (2, "local", "dask", None),
        (2, "", "dask", None),
        (2, "tcp://10.0.0.5:8786", "dask", "tcp://10.0.0.5:8786"),
    ],
)
def test_cli_options_choose_the_backend(workers, dask, kind, address):
    spec = ExecutorSpec.parse(workers, dask)
    assert (spec.kind, spec.workers, spec.address) == (kind, workers, address)


@pytest.mark.parametrize("workers,dask,match", [(0, None, "--workers"), (2, "10.0.0.5:8786", "--dask")])
def test_bad_executor_options_are_input_errors(workers, dask, match):
    with pytest.raises(InputError, match=match):
        ExecutorSpec.parse(workers, dask)


class StubClient:
    """Just enough of a Dask client for check_workers: its workers' answers to ``run``."""

    def __init__(self, versions=None, error=None, workers=True):
        self.versions, self.error, self.workers = versions, error, workers

    def wait_for_workers(self, n, timeout=None):
        if not self.workers:
            raise TimeoutError("no workers")

    def run(self, fn, *args):
        if self.error:
            raise self.error
        return self.versions


def test_worker_checks_name_the_worker_and_the_versions():
    from sim.executors import _installed_version, check_workers

    mine = _installed_version()
    assert check_workers(StubClient({"tcp://a:1": mine, "tcp://b:1": mine}), "x") == {
        "tcp://a:1": mine,
        "tcp://b:1": mine,
    }
    with pytest.raises(InputError, match=rf"^--dask: worker tcp://b:1 has rehabflow 0.0.1, this machine {mine}"):
        check_workers(StubClient({"tcp://a:1": mine, "tcp://b:1": "0.0.1"}), "x")
    from importlib.metadata import PackageNotFoundError

    with pytest.raises(InputError, match="^--dask: the workers of tcp://s:8786 cannot import rehabflow"):
        check_workers(StubClient(error=PackageNotFoundError("rehabflow")), "tcp://s:8786")
    with pytest.raises(InputError, match="^--dask: tcp://s:8786 has no workers after 10 s"):
        check_workers(StubClient(workers=False), "tcp://s:8786")


def test_a_real_local_cluster_passes_the_worker_check():
    from sim.executors import _installed_version

    with TaskRunner(ExecutorSpec.parse(1, "local")) as runner:
        client = runner.dask_client()
        from sim.executors import check_workers

        versions = check_workers(client, "the LocalCluster")
    assert len(versions) == 1 and set(versions.values()) == {_installed_version()}
