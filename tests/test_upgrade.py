"""Upgrading a database of the previous release: its data is all there afterwards and the app works on it.

"Previous" is the head's down_revision, so the test follows as migrations are appended (today 0004 →
0005). The previous release's data: `zhibu seed --months 2` on a head database, copied into a database
at the previous revision table by table, in the columns that revision has. Seeding at head and then
downgrading would test the new migration's downgrade, not its upgrade; a fixture file frozen once would
stop following the previous revision; the seed code writes only head's shape, so copying its rows into
the older tables is what a database of the previous release holding the same organisation contains.
Columns new at head are left to the migration (their server defaults, or NULL), as in a real upgrade.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, make_url, select
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.backup import pg_schema
from handlers.common.dates import add_months, month_start
from models import startmonth
from models.base import Base
from models.db import make_engine, make_sessionmaker, require_current_schema, schema_revisions, upgrade
from scheduler.jobs import all_jobs
from scheduler.runner import RunResult, latest_fire, run_job
from tests.dbcompare import previous_revision, scratch_database, snapshot
from tests.harness import CONFIG


def copy_rows(source_url: str, target: Engine) -> None:
    """Every row of the source's tables into the target's tables of the same name, in the columns the
    target has (parents first), in one transaction; on PostgreSQL each id sequence then continues after
    the copied ids, as it would in the database those rows were written to."""
    source = make_engine(source_url)
    src, dst = MetaData(), MetaData()
    src.reflect(bind=source)
    dst.reflect(bind=target)
    source.dispose()
    sqlite = target.dialect.name == "sqlite"
    with target.connect() as conn:
        if sqlite:
            conn.exec_driver_sql(f"ATTACH DATABASE '{make_url(source_url).database}' AS previous")
            prefix = "previous."
        else:
            prefix = f'"{pg_schema(make_url(source_url))}".'
        for table in dst.sorted_tables:
            if table.name == "alembic_version":
                continue
            assert table.name in src.tables, f"{table.name} is not at head: give it rows here"
            names = ", ".join(
                f'"{c.name}"' for c in table.columns if c.name in src.tables[table.name].columns
            )
            conn.exec_driver_sql(
                f'INSERT INTO "{table.name}" ({names}) SELECT {names} FROM {prefix}"{table.name}"'
            )
            # A serial id's sequence follows the copied rows (appraisal_ballot's id is a random text key).
            if not sqlite and "id" in table.columns and table.columns["id"].type.python_type is int:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), max(id)) FROM \"{table.name}\" "
                    f"HAVING pg_get_serial_sequence('\"{table.name}\"', 'id') IS NOT NULL AND count(*) > 0"
                )
        conn.commit()
        if sqlite:
            conn.exec_driver_sql("DETACH DATABASE previous")


def test_a_previous_release_database_upgrades_with_all_its_data(database_url, tmp_path):
    previous = previous_revision()
    engine = make_engine(database_url)
    try:
        with scratch_database(database_url, tmp_path) as seeded:
            upgrade(seeded)
            result = CliRunner().invoke(app, ["seed", "--months", "2"], env={"ZHIBU_DATABASE_URL": seeded})
            assert result.exit_code == 0, result.output
            upgrade(database_url, previous)
            copy_rows(seeded, engine)
        before = snapshot(database_url)
        assert before.pop("alembic_version") == [{"version_num": previous}]
        assert before["person"] and before["meeting"] and before["attendance"] and before["chat_account"]

        upgrade(database_url)

        current, head = schema_revisions(engine)
        assert current == head != previous
        require_current_schema(engine)
        after = snapshot(database_url)
        for table, rows in before.items():
            kept = [{c: row[c] for c in rows[0]} for row in after[table]] if rows else after[table]
            assert kept == rows, f"{table}: rows changed by the upgrade"
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []

        # The app on the upgraded data: every model reads every row, and every scheduled job runs.
        factory = make_sessionmaker(engine)
        with factory() as session:
            for mapper in Base.registry.mappers:
                assert len(session.scalars(select(mapper.class_)).all()) == len(
                    after.get(mapper.local_table.name, [])
                )
        now = datetime.now(UTC)  # the seed's history ends today
        # The upgrade keeps the seed's start month: the first month of its history (models.seed).
        this_month = month_start(now.astimezone(CONFIG.tz).date())
        with factory() as session, session.begin():
            assert startmonth.start_month(session) == add_months(this_month, -1)
            # A run below may fire up to 40 days back and score the month before its fire (early on
            # the 1st: the month before last): open those months too, as `zhibu golive` would, so
            # every job has its period to run whatever the day.
            startmonth.set_start_month(session, add_months(this_month, -3))
        for spec in all_jobs(CONFIG):
            fire = latest_fire(spec, CONFIG.tz, now, within=timedelta(days=40))
            period = spec.period(fire or now.astimezone(CONFIG.tz))
            outcome = run_job(factory, spec, now=now, period=period, trigger="manual")
            assert outcome == RunResult.RAN, (
                f"job {spec.name} did not run on the upgraded database: {outcome}"
            )
    finally:
        engine.dispose()


def _zhibu(url: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"ZHIBU_DATABASE_URL": url})


def test_db_upgrade_backs_up_first_when_asked(tmp_path):
    url = f"sqlite:///{tmp_path / 'zhibu.db'}"
    upgrade(url, previous_revision())
    file = tmp_path / "before-upgrade.db"
    result = _zhibu(url, "db", "upgrade", "--backup", str(file))
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output and "最新版本" in result.output
    assert snapshot(f"sqlite:///{file}")["alembic_version"] == [{"version_num": previous_revision()}]
    current, head = schema_revisions(make_engine(url))
    assert current == head
    # A second upgrade with the same file: the backup is refused, so nothing is upgraded blindly.
    again = _zhibu(url, "db", "upgrade", "--backup", str(file))
    assert again.exit_code != 0 and "已存在" in again.output


def test_db_upgrade_refuses_a_database_from_a_newer_release(tmp_path):
    url = f"sqlite:///{tmp_path / 'zhibu.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    result = _zhibu(url, "db", "upgrade")
    assert result.exit_code != 0 and "9999" in result.output and "不要降级" in result.output
    assert snapshot(url)["alembic_version"] == [{"version_num": "9999"}]
