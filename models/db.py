"""Engines, sessions, the schema-version check, and the one way to write INSERT … ON CONFLICT DO NOTHING.

Handlers and query helpers never commit: the caller that opened the unit of work does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Table, TextClause, bindparam, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaOutOfDate(RuntimeError):
    """The database is not at the migration head; the message says which command fixes it."""


def insert_or_skip(
    table: Table, keys: list[str], conflict: tuple[str, ...], *, returning: str | None = None
) -> TextClause:
    """INSERT INTO table (keys) VALUES (…) ON CONFLICT (conflict) DO NOTHING [RETURNING column], as one
    typed text statement for the caller to build once, at import.

    SQLAlchemy 2.0 gives the dialect inserts' on_conflict_do_nothing() no cache key, so such a statement
    was compiled again on every call: the hot spot of queuing messages and of each event received.
    SQLite (3.35 and later) and PostgreSQL both take this syntax; the typed bind parameters keep the
    columns' conversions (JSON, enums, UTC datetimes)."""
    sql = (
        f"INSERT INTO {table.name} ({', '.join(keys)}) VALUES ({', '.join(':' + k for k in keys)}) "
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING" + (f" RETURNING {returning}" if returning else "")
    )
    stmt = text(sql).bindparams(*(bindparam(k, type_=table.c[k].type) for k in keys))
    return stmt.columns(**{returning: table.c[returning].type}) if returning else stmt


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # WAL lets readers and one writer work at once; the busy timeout makes a second
            # writer wait instead of failing at once.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "do_connect")
    def _utc_session(_dialect, _record, _cargs, cparams):
        # Timestamps come back in the session's zone, which is the server's unless set: UTC here,
        # so every aware datetime read is in UTC (UTCDateTime's promise, kept by the driver itself
        # on the raw reads of handlers.monthly.scoring) whatever zone the server was installed with.
        # psycopg then gives datetime.timezone.utc, which compares with zhibu's own UTC bounds six
        # times faster than a ZoneInfo does (the city month compares hundreds of thousands). Set in
        # the connection's startup options, beside any the URL gives (a search_path), not by a SET
        # after connecting: that was two round trips more for every connection the pool opens.
        cparams["options"] = f"{cparams.get('options', '')} -c TimeZone=UTC".strip()

    return engine


_WRITERS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def one_writer(session_factory: sessionmaker[Session]) -> AbstractContextManager:
    """On SQLite, the lock this process's busiest writers (a chat event, a QR sign-in, the relays' feeders) queue on, one
    transaction at a time, per engine of the factory; on PostgreSQL nothing to wait for, nor for a
    factory that is not a sessionmaker (a test's stand-in), which names no engine.

    SQLite has one writer at a time, and a second one waits in its busy handler, which sleeps in
    growing steps: under load, queueing them here is much faster and fairer than letting them collide.
    A whole branch signing in at once (bench/signin.py, 64 clients): 570-627 sign-ins a second through
    this lock against 428 without it; a bare one-row insert about 1,000 through it against 640-770."""
    bind = getattr(session_factory, "kw", {}).get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        return nullcontext()
    lock = _WRITERS.get(bind)  # every sign-in asks: the global lock only for an engine's first
    if lock is None:
        with _WRITERS_LOCK:
            lock = _WRITERS.setdefault(bind, threading.Lock())
    return lock


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit when the block ends normally, roll back when it raises."""
    with session_factory() as session, session.begin():
        yield session


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's revision, the code's head revision)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def known_revisions() -> set[str]:
    """Every revision the code's migrations know (a database at another one is from a newer release)."""
    from alembic.script import ScriptDirectory

    return {r.revision for r in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}


def require_current_schema(engine: Engine) -> None:
    current, head = schema_revisions(engine)
    if current != head:
        raise SchemaOutOfDate(
            f"数据库结构不是最新版本（当前 {current or '空库'}，需要 {head}）。请先运行：zhibu db upgrade"
        )
