"""zhibu backup / zhibu restore: a seeded database survives the round trip table by table, row by row;
restore refuses to overwrite data, reports an old schema, and PostgreSQL's tools get the password only
through the environment."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.backup import pg_schema
from models.db import make_engine, upgrade
from models.inbox import InboundEvent
from tests.conftest import PG_URL
from tests.dbcompare import counts, previous_revision, snapshot


def zhibu(url: str, *args: str):
    return CliRunner().invoke(app, list(args), env={"ZHIBU_DATABASE_URL": url})


def seeded(url: str) -> dict[str, list[tuple]]:
    upgrade(url)
    result = zhibu(url, "seed", "--months", "2")
    assert result.exit_code == 0, result.output
    return snapshot(url)


def test_round_trip_keeps_every_table_and_row(database_url, tmp_path):
    before = seeded(database_url)
    assert before["person"] and before["meeting"] and before["attendance"] and before["alembic_version"]
    file = tmp_path / "zhibu.backup"
    result = zhibu(database_url, "backup", str(file))
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output

    if database_url.startswith("sqlite"):
        target = f"sqlite:///{tmp_path / 'restored.db'}"
        moved = None
    else:
        # A fresh schema of the same name: the seeded one moves aside, restore creates it anew.
        target, schema = database_url, pg_schema(make_url(database_url))
        moved = f"{schema}_seeded"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{moved}"'))
    try:
        result = zhibu(target, "restore", str(file))
        assert result.exit_code == 0, result.output
        assert "已从" in result.output and "最新版本" in result.output
        after = snapshot(target)
        assert {t: len(rows) for t, rows in after.items()} == {t: len(rows) for t, rows in before.items()}
        assert after == before

        # Restoring again over the data it now holds: refused, nothing changed; --force replaces it.
        again = zhibu(target, "restore", str(file))
        assert again.exit_code != 0 and "已经有数据" in again.output and "--force" in again.output
        forced = zhibu(target, "restore", "--force", str(file))
        assert forced.exit_code == 0, forced.output
        assert snapshot(target) == before
    finally:
        if moved:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{moved}" CASCADE'))
            admin.dispose()


def test_sqlite_backup_while_a_writer_holds_a_transaction(tmp_path):
    """The online backup copies what is committed; a write in progress neither blocks nor leaks into it."""
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(InboundEvent.__table__.insert().values(platform="wecom", event_id="committed"))
        with engine.connect() as writer:
            writer.begin()
            writer.execute(InboundEvent.__table__.insert().values(platform="wecom", event_id="in-flight"))
            result = zhibu(url, "backup", str(tmp_path / "copy.db"))
            assert result.exit_code == 0, result.output
            writer.commit()
    finally:
        engine.dispose()
    copy = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one self-contained file
        assert [r[0] for r in copy.execute("SELECT event_id FROM inbound_event")] == ["committed"]
    finally:
        copy.close()


def test_backup_does_not_overwrite_a_file_unless_forced(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    upgrade(url)
    file = tmp_path / "b.db"
    file.write_bytes(b"an older backup")
    result = zhibu(url, "backup", str(file))
    assert result.exit_code != 0 and "已存在" in result.output
    assert file.read_bytes() == b"an older backup"
    assert zhibu(url, "backup", "--force", str(file)).exit_code == 0
    assert counts(f"sqlite:///{file}") == counts(url)


def test_restoring_an_older_schema_says_to_upgrade(tmp_path):
    old = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(old, previous_revision())
    assert zhibu(old, "backup", str(tmp_path / "old.backup")).exit_code == 0
    result = zhibu(f"sqlite:///{tmp_path / 'new.db'}", "restore", str(tmp_path / "old.backup"))
    assert result.exit_code == 0, result.output
    assert previous_revision() in result.output and "zhibu db upgrade" in result.output


def test_restore_refuses_a_file_of_the_other_kind(tmp_path):
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP\x01\x0e\x00 not a database")
    result = zhibu(f"sqlite:///{tmp_path / 'a.db'}", "restore", str(dump))
    assert result.exit_code != 0 and "不是 SQLite 备份文件" in result.output
    assert not (tmp_path / "a.db").exists()
    result = zhibu("postgresql+psycopg://zhibu@127.0.0.1:1/zhibu", "restore", str(tmp_path / "missing"))
    assert result.exit_code != 0 and "不存在" in result.output


PG_FAKE = "postgresql+psycopg://zhibu:s3cret%40pw@127.0.0.1:1/zhibu?options=-csearch_path%3Dcounty"


def test_postgresql_without_its_client_tools_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump, no pg_restore
    result = zhibu(PG_FAKE, "backup", str(tmp_path / "x.dump"))
    assert result.exit_code != 0
    assert "pg_dump" in result.output and "postgresql-client" in result.output
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP...")
    result = zhibu(PG_FAKE, "restore", str(dump))
    assert result.exit_code != 0
    assert "pg_restore" in result.output and "postgresql-client" in result.output


def test_pg_dump_gets_the_password_only_through_the_environment(tmp_path, monkeypatch):
    seen = tmp_path / "seen"
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {seen}.argv\n'
        f'printf "%s" "$PGPASSWORD" > {seen}.password\n'
        'for a in "$@"; do case "$a" in --file=*) printf PGDMP > "${a#--file=}";; esac; done\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    result = zhibu(PG_FAKE, "backup", str(tmp_path / "county.dump"))
    assert result.exit_code == 0, result.output
    argv = Path(f"{seen}.argv").read_text()
    assert "s3cret" not in argv
    assert Path(f"{seen}.password").read_text() == "s3cret@pw"
    assert "--format=custom" in argv and "--schema=county" in argv
    assert "--dbname=postgresql://zhibu@127.0.0.1:1/zhibu?options=-csearch_path%3Dcounty" in argv
    assert (tmp_path / "county.dump").read_bytes() == b"PGDMP"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_database_cannot_be_backed_up(url, tmp_path):
    result = zhibu(url, "backup", str(tmp_path / "x.db"))
    assert result.exit_code != 0 and "内存数据库" in result.output


def test_backup_refuses_the_database_itself_and_a_missing_directory(tmp_path):
    db = tmp_path / "zhibu.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    before = counts(url)
    result = zhibu(url, "backup", "--force", str(db))
    assert result.exit_code != 0 and "数据库文件本身" in result.output
    assert counts(url) == before
    result = zhibu(url, "restore", "--force", str(db))
    assert result.exit_code != 0 and "数据库文件本身" in result.output
    result = zhibu(url, "backup", str(tmp_path / "nowhere" / "x.db"))
    assert result.exit_code != 0 and "不存在" in result.output
