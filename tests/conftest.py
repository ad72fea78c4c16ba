"""Shared fixtures.

Every database test runs twice: on SQLite (always) and on PostgreSQL (when ZHIBU_TEST_DATABASE_URL is
set; otherwise it is skipped with the reason). Each test gets a database of its own, reached by a URL,
so that threads and subprocesses of the same test (the relay, uvicorn, the stream client, the CLI) see
the same data and nothing leaks between tests. `database_url` alone is an empty database (no tables:
for migrations and CLI commands); with `engine` (or `session_factory`, `session`) it has every table;
with `migrated_url` it is what `zhibu db upgrade` leaves (every table and alembic's revision), for CLI
commands that refuse an out-of-date schema. Only tests of the migrations and of `zhibu db upgrade`
itself run the migrations on an empty database.

The tables are built once per run, not once per test (issue #13 item 8), and so are the migrations:
- SQLite: create_all (or the migrations) into a template file once; each test gets its own byte copy
  of that file.
- PostgreSQL: one schema per run (per pytest process, so concurrent runs do not meet) with every
  table, and one migrated, each emptied before each test that uses it: every table's rows deleted and every sequence restarted, which
  leaves what create_all leaves. Not a transaction rolled back at the end of each test: many tests
  run the relay, uvicorn or a subprocess on their own connections, which commit, and a rollback on
  the test's connection would neither see nor undo their work. Not a template database either:
  CREATE DATABASE ... TEMPLATE is quick, but each DROP DATABASE forces a checkpoint on PostgreSQL 15
  (2 to 40 s each on this machine under load). A test that changed the schema's shape (a table added
  or altered) gets it rebuilt before the next test; that check is one catalog query.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, text

import models  # noqa: F401 - registers every table on Base.metadata
from models.base import Base
from models.db import make_engine, make_sessionmaker, upgrade

# Tests never leave the machine: the SDKs must not route loopback traffic through a proxy.
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
for _proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_proxy, None)

PG_URL = os.environ.get("ZHIBU_TEST_DATABASE_URL", "")
PG_SKIP_REASON = (
    "PostgreSQL tests need ZHIBU_TEST_DATABASE_URL, e.g. "
    "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run sets it)"
)

# Set on a test whose database_url already has every table, so `engine` does not build them again.
_HAS_TABLES = pytest.StashKey[bool]()


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def _sqlite_template(path: Path, build: Callable[[str], None]) -> Path:
    url = f"sqlite:///{path}"
    build(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        # Fold the write-ahead log into the file and leave WAL mode, so the file alone is the database
        # (each copy's engine turns WAL on again when it connects).
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()
    return path


def _create_all(url: str) -> None:
    engine = make_engine(url)
    try:
        Base.metadata.create_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_tables_template(tmp_path_factory) -> Path:
    """A SQLite file with every table, copied for each test that needs the tables."""
    return _sqlite_template(tmp_path_factory.mktemp("schema") / "tables.db", _create_all)


@pytest.fixture(scope="session")
def _sqlite_migrated_template(tmp_path_factory) -> Path:
    """A SQLite file the migrations built, copied for each test that needs a migrated database."""
    return _sqlite_template(tmp_path_factory.mktemp("schema") / "migrated.db", upgrade)


# The shape of a schema: its relations and their columns. It changes only when a test runs DDL.
_SHAPE = """
SELECT md5(string_agg(c.relname || ':' || c.relkind::text || ':' || coalesce(a.attname || '/' || a.atttypid::text, ''),
                      ',' ORDER BY c.relname, a.attnum))
