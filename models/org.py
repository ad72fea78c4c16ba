"""The organisation: the tree of units, people, their roles and their chat accounts.

Enum values are stable English keys stored as strings; the Chinese labels the roster and the
chat show live beside them (LABELS), so there is one place to read and change them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
    and_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, TimestampMixin, UTCDateTime, enum_column


class UnitKind(enum.StrEnum):
    COMMITTEE = "committee"  # 党委 / 党工委
    GENERAL_BRANCH = "general_branch"  # 党总支
    BRANCH = "branch"  # 党支部
    GROUP = "group"  # 党小组


UNIT_KIND_LABELS = {
    UnitKind.COMMITTEE: "党委",
    UnitKind.GENERAL_BRANCH: "党总支",
    UnitKind.BRANCH: "党支部",
    UnitKind.GROUP: "党小组",
}


class BranchCategory(enum.StrEnum):
    """Peer groups for ranking branches."""

    RURAL = "rural"
    COMMUNITY = "community"
    GOVERNMENT = "government"
    ENTERPRISE = "enterprise"
    SCHOOL = "school"
    PUBLIC_INSTITUTION = "public_institution"
    NEW_ECONOMY = "new_economy"  # 两新组织
    OTHER = "other"


BRANCH_CATEGORY_LABELS = {
    BranchCategory.RURAL: "农村",
    BranchCategory.COMMUNITY: "社区",
    BranchCategory.GOVERNMENT: "机关",
    BranchCategory.ENTERPRISE: "企业",
    BranchCategory.SCHOOL: "学校",
    BranchCategory.PUBLIC_INSTITUTION: "事业单位",
    BranchCategory.NEW_ECONOMY: "两新",
    BranchCategory.OTHER: "其他",
}


class MemberStatus(enum.StrEnum):
    FULL = "full"  # 正式党员
    PROBATIONARY = "probationary"  # 预备党员


MEMBER_STATUS_LABELS = {MemberStatus.FULL: "正式", MemberStatus.PROBATIONARY: "预备"}


class FeeCategory(enum.StrEnum):
    """党费类别 under the 2008 rules (中组发〔2008〕3号)."""

    EMPLOYED = "employed"  # 在职
    RETIRED = "retired"  # 离退休
    FARMER = "farmer"  # 农民
    STUDENT = "student"  # 学生
    UNEMPLOYED = "unemployed"  # 失业
    LOW_INCOME = "low_income"  # 低保
    FIXED = "fixed"  # 固定金额 (set per member)


FEE_CATEGORY_LABELS = {
    FeeCategory.EMPLOYED: "在职",
    FeeCategory.RETIRED: "离退休",
    FeeCategory.FARMER: "农民",
    FeeCategory.STUDENT: "学生",
    FeeCategory.UNEMPLOYED: "失业",
    FeeCategory.LOW_INCOME: "低保",
    FeeCategory.FIXED: "固定金额",
}


class Role(enum.StrEnum):
    SECRETARY = "secretary"  # 书记 (of a committee: 主要负责人)
    DEPUTY_SECRETARY = "deputy_secretary"  # 副书记
    ORGANIZATION_MEMBER = "organization_member"  # 组织委员
    PROPAGANDA_MEMBER = "propaganda_member"  # 宣传委员
    DISCIPLINE_MEMBER = "discipline_member"  # 纪检委员
    CONTACT = "contact"  # 支部联系人
    FEE_COLLECTOR = "fee_collector"  # 党费收缴员
    GROUP_LEADER = "group_leader"  # 党小组组长
    ORG_STAFF = "org_staff"  # 组织部工作人员 (unit = the subtree; none = the whole tree)
    OBSERVER = "observer"  # 组织生活观察员 (unit = the committee that appointed them)


ROLE_LABELS = {
    Role.SECRETARY: "书记",
    Role.DEPUTY_SECRETARY: "副书记",
    Role.ORGANIZATION_MEMBER: "组织委员",
    Role.PROPAGANDA_MEMBER: "宣传委员",
    Role.DISCIPLINE_MEMBER: "纪检委员",
    Role.CONTACT: "支部联系人",
    Role.FEE_COLLECTOR: "党费收缴员",
    Role.GROUP_LEADER: "党小组组长",
    Role.ORG_STAFF: "组织部",
    Role.OBSERVER: "观察员",
}

# Which roles a unit of each kind can hold (条例 第六章; committee roles per product.md).
ROLES_BY_UNIT_KIND: dict[UnitKind, frozenset[Role]] = {
    UnitKind.COMMITTEE: frozenset(
        {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.ORG_STAFF, Role.OBSERVER}
    ),
    UnitKind.GENERAL_BRANCH: frozenset(
        {
            Role.SECRETARY,
            Role.DEPUTY_SECRETARY,
            Role.ORGANIZATION_MEMBER,
            Role.PROPAGANDA_MEMBER,
            Role.DISCIPLINE_MEMBER,
        }
    ),
    UnitKind.BRANCH: frozenset(
        {
            Role.SECRETARY,
            Role.DEPUTY_SECRETARY,
            Role.ORGANIZATION_MEMBER,
            Role.PROPAGANDA_MEMBER,
            Role.DISCIPLINE_MEMBER,
            Role.CONTACT,
            Role.FEE_COLLECTOR,
        }
    ),
    UnitKind.GROUP: frozenset({Role.GROUP_LEADER}),
}

# The 支委 (branch committee members), who are expected at a 支委会.
BRANCH_COMMITTEE_ROLES = frozenset(
    {
        Role.SECRETARY,
        Role.DEPUTY_SECRETARY,
        Role.ORGANIZATION_MEMBER,
        Role.PROPAGANDA_MEMBER,
        Role.DISCIPLINE_MEMBER,
    }
)


class Platform(enum.StrEnum):
    DINGTALK = "dingtalk"
    WECOM = "wecom"


PLATFORM_LABELS = {Platform.DINGTALK: "钉钉", Platform.WECOM: "企业微信"}


class OrgUnit(TimestampMixin, Base):
    """A node of the tree: 党委/党工委 → optional 党总支 → 党支部 → optional 党小组."""

    __tablename__ = "org_unit"
    __table_args__ = (
        UniqueConstraint("parent_id", "name"),
        Index("ix_org_unit_path", "path"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind))
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"), index=True)
    # Materialised path of ids, "/3/17/205/", so a subtree is one indexed LIKE 'prefix%'.
    path: Mapped[str] = mapped_column(String(255), default="")
    category: Mapped[BranchCategory | None] = mapped_column(enum_column(BranchCategory))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[OrgUnit | None] = relationship(remote_side="OrgUnit.id", back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent")

    def ancestor_ids(self) -> list[int]:
        return OrgUnit.path_ids(self.path)

    @staticmethod
    def path_ids(path: str) -> list[int]:
        """The unit ids of a stored path ("/1/5/42/"), root first: for callers reading plain rows."""
        return [int(part) for part in path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<OrgUnit {self.id} {self.kind} {self.name}>"


class Person(TimestampMixin, Base):
    """A Party member (or, for some staff, a person with roles but no branch)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="RESTRICT"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="SET NULL"), index=True)
    status: Mapped[MemberStatus] = mapped_column(enum_column(MemberStatus), default=MemberStatus.FULL)
    joined_on: Mapped[date | None] = mapped_column(Date)  # 入党日期 (预备: fee liability starts that month)
    fee_category: Mapped[FeeCategory] = mapped_column(enum_column(FeeCategory), default=FeeCategory.EMPLOYED)
    fee_base: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # monthly base for the rate
    fee_fixed_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    is_mobile: Mapped[bool] = mapped_column(Boolean, default=False)  # 流动党员
    attendance_exempt_reason: Mapped[str | None] = mapped_column(String(200))  # 免于参加组织生活的原因
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where a person with accounts on both platforms wants their notices (消息发到…); None: the
    # deployment's order, as for everyone else. Replies still go to the chat the question came from.
    preferred_platform: Mapped[Platform | None] = mapped_column(enum_column(Platform))

    branch: Mapped[OrgUnit | None] = relationship(foreign_keys=[branch_id])
    group: Mapped[OrgUnit | None] = relationship(foreign_keys=[group_id])
    roles: Mapped[list[RoleAssignment]] = relationship(back_populates="person", cascade="all, delete-orphan")
    chat_accounts: Mapped[list[ChatAccount]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.name}>"


