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


@pytest.mark.parametrize("workers,dask,kind,address", [
    (1, None, "serial", None), (3, None, "processes", None), (2, "local", "dask", None), (2, "", "dask", None),
    (2, "tcp://10.0.0.5:8786", "dask", "tcp://10.0.0.5:8786"),
])
def test_cli_options_choose_the_backend(workers, dask, kind, address):
    spec = ExecutorSpec.parse(workers, dask)
    assert (spec.kind, spec.workers, spec.address) == (kind, workers, address)


@pytest.mark.parametrize("workers,dask,match", [(0, None, "--workers"), (2, "10.0.0.5:8786", "--dask")])
def test_bad_executor_options_are_input_errors(workers, dask, match):
    with pytest.raises(InputError, match=match):
        ExecutorSpec.parse(workers, dask)