FROM pg_class c
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = CAST(:schema AS regnamespace)
"""


class PgTablesSchema:
    """This run's PostgreSQL schema with every table, made by `build` (create_all or the migrations);
    `fresh()` empties it for the next test. Alembic's revision row is not a model's table, so emptying
    the tables keeps a migrated schema migrated."""

    def __init__(self, base_url: str, build: Callable[[str], None]) -> None:
        self.base_url = base_url
        self.build = build
        self.admin = make_engine(base_url)
        self.schema = ""
        self.shape = ""
        self.empty_it = ""
        self.dropped: list[str] = []

    @property
    def url(self) -> str:
        return _pg_schema_url(self.base_url, self.schema)

    def _build(self) -> None:
        if self.schema:
            self.dropped.append(self.schema)
        self.schema = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        self.build(self.url)
        with self.admin.connect() as conn:
            self.shape = conn.execute(text(_SHAPE), {"schema": self.schema}).scalar_one()
            sequences = conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = :schema ORDER BY 1"),
                {"schema": self.schema},
            ).scalars()
            # Children before parents, so no foreign key is ever left pointing at a deleted row.
            # The audit log refuses DELETE (models/audit.py, migration 0002); TRUNCATE fires no row trigger.
            statements = [
                f'TRUNCATE "{self.schema}"."{t.name}"'
                if t.name == "audit_entry"
                else f'DELETE FROM "{self.schema}"."{t.name}"'
                for t in reversed(Base.metadata.sorted_tables)
            ]
            statements += [f'ALTER SEQUENCE "{self.schema}"."{s}" RESTART' for s in sequences]
        # One round trip: psycopg sends a parameterless string of statements as one simple query.
        self.empty_it = ";\n".join(statements)

    def fresh(self) -> str:
        """The schema's URL, with every table empty and every id counting from 1 again."""
        if not self.schema:
            self._build()
            return self.url
        with self.admin.begin() as conn:
            # A connection a test left open in a transaction would hold rows locked: fail loudly.
            conn.exec_driver_sql("SET LOCAL lock_timeout = '30s'")
            if conn.execute(text(_SHAPE), {"schema": self.schema}).scalar_one() == self.shape:
                conn.exec_driver_sql(self.empty_it)
                return self.url
        self._build()
        return self.url

    def close(self) -> None:
        with self.admin.begin() as conn:
            for schema in [*self.dropped, self.schema]:
                if schema:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def _pg_tables_schema() -> Iterator[PgTablesSchema]:
    tables = PgTablesSchema(PG_URL, _create_all)
    try:
        yield tables
    finally:
        tables.close()


@pytest.fixture(scope="session")
def _pg_migrated_schema() -> Iterator[PgTablesSchema]:
    migrated = PgTablesSchema(PG_URL, upgrade)
    try:
        yield migrated
    finally:
        migrated.close()


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    """A CLI command run in this process (CliRunner) sets the collector as a server's process does
    (bot.cli.common.settle_heap: start-up's objects frozen, young passes less often): undone after the test,
    so that the rest of the run collects as usual."""
    threshold = gc.get_threshold()
    yield
    if gc.get_freeze_count():
        gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    """This test's own database: empty, migrated when the test also uses `migrated_url`, or with
    every table when it uses `engine`."""
    built = (
        "migrated"
        if "migrated_url" in request.fixturenames
        else "tables"
        if "engine" in request.fixturenames
        else ""
    )
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        if built:
            shutil.copyfile(request.getfixturevalue(f"_sqlite_{built}_template"), path)
            request.node.stash[_HAS_TABLES] = True
        yield f"sqlite:///{path}"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    if built:
        url = request.getfixturevalue(f"_pg_{built}_schema").fresh()
        request.node.stash[_HAS_TABLES] = True
        yield url
        return
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
def migrated_url(database_url) -> str:
    """This test's database as `zhibu db upgrade` leaves it, a copy of the run's migrated one."""
    return database_url


@pytest.fixture
def engine(request, database_url) -> Iterator[Engine]:
    """An engine on this test's database, with every table created from the models."""
    eng = make_engine(database_url)
    if not request.node.stash.get(_HAS_TABLES, False):
        # Asked for late (request.getfixturevalue), after database_url had made an empty database.
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
