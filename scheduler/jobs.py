"""The job registry: every feature's jobs, one line per feature module.

Each feature module defines `def jobs(core: CoreConfig) -> list[JobSpec]`: its jobs with the rules, zone
and public address the composition root passes. The modules are imported here, not looked up by name,
so import-linter sees the scheduler's edge to each feature.
"""

from __future__ import annotations

from types import ModuleType

from bot.core.context import CoreConfig
from bot.core.jobs import JobSpec
from handlers import retention
from handlers.appraisal import jobs as appraisal_jobs
from handlers.fees import jobs as fees_jobs
from handlers.inspection import jobs as inspection_jobs
from handlers.lifemeeting import jobs as lifemeeting_jobs
from handlers.meetings import jobs as meetings_jobs
from handlers.monthly import jobs as monthly_jobs
from handlers.observers import jobs as observers_jobs
from handlers.projects import jobs as projects_jobs
from handlers.rating import jobs as rating_jobs

# Feature modules that define jobs(core) -> list[JobSpec]: one line per feature.
JOB_MODULES: tuple[ModuleType, ...] = (
    meetings_jobs,
    fees_jobs,
    observers_jobs,
    monthly_jobs,
    lifemeeting_jobs,
    appraisal_jobs,
    rating_jobs,
    projects_jobs,
    inspection_jobs,
    retention,
)


def all_jobs(core: CoreConfig) -> list[JobSpec]:
    """Every job, built for `core` (its rules, zone and public address)."""
    jobs: list[JobSpec] = []
    for module in JOB_MODULES:
        jobs.extend(module.jobs(core))
    names = [j.name for j in jobs]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"job names used twice: {sorted(duplicates)}")
    return jobs
