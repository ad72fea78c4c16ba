"""Every tunable number of 月积分, with the defaults of domain.md §6 (rules I26–I27, E14).

Built from the settings' monthly section (config/rules.py) by monthly_config(core); tests pass a
MonthlyConfig explicitly.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.context import CoreConfig
from config.rules import COMPLETION_ITEMS, PENALTIES, LadderRules, MonthlyRules
from handlers.fees.policy import Policy, default_policy
from handlers.meetings.types import named, roles_named
from handlers.observers.forms import DEFAULT_CONFIG as OBSERVERS_DEFAULT
from handlers.observers.forms import ObserversConfig, observers_config
from models.org import Role


class QuarterMode(enum.StrEnum):
    END = "end"  # quarterly/yearly obligations are counted in the period's last month (default)
    SPREAD = "spread"  # a third of the quarterly obligation per month (yearly: counted in December)


class LagKind(enum.StrEnum):
    BOTTOM_N = "bottom_n"
    BOTTOM_PCT = "bottom_pct"
    BELOW = "below"
    HALT = "halt"  # any 叫停 / 责令重开 in the month


@dataclass(frozen=True)
class LagRule:
    kind: LagKind
    value: float = 1  # N, X (percent) or the threshold; unused for HALT


@dataclass(frozen=True)
class Rung:
    """From `streak` months in a row: notify `roles` on the unit's committee (and 组织部 when `copy_org_staff`)."""

    streak: int
    roles: tuple[Role, ...]
    copy_org_staff: bool = False
    to_branch_secretary: bool = False  # member ladders: the member's branch secretary


@dataclass(frozen=True)
class LadderPreset:
    rungs: tuple[Rung, ...]
    # Member ladders notify only when the count reaches a step exactly (1, 3, 5, 6), so a member
    # four months behind does not get the 3-month notice again; unit ladders notify every month.
    exact_steps: bool = False


SUSONG_COMMITTEE = LadderPreset(
    (
        Rung(1, (Role.ORGANIZATION_MEMBER,)),
        Rung(2, (Role.DEPUTY_SECRETARY,)),
        Rung(3, (Role.SECRETARY,), copy_org_staff=True),
    )
)
BRANCH_LADDER = LadderPreset((Rung(1, (Role.ORGANIZATION_MEMBER,)),))
# domain.md E14: remind at 1 month; 谈话提醒 + report to the superior at 3; escalate at 5; 6 = 脱党 candidate.
MEMBER_LADDER = LadderPreset(
    (
        Rung(1, (), to_branch_secretary=True),
        Rung(3, (Role.ORGANIZATION_MEMBER,), to_branch_secretary=True),
        Rung(5, (Role.ORGANIZATION_MEMBER, Role.DEPUTY_SECRETARY), to_branch_secretary=True),
        Rung(6, (Role.ORGANIZATION_MEMBER, Role.DEPUTY_SECRETARY), to_branch_secretary=True),
    ),
    exact_steps=True,
)


@dataclass(frozen=True)
class CommitteeKind:
    """A peer group of committees (乡镇, 街道, 机关…): they are ranked among their own kind, as
    branches are within their 类别, since a 乡镇党委 and a 教育工委 run very different branches."""

    key: str
    label: str
    # Found in the committee's name, first kind first ("县直机关工委" → 机关); the roster has no
    # column for a committee's kind, so its name is what every county already writes it in.
    keywords: tuple[str, ...]


COMMITTEE_KINDS = (
    CommitteeKind("street", "街道", ("街道",)),
    CommitteeKind("organs", "机关", ("机关", "公安", "法院", "检察院", "政法")),
    CommitteeKind("education", "教育", ("教育", "教体", "学校")),
    CommitteeKind("health", "卫健", ("卫生健康", "卫健", "卫生", "医院")),
    CommitteeKind("new_economy", "两新", ("两新", "非公", "社会组织")),
    CommitteeKind("soe", "国资", ("国资", "国有")),
    CommitteeKind("park", "园区", ("开发区", "园区", "高新区")),
    CommitteeKind("town", "乡镇", ("乡镇", "镇党委", "乡党委", "镇党工委", "乡党工委")),
)
OTHER_COMMITTEE_KIND = CommitteeKind("other", "其他", ())
# The configured kinds (MonthlyConfig.committee_kinds): texts name a committee's group with them.
Kinds = Iterable[CommitteeKind]
LADDERS = {"susong": SUSONG_COMMITTEE, "branch": BRANCH_LADDER, "member": MEMBER_LADDER}
KIND_PRESETS = {"default": COMMITTEE_KINDS}


