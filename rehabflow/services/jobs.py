"""Background runs: a long simulation never freezes the page, and a finished one is kept by its key.

The page submits ``fn(progress)`` under a key (scenario hash + run settings) to one background worker thread
and polls the job's progress while it runs. A rerun of the script (the user moves a slider, opens another
page and comes back) finds the same job by key instead of starting a new one, and a finished job's result
is returned at once. The registry is process-wide (``st.cache_resource`` in the pages), so two managers who
run the same scenario share one run. No Streamlit import here: the registry is plain Python and testable.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

Progress = Callable[..., None]  # progress(done, total[, note])


@dataclass
class Job:
    """One run: ``done``/``total`` as last reported by the model's progress callback."""

    key: str
    label: str
    future: Future = field(repr=False)
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    note: str = ""  # what the run says it is doing, shown instead of "done of total" when set

    def progress(self, done: int, total: int, note: str | None = None) -> None:
        self.done, self.total = int(done), int(total)
        if note is not None:
            self.note = note

    @property
    def running(self) -> bool:
        return not self.future.done()

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(1.0, self.done / self.total)

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def error(self) -> BaseException | None:
        return self.future.exception() if self.future.done() else None

    def result(self) -> Any:
        return self.future.result()


class JobRegistry:
    """Runs jobs on ``workers`` background threads; keeps the last ``keep`` finished jobs by key."""

    def __init__(self, workers: int = 1, keep: int = 24):
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rehabflow-run")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._keep = keep

    def get(self, key: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None:
                self._jobs.move_to_end(key)
            return job

    def submit(self, key: str, fn: Callable[[Progress], Any], label: str = "") -> Job:
        """The job for ``key``: the existing one unless it failed, else a new run of ``fn(progress)``."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not (job.future.done() and job.future.exception() is not None):
                self._jobs.move_to_end(key)
                return job
            future: Future = Future()
            job = Job(key=key, label=label, future=future)

            def run() -> None:
                try:
                    job.future.set_result(fn(job.progress))
                except BaseException as e:  # noqa: BLE001  (handed to the page, which shows it)
                    job.future.set_exception(e)
                finally:
                    job.finished = time.monotonic()

            future.set_running_or_notify_cancel()
            self._jobs[key] = job
            self._executor.submit(run)
            self._evict()
            return job

    def forget(self, key: str) -> None:
        with self._lock:
            self._jobs.pop(key, None)

    def _evict(self) -> None:
        finished = [k for k, j in self._jobs.items() if not j.running]
        while len(self._jobs) > self._keep and finished:
            self._jobs.pop(finished.pop(0), None)

    def wait(self, job: Job, on_tick: Callable[[Job], None], interval: float = 0.25) -> None:
        """Call ``on_tick(job)`` every ``interval`` seconds until the job ends (the page's progress bar)."""
        while job.running:
            on_tick(job)
            time.sleep(interval)
        on_tick(job)
