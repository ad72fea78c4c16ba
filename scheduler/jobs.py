"""The job registry: every feature's JOBS, one line per feature module."""

from __future__ import annotations

import importlib

from bot.core.jobs import JobSpec

# Feature modules that define JOBS = [JobSpec(...)]: one line per feature.
JOB_MODULES: tuple[str, ...] = (
    "handlers.meetings.jobs",
    "handlers.fees.jobs",
    "handlers.observers.jobs",
    "handlers.monthly.jobs",
)


def all_jobs() -> list[JobSpec]:
    jobs: list[JobSpec] = []
    for name in JOB_MODULES:
        jobs.extend(importlib.import_module(name).JOBS)
    names = [j.name for j in jobs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"job names used twice: {sorted(duplicates)}")
    return jobs
