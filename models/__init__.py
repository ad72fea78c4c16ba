"""SQLAlchemy models. Importing this package registers every table on Base.metadata."""

# One import line per feature's models (appended by each engineer), so isort's merging is off here.
# ruff: noqa: I001
from models import api_token, org  # noqa: F401
from models import inbox, jobs, outbox  # noqa: F401
from models import fees  # noqa: F401
from models import meetings, meetings_seed  # noqa: F401
from models import monthly  # noqa: F401
from models import observers  # noqa: F401
from models import observers_seed  # noqa: F401
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
