"""审计日志: every change to the organisation's records, whoever made it and through which door.

Written by a flush listener (one place, so no route, chat handler, import or job can forget it): each
audited row inserted, updated or deleted in a flush becomes one AuditEntry with the values before and
after. Who acted comes from the Session: the door that opened the unit of work says so with act_as()
(the console with its logged-in person, the chat dispatcher with the sender, the JSON API with its
token, the roster import with its operator); a unit of work that says nothing is recorded as 系统.

The log is append-only: no interface edits it, and the database refuses UPDATE and DELETE on it
(APPEND_ONLY_DDL, installed by migration 0002).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Connection, Index, Integer, String, event, inspect, select
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session
from sqlalchemy.orm.attributes import NO_VALUE
from sqlalchemy.orm.util import identity_key

from models.appraisal import Appraisal, AppraisalGrade
from models.base import Base, UTCDateTime, utcnow
from models.fees import FeeDayOverride, FeeExemption, FeePayment, FeePolicy, LocalHoliday
from models.inspection import Finding, InspectionRectification, InspectionRound, Liaison
from models.meetings import Meeting
from models.monthly import LostContact, WorkNotDone
from models.observer_rating import ObserverRating, ObserverTraining, ObserverTrainingAttendee
from models.observers import ObserverAssignment, Rectification
from models.org import ChatAccount, OrgSetting, OrgUnit, Person, RoleAssignment
from models.outbox import OutboxMessage
from models.rating import BranchRating
from models.talks import HeartTalk, HeartTalkPerson

# The doors a change comes through, and how the log names them.
VIA_LABELS = {
    "console": "管理后台",
    "chat": "聊天",
    "api": "接口",
    "import": "名册导入",
    "cli": "命令行",
    "system": "系统",
}

ACTION_LABELS = {"create": "新增", "update": "修改", "delete": "删除"}


@dataclass(frozen=True)
class Actor:
    via: str  # a key of VIA_LABELS
    person_id: int | None = None
    label: str = ""  # an API token's name, a CLI operator: who, when no person is known


SYSTEM = Actor("system")
_KEY = "audit_actor"
_CLOCK = "audit_clock"


def act_as(session: Session, actor: Actor, *, clock: Callable[[], datetime] | None = None) -> None:
    """Say who acts in this unit of work; every audited change it flushes is recorded under them.
    `clock` is the door's injected "now" (the entries' time); without it, the wall clock."""
    if actor.via not in VIA_LABELS:
        raise ValueError(f"unknown audit door {actor.via!r}")
    session.info[_KEY] = actor
    if clock is not None:
        session.info[_CLOCK] = clock


def actor_of(session: Session) -> Actor:
    return session.info.get(_KEY, SYSTEM)


class AuditEntry(Base):
    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_at", "at"),
        Index("ix_audit_entry_unit", "unit_id", "at"),
        Index("ix_audit_entry_person", "subject_person_id", "at"),
    )

    # No foreign keys on purpose: the record of a deleted person or unit outlives them.
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    via: Mapped[str] = mapped_column(String(16))
    actor_person_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(100), default="")
    entity: Mapped[str] = mapped_column(String(50))  # the table name
    entity_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # create / update / delete
    # What the change concerns, for filtering by unit and person (None where it concerns none).
    unit_id: Mapped[int | None] = mapped_column(Integer)
    subject_person_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


# ---- what is audited


@dataclass(frozen=True)
class Subject:
    """Which attributes of an audited row name the unit and the person it concerns. With `unit`
    None and a person, the unit is that person's branch (looked up once per flush for all rows)."""

    unit: str | None
    person: str | None


