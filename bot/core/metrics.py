"""Prometheus metrics of the chat core (served at /metrics by the web app)."""

from prometheus_client import Counter, Histogram

EVENTS = Counter("zhibu_events_total", "Chat events received", ["platform", "outcome"])
DISPATCH_SECONDS = Histogram("zhibu_dispatch_seconds", "Time to handle one chat event", ["platform"])
OUTBOX_SENT = Counter("zhibu_outbox_sent_total", "Outbox rows delivered", ["platform"])
OUTBOX_FAILED = Counter("zhibu_outbox_failed_total", "Outbox rows failed for good", ["platform"])
OUTBOX_RETRIED = Counter("zhibu_outbox_retried_total", "Outbox rows put back for a retry", ["platform"])
OUTBOX_DEFERRED = Counter(
    "zhibu_outbox_deferred_total", "Outbox rows held back by a per-recipient rate limit", ["platform"]
)
JOB_RUNS = Counter("zhibu_job_runs_total", "Scheduled job runs", ["job", "outcome"])
