"""The job registry: every feature's jobs, one line per feature module.

A module lists constant jobs in JOBS = [JobSpec(...)]. A module whose cron comes from its
configuration defines `def jobs() -> list[JobSpec]` instead, and all_jobs() calls it each time it
is asked, so a configure() by the composition root before the scheduler starts is what counts.
"""

from __future__ import annotations

import importlib

from bot.core.jobs import JobSpec

# Feature modules that define JOBS = [JobSpec(...)] or jobs(): one line per feature.
JOB_MODULES: tuple[str, ...] = (
    "handlers.meetings.jobs",
    "handlers.fees.jobs",
    "handlers.observers.jobs",
    "handlers.monthly.jobs",
)


def all_jobs() -> list[JobSpec]:
    jobs: list[JobSpec] = []
    for name in JOB_MODULES:
        module = importlib.import_module(name)
        jobs.extend(module.jobs() if hasattr(module, "jobs") else module.JOBS)
    names = [j.name for j in jobs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"job names used twice: {sorted(duplicates)}")
    return jobs