# The organisation (#16's minimum) and the records an inspector asks "who changed this?" about:
# observer assignments, meetings, fee payments and exemptions, the branch's 第九条 records,
# rectifications and the fee calendar. Attendance and sign-ins are not: they are the members' own
# daily traffic, and their rows already say how each was taken (扫码/代签) and by whom.
AUDITED: dict[type, Subject] = {
    OrgUnit: Subject("id", None),
    Person: Subject("branch_id", "id"),
    RoleAssignment: Subject("org_unit_id", "person_id"),
    ChatAccount: Subject(None, "person_id"),
    ObserverAssignment: Subject("branch_id", "observer_id"),
    Meeting: Subject("branch_id", None),
    FeePayment: Subject("branch_id", "person_id"),
    FeeExemption: Subject(None, "person_id"),
    WorkNotDone: Subject("branch_id", "person_id"),
    LostContact: Subject("branch_id", "person_id"),
    Rectification: Subject("branch_id", None),
    FeePolicy: Subject("org_unit_id", None),
    FeeDayOverride: Subject("org_unit_id", None),
    LocalHoliday: Subject("org_unit_id", None),
    OrgSetting: Subject(None, None),  # the start month (zhibu golive)
    # A message sent again by hand (补发, from the 消息台账): the one outbox row a person writes through
    # the ORM. The queue's own traffic (enqueue, the relay) is bulk SQL, which this listener never sees.
    OutboxMessage: Subject("branch_id", "person_id"),
    # 谈心谈话: who recorded which talk, and a topic changed by a second record of it.
    HeartTalk: Subject("branch_id", "recorded_by_id"),
    HeartTalkPerson: Subject(None, "person_id"),
    # The branch's yearly rating: who confirmed or changed the grade, and why.
    BranchRating: Subject("branch_id", "confirmed_by_id"),
    # The observers' yearly rating, filed under the rating committee with the observer as its subject,
    # and their training: who recorded a session, and who attended it (under the observer's own branch).
    ObserverRating: Subject("committee_id", "observer_id"),
    ObserverTraining: Subject("unit_id", "recorded_by_id"),
    ObserverTrainingAttendee: Subject(None, "observer_id"),
    # 民主评议: who opened the branch's appraisal and recorded the 支委会's proposal and the 支部大会's
    # decision, and each member's grades. Never appraisal_member (its has_voted flag would date a vote
    # under its voter) nor appraisal_ballot: an entry names who acted, a ballot must name no one.
    Appraisal: Subject("branch_id", "opened_by_id"),
    AppraisalGrade: Subject("branch_id", "person_id"),
    # 督查/巡查: rounds, findings (and their corrections after the close), rectifications, 包保联系.
    InspectionRound: Subject("unit_id", "created_by_id"),
    Finding: Subject("branch_id", "recorded_by_id"),
    InspectionRectification: Subject("branch_id", "owner_id"),
    Liaison: Subject("committee_id", "person_id"),
}

# Bookkeeping columns that change with everything and tell an inspector nothing; a unit's path is
# derived from its parent (parent_id is recorded), and set just after the unit is created.
_SKIPPED = frozenset({"created_at", "updated_at", "path"})


def _plain(value):
    """A column value as JSON holds it."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _values(obj) -> dict:
    """The loaded column values of a row, without loading anything."""
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        if attr.key in _SKIPPED:
            continue
        value = state.dict.get(attr.key, NO_VALUE)
        if value is not NO_VALUE:
            out[attr.key] = _plain(value)
    return out


def _changes(obj) -> tuple[dict, dict]:
    """(before, after) of the columns this flush changed."""
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        if attr.key in _SKIPPED:
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        before[attr.key] = _plain(old)
        after[attr.key] = _plain(new)
    return before, after


_PENDING = "audit_pending"


def _collect(action: str):
    def collect(_mapper, _connection, target) -> None:
        session = object_session(target)
        if session is not None:
            session.info.setdefault(_PENDING, []).append((target, action))

    return collect


# Mapper events see every row the flush writes, cascades and orphans included (session.deleted does
# not list an orphan removed from a collection); they only note the row, the SQL waits for after_flush.
for _cls in AUDITED:
    event.listen(_cls, "after_insert", _collect("create"))
    event.listen(_cls, "after_update", _collect("update"))
    event.listen(_cls, "after_delete", _collect("delete"))


@event.listens_for(Session, "before_flush")
def _fresh(session: Session, _flush_context, _instances) -> None:
    session.info.pop(_PENDING, None)  # anything left by a flush that failed was rolled back with it


@event.listens_for(Session, "after_flush")
def _record(session: Session, _flush_context) -> None:
    """One AuditEntry per audited row this flush wrote, in one multi-row INSERT on the flush's own
    connection (so a bulk import adds one statement per flush, not one per row), rolled back with it."""
    found: list[tuple[object, str, dict | None, dict | None]] = []
    for obj, action in session.info.pop(_PENDING, []):
        if action == "create":
            found.append((obj, action, None, _values(obj)))
        elif action == "update":
            before, after = _changes(obj)
            if after or before:
                found.append((obj, action, *_named(obj, before, after)))
        else:
            found.append((obj, action, _values(obj), None))
    if not found:
        return
    actor = actor_of(session)
    at = session.info.get(_CLOCK, utcnow)()
    rows = []
    for obj, action, before, after in found:
        subject = AUDITED[type(obj)]
        values = {**(before or {}), **(after or {})} if action != "delete" else before
        rows.append(
            {
                "at": at,
                "via": actor.via,
                "actor_person_id": actor.person_id,
                "actor_label": actor.label,
                "entity": obj.__tablename__,
                "entity_id": _entity_id(obj, values),
                "action": action,
                "unit_id": _attribute(obj, values, subject.unit),
                "subject_person_id": _attribute(obj, values, subject.person),
                "before": before,
                "after": after,
            }
        )
    _units_from_people(session, rows)
    session.connection().execute(AuditEntry.__table__.insert(), rows)
    if _CAPTURE in session.info:
        session.info[_CAPTURE].extend(rows)


_CAPTURE = "audit_capture"


def _named(obj, before: dict, after: dict) -> tuple[dict, dict]:
    """An update of a row keyed by a name (an org_setting) says which row: its key in both sides, as
    entity_id (an integer column) cannot hold it."""
    state = inspect(obj)
    if state.identity and not isinstance(state.identity[0], int):
        key = {state.mapper.primary_key[0].key: state.identity[0]}
        return {**key, **before}, {**key, **after}
    return before, after


def _entity_id(obj, values: dict) -> int | None:
    """The row's id; None for a row keyed by a name (an org_setting: its key is in before/after)."""
    identity = inspect(obj).identity
    key = identity[0] if identity else values.get("id")
    return key if isinstance(key, int) else None


