"""Ledger exports built in the background (#17): a committee's or the county's 台账 file (or the whole
of the requester's scope), asked for in the console and built by whichever web process claims the row first.

The finished file is kept in the database, in chunks (ledger_export_chunk), not on a disk: every web
replica reads the same database, so the download works from whichever replica the browser reaches,
with no shared volume to set up, and the file goes with its row when it expires. A chunk is read one
at a time, so a download never holds the whole file either.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime

QUEUED, RUNNING, READY, FAILED = "queued", "running", "ready", "failed"
CHUNK_BYTES = 1 << 20  # 1 MB a row: small enough for any driver, few rows for a county's file


class LedgerExport(Base):
    __tablename__ = "ledger_export"
    __table_args__ = (
        Index("ix_ledger_export_status", "status", "id"),
        Index("ix_ledger_export_requester", "requested_by", "unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # None: everything the requester's scope covers (a 组织部 whose roster has several top-level units)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    # handlers.ledgers.exports.KEYS: "meetings" | "fees" | "observers" | "messages", or a Word file's
    # key, the ledger's with "_docx" after it ("observers_docx"): the key says the file's format
    ledger: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))  # LedgerPeriod.key
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=0)  # branches written
    total: Mapped[int] = mapped_column(Integer, default=0)  # branches to write (known once running)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")  # why it failed, in Chinese
    filename: Mapped[str] = mapped_column(String(200), default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(100), default="")
    # A whole-scope file (unit_id None): the requester's top-level unit paths when asked for, "|"-joined.
    # The file is theirs only while their scope is still exactly that: narrowed, it would hold units
    # they no longer see.
    scope_key: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LedgerExportChunk(Base):
    __tablename__ = "ledger_export_chunk"

    export_id: Mapped[int] = mapped_column(
        ForeignKey("ledger_export.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
