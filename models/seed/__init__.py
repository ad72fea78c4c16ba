"""The synthetic organisation generator (`zhibu seed`): a pure data layer over a Session.

`seed()` builds the whole tree in memory with primary keys assigned in Python, then writes each
table with Core executemany in large chunks (COPY on PostgreSQL), so no row costs a round trip.
It never commits: the caller owns the transaction.

History (meetings, attendance, fees…) is added by later features: each appends a generator to
HISTORY_GENERATORS, which `seed()` calls after the organisation is written, in order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import JSON, MetaData, func, inspect, select, text, update
from sqlalchemy.orm import Session

from models import startmonth
from models.audit import append_only_lifted
from models.base import utcnow
from models.org import ChatAccount, OrgSetting, OrgUnit, Person, RoleAssignment
from models.seed.demo import DEMO_ORG, DEMO_PEOPLE, build_demo
from models.seed.generator import SCALES, Builder, Plan, Scale
from models.seed.synthetic import build_synthetic

__all__ = [
    "DEMO_ORG",
    "DEMO_PEOPLE",
    "HISTORY_GENERATORS",
    "SCALES",
    "HistoryContext",
    "OrganisationExists",
    "Scale",
    "SeedResult",
    "existing_organisation",
    "reset_database",
    "seed",
]

_TABLES = [OrgUnit.__table__, Person.__table__, RoleAssignment.__table__, ChatAccount.__table__]
_CHUNK = 20_000


@dataclass
class HistoryContext:
    """What a history generator gets: the session, the plan's rows, a seeded RNG and the clock."""

    session: Session
    plan: Plan
    rng: random.Random
    today: date
    now: datetime
    months: int
    scale: Scale


# Later features append callables here (e.g. meetings.seed_history). Each writes `months` months
# of history before `today` and returns {table name: rows written}.
HistoryGenerator = Callable[[HistoryContext], dict[str, int]]
HISTORY_GENERATORS: list[HistoryGenerator] = []


class OrganisationExists(RuntimeError):
    def __init__(self, units: int, people: int) -> None:
        super().__init__(f"the database already has {units} units and {people} people")
        self.units = units
        self.people = people


@dataclass
class SeedResult:
    scale: Scale
    rows: dict[str, int] = field(default_factory=dict)
    history_ran: list[str] = field(default_factory=list)
    start_month: date | None = None