@contextmanager
def captured(session: Session) -> Iterator[list[dict]]:
    """The entries this session writes inside the block, as dicts (a dry run shows what it would do
    by running in a savepoint and reading what it would have logged)."""
    rows: list[dict] = []
    session.info[_CAPTURE] = rows
    try:
        yield rows
    finally:
        session.info.pop(_CAPTURE, None)


def _attribute(obj, values: dict, key: str | None):
    if key is None:
        return None
    if key in values:
        return values[key]
    value = inspect(obj).dict.get(key, NO_VALUE)
    return None if value is NO_VALUE else value


def _units_from_people(session: Session, rows: list[dict]) -> None:
    """Rows that concern a person but name no unit (their chat account, a fee exemption, a row whose
    unit was not loaded) are filed under the person's branch: one query for the whole flush."""
    wanted = {r["subject_person_id"] for r in rows if r["unit_id"] is None and r["subject_person_id"]}
    branches: dict[int, int | None] = {}
    for pid in wanted:
        # Most are in this session already (the roster import holds every person it writes).
        person = session.identity_map.get(identity_key(Person, pid))
        if person is not None and "branch_id" in inspect(person).dict:
            branches[pid] = person.branch_id
    missing = sorted(wanted - branches.keys())
    for i in range(0, len(missing), 500):
        chunk = missing[i : i + 500]
        branches.update(
            session.connection()
            .execute(select(Person.id, Person.branch_id).where(Person.id.in_(chunk)))
            .all()
        )
    for row in rows:
        if row["unit_id"] is None and row["subject_person_id"]:
            row["unit_id"] = branches.get(row["subject_person_id"])


# ---- append-only, enforced by the database (installed by migration 0002)

APPEND_ONLY_MESSAGE = "audit_entry is append-only"

APPEND_ONLY_DDL = {
    "sqlite": [
        f"CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
        f"CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END",
    ],
    # Row triggers: TRUNCATE (the table owner's, as DROP TRIGGER would be) does not fire them.
    "postgresql": [
        "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION USING MESSAGE = '{APPEND_ONLY_MESSAGE}: ' || TG_OP || ' refused', "
        "ERRCODE = 'insufficient_privilege'; END $$",
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
    ],
}

DROP_APPEND_ONLY_DDL = {
    "sqlite": [
        "DROP TRIGGER IF EXISTS audit_entry_no_update",
        "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
        "DROP FUNCTION IF EXISTS audit_entry_append_only()",
    ],
}


@contextmanager
def append_only_lifted(conn: Connection) -> Iterator[None]:
    """Inside the block the log's triggers are gone (in the caller's transaction), and put back after,
    if they were there: for wiping a whole database (`zhibu seed --reset` on SQLite, which has no
    TRUNCATE). Whoever may drop a trigger may do this anyway; no interface of zhibu calls it on a log
    it keeps."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        present = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entry'"
        ).scalar()
    else:
        present = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'audit_entry_append_only' "
            "AND tgrelid = to_regclass('audit_entry')"
        ).scalar()
    if present:
        for statement in DROP_APPEND_ONLY_DDL[dialect]:
            conn.exec_driver_sql(statement)
    yield
    if present:
        for statement in APPEND_ONLY_DDL[dialect]:
            conn.exec_driver_sql(statement)
