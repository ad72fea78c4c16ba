"""审计日志: every change to the organisation's records, whoever made it and through which door.

Written by a flush listener (one place, so no route, chat handler, import or job can forget it): each
audited row inserted, updated or deleted in a flush becomes one AuditEntry with the values before and
after. Who acted comes from the Session: the door that opened the unit of work says so with act_as()
(the console with its logged-in person, the chat dispatcher with the sender, the JSON API with its
token, the roster import with its operator); a unit of work that says nothing is recorded as 系统.

The log is append-only: no interface edits it, and the database refuses UPDATE and DELETE on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.base import Base, UTCDateTime

# The doors a change comes through, and how the log names them.
VIA_LABELS = {
    "console": "管理后台",
    "chat": "聊天",
    "api": "接口",
    "import": "名册导入",
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


def act_as(session: Session, actor: Actor) -> None:
    """Say who acts in this unit of work; every audited change it flushes is recorded under them."""
    if actor.via not in VIA_LABELS:
        raise ValueError(f"unknown audit door {actor.via!r}")
    session.info[_KEY] = actor


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
