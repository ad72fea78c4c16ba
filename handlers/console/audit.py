"""审计日志 in the console: the entries whose unit is in the viewer's scope, filtered and paged, newest
first, each told in Chinese (who, through which door, when, what, before → after).

The same telling (describe) shows a roster upload's dry run: what the import would log is what it would do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from handlers.console.scope import Scope
from models.appraisal import GRADE_LABELS as APPRAISAL_GRADE_LABELS
from models.appraisal import HANDLING_LABELS
from models.audit import ACTION_LABELS, VIA_LABELS, AuditEntry
from models.fees import PAYMENT_METHOD_LABELS, PAYMENT_STATUS_LABELS
from models.inspection import ROUND_KIND_LABELS
from models.meetings import MeetingStatus
from models.observer_rating import GRADE_LABELS as OBSERVER_GRADE_LABELS
from models.observers import RectificationStatus
from models.org import (
    BRANCH_CATEGORY_LABELS,
    FEE_CATEGORY_LABELS,
    MEMBER_STATUS_LABELS,
    PLATFORM_LABELS,
    ROLE_LABELS,
    UNIT_KIND_LABELS,
    OrgUnit,
    Person,
)
from models.outbox import DELIVERY_STATUS_LABELS
from models.rating import GRADE_LABELS

PAGE_SIZE = 50
EMPTY = "（空）"
SYSTEM_WHO = "系统"

ENTITY_LABELS = {
    "org_unit": "组织",
    "person": "党员",
    "role_assignment": "职务",
    "chat_account": "聊天账号",
    "observer_assignment": "观察员分工",
    "meeting": "会议",
    "fee_payment": "党费缴纳",
    "fee_exemption": "党费减免",
    "member_work_not_done": "未做分配工作记录",
    "member_lost_contact": "失联记录",
    "rectification": "整改事项",
    "fee_policy": "党费规则",
    "fee_day_override": "交费日调整",
    "fee_local_holiday": "本地假日",
    "org_setting": "系统设置",
    "outbox_message": "消息补发",
    "heart_talk": "谈心谈话",
    "heart_talk_person": "谈心谈话参加人",
    "branch_rating": "支部年度评定",
    "observer_rating": "观察员年度评定",
    "observer_training": "观察员培训",
    "observer_training_attendee": "观察员培训参加人",
    "appraisal": "民主评议",
    "appraisal_grade": "民主评议等次",
    "inspection_round": "督查轮次",
    "inspection_finding": "督查发现",
    "inspection_rectification": "督查整改",
    "inspection_liaison": "包保联系",
}

# Column → label; an entity's own label wins over the common one.
FIELD_LABELS = {
    "id": "编号",
    "name": "名称",
    "kind": "类型",
    "parent_id": "上级组织",
    "category": "支部类别",
    "active": "有效",
    "phone": "手机号",
    "branch_id": "所在支部",
    "group_id": "党小组",
    "status": "状态",
    "joined_on": "入党日期",
    "fee_category": "党费类别",
    "fee_base": "党费基数",
    "fee_fixed_amount": "固定党费",
    "is_mobile": "流动党员",
    "attendance_exempt_reason": "免于参加组织生活原因",
    "preferred_platform": "消息发到",
    "person_id": "党员",
    "org_unit_id": "组织",
    "role": "职务",
    "platform": "平台",
    "corp_id": "企业ID",
    "account_id": "账号",
    "observer_id": "观察员",
    "title": "标题",
    "topic": "议题",
    "place": "地点",
    "starts_at": "开始时间",
    "cancel_reason": "取消原因",
    "created_by_id": "创建人",
    "closed_at": "签到结束时间",
    "version": "版本",
    "month": "月份",
    "amount": "金额",
    "paid_at": "缴纳时间",
    "method": "方式",
    "paid_by_person_id": "代交人",
    "paid_by_name": "代交人姓名",
    "recorded_by_person_id": "登记人",
    "confirmed_by_person_id": "确认人",
    "confirmed_at": "确认时间",
    "note": "备注",
    "reason": "原因",
    "recorded_by_id": "登记人",
    "recorded_at": "登记时间",
    "withdrawn_at": "撤销时间",
    "withdrawn_by_id": "撤销人",
    "since": "失联起始月份",
    "restored_at": "恢复联系时间",
    "restored_by_id": "登记恢复人",
    "restored_note": "恢复说明",
    "text": "内容",
    "due_on": "整改期限",
    "report_note": "整改报告",
    "reported_at": "报告时间",
    "reopen_reason": "退回原因",
    "reopen_count": "退回次数",
    "day": "日期",
    "is_workday": "调休上班",
    "fee_day": "交费日",
}
ENTITY_FIELD_LABELS = {
    ("person", "name"): "姓名",
    ("person", "status"): "党员类别",
    ("person", "active"): "在册",
    ("meeting", "status"): "会议状态",
    ("fee_payment", "status"): "状态",
    ("org_setting", "key"): "设置项",
    ("org_setting", "value"): "设置值",
    ("outbox_message", "target"): "账号",
    ("heart_talk", "held_on"): "谈话日期",
    ("heart_talk_person", "talk_id"): "谈心谈话编号",  # the #N its chat reply gave
    ("branch_rating", "year"): "年度",
    ("branch_rating", "proposed_grade"): "系统建议",
    ("branch_rating", "proposal"): "建议理由",
    ("branch_rating", "confirmed_grade"): "评定等次",
    ("branch_rating", "confirmed_at"): "评定时间",
    ("branch_rating", "change_reason"): "调整理由",
    ("observer_rating", "year"): "年度",
    ("observer_rating", "committee_id"): "评定党委",
    ("observer_rating", "proposed_grade"): "系统建议",
    ("observer_rating", "proposal"): "建议理由",
    ("observer_rating", "proposed_at"): "建议时间",
    ("observer_rating", "confirmed_grade"): "评定等次",
    ("observer_rating", "confirmed_by_id"): "评定人",
    ("observer_rating", "confirmed_at"): "评定时间",
    ("observer_rating", "change_reason"): "调整理由",
    ("observer_training", "unit_id"): "举办单位",
    ("observer_training", "held_on"): "培训日期",
    ("observer_training", "title"): "培训内容",
    ("observer_training", "hours"): "学时",
    ("observer_training", "recorded_by_id"): "登记人",
    ("observer_training_attendee", "training_id"): "培训编号",
    ("appraisal", "year"): "年度",
    ("appraisal", "opens_at"): "开始时间",
    ("appraisal", "closes_at"): "截止时间",
    ("appraisal", "opened_by_id"): "开启人",
    ("appraisal", "proposed_on"): "支委会日期",
    ("appraisal", "proposed_by_id"): "建议登记人",
    ("appraisal", "proposed_at"): "建议登记时间",
    ("appraisal", "decided_on"): "支部大会日期",
    ("appraisal", "decided_by_id"): "决定登记人",
    ("appraisal", "decided_at"): "决定登记时间",
    ("appraisal_grade", "proposed_grade"): "支委会建议",
    ("appraisal_grade", "proposed_handling"): "建议处置",
    ("appraisal_grade", "decided_grade"): "支部大会决定",
    ("appraisal_grade", "decided_handling"): "组织处置",
    ("appraisal_grade", "decision_reason"): "理由",
    ("inspection_round", "kind"): "督查类型",
    ("inspection_round", "year"): "年度",
    ("inspection_round", "unit_id"): "组织单位",
    ("inspection_round", "scope_kind"): "范围",
    ("inspection_round", "target_kind"): "对象",
    ("inspection_round", "opened_on"): "开始日期",
    ("inspection_round", "period_start"): "检查期间起",
    ("inspection_round", "period_end"): "检查期间止",
    ("inspection_round", "month"): "抽查月份",
    ("inspection_round", "seed"): "随机种子",
    ("inspection_round", "share"): "抽查比例",
    ("inspection_round", "visible_from"): "对支部公开日期",
    ("inspection_round", "closed_at"): "结束时间",
    ("inspection_finding", "branch_id"): "被督查支部",
    ("inspection_finding", "item_title"): "督查事项",
    ("inspection_finding", "ok"): "无问题",
    ("inspection_finding", "text"): "问题",
    ("inspection_finding", "photos"): "照片",
    ("inspection_finding", "corrected_by_id"): "更正人",
    ("inspection_finding", "corrected_at"): "更正时间",
    ("inspection_finding", "correction_reason"): "更正原因",
    ("inspection_rectification", "owner_id"): "整改责任人",
    ("inspection_rectification", "closed_at"): "销号时间",
    ("inspection_rectification", "closed_by_id"): "销号人",
    ("inspection_liaison", "person_id"): "包保干部",
    ("inspection_liaison", "committee_id"): "包保党委",
    ("inspection_liaison", "assigned_by_id"): "安排人",
}

_ENUM_LABELS = {
    "kind": UNIT_KIND_LABELS,
    "category": BRANCH_CATEGORY_LABELS,
    "fee_category": FEE_CATEGORY_LABELS,
    "role": ROLE_LABELS,
    "platform": PLATFORM_LABELS,
    "preferred_platform": PLATFORM_LABELS,
    "method": PAYMENT_METHOD_LABELS,
}
# An enum column whose values mean something else in another table: its labels by (table, column).
_ENTITY_ENUM_LABELS = {
    ("branch_rating", "proposed_grade"): GRADE_LABELS,
    ("branch_rating", "confirmed_grade"): GRADE_LABELS,
    ("observer_rating", "proposed_grade"): OBSERVER_GRADE_LABELS,
    ("observer_rating", "confirmed_grade"): OBSERVER_GRADE_LABELS,
    ("appraisal_grade", "proposed_grade"): APPRAISAL_GRADE_LABELS,
    ("appraisal_grade", "decided_grade"): APPRAISAL_GRADE_LABELS,
    ("appraisal_grade", "proposed_handling"): HANDLING_LABELS,
    ("appraisal_grade", "decided_handling"): HANDLING_LABELS,
    ("inspection_round", "kind"): ROUND_KIND_LABELS,
}
_STATUS_LABELS = {
    "person": MEMBER_STATUS_LABELS,
    "meeting": {MeetingStatus.SCHEDULED: "已安排", MeetingStatus.CANCELLED: "已取消"},
    "fee_payment": PAYMENT_STATUS_LABELS,
    "outbox_message": DELIVERY_STATUS_LABELS,
    "inspection_rectification": {
        RectificationStatus.OPEN: "整改中",
        RectificationStatus.REPORTED: "待销号",
        RectificationStatus.CLOSED: "已销号",
        RectificationStatus.REOPENED: "已退回",
    },
}
_UNIT_FIELDS = frozenset({"parent_id", "branch_id", "group_id", "org_unit_id", "committee_id", "unit_id"})
_PERSON_FIELDS = frozenset(
    {
        "person_id",
        "observer_id",
        "created_by_id",
        "paid_by_person_id",
        "recorded_by_person_id",
        "confirmed_by_person_id",
        "recorded_by_id",
        "withdrawn_by_id",
        "restored_by_id",
        "confirmed_by_id",
        "opened_by_id",
        "proposed_by_id",
        "decided_by_id",
        "inspector_id",
        "owner_id",
        "corrected_by_id",
        "closed_by_id",
        "assigned_by_id",
    }
)
# Not shown: what identifies the row itself, or means nothing to a reader.
_HIDDEN = frozenset({"id", "version"})
# A 补发's row carries the message and the queue's bookkeeping: who, where and its state tell the story.
_ENTITY_HIDDEN = {
    "outbox_message": frozenset({"recipient", "corp_id", "target_kind", "payload", "content_hash", "attempts",
                                 "next_attempt_at", "lease_until", "claimed_by", "last_error", "reason", "sent_at", "dedup_key"}),
    "heart_talk": frozenset({"people_key"}),  # the participants' ids, for the one-talk-a-day check
    "appraisal_grade": frozenset({"appraisal_id"}),  # the branch and the member say which appraisal
    "inspection_finding": frozenset({"round_unit_id", "item_id"}),  # the branch and the item's title say it
    "inspection_rectification": frozenset({"finding_id"}),
}  # fmt: skip


@dataclass(frozen=True)
class AuditFilter:
    unit_id: int | None = None
    person_id: int | None = None
    since: date | None = None  # local dates, both included
    until: date | None = None
    page: int = 1


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class EntryView:
    id: int
    at: str  # local time
    who: str
    via: str
    entity: str
    action: str
    action_key: str
    subject: str  # which unit, person or record
    unit: str
    changes: list[Change] = field(default_factory=list)


@dataclass
class AuditPage:
    entries: list[EntryView]
    total: int
    page: int
    pages: int


def scope_clause(scope: Scope) -> ColumnElement[bool]:
    """The entries a viewer may read: those filed under a unit in their scope."""
    if scope.everything:
        return true()
    return AuditEntry.unit_id.in_(select(OrgUnit.id).where(scope.unit_clause()))


def list_entries(session: Session, scope: Scope, flt: AuditFilter, *, tz: ZoneInfo) -> AuditPage:
    """One page of the entries the viewer may read that match the filter, newest first. The caller has
    checked the filter's unit and person are visible (else 404)."""
    where = [scope_clause(scope)]
    if flt.unit_id is not None:
        unit = session.get(OrgUnit, flt.unit_id)
        subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path)) if unit else None
        where.append(AuditEntry.unit_id.in_(subtree) if subtree is not None else AuditEntry.id.is_(None))
    if flt.person_id is not None:
        where.append(AuditEntry.subject_person_id == flt.person_id)
    if flt.since is not None:
        where.append(AuditEntry.at >= datetime.combine(flt.since, time(), tz))
    if flt.until is not None:
        where.append(AuditEntry.at < datetime.combine(flt.until + timedelta(days=1), time(), tz))
    clause = and_(*where)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(clause)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, flt.page), pages)
    rows = session.scalars(
        select(AuditEntry)
        .where(clause)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return AuditPage(describe(session, rows, tz=tz), total, page, pages)


def _get(entry, key: str):
    return entry[key] if isinstance(entry, dict) else getattr(entry, key)


def describe(session: Session, entries: Iterable, *, tz: ZoneInfo) -> list[EntryView]:
    """Entries (AuditEntry rows, or the dicts models.audit.captured() collects) told in Chinese, with
    the names of the units and people they mention read in two queries."""
    entries = list(entries)
    unit_ids: set[int] = set()
    person_ids: set[int] = set()
    for e in entries:
        for key in ("actor_person_id", "subject_person_id"):
            if _get(e, key):
                person_ids.add(_get(e, key))
        if _get(e, "unit_id"):
            unit_ids.add(_get(e, "unit_id"))
        for values in (_get(e, "before") or {}, _get(e, "after") or {}):
            for key, value in values.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    if key in _UNIT_FIELDS:
                        unit_ids.add(value)
                    elif key in _PERSON_FIELDS:
                        person_ids.add(value)
            if _get(e, "entity") == "org_unit" and values.get("id"):
                unit_ids.add(values["id"])
    units = (
        dict(session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids))).all())
        if unit_ids
        else {}
    )
    people = (
        dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids))).all())
        if person_ids
        else {}
    )
    out = []
    for e in entries:
        entity = _get(e, "entity")
        before, after = _get(e, "before") or {}, _get(e, "after") or {}
        hidden = _HIDDEN | _ENTITY_HIDDEN.get(entity, frozenset())
        keys = [k for k in {**before, **after} if k not in hidden]
        action = _get(e, "action")
        changes = [
            Change(
                ENTITY_FIELD_LABELS.get((entity, k), FIELD_LABELS.get(k, k)),
                _value(entity, k, before.get(k), units, people, tz) if action != "create" else "",
                _value(entity, k, after.get(k), units, people, tz) if action != "delete" else "",
            )
            for k in keys
        ]
        actor = _get(e, "actor_person_id")
        who = people.get(actor, f"#{actor}") if actor else (_get(e, "actor_label") or SYSTEM_WHO)
        at = _get(e, "at")
        out.append(
            EntryView(
                id=_get(e, "id") if not isinstance(e, dict) else 0,
                at=at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if at else "",
                who=who,
                via=VIA_LABELS.get(_get(e, "via"), _get(e, "via")),
                entity=ENTITY_LABELS.get(entity, entity),
                action=ACTION_LABELS.get(action, action),
                action_key=action,
                subject=_subject(e, entity, {**before, **after}, units, people),
                unit=units.get(_get(e, "unit_id"), "") if _get(e, "unit_id") else "",
                changes=changes,
            )
        )
    return out


