"""PostgreSQL sessions read times in UTC whatever zone the server was installed with (models.db)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from models.db import make_engine

SHANGHAI_NOON = text("SELECT CAST('2026-10-01 12:00:00+08' AS timestamptz)")


def test_postgresql_reads_times_in_utc_on_a_server_set_to_shanghai(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the session's time zone is PostgreSQL's (SQLite keeps UTC text)")
    # A server whose zone is Asia/Shanghai, as a county's may well be: set per connection here.
    shanghai = database_url + quote(" -cTimeZone=Asia/Shanghai")
    plain = create_engine(shanghai)
    with plain.connect() as conn:
        assert conn.scalar(text("SHOW TIME ZONE")) == "Asia/Shanghai"  # the server's zone is in effect
        assert conn.scalar(SHANGHAI_NOON).utcoffset().total_seconds() == 8 * 3600
    plain.dispose()
    engine = make_engine(shanghai)
    with engine.connect() as conn:
        assert conn.scalar(text("SHOW TIME ZONE")) == "UTC"
        noon = conn.scalar(SHANGHAI_NOON)
        # The same instant, in UTC itself (not a ZoneInfo for UTC): what handlers.monthly.scoring's
        # raw reads compare with its UTC bounds.
        assert noon == datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
        assert noon.tzinfo is UTC
    engine.dispose()
