"""The job registry: every feature's jobs, one line per feature module.

Each module defines `def jobs() -> list[JobSpec]`; all_jobs() calls it each time it is asked, so a
cron that comes from a feature's configuration reflects a configure() by the composition root made
before the scheduler starts (a list built at import would not).
"""

from __future__ import annotations

import importlib

from bot.core.jobs import JobSpec

# Feature modules that define jobs() -> list[JobSpec]: one line per feature.
JOB_MODULES: tuple[str, ...] = (
    "handlers.meetings.jobs",
    "handlers.fees.jobs",
    "handlers.observers.jobs",
    "handlers.monthly.jobs",
)


def all_jobs() -> list[JobSpec]:
    jobs: list[JobSpec] = []
    for name in JOB_MODULES:
        jobs.extend(importlib.import_module(name).jobs())
    names = [j.name for j in jobs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"job names used twice: {sorted(duplicates)}")
    return jobs
