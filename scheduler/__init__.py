"""APScheduler wiring and the job registry (see scheduler.runner and scheduler.jobs)."""
