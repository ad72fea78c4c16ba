"""The migrations build exactly the schema the models describe, the app refuses an old schema, and the
migrations are one line that only grows: released ones are never edited (README: appending a migration)."""

import hashlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import models  # noqa: F401
from models.base import Base
from models.db import (
    MIGRATIONS_DIR,
    SchemaOutOfDate,
    alembic_config,
    make_engine,
    require_current_schema,
    upgrade,
)

APPEND = (
    "append a migration instead: alembic revision --autogenerate --rev-id NNNN -m '<what changed>' "
    "on a database at head, then review it (README, developers: migrations)"
)

# Migrations databases in use already went through: their text is fixed. Add one here when it ships.
FROZEN = {
    "0001_initial.py": "3f4489a9c05f5b75d77a0f4cabc67541448a8393a08b3fc1bf7c4df60ff86e36",
    "0002_console_sessions_login_tickets_audit_log.py": "e8e9cfd8af7a5ab5948a8d7bd62905ad0413aeffb91d494328f298c79f967872",
    "0004_rate_window_event.py": "2def328c382d50737d27ab0d3788918fa32e0149512ffe6e8da17c7ccca82f15",
    "0005_directory_left_and_org_setting.py": "fc4aec9503154412fc2c8fd0bd1226949912c8d15178a47c099c8e307637141e",
    "0006_ledger_exports_built_in_the_background.py": "5ee5ec803755f2f5ae1eb489c2758f4abfc03462ab20febfca251c73d8ab5672",
    "0007_heart_talks_recorded_by_branches.py": "34f520675024d3cba65e1e5548b3e5f8c8e96a044f2fa6ba434fef17a78c4bd0",
    "0008_branch_rating_proposed_and_confirmed.py": "ddaa9893bef3a3bba67bfd8b2394eb08757ea8dc71a82614e1129ffd234391ba",
    "0009_life_meeting_steps_and_minutes.py": "e7f9443c070e3e6ee5987d57152ddf818a137a8282f1462b32ac4f1523b5b1ef",
    "0010_democratic_appraisal_ballots_and_grades.py": "98cb758f0220c612ab38cfcc183b68a52327c89cd78161a501e547fc9f225bbc",
    "0011_observer_yearly_rating_and_training.py": "1eea632cfe1ecbb9ed169ed38a65319fba916014dfc9a1653746b0557ec833a4",
    "0012_secretary_projects.py": "57779ad0df403d4960882754152f3dbb1548835e42a1f321a76db2274e0b0bbd",
    "0013_inspection_rounds_and_findings.py": "81a6d5290ae522072dd51ce063b1e27b0b87b138c201b28954e7378d9babf6ef",
    "0014_activity_day_menu.py": "ef7f117e034e2b231104b71d2c06fd7a9b2c9d443aa80f1ba942ff53c5f27e6b",
    "0015_project_bulletins.py": "32dc351b4b627529a688f9cc6edc24181ecfe6e8881d2039679a08d0266225ab",
    "0016_attendance_receipt_due.py": "764e16d195ef7d305a8d76db1b13383853e84cb5464d5861290cff191c822203",
}


def test_upgrade_matches_models(database_url):
    engine = make_engine(database_url)
    with pytest.raises(SchemaOutOfDate, match="zhibu db upgrade"):
        require_current_schema(engine)
    upgrade(database_url)
    require_current_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ; {APPEND}: {diff}"
    engine.dispose()


def test_released_migrations_are_never_edited():
    for name, digest in FROZEN.items():
        text = (MIGRATIONS_DIR / "versions" / name).read_bytes()
        assert hashlib.sha256(text).hexdigest() == digest, f"{name} changed; {APPEND}"


def test_migrations_are_one_line_numbered_in_order():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()}"
    chain = list(reversed(list(script.walk_revisions())))  # base first
    assert chain[0].down_revision is None
    for before, after in zip(chain, chain[1:], strict=False):
        assert after.down_revision == before.revision, f"{after.revision} does not follow {before.revision}"
        assert int(after.revision) > int(before.revision), (
            f"{after.revision} is numbered before {before.revision}"
        )
    for rev in chain:
        assert rev.path.rsplit("/", 1)[-1].startswith(f"{rev.revision}_"), rev.path
