"""zhibu backup FILE / zhibu restore FILE: the whole database to one file and back.

SQLite: SQLite's online backup API (sqlite3.Connection.backup) copies a consistent snapshot while the
bot keeps running and writing; the copy is a plain single-file database. PostgreSQL: pg_dump's custom
format (-Fc) of the schema zhibu uses (the search_path of the URL's options, else public), restored by
pg_restore in one transaction (a failed restore leaves the target as it was). The connection is handed
to pg_dump/pg_restore as a libpq URL without the password; the password goes in PGPASSWORD, never on
the command line (where `ps` shows it to every user of the host). A backup is written to a temporary
file beside FILE and renamed when complete, so FILE is never half-written.

Restore refuses a target that holds data unless --force, and after restoring compares the schema's
revision with the code's: an older backup is upgraded by `zhibu db upgrade`.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlalchemy import make_url, text
from sqlalchemy.engine import URL

from bot.cli.common import echo, fail, settings
from models.db import known_revisions, make_engine, schema_revisions

TEXT = {
    "exists": "文件 {file} 已存在，没有覆盖。换一个文件名，或加上 --force 覆盖它。",
    "no_file": "备份文件 {file} 不存在。",
    "no_dir": "目录 {dir} 不存在，请先创建它。",
    "same_file": "{file} 就是数据库文件本身，不能用作备份文件。请换一个路径。",
    "sqlite_error": "SQLite 出错：{error}",
    "memory": "数据库地址 {url} 是内存数据库，无法备份或恢复。",
    "no_sqlite_db": "数据库文件 {path} 不存在。请检查 ZHIBU_DATABASE_URL。",
    "not_sqlite": "{file} 不是 SQLite 备份文件（当前数据库是 SQLite，只能恢复 zhibu backup 在 SQLite 上做的备份）。",
    "not_pg": "{file} 不是 PostgreSQL 备份文件（当前数据库是 PostgreSQL，只能恢复 zhibu backup 用 pg_dump 做的备份）。",
    "no_tool": "找不到 {tool} 命令。PostgreSQL 的备份和恢复需要它：请安装 PostgreSQL 客户端"
    "（Debian/Ubuntu：apt-get install postgresql-client；版本不低于数据库服务器），再重试。",
    "tool_failed": "{tool} 失败（退出码 {code}）：{error}",
    "other_schema": "备份里的数据在 schema「{dumped}」，而 ZHIBU_DATABASE_URL 指向 schema「{target}」。"
    "请让两者一致（search_path）后再恢复。",
    "not_empty": "目标数据库里已经有数据（{tables} 等表），没有恢复。"
    "如果确定要用备份替换其中的全部数据，请加上 --force。",
    "backed_up": "已备份到 {file}（{size}）。",
    "restored": "已从 {file} 恢复数据库。",
    "current": "数据库结构是最新版本（{revision}）。",
    "older": "备份的数据库结构版本是 {current}，当前软件需要 {head}。请运行：zhibu db upgrade",
    "newer": "备份的数据库结构版本 {current} 比当前软件认识的版本新（需要 {head}）："
    "这个备份来自更新版本的 zhibu，请先把软件升级到那个版本再使用。",
    "no_revision": "备份里没有 zhibu 的数据库结构版本：这不是 zhibu 数据库的备份吗？请检查文件。",
}

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _size(path: Path) -> str:
    n = path.stat().st_size
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} KB"


def _magic(path: Path, magic: bytes) -> bool:
    with path.open("rb") as f:
        return f.read(len(magic)) == magic


@contextmanager
def _written_whole(file: Path) -> Iterator[str]:
    """A temporary path beside `file` for the block to write; it becomes `file` in one rename only
    when the block completes, so `file` is never half-written and a failed backup leaves nothing."""
    fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", dir=file.parent)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, file)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _holding_rows(tables: Iterable[str], first_row: Callable[[str], object]) -> list[str]:
    """The tables that hold data: those where `first_row` (a `SELECT 1 … LIMIT 1`) finds a row.
    alembic_version is not data: `zhibu db upgrade` fills it in an otherwise empty database."""
    return [t for t in tables if t != "alembic_version" and first_row(t)]


# ---- SQLite ------------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        fail(TEXT["memory"].format(url=url.render_as_string(hide_password=True)))
    return Path(url.database)


def sqlite_backup(source: Path, file: Path) -> None:
    """A consistent copy of a live database (other connections may write meanwhile), as one file."""
    if not source.exists():
        fail(TEXT["no_sqlite_db"].format(path=source))
    with _written_whole(file) as tmp:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            with dst:
                src.backup(dst)
            # The live database is in WAL mode; the copy is one self-contained file.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
            src.close()


def sqlite_tables_with_rows(target: Path) -> list[str]:
    if not target.exists():
        return []
    con = sqlite3.connect(target, timeout=30)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return _holding_rows(names, lambda n: con.execute(f'SELECT 1 FROM "{n}" LIMIT 1').fetchone())
    finally:
        con.close()


def sqlite_restore(file: Path, target: Path) -> None:
    """Copy the backup over the target in one step of the backup API: the target changes all at once
    or not at all."""
    src = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# ---- PostgreSQL ----------------------------------------------------------------------------------


def pg_schema(url: URL) -> str:
    """The schema zhibu's tables live in: the first of the URL's search_path option, else public."""
    options = url.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    found = re.search(r"search_path\s*=\s*([^\s,]+)", options)
    return found.group(1).strip('"') if found else "public"


def pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """(a libpq URL without the password, the environment with PGPASSWORD when the URL has one).
    Without a password in the URL, libpq finds it in ~/.pgpass or PGPASSWORD as usual."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # Built anew: URL.set(password=None) would keep the password (None means "unchanged" there).
    libpq = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return libpq.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        fail(TEXT["no_tool"].format(tool=name))
    return path


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        error = (done.stderr or done.stdout).strip().splitlines()
        fail(
            TEXT["tool_failed"].format(
                tool=Path(argv[0]).name, code=done.returncode, error=" / ".join(error[-3:])
            )
        )
    return done


