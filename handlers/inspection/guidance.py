"""巡查指导 (鱼台, issue #20 item 2) and the lists' editable defaults.

The seed's "16+66" items in 5 lists are not published item by item; the defaults below are the
lists' headings as 鱼台 names them (基本组织, 基本队伍, 基本活动, 基本制度, 基本保障) read per kind of
unit, shipped so a county starts from something and edits it in the console (add, retire).
The quarter's line is counted from the 巡查指导 rounds: units visited in the quarter, problems found
on those visits, and how many of those were signed off (销号).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common import dates
from handlers.inspection import strings
from models.inspection import (
    ChecklistItem,
    Finding,
    InspectionRectification,
    InspectionRound,
    RoundKind,
    RoundUnit,
)
from models.observers import RectificationStatus
from models.org import BranchCategory, OrgUnit

# The 督查清单's default items (every kind of unit).
SUPERVISION_DEFAULT = [
    "“三会一课”按规定召开，记录完整",
    "主题党日每月开展，有计划有记录",
    "组织生活会和民主评议党员按时召开",
    "党费按月足额收缴，台账清楚",
    "谈心谈话按要求开展",
    "上次督查问题整改到位",
]

# The 巡查指导 checklists per kind of unit: (title, categories; empty = every kind).
_RURAL = [BranchCategory.RURAL.value, BranchCategory.COMMUNITY.value]
_OFFICE = [
    BranchCategory.GOVERNMENT.value,
    BranchCategory.PUBLIC_INSTITUTION.value,
    BranchCategory.SCHOOL.value,
]
_NEW = [BranchCategory.ENTERPRISE.value, BranchCategory.NEW_ECONOMY.value]
GUIDANCE_DEFAULT: list[tuple[str, list[str]]] = [
    ("基本组织：支部设置规范，支委会配备齐全", []),
    ("基本队伍：党员信息准确，发展党员程序规范", []),
    ("基本活动：“三会一课”、主题党日落实到位", []),
    ("基本制度：组织生活制度上墙、执行到位", []),
    ("基本保障：活动场所、经费保障到位", []),
    ("村（社区）“四议两公开”执行规范", _RURAL),
    ("党员联系服务群众、设岗定责落实", _RURAL),
    ("机关党建与业务工作融合", _OFFICE),
    ("党员示范岗、责任区作用发挥", _OFFICE),
    ("党组织覆盖和党建工作指导员到位", _NEW),
]


def ensure_defaults(session: Session, year: int) -> None:
    """The year's lists, from the defaults when the year has none yet (an edited list is left alone)."""
    for kind, rows in (
        (RoundKind.SUPERVISION, [(t, []) for t in SUPERVISION_DEFAULT]),
        (RoundKind.GUIDANCE, GUIDANCE_DEFAULT),
    ):
        has = session.scalar(
            select(func.count()).where(ChecklistItem.year == year, ChecklistItem.list_kind == kind)
        )
        if not has:
            for seq, (title, cats) in enumerate(rows, 1):
                session.add(ChecklistItem(year=year, list_kind=kind, seq=seq, title=title, categories=cats))
    session.flush()


def add_item(
    session: Session, year: int, kind: RoundKind, title: str, categories: list[str]
) -> ChecklistItem:
    title = title.strip()
    if not title or len(title) > 200:
        raise Refused(strings.NEED_ITEM, ("title",), status=422)
    known = {c.value for c in BranchCategory}
    if any(c not in known for c in categories):
        raise Refused(strings.NEED_ITEM, ("categories",), status=422)
    existing = session.scalar(
        select(ChecklistItem).where(
            ChecklistItem.year == year, ChecklistItem.list_kind == kind, ChecklistItem.title == title
        )
    )
    if existing is not None:
        existing.active, existing.categories = True, categories
        session.flush()
        return existing
    seq = (session.scalar(select(func.max(ChecklistItem.seq)).where(ChecklistItem.year == year)) or 0) + 1
    item = ChecklistItem(year=year, list_kind=kind, seq=seq, title=title, categories=categories)
    session.add(item)
    session.flush()
    return item


@dataclass(frozen=True)
class QuarterCounts:
    units: int  # 巡查指导 N 个基层党组织
    found: int  # 发现反馈问题 M 条
    done: int  # 指导整改完成 K 条

    @property
    def open(self) -> int:
        return self.found - self.done

    def line(self) -> str:
        return strings.GUIDANCE_LINE.format(units=self.units, found=self.found, done=self.done)


def quarter_counts(session: Session, unit: OrgUnit | None, day: date) -> QuarterCounts:
    """The quarter of `day`'s 巡查指导 under `unit` (None: the county): a unit counts once however often
    visited; a visit is dated by the day its first finding was recorded (else the round's opening)."""
    start, end = dates.period_bounds(day, 3)
    visited = func.coalesce(RoundUnit.visited_on, InspectionRound.opened_on)
    q = (
        select(RoundUnit.id, RoundUnit.branch_id)
        .join(InspectionRound, InspectionRound.id == RoundUnit.round_id)
        .join(OrgUnit, OrgUnit.id == RoundUnit.branch_id)
        .where(InspectionRound.kind == RoundKind.GUIDANCE, visited >= start, visited < end)
    )
    if unit is not None:
        q = q.where(OrgUnit.path.startswith(unit.path))
    rows = session.execute(q).all()
    ru_ids = [r for r, _ in rows]
    if not ru_ids:
        return QuarterCounts(0, 0, 0)
    found = session.scalar(
        select(func.count()).where(Finding.round_unit_id.in_(ru_ids), Finding.ok.is_(False))
    )
    done = session.scalar(
        select(func.count())
        .select_from(InspectionRectification)
        .join(Finding, Finding.id == InspectionRectification.finding_id)
        .where(
            Finding.round_unit_id.in_(ru_ids),
            Finding.ok.is_(False),
            InspectionRectification.status == RectificationStatus.CLOSED,
        )
    )
    return QuarterCounts(len({b for _, b in rows}), found or 0, done or 0)