@dataclass(frozen=True)
class MonthlyConfig:
    # score = 100 × (completion × w + quality × w + rectification × w) − penalties
    weight_completion: float = 0.5
    weight_quality: float = 0.3
    weight_rectification: float = 0.2
    # The parts of 完成率; an item with no data this month (no meetings, no 补学 due) drops out
    # and the others are re-weighted.
    completion_items: dict[str, float] = field(default_factory=lambda: dict(COMPLETION_ITEMS))
    quarter_mode: QuarterMode = QuarterMode.END
    # 质量 without observer data this month. None = use 完成率 as the proxy (domain.md's option);
    # a number (e.g. 1.0) = that constant for every such branch.
    quality_when_missing: float | None = None
    penalties: dict[str, float] = field(default_factory=lambda: dict(PENALTIES))
    lag_rules: tuple[LagRule, ...] = (LagRule(LagKind.BOTTOM_N, 1),)
    # Peer groups a county would accept (issue 15: 10; domain.md I26–I27). A 类别 with fewer branches
    # than min_peer_group (a committee kind with fewer than min_committee_group committees) is ranked
    # in one 综合 group with the other small ones; a group still below the minimum has no rank-based
    # 落后 (a rank among one or two says nothing). A rank rule (bottom N / X%) marks a unit 落后 only
    # when its score is also below lag_rank_below (None: no threshold) and below its group's median.
    min_peer_group: int = 5
    min_committee_group: int = 3
    lag_rank_below: float | None = 90.0
    # Committees: the mean of their branches' scores, optionally weighted by member count.
    weight_by_members: bool = False
    # "连续" months: a month without a score breaks the streak (False: it is skipped).
    gap_breaks_streak: bool = True
    streak_lookback_months: int = 12
    committee_ladder: LadderPreset = SUSONG_COMMITTEE
    branch_ladder: LadderPreset = BRANCH_LADDER
    member_ladder: LadderPreset = MEMBER_LADDER
    # Schedules (crontab in the configured zone).
    digest_cron: str = "0 9 1 * *"
    todo_cron: str = "30 8 * * mon"  # a name: APScheduler 3 counts weekdays from Monday = 0
    todo_plan_days: int = 7  # list the plan when its deadline is this close (or passed)
    branch_manager_roles: frozenset[Role] = frozenset({Role.SECRETARY})
    committee_leader_roles: frozenset[Role] = frozenset(
        {Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER}
    )
    chart_max_bars: int = 30
    # Committees are ranked within their kind (found from the name, see CommitteeKind); a committee
    # whose name says nothing, or says it wrongly, is given its kind here: committee id or exact
    # name → kind key (e.g. {"县公安局党委": "organs"}).
    committee_kinds: tuple[CommitteeKind, ...] = COMMITTEE_KINDS
    committee_kind_of: dict[int | str, str] = field(default_factory=dict)
    # 宿松县 (seed 000): what a branch left 未落实 in the month is sent, item by item with what to do,
    # to its 书记, 组织委员 and 支部联系人 when the month is scored. Per committee (id or exact name;
    # the branch's nearest unit with an entry wins, so the county's root committee may set it for
    # all): other roles, or an empty set for none.
    reminder_roles: frozenset[Role] = frozenset({Role.SECRETARY, Role.ORGANIZATION_MEMBER, Role.CONTACT})
    reminder_roles_of: dict[int | str, frozenset[Role]] = field(default_factory=dict)
    # 质量不高 (seed 000: 未落实或质量不高) is an item too when observers scored the month below this.
    reminder_quality_below: float | None = 0.6
    # The observers' rules (their form, grades and periods): 质量 and 整改 come from their records.
    observers: ObserversConfig = OBSERVERS_DEFAULT
    # The fee policy of branches without one (default_policy(core)): the 党费 ladder counts by it.
    fees: Policy = field(default_factory=Policy)

    @classmethod
    def from_rules(
        cls, rules: MonthlyRules, observers: ObserversConfig, fees: Policy | None = None
    ) -> MonthlyConfig:
        """The runtime config of the settings' monthly section; an unknown name is refused."""

        def roles(names: list[str], setting: str) -> frozenset[Role]:
            return roles_named(names, f"ZHIBU_MONTHLY__{setting}")

        def ladder(value: str | LadderRules, setting: str) -> LadderPreset:
            if isinstance(value, str):
                if value not in LADDERS:
                    raise ValueError(
                        f"ZHIBU_MONTHLY__{setting}: unknown ladder {value!r} (known: {', '.join(LADDERS)})"
                    )
                return LADDERS[value]
            rungs = tuple(
                Rung(
                    r.streak,
                    tuple(named(Role, name, f"ZHIBU_MONTHLY__{setting}") for name in r.roles),
                    r.copy_org_staff,
                    r.to_branch_secretary,
                )
                for r in value.rungs
            )
            return LadderPreset(rungs, exact_steps=value.exact_steps)

        if isinstance(rules.committee_kinds, str):
            if rules.committee_kinds not in KIND_PRESETS:
                raise ValueError(f"ZHIBU_MONTHLY__COMMITTEE_KINDS: unknown preset {rules.committee_kinds!r}")
            kinds = KIND_PRESETS[rules.committee_kinds]
        else:
            kinds = tuple(CommitteeKind(k.key, k.label, tuple(k.keywords)) for k in rules.committee_kinds)
        return cls(
            weight_completion=rules.weight_completion,
            weight_quality=rules.weight_quality,
            weight_rectification=rules.weight_rectification,
            completion_items=dict(rules.completion_items),
            quarter_mode=QuarterMode(rules.quarter_mode),
            quality_when_missing=rules.quality_when_missing,
            penalties=dict(rules.penalties),
            lag_rules=tuple(
                LagRule(named(LagKind, r.kind, "ZHIBU_MONTHLY__LAG_RULES"), r.value) for r in rules.lag_rules
            ),
            min_peer_group=rules.min_peer_group,
            min_committee_group=rules.min_committee_group,
            lag_rank_below=rules.lag_rank_below,
            weight_by_members=rules.weight_by_members,
            gap_breaks_streak=rules.gap_breaks_streak,
            streak_lookback_months=rules.streak_lookback_months,
            committee_ladder=ladder(rules.committee_ladder, "COMMITTEE_LADDER"),
            branch_ladder=ladder(rules.branch_ladder, "BRANCH_LADDER"),
            member_ladder=ladder(rules.member_ladder, "MEMBER_LADDER"),
            digest_cron=rules.digest_cron,
            todo_cron=rules.todo_cron,
            todo_plan_days=rules.todo_plan_days,
            branch_manager_roles=roles(rules.branch_manager_roles, "BRANCH_MANAGER_ROLES"),
            committee_leader_roles=roles(rules.committee_leader_roles, "COMMITTEE_LEADER_ROLES"),
            chart_max_bars=rules.chart_max_bars,
            committee_kinds=kinds,
            committee_kind_of={_unit_key(k): v for k, v in rules.committee_kind_of.items()},
            reminder_roles=roles(rules.reminder_roles, "REMINDER_ROLES"),
            reminder_roles_of={
                _unit_key(k): roles(v, "REMINDER_ROLES_OF") for k, v in rules.reminder_roles_of.items()
            },
            reminder_quality_below=rules.reminder_quality_below,
            observers=observers,
            fees=fees or Policy(),
        )

    def committee_kind(self, unit_id: int, name: str) -> CommitteeKind:
        by_key = {k.key: k for k in self.committee_kinds}
        chosen = self.committee_kind_of.get(unit_id) or self.committee_kind_of.get(name)
        if chosen is not None:
            return by_key.get(chosen) or CommitteeKind(chosen, chosen, ())
        for kind in self.committee_kinds:
            if any(word in name for word in kind.keywords):
                return kind
        return OTHER_COMMITTEE_KIND

    def reminder_roles_for(self, path: list[tuple[int, str]]) -> frozenset[Role]:
        """`path`: (id, name) of the branch's ancestors, root first, the branch last."""
        for unit_id, name in reversed(path):
            for key in (unit_id, name):
                if key in self.reminder_roles_of:
                    return frozenset(self.reminder_roles_of[key])
        return self.reminder_roles


def _unit_key(key: str) -> int | str:
    """A settings key names a unit by id (digits) or by its exact name (no unit is named by digits)."""
    return int(key) if key.isdigit() else key


def _from_core(core: CoreConfig) -> MonthlyConfig:
    return MonthlyConfig.from_rules(core.rules.monthly, observers_config(core), default_policy(core))


def monthly_config(core: CoreConfig) -> MonthlyConfig:
    """The organisation's 月积分 rules, as the composition root configured them (built once per core)."""
    return core.derive(_from_core)


DEFAULT = MonthlyConfig()
