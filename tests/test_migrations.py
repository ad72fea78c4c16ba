"""The migrations build exactly the schema the models describe, and the app refuses an old schema."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import models  # noqa: F401
from models.base import Base
from models.db import SchemaOutOfDate, make_engine, require_current_schema, upgrade


def test_upgrade_matches_models(database_url):
    engine = make_engine(database_url)
    with pytest.raises(SchemaOutOfDate, match="zhibu db upgrade"):
        require_current_schema(engine)
    upgrade(database_url)
    require_current_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ; run scripts/regen-initial-migration.sh: {diff}"
    engine.dispose()