SETTING_LABELS = {"start_month": "启用月份"}


def _subject(e, entity: str, values: dict, units: dict, people: dict) -> str:
    if entity == "org_setting":
        return SETTING_LABELS.get(values.get("key"), values.get("key") or "")
    if entity == "org_unit":
        return values.get("name") or units.get(_get(e, "entity_id"), f"#{_get(e, 'entity_id')}")
    if entity == "person":
        return values.get("name") or people.get(_get(e, "entity_id"), f"#{_get(e, 'entity_id')}")
    name = people.get(_get(e, "subject_person_id")) if _get(e, "subject_person_id") else None
    if entity == "role_assignment" and values.get("role"):
        return f"{name or ''} {ROLE_LABELS.get(values['role'], values['role'])}".strip()
    if entity == "meeting" and values.get("title"):
        return values["title"]
    if entity == "appraisal":
        # The branch's appraisal, not its opener (the entry's person), whatever the change was.
        branch = units.get(_get(e, "unit_id"), "")
        return f"{branch}（{values['year']}年）" if values.get("year") else branch
    return name or f"#{_get(e, 'entity_id')}"


def _value(entity: str, key: str, value, units: dict, people: dict, tz: ZoneInfo) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in _UNIT_FIELDS and isinstance(value, int):
        return units.get(value, f"#{value}")
    if key in _PERSON_FIELDS and isinstance(value, int):
        return people.get(value, f"#{value}")
    if isinstance(value, dict) and isinstance(value.get("sentences"), list):
        # A rating's proposal ({sentences, figures}, branch or observer): its reasons as the page shows them.
        return "；".join(map(str, value["sentences"])) or EMPTY
    if key == "status":
        labels = _STATUS_LABELS.get(entity)
    else:
        labels = _ENTITY_ENUM_LABELS.get((entity, key)) or _ENUM_LABELS.get(key)
    if labels:
        for member, label in labels.items():
            if getattr(member, "value", member) == value:
                return label
    if isinstance(value, str) and "T" in value and value[:4].isdigit() and len(value) >= 19:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        # Stored in UTC: shown in the organisation's zone, as every other time on the page.
        return (moment.astimezone(tz) if moment.tzinfo else moment).strftime("%Y-%m-%d %H:%M")
    return str(value)
