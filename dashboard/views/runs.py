"""Streamlit glue for background runs: one process-wide registry, a progress bar that follows the run.

A run is keyed by what determines its result (the scenario hash, which includes replications, weeks and
seed); asking again for the same key returns the finished result at once, or follows the run in progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from rehabflow.services.jobs import Job, JobRegistry, Progress

#: Worker processes the simulation may use (the machine has 2 cores shared with others).
SIM_WORKERS = 2


@st.cache_resource(show_spinner=False)
def registry() -> JobRegistry:
    return JobRegistry(workers=1, keep=24)


def finished_result(key: str) -> Any | None:
    """The result of a finished, successful run under ``key``; ``None`` if there is none (yet)."""
    job = registry().get(key)
    if job is None or job.running or job.error is not None:
        return None
    return job.result()


def running_job(key: str) -> Job | None:
    job = registry().get(key)
    return job if job is not None and job.running else None


def follow(job: Job, label: str) -> Any | None:
    """Show the run's progress until it ends; return its result, or ``None`` after showing its error."""
    if job.running:
        with st.status(label, expanded=True) as status:
            bar = st.progress(0.0, text="starting...")

            def tick(j: Job) -> None:
                text = f"{j.done} of {j.total} done, {j.elapsed:.0f} s" if j.total else f"starting... {j.elapsed:.0f} s"
                if j.note:
                    text = f"{j.note}, {j.elapsed:.0f} s"
                bar.progress(j.fraction, text=text)

            registry().wait(job, tick)
            if job.error is None:
                status.update(label=f"{label}: done in {job.elapsed:.1f} s", state="complete", expanded=False)
            else:
                status.update(label=f"{label}: failed", state="error")
    err = job.error
    if err is not None:
        from scenarios import InputError

        if isinstance(err, InputError):
            st.error(str(err))
        else:
            st.error(f"The run failed: {type(err).__name__}: {err}")
        registry().forget(job.key)
        return None
    return job.result()


def run(key: str, fn: Callable[[Progress], Any], label: str) -> Any | None:
    """Start (or join) the run under ``key`` and follow it to the end."""
    return follow(registry().submit(key, fn, label), label)