class RoleAssignment(TimestampMixin, Base):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("person_id", "org_unit_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    # NULL only for 组织部 staff over the whole tree.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))

    person: Mapped[Person] = relationship(back_populates="roles")
    org_unit: Mapped[OrgUnit | None] = relationship()


class ChatAccount(TimestampMixin, Base):
    """A person's account on one chat platform in one corp (DingTalk staff userId, WeCom userid)."""

    __tablename__ = "chat_account"
    __table_args__ = (
        UniqueConstraint("platform", "corp_id", "account_id"),
        UniqueConstraint("person_id", "platform", "corp_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    platform: Mapped[Platform] = mapped_column(enum_column(Platform))
    corp_id: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(64))
    # Set when the platform's directory says the user left the corp: nothing is sent to the account
    # any more, and nothing is deleted (the person and their history stay; a secretary decides).
    left_directory_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship(back_populates="chat_accounts")


class OrgSetting(TimestampMixin, Base):
    """An organisation-wide value the operators set at run time (e.g. the start month from `zhibu golive`)."""

    __tablename__ = "org_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


# Query helpers: plain functions over a Session that never commit.


def account_is(platform, corp_id, account_id):
    """The ChatAccount of (platform, corp, account id): the one way a chat sender is found. The values
    may be bind parameters (the dispatcher builds its statement once)."""
    return and_(
        ChatAccount.platform == platform, ChatAccount.corp_id == corp_id, ChatAccount.account_id == account_id
    )


def person_by_account(
    session: Session, platform: Platform | str, corp_id: str, account_id: str
) -> Person | None:
    stmt = select(Person).join(ChatAccount).where(account_is(Platform(platform), corp_id, account_id))
    return session.scalars(stmt).first()


def roles_of(session: Session, person_id: int) -> list[RoleAssignment]:
    return list(session.scalars(select(RoleAssignment).where(RoleAssignment.person_id == person_id)))


def subtree_filter(unit: OrgUnit):
    """A WHERE clause for every unit at or below `unit`."""
    return OrgUnit.path.startswith(unit.path)


def committees_of(session: Session, units: Iterable[OrgUnit]) -> dict[int, OrgUnit]:
    """{unit id: the 党委/党工委 above (or at) it} for many units in one query; a unit with no
    committee above is absent."""
    units = list(units)
    ancestors = {i for u in units for i in u.ancestor_ids()}
    if not ancestors:
        return {}
    committees = {
        c.id: c
        for c in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_(ancestors), OrgUnit.kind == UnitKind.COMMITTEE)
        )
    }
    found: dict[int, OrgUnit] = {}
    for unit in units:
        nearest = next((i for i in reversed(unit.ancestor_ids()) if i in committees), None)
        if nearest is not None:
            found[unit.id] = committees[nearest]
    return found


def committee_of(session: Session, unit: OrgUnit) -> OrgUnit | None:
    """The 党委/党工委 above (or at) a unit."""
    return committees_of(session, [unit]).get(unit.id)


def set_path(unit: OrgUnit, parent: OrgUnit | None) -> None:
    """Set the materialised path once the unit has an id (after a flush)."""
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