def seed_start_month(today: date, months: int) -> date:
    """The seeded organisation's start month (models.startmonth): the first month of its history
    (the generators write `today`'s month and the months - 1 before it), so every seeded month
    scores; without history, the month after `today`, as a first roster import would set it."""
    if not months:
        return startmonth.month_after(today)
    n = today.year * 12 + today.month - 1 - (months - 1)
    return date(n // 12, n % 12 + 1, 1)


def existing_organisation(session: Session) -> tuple[int, int]:
    """(units, people) already in the database."""
    units = session.scalar(select(func.count()).select_from(OrgUnit)) or 0
    people = session.scalar(select(func.count()).select_from(Person)) or 0
    return units, people


def reset_database(session: Session) -> None:
    """Delete every row of every table (but the migration version), whoever owns the table."""
    conn = session.connection()
    meta = MetaData()
    meta.reflect(bind=conn)
    tables = [t for t in meta.sorted_tables if t.name != "alembic_version"]
    if not tables:
        return
    if conn.dialect.name == "postgresql":
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    with append_only_lifted(conn):  # SQLite has no TRUNCATE; the audit log's triggers refuse DELETE
        for table in reversed(tables):
            # SQLite enforces ON DELETE RESTRICT row by row, so break self-references (the tree) first.
            self_refs = [
                fk.parent for fk in table.foreign_keys if fk.column.table is table and fk.parent.nullable
            ]
            if self_refs:
                conn.execute(update(table).values({c.name: None for c in self_refs}))
            conn.execute(table.delete())
    session.expire_all()


def seed(
    session: Session,
    scale: Scale | str,
    *,
    dingtalk_corp_id: str,
    wecom_corp_id: str,
    seed: int = 2026,
    months: int = 0,
    today: date | None = None,
    now: datetime | None = None,
) -> SeedResult:
    """Write a synthetic organisation; raises OrganisationExists on a database that has one."""
    if isinstance(scale, str):
        scale = SCALES[scale]
    scale.check()
    units, people = existing_organisation(session)
    if units or people:
        raise OrganisationExists(units, people)
    now = now or utcnow()
    today = today or now.date()
    rng = random.Random(seed)
    conn = session.connection()
    start_ids = {t.name: (conn.scalar(select(func.max(t.c.id))) or 0) + 1 for t in _TABLES}
    builder = Builder(rng, today, now, start_ids, dingtalk_corp_id, wecom_corp_id)
    if scale.name == "demo":
        build_demo(builder)
    else:
        build_synthetic(builder, scale)
    plan = builder.plan
    result = SeedResult(scale=scale)
    for table, rows in zip(_TABLES, (plan.units, plan.people, plan.roles, plan.accounts), strict=True):
        bulk_insert(session, table, rows)
        result.rows[table.name] = len(rows)
    if months:
        ctx = HistoryContext(session, plan, random.Random(seed + 1), today, now, months, scale)
        for generator in HISTORY_GENERATORS:
            for name, count in generator(ctx).items():
                result.rows[name] = result.rows.get(name, 0) + count
            result.history_ran.append(getattr(generator, "__qualname__", repr(generator)))
    result.start_month = seed_start_month(today, months)
    # A database at a migration before 0005 (the upgrade test seeds one) has no org_setting yet.
    if inspect(conn).has_table(OrgSetting.__tablename__):
        startmonth.set_start_month(session, result.start_month)
    session.expire_all()
    return result


def bulk_insert(session: Session, table, rows: list[dict], chunk: int = _CHUNK) -> None:
    """Insert rows whose primary keys are already set, then move the id sequence past them.

    Values are what the ORM takes (enums, aware datetimes, Decimals, lists for JSON); a str in a
    JSON column is taken as JSON text already serialised. Every row must have the same keys.
    """
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        _executemany_rows(conn, table, rows, chunk)
    else:
        _copy_rows(conn, table, rows)
        # Explicit ids do not advance a serial's sequence; later ORM inserts would collide.
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:t, 'id'), (SELECT max(id) FROM " + table.name + "))"),
            {"t": table.name},
        )


def _row_converter(conn, table, names: list[str]):
    """Row dict → tuple of DBAPI values, converted by SQLAlchemy's own bind processors (so the stored
    form is exactly what the ORM writes: UTC timestamps, enum values, JSON), memoised per column: the
    same timestamp, enum or date goes through its processor once, not once a row."""
    processors = [table.c[n].type._cached_bind_processor(conn.dialect) for n in names]
    is_json = [isinstance(table.c[n].type, JSON) for n in names]
    caches: list[dict] = [{} for _ in names]

    def convert(i: int, value):
        proc = processors[i]
        if proc is None or value is None:
            return value
        if is_json[i] and isinstance(value, str):
            return value  # already JSON text (history generators may serialise it themselves)
        cache = caches[i]
        try:
            return cache[value]
        except KeyError:
            cache[value] = out = proc(value)
            return out
        except TypeError:  # unhashable (a JSON list or dict)
            return proc(value)

    def row_values(row: dict) -> tuple:
        return tuple(convert(i, row[n]) for i, n in enumerate(names))

    return row_values


def _executemany_rows(conn, table, rows: list[dict], chunk: int) -> None:
    """The DBAPI's executemany in large chunks, bypassing per-row statement bookkeeping."""
    names = [c.name for c in table.columns if c.name in rows[0]]
    convert = _row_converter(conn, table, names)
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' for _ in names)})"
    )
    for start in range(0, len(rows), chunk):
        conn.exec_driver_sql(sql, [convert(row) for row in rows[start : start + chunk]])


def _copy_rows(conn, table, rows: list[dict]) -> None:
    """COPY FROM STDIN on the session's own connection (same transaction): several times faster than
    executemany for hundreds of thousands of rows, which keeps a city seed well inside its budget."""
    names = [c.name for c in table.columns if c.name in rows[0]]
    convert = _row_converter(conn, table, names)
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    raw = conn.connection.driver_connection
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(convert(row))


def table_counts(session: Session) -> dict[str, int]:
    """Rows per organisation table (for the CLI summary and the benchmark)."""
    return {t.name: session.scalar(select(func.count()).select_from(t)) or 0 for t in _TABLES}
