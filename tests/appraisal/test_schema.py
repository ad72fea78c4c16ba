"""Migration 0010 builds exactly the appraisal tables the models describe, on both databases, and its
downgrade removes them (tests/test_migrations.py checks the whole schema)."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from models.base import Base
from models.db import alembic_config, make_engine, upgrade

TABLES = {"appraisal", "appraisal_member", "appraisal_ballot", "appraisal_grade"}


def _ours(diff) -> list:
    return [d for d in diff if any(t in str(d) for t in TABLES)]


def test_migration_0010_matches_the_models_and_downgrades(database_url):
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            assert _ours(compare_metadata(MigrationContext.configure(conn), Base.metadata)) == []
            assert TABLES <= set(inspect(conn).get_table_names())
        command.downgrade(alembic_config(database_url), "0009")
        with engine.connect() as conn:
            assert not TABLES & set(inspect(conn).get_table_names())
        upgrade(database_url)
        with engine.connect() as conn:
            assert TABLES <= set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
