"""SQLAlchemy models. Importing this package registers every table on Base.metadata."""

# Every model module, so Base.metadata is complete for Alembic and create_all.
from models import (  # noqa: F401
    api_token,
    appraisal,
    appraisal_seed,
    attachments,
    audit,
    console,
    exports,
    fees,
    inbox,
    inspection,
    inspection_seed,
    jobs,
    lifemeeting,
    lifemeeting_seed,
    meetings,
    meetings_seed,
    monthly,
    observer_rating,
    observer_rating_seed,
    observers,
    observers_seed,
    org,
    outbox,
    projects,
    projects_seed,
    rating,
    talks,
)
from models.base import Base, TimestampMixin, UTCDateTime, utcnow
from models.db import make_engine, make_sessionmaker, unit_of_work

__all__ = [
    "Base",
    "TimestampMixin",
    "UTCDateTime",
    "make_engine",
    "make_sessionmaker",
    "unit_of_work",
    "utcnow",
]
