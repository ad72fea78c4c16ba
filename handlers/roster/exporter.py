"""Roster export and the template: the same columns and notation the import reads."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from handlers.roster import texts as T
from handlers.roster.fileio import write_roster
from handlers.roster.parse import UnitPath
from handlers.roster.validate import unit_paths_by_id
from models.org import (
    BRANCH_CATEGORY_LABELS,
    FEE_CATEGORY_LABELS,
    MEMBER_STATUS_LABELS,
    ROLE_LABELS,
    OrgUnit,
    Person,
    Platform,
    Role,
    UnitKind,
)

# Own branch first, then outward; 组织部 over the whole tree last.
_KIND_ORDER = [UnitKind.BRANCH, UnitKind.GROUP, UnitKind.GENERAL_BRANCH, UnitKind.COMMITTEE]
_ROLE_ORDER = list(Role)


def write_template(path: Path) -> None:
    """A roster with the example row (never imported) and, in .xlsx, the notes sheet."""
    write_roster(Path(path), [dict(T.EXAMPLE_ROW)])


def roster_rows(
    session: Session, *, dingtalk_corp_id: str, wecom_corp_id: str, person_ids: Collection[int] | None = None
) -> list[dict[str, object]]:
    """One dict per active person (or per person of `person_ids`), in tree order, with the same words
    the import accepts."""
    paths = unit_paths_by_id(session)
    categories = dict(session.execute(select(OrgUnit.id, OrgUnit.category)).all())
    # Tree order is creation order (ids along the path), as the organisation department entered it.
    id_paths = {
        uid: tuple(int(i) for i in path.strip("/").split("/") if i)
        for uid, path in session.execute(select(OrgUnit.id, OrgUnit.path))
    }
    which = Person.active.is_(True) if person_ids is None else Person.id.in_(list(person_ids))
    people = session.scalars(
        select(Person).where(which).options(selectinload(Person.roles), selectinload(Person.chat_accounts))
    ).all()

    def sort_key(p: Person):
        branch = id_paths[p.branch_id] if p.branch_id else (float("inf"),)
        group = id_paths[p.group_id] if p.group_id else ()
        return (branch, group, p.id)

    rows = []
    for seq, person in enumerate(sorted(people, key=sort_key), start=1):
        committee = general = branch = group = ""
        defaults: dict[UnitKind, UnitPath] = {}
        if person.branch_id:
            branch_path = paths[person.branch_id][1]
            committee, branch = branch_path[0], branch_path[-1]
            general = branch_path[1] if len(branch_path) == 3 else ""
            defaults = {UnitKind.COMMITTEE: branch_path[:1], UnitKind.BRANCH: branch_path}
            if general:
                defaults[UnitKind.GENERAL_BRANCH] = branch_path[:2]
            if person.group_id:
                group = paths[person.group_id][1][-1]
                defaults[UnitKind.GROUP] = paths[person.group_id][1]
        else:
            # Not in a branch: name the committee of a committee role, so its roles read plainly.
            committee_paths = sorted(
                paths[r.org_unit_id][1]
                for r in person.roles
                if r.org_unit_id and paths[r.org_unit_id][0] == UnitKind.COMMITTEE
            )
            if committee_paths:
                committee = committee_paths[0][0]
                defaults = {UnitKind.COMMITTEE: committee_paths[0]}
        accounts = {(a.platform, a.corp_id): a.account_id for a in person.chat_accounts}
        rows.append(
            {
                T.SEQ: seq,
                T.COMMITTEE: committee,
                T.GENERAL_BRANCH: general,
                T.BRANCH: branch,
                T.CATEGORY: BRANCH_CATEGORY_LABELS[categories[person.branch_id]]
                if person.branch_id and categories.get(person.branch_id)
                else "",
                T.GROUP: group,
                T.NAME: person.name,
                T.PHONE: person.phone or "",
                T.STATUS: MEMBER_STATUS_LABELS[person.status],
                T.JOINED: person.joined_on,
                T.FEE_CATEGORY: FEE_CATEGORY_LABELS[person.fee_category],
                T.FEE_BASE: person.fee_base,
                T.FEE_FIXED: person.fee_fixed_amount,
                T.MOBILE: T.YES if person.is_mobile else T.NO,
                T.EXEMPT: person.attendance_exempt_reason or "",
                T.ROLES: "、".join(_role_words(person, paths, defaults)),
                T.DINGTALK: accounts.get((Platform.DINGTALK, dingtalk_corp_id), "")
                if dingtalk_corp_id
                else "",
                T.WECOM: accounts.get((Platform.WECOM, wecom_corp_id), "") if wecom_corp_id else "",
            }
        )
    return rows


def _role_words(person: Person, paths, defaults: dict[UnitKind, UnitPath]) -> list[str]:
    keyed = []
    for ra in person.roles:
        if ra.org_unit_id is None:
            keyed.append(((len(_KIND_ORDER), _ROLE_ORDER.index(ra.role)), "组织部"))
            continue
        kind, path = paths[ra.org_unit_id]
        if ra.role == Role.ORG_STAFF:
            word, default = "组织部", None  # plain 组织部 means the whole tree
        elif ra.role == Role.OBSERVER:
            word, default = "观察员", defaults.get(UnitKind.COMMITTEE)
        elif kind == UnitKind.COMMITTEE:
            word, default = "党委" + ROLE_LABELS[ra.role], defaults.get(kind)
        elif kind == UnitKind.GENERAL_BRANCH:
            word, default = "总支" + ROLE_LABELS[ra.role], defaults.get(kind)
        elif kind == UnitKind.GROUP:
            word, default = "党小组组长", defaults.get(kind)
        else:
            word, default = ROLE_LABELS[ra.role], defaults.get(kind)
        if path != default:
            word += "（" + "/".join(path) + "）"
        keyed.append(((_KIND_ORDER.index(kind), _ROLE_ORDER.index(ra.role), path), word))
    return [word for _, word in sorted(keyed, key=lambda k: (k[0][0], k[0][1], k[0][2:]))]


def export_roster(session: Session, path: Path, *, dingtalk_corp_id: str, wecom_corp_id: str) -> int:
    """Write the current organisation to .xlsx or .csv; returns the number of people written.

    The features' own sheets (观察员分工) are theirs to add: the roster sits below every feature.
    """
    rows = roster_rows(session, dingtalk_corp_id=dingtalk_corp_id, wecom_corp_id=wecom_corp_id)
    write_roster(Path(path), rows)
    return len(rows)