def pg_backup(url: URL, file: Path) -> None:
    pg_dump = _tool("pg_dump")
    conninfo, env = pg_connection(url)
    with _written_whole(file) as tmp:
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--schema={pg_schema(url)}",
                f"--file={tmp}",
                f"--dbname={conninfo}",
            ],
            env,
        )


def pg_tables_with_rows(url: URL) -> tuple[bool, list[str]]:
    """(the target schema exists, its tables that hold rows)."""
    schema = pg_schema(url)
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
            ).first()
            if not exists:
                return False, []
            names = conn.execute(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND c.relkind IN ('r', 'p') ORDER BY 1"
                ),
                {"s": schema},
            ).scalars()
            return True, _holding_rows(
                names, lambda n: conn.exec_driver_sql(f'SELECT 1 FROM "{schema}"."{n}" LIMIT 1').first()
            )
    finally:
        engine.dispose()


def pg_restore(file: Path, url: URL, *, schema_exists: bool) -> None:
    """pg_restore in one transaction, without owners or grants (the target's role owns what it
    restores); --clean drops the backup's objects first when the target has them (--force, or tables
    that `zhibu db upgrade` made but no data). The schema itself is created only if it is missing."""
    restore = _tool("pg_restore")
    conninfo, env = pg_connection(url)
    listing = _run([restore, "--list", str(file)], env).stdout.splitlines()
    dumped = {m.group(1) for line in listing if (m := re.search(r"\bSCHEMA - (\S+)", line))}
    target = pg_schema(url)
    if dumped and target not in dumped:
        fail(TEXT["other_schema"].format(dumped="、".join(sorted(dumped)), target=target))
    entries = [line for line in listing if not (schema_exists and re.search(r"\bSCHEMA - ", line))]
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as lst:
        lst.write("\n".join(entries) + "\n")
    argv = [restore, "--single-transaction", "--no-owner", "--no-privileges", f"--use-list={lst.name}"]
    if schema_exists:
        argv += ["--clean", "--if-exists"]
    try:
        _run([*argv, f"--dbname={conninfo}", str(file)], env)
    finally:
        Path(lst.name).unlink(missing_ok=True)


# ---- the commands ------------------------------------------------------------------------------------


def backup_cmd(
    file: Path = typer.Argument(..., help="备份文件的路径，例如 /var/backups/zhibu-2026-12-01.dump"),
    force: bool = typer.Option(False, "--force", help="文件已存在时覆盖它。"),
) -> None:
    """把整个数据库备份到一个文件（机器人运行时也可以备份）。"""
    s = settings()
    url = make_url(s.database_url)
    file = file.expanduser().resolve()
    if not file.parent.is_dir():
        fail(TEXT["no_dir"].format(dir=file.parent))
    if file.exists() and not force:
        fail(TEXT["exists"].format(file=file))
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if source.resolve() == file:
            fail(TEXT["same_file"].format(file=file))
        try:
            sqlite_backup(source, file)
        except sqlite3.Error as exc:
            fail(TEXT["sqlite_error"].format(error=exc))
    else:
        pg_backup(url, file)
    echo(TEXT["backed_up"].format(file=file, size=_size(file)))


def restore_cmd(
    file: Path = typer.Argument(..., help="zhibu backup 生成的备份文件"),
    force: bool = typer.Option(False, "--force", help="目标数据库已有数据时，用备份替换其中的全部数据。"),
) -> None:
    """从 zhibu backup 的备份文件恢复数据库（请先停止机器人的全部进程）。"""
    s = settings()
    url = make_url(s.database_url)
    file = file.expanduser().resolve()
    if not file.is_file():
        fail(TEXT["no_file"].format(file=file))
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(url)
        if target.resolve() == file:
            fail(TEXT["same_file"].format(file=file))
        if not target.resolve().parent.is_dir():
            fail(TEXT["no_dir"].format(dir=target.resolve().parent))
        if not _magic(file, SQLITE_MAGIC):
            fail(TEXT["not_sqlite"].format(file=file))
        try:
            full = sqlite_tables_with_rows(target)
            if full and not force:
                fail(TEXT["not_empty"].format(tables="、".join(full[:3])))
            sqlite_restore(file, target)
        except sqlite3.Error as exc:
            fail(TEXT["sqlite_error"].format(error=exc))
    else:
        if not _magic(file, PGDUMP_MAGIC):
            fail(TEXT["not_pg"].format(file=file))
        _tool("pg_restore")
        schema_exists, full = pg_tables_with_rows(url)
        if full and not force:
            fail(TEXT["not_empty"].format(tables="、".join(full[:3])))
        pg_restore(file, url, schema_exists=schema_exists)
    echo(TEXT["restored"].format(file=file))
    engine = make_engine(s.database_url)
    try:
        current, head = schema_revisions(engine)
    finally:
        engine.dispose()
    if current is None:
        fail(TEXT["no_revision"])
    if current == head:
        echo(TEXT["current"].format(revision=current))
    elif current in known_revisions():
        echo(TEXT["older"].format(current=current, head=head))
    else:
        fail(TEXT["newer"].format(current=current, head=head))


def register(root: typer.Typer) -> None:
    """Adds this module's commands to the zhibu command."""
    root.command("backup")(backup_cmd)
    root.command("restore")(restore_cmd)
