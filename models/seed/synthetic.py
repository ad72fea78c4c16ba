"""The county/city/custom organisation: committees, 党总支, branches, 党小组, members and roles."""

from __future__ import annotations

import random

from models.org import BranchCategory, MemberStatus, Role, UnitKind
from models.seed import names as N
from models.seed.generator import Builder, Scale

C = BranchCategory

# Committee types in the order a county lists them; after these, every further committee is a 乡镇.
# (type, name template; "{P}" is a place name, "县" becomes the block's name in a city)
_COMMITTEE_SEQUENCE = [
    ("town", "{P}镇党委"),
    ("organs", "县直机关工委"),
    ("street", "{C}街道党工委"),
    ("education", "县委教育工委"),
    ("town", "{P}镇党委"),
    ("town", "{P}乡党委"),
    ("newecon", "县非公有制经济组织和社会组织党委"),
    ("health", "县卫生健康委员会党委"),
    ("town", "{P}镇党委"),
    ("soe", "县国资委党委"),
    ("town", "{P}乡党委"),
    ("police", "县公安局党委"),
    ("devzone", "县经济开发区党工委"),
    ("street", "{C}街道党工委"),
]

# How many branches a committee of each type has, relative to a 乡镇.
_WEIGHT = {
    "town": 1.0, "organs": 2.0, "street": 0.8, "education": 1.2, "newecon": 1.2,
    "health": 0.6, "soe": 0.5, "police": 0.5, "devzone": 0.6,
}  # fmt: skip

_MIX = {
    "town": [(C.RURAL, 62), (C.COMMUNITY, 8), (C.GOVERNMENT, 5), (C.SCHOOL, 8),
             (C.PUBLIC_INSTITUTION, 5), (C.ENTERPRISE, 6), (C.NEW_ECONOMY, 5), (C.OTHER, 1)],
    "street": [(C.COMMUNITY, 70), (C.GOVERNMENT, 8), (C.NEW_ECONOMY, 14), (C.ENTERPRISE, 5),
               (C.PUBLIC_INSTITUTION, 3)],
    "organs": [(C.GOVERNMENT, 90), (C.PUBLIC_INSTITUTION, 10)],
    "education": [(C.SCHOOL, 100)],
    "newecon": [(C.NEW_ECONOMY, 80), (C.ENTERPRISE, 20)],
    "health": [(C.PUBLIC_INSTITUTION, 100)],
    "soe": [(C.ENTERPRISE, 100)],
    "police": [(C.GOVERNMENT, 100)],
    "devzone": [(C.ENTERPRISE, 60), (C.NEW_ECONOMY, 30), (C.GOVERNMENT, 10)],
}  # fmt: skip

# Mean members per branch of each category, before scaling to the requested total.
_MEAN_SIZE = {
    C.RURAL: 32, C.COMMUNITY: 22, C.GOVERNMENT: 16, C.SCHOOL: 20, C.PUBLIC_INSTITUTION: 18,
    C.ENTERPRISE: 14, C.NEW_ECONOMY: 8, C.OTHER: 12,
}  # fmt: skip

_BLOCK = 30  # committees per county in a city
_HEALTH_UNITS = [
    "县人民医院",
    "县中医院",
    "县妇幼保健院",
    "县疾病预防控制中心",
    "县第二人民医院",
    "县卫生监督所",
]
_SCHOOLS = [
    "县第一中学",
    "县第二中学",
    "县中学",
    "县职业教育中心",
    "县实验小学",
    "县实验幼儿园",
    "县特殊教育学校",
]
_POLICE = ["县公安局机关", "县交警大队", "县看守所"]


def build_synthetic(builder: Builder, scale: Scale) -> None:
    scale.check()
    rng = builder.rng
    committees = _committee_names(rng, scale.committees)
    counts = _allocate(scale.branches, [_WEIGHT[kind] for kind, _, _ in committees], minimum=1)
    # Plan every branch first (name, category, parent slot), then size them, then create people.
    slots: list[tuple[dict, str, C, str]] = []  # (parent unit, branch name, category, committee kind)
    committee_units = []
    for (kind, name, block), n in zip(committees, counts, strict=True):
        unit = builder.unit(UnitKind.COMMITTEE, name, None)
        committee_units.append((unit, kind))
        slots.extend(_branch_slots(builder, rng, unit, kind, name, block, n))
    sizes = _sizes(rng, [cat for _, _, cat, _ in slots], scale.members)

    members_by_committee: dict[int, list[list[dict]]] = {}
    for (parent, name, category, _), size in zip(slots, sizes, strict=True):
        branch = builder.unit(UnitKind.BRANCH, name, parent, category)
        members = _populate_branch(builder, branch, category, size)
        committee_id = int(branch["path"].strip("/").split("/")[0])
        members_by_committee.setdefault(committee_id, []).append(members)

    _committee_roles(builder, committee_units, members_by_committee)
    builder.finish_accounts()


