"""Every table of a database and its rows in key order: what a backup's round trip or an upgrade must
keep. Tables are reflected from the database, not taken from the models, so a database at an older
revision is read as it is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import MetaData, func, select, text

from models.db import alembic_config, make_engine

Rows = dict[str, list[dict]]


def snapshot(url: str) -> Rows:
    """{table: its rows (column -> value) in primary-key order}, alembic_version included."""
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(bind=engine)
        with engine.connect() as conn:
            return {
                t.name: [dict(r._mapping) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                for t in meta.sorted_tables
            }
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(bind=engine)
        with engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in meta.sorted_tables
            }
    finally:
        engine.dispose()


def previous_revision() -> str:
    """The revision before the head: the schema of the release before this code's."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    down = script.get_revision(script.get_current_head()).down_revision
    assert isinstance(down, str), f"the head should follow exactly one revision, not {down!r}"
    return down


@contextmanager
def scratch_database(like: str, directory: Path) -> Iterator[str]:
    """An empty database of the same kind as `like`: a file in `directory` for SQLite, a schema of its
    own (dropped afterwards) in the same PostgreSQL database."""
    if like.startswith("sqlite"):
        yield f"sqlite:///{directory / f'scratch-{uuid.uuid4().hex[:8]}.db'}"
        return
    from tests.conftest import PG_URL, _pg_schema_url

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
