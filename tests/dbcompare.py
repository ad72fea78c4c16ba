"""Every table of a database, its row count and its rows in key order: what a backup's round trip or
an upgrade must keep. Tables are reflected from the database, not taken from the models, so a database
at an older revision is read as it is."""

from __future__ import annotations

from sqlalchemy import MetaData, func, select

from models.db import make_engine


def snapshot(url: str) -> dict[str, list[tuple]]:
    """{table: its rows in primary-key order}, alembic_version included."""
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(bind=engine)
        with engine.connect() as conn:
            return {
                t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
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

    from models.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    down = script.get_revision(script.get_current_head()).down_revision
    assert isinstance(down, str), f"the head should follow exactly one revision, not {down!r}"
    return down