def _committee_names(rng: random.Random, n: int) -> list[tuple[str, str, str]]:
    """(type, name, block) for n committees; a city is several counties of _BLOCK committees."""
    blocks = [""] if n <= 40 else _county_names(rng, -(-n // _BLOCK))
    out: list[tuple[str, str, str]] = []
    for block in blocks:
        used: set[str] = set()
        count = min(_BLOCK if len(blocks) > 1 else n, n - len(out))
        for i in range(count):
            kind, template = _COMMITTEE_SEQUENCE[i] if i < len(_COMMITTEE_SEQUENCE) else ("town", "")
            if not template:
                template = "{P}镇党委" if rng.random() < 0.7 else "{P}乡党委"
            while True:
                name = template.format(P=_place(rng), C=rng.choice(N.COMMUNITY_NAMES))
                if name not in used:
                    break
            used.add(name)
            out.append((kind, _localise(name, block), block))
    return out


def _county_names(rng: random.Random, n: int) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = _place(rng) + rng.choice(["县", "县", "区"])
        if name not in names:
            names.append(name)
    return names


def _localise(name: str, block: str) -> str:
    """县直机关工委 → 望湖县直机关工委 in a city; 徐桥镇党委 → 望湖县徐桥镇党委."""
    if not block:
        return name
    if name.startswith("县"):
        return block + name[1:]
    return block + name


def _place(rng: random.Random) -> str:
    return rng.choice(N.PLACE_FIRST) + rng.choice(N.PLACE_SECOND)


def _allocate(total: int, weights: list[float], minimum: int) -> list[int]:
    """Largest-remainder split of total by weights, each at least `minimum`."""
    n = len(weights)
    spare = total - minimum * n
    wsum = sum(weights)
    raw = [spare * w / wsum for w in weights]
    counts = [minimum + int(r) for r in raw]
    order = sorted(range(n), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _branch_slots(builder, rng, committee, kind, committee_name, block, n):
    """n branch slots under a committee; some grouped under a 党总支."""
    town = committee_name.removeprefix(block).removesuffix("党委").removesuffix("党工委")
    used: set[str] = set()
    mix = _MIX[kind]
    cats, weights = [c for c, _ in mix], [w for _, w in mix]
    out = []
    first = True
    while len(out) < n:
        if first and kind in ("town", "street", "devzone", "organs", "police"):
            category = C.GOVERNMENT
        else:
            category = rng.choices(cats, weights=weights)[0]
        base = _unique(used, lambda c=category, f=first: _branch_base(rng, kind, c, town, f, block))
        first = False
        left = n - len(out)
        if left >= 2 and rng.random() < 0.03:
            # A big village or school: a 党总支 with two or three branches under it.
            general = builder.unit(UnitKind.GENERAL_BRANCH, base + "党总支", committee)
            for i in range(1, min(left, rng.randint(2, 3)) + 1):
                out.append((general, f"{base}第{N.ordinal(i)}党支部", category, kind))
        else:
            out.append((committee, base + "党支部", category, kind))
    return out


def _unique(used: set[str], make) -> str:
    for _ in range(20):
        base = make()
        if base not in used:
            used.add(base)
            return base
    base = make()
    i = 2
    while f"{base}第{N.ordinal(i)}" in used:
        i += 1
    used.add(f"{base}第{N.ordinal(i)}")
    return f"{base}第{N.ordinal(i)}"


def _branch_base(rng, kind, category, town, first, block) -> str:
    """A unit name without 党支部: 东风村, 幸福社区, 县财政局机关…"""
    loc = (lambda s: _localise(s, block)) if block else (lambda s: s)
    if category == C.GOVERNMENT:
        if kind == "organs":
            return loc("县委组织部机关" if first else rng.choice(N.DEPARTMENTS) + "机关")
        if kind == "police":
            return loc(rng.choice(_POLICE) if first else _place(rng) + "派出所")
        return f"{town}机关"
    if category == C.RURAL:
        return _place(rng) + "村"
    if category == C.COMMUNITY:
        return rng.choice(N.COMMUNITY_NAMES) + "社区"
    if category == C.SCHOOL:
        if kind == "education":
            return (
                loc(rng.choice(_SCHOOLS))
                if rng.random() < 0.2
                else _place(rng) + rng.choice(["中学", "小学"])
            )
        return f"{town}中心学校" if rng.random() < 0.3 else _place(rng) + "小学"
    if category == C.PUBLIC_INSTITUTION:
        if kind == "health":
            return loc(rng.choice(_HEALTH_UNITS)) if rng.random() < 0.3 else _place(rng) + "镇卫生院"
        if kind == "organs":
            return loc(rng.choice(["县融媒体中心", "县档案馆", "县图书馆", "县文化馆", "县农业技术推广中心"]))
        return f"{town}" + rng.choice(["卫生院", "农业综合服务站", "文化站", "便民服务中心"])
    if category == C.ENTERPRISE:
        prefix = loc("县") if kind == "soe" else ""
        suffix = "集团有限公司" if kind == "soe" else rng.choice(N.INDUSTRIES) + "有限公司"
        return prefix + rng.choice(N.COMPANY_WORDS) + suffix
    if category == C.NEW_ECONOMY:
        if rng.random() < 0.4:
            return rng.choice(N.COMPANY_WORDS) + rng.choice(N.SOCIAL_ORGS)
        return rng.choice(N.COMPANY_WORDS) + rng.choice(N.INDUSTRIES) + "有限公司"
    return f"{town}流动党员"


def _sizes(rng: random.Random, categories: list[C], total: int) -> list[int]:
    """Members per branch: lognormal around the category's mean, scaled to exactly `total`, each ≥ 3."""
    raw = [_MEAN_SIZE[c] * rng.lognormvariate(0, 0.4) for c in categories]
    factor = total / sum(raw)
    # A few branches above 50 are realistic (the import warns); a 130-member one is not.
    sizes = [min(70, max(3, round(r * factor))) for r in raw]
    diff = total - sum(sizes)
    n = len(sizes)
    while diff:
        i = rng.randrange(n)
        if diff > 0 and sizes[i] < 60:
            sizes[i] += 1
            diff -= 1
        elif diff < 0 and sizes[i] > 3:
            sizes[i] -= 1
            diff += 1
    return sizes


def _populate_branch(builder: Builder, branch: dict, category: C, size: int) -> list[dict]:
    rng = builder.rng
    # The 支委 are elected from 正式党员, so the first five are full members.
    members = [
        builder.person(branch, category, status=MemberStatus.FULL if i < 5 else None) for i in range(size)
    ]
    full = sum(1 for m in members if m["status"] == MemberStatus.FULL)
    builder.role(members[0], branch, Role.SECRETARY)
    if full >= 7:
        builder.role(members[1], branch, Role.ORGANIZATION_MEMBER)
        builder.role(members[2], branch, Role.PROPAGANDA_MEMBER)
        builder.role(members[3], branch, Role.DISCIPLINE_MEMBER)
        if size >= 15 and rng.random() < 0.5:
            builder.role(members[4], branch, Role.DEPUTY_SECRETARY)
    elif rng.random() < 0.5:
        builder.role(members[1], branch, Role.ORGANIZATION_MEMBER)
    if rng.random() < 0.85:
        builder.role(members[1], branch, Role.FEE_COLLECTOR)
    if rng.random() < 0.3:
        builder.role(members[min(2, size - 1)], branch, Role.CONTACT)
    if size >= 20 and rng.random() < 0.5:
        n_groups = rng.randint(2, min(4, size // 8))
        groups = [
            builder.unit(UnitKind.GROUP, f"第{N.ordinal(i + 1)}党小组", branch) for i in range(n_groups)
        ]
        for i, member in enumerate(members):
            member["group_id"] = groups[i % n_groups]["id"]
        for i, group in enumerate(groups):
            # The first member of group 0 is the secretary; the next one in that group leads it.
            leader = members[i + n_groups] if i == 0 else members[i]
            builder.role(leader, group, Role.GROUP_LEADER)
    return members


def _committee_roles(builder: Builder, committee_units, members_by_committee) -> None:
    rng = builder.rng
    staff_done = False
    for unit, kind in committee_units:
        branches = members_by_committee[unit["id"]]
        office = branches[0]  # the committee's own 机关 branch comes first
        pool = [m for b in branches for m in b]
        # Leaders are usually in the office branch; fall back to any member of the committee.
        leaders = list(reversed(office))[:3]
        while len(leaders) < 3:
            leaders.append(rng.choice(pool))
        builder.role(leaders[0], unit, Role.SECRETARY)
        builder.role(leaders[1], unit, Role.DEPUTY_SECRETARY)
        builder.role(leaders[2], unit, Role.ORGANIZATION_MEMBER)
        for _ in range(max(1, len(branches) // 15)):
            builder.role(rng.choice(pool), unit, Role.OBSERVER)
        if kind == "organs" and not staff_done:
            # 组织部 staff over the whole tree sit in the 县委组织部机关党支部.
            for member in office[4:8] or office[-1:]:
                builder.role(member, None, Role.ORG_STAFF)
            staff_done = True
    if not staff_done:
        first = members_by_committee[committee_units[0][0]["id"]][0]
        builder.role(first[-1], None, Role.ORG_STAFF)
