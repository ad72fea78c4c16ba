"""Building test organisations: units, people, their chat accounts and their roles.

One set of plain functions for every area's fixtures (the fees, meetings, monthly and observers
organisations and the chat core's). They flush as the model needs (a unit's materialised path needs
its id) and never commit: the fixture that arranges the organisation commits it once. Plain functions,
not factory_boy: every row needs the session and a parent already flushed, and each organisation is
a handful of named people whose names the tests assert on, so sequences and lazy attributes would add
a layer without saving a line.
"""

from __future__ import annotations

from models.org import (
    BranchCategory,
    ChatAccount,
    OrgUnit,
    Person,
    Platform,
    Role,
    RoleAssignment,
    UnitKind,
    set_path,
)


def unit(
    session, name: str, kind: UnitKind, parent: OrgUnit | None = None, category: BranchCategory | None = None
) -> OrgUnit:
    """A committee, branch or 党小组 under `parent` (None: the top of the tree), with its path set."""
    u = OrgUnit(name=name, kind=kind, parent_id=parent.id if parent else None, category=category)
    session.add(u)
    session.flush()
    set_path(u, parent)
    return u


def account(
    session, person: Person, account_id: str, *, platform: Platform = Platform.DINGTALK, corp: str
) -> ChatAccount:
    """One chat identity of `person` (a DingTalk userId or a WeCom userid in `corp`)."""
    acc = ChatAccount(person_id=person.id, platform=platform, corp_id=corp, account_id=account_id)
    session.add(acc)
    return acc


def person(
    session,
    name: str,
    branch: OrgUnit | None = None,
    *,
    account_id: str | None = None,
    corp: str = "",
    platform: Platform = Platform.DINGTALK,
    group: OrgUnit | None = None,
    **fields,
) -> Person:
    """A member of `branch` (None: someone who holds a committee office only), in `group` if given,
    with one chat account when `account_id` is given; other Person columns as keywords."""
    p = Person(
        name=name, branch_id=branch.id if branch else None, group_id=group.id if group else None, **fields
    )
    session.add(p)
    session.flush()
    if account_id:
        account(session, p, account_id, platform=platform, corp=corp)
    return p


def role(session, who: Person, where: OrgUnit | None, what: Role) -> RoleAssignment:
    """`who` holds office `what` in `where` (None for the organisation-wide 组织部 staff role)."""
    assignment = RoleAssignment(person_id=who.id, org_unit_id=where.id if where else None, role=what)
    session.add(assignment)
    return assignment
