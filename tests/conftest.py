"""Shared fixtures.

Every database test runs twice: on SQLite (always) and on PostgreSQL (when ZHIBU_TEST_DATABASE_URL is
set; otherwise it is skipped with the reason). Each test gets its own empty database: a fresh SQLite
file, or a fresh PostgreSQL schema whose name travels in the URL (search_path), so that threads and
subprocesses of the same test see the same data and nothing leaks between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import text

from models.base import Base
from models.db import make_engine, make_sessionmaker

# Tests never leave the machine: the SDKs must not route loopback traffic through a proxy.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_proxy, None)

PG_URL = os.environ.get("ZHIBU_TEST_DATABASE_URL", "")
PG_SKIP_REASON = (
    "PostgreSQL tests need ZHIBU_TEST_DATABASE_URL, e.g. "
    "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run sets it)"
)


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An isolated, empty database (no tables) for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url):
    """An engine on a database with every table created from the models."""
    eng = make_engine(database_url)
    Base.metadata.create_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine):
    return make_sessionmaker(engine)


@pytest.fixture
def session(session_factory):
    """A session for arranging and asserting; the test commits what it arranges."""
    with session_factory() as s:
        yield s
