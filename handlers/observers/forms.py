"""Form presets, the feature's tunable numbers, and validation of a submitted 观察质量评价表.

Presets follow the seeds: 太湖县's 党内组织生活观察质量评价表 (the 100-point form of domain.md §5,
each branch observed at least once per half-year) and 湖滨区's 四比一争 打分表 (observed monthly).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.context import CoreConfig
from bot.core.errors import Refused
from config.rules import ObserversRules
from config.settings import DEFAULT_TIMEZONE
from handlers.meetings.types import roles_named
from handlers.observers import strings
from models.observers import Outcome
from models.org import Role

# Where the feature's H5 pages live (the form, its photos, the yearly export).
H5_PREFIX = "/h5/observers"


def export_url(public_base_url: str, year: int) -> str:
    """The yearly record's .xlsx (committee leaders and 组织部 only)."""
    return f"{public_base_url.rstrip('/')}{H5_PREFIX}/export.xlsx?year={year}"


class CoveragePeriod(enum.StrEnum):
    MONTH = "month"
    HALF_YEAR = "half_year"


@dataclass(frozen=True)
class FormItem:
    key: str
    label: str
    max: int


@dataclass(frozen=True)
class FormPreset:
    key: str
    name: str
    items: tuple[FormItem, ...]
    # (minimum percentage of the maximum, grade), best first; below the last: `lowest_grade`.
    grades: tuple[tuple[int, str], ...] = ((90, "A"), (80, "B"), (60, "C"))
    lowest_grade: str = "D"

    @property
    def max_total(self) -> int:
        return sum(i.max for i in self.items)

    def grade(self, total: int) -> str:
        percent = 100 * total / self.max_total if self.max_total else 0
        for floor, grade in self.grades:
            if percent >= floor:
                return grade
        return self.lowest_grade


TAIHU_FORM = FormPreset(
    "taihu",
    strings.PRESET_TAIHU,
    (
        FormItem("prep", strings.ITEM_PREP, 15),
        FormItem("procedure", strings.ITEM_PROCEDURE, 20),
        FormItem("attendance", strings.ITEM_ATTENDANCE, 15),
        FormItem("content", strings.ITEM_CONTENT, 25),
        FormItem("record", strings.ITEM_RECORD, 10),
        FormItem("followup", strings.ITEM_FOLLOWUP, 15),
    ),
)
# 湖滨区 names the five items but no weights; equal shares of 100 are our assumption (configurable).
HUBIN_FORM = FormPreset(
    "hubin",
    strings.PRESET_HUBIN,
    (
        FormItem("study", strings.ITEM_STUDY, 20),
        FormItem("discipline", strings.ITEM_DISCIPLINE, 20),
        FormItem("dedication", strings.ITEM_DEDICATION, 20),
        FormItem("effect", strings.ITEM_EFFECT, 20),
        FormItem("model", strings.ITEM_MODEL, 20),
    ),
)


@dataclass(frozen=True)
class ObserversConfig:
    tz: ZoneInfo = ZoneInfo(DEFAULT_TIMEZONE)
    form: FormPreset = TAIHU_FORM
    coverage_period: CoveragePeriod = CoveragePeriod.HALF_YEAR
    min_visits: int = 1  # observed meetings per branch per coverage period (rule H23)
    coverage_risk_days: int = 30  # remind observers when the period ends within this many days
    # When the committee's 组织委员 hears which branches no observer has attended yet (crontab, local
    # time); empty: two months before a half-year ends (May and November, the 6th, after the 劳动节
    # break), or the 20th for a monthly period.
    gap_report_cron: str = ""
    submit_days: int = 7  # the form opens when the meeting starts and closes this many days after its day
    on_time_days: int = 3  # a first submission within this many days of the meeting is on time
    correct_max_days: int = 90  # the latest deadline a 责令纠正 may set
    reopen_days: int = 15  # a 责令重开 meeting must be held again within this many days
    notice_horizon: timedelta = timedelta(days=60)  # notices go out for meetings starting within this
    notices_per_run: int = 500  # meetings announced per notice run, soonest first (bounds one transaction)
    # Who runs a branch (gets 列席 notices, results, rectifications).
    manager_roles: frozenset[Role] = frozenset({Role.SECRETARY, Role.DEPUTY_SECRETARY})
    # Who on the committee above sees every result and the overdue items (宿松县/太湖县: 组织委员).
    committee_roles: frozenset[Role] = frozenset({Role.ORGANIZATION_MEMBER})
    # Who on the committee is told at once of a 叫停.
    stop_report_roles: frozenset[Role] = frozenset({Role.SECRETARY, Role.ORGANIZATION_MEMBER})
    # Suggested yearly rating (太湖县: 优秀 / 称职): share of forms on time and of periods covered.
    excellent_on_time: float = 0.9
    competent_coverage: float = 0.8
    max_issues: int = 20
    comment_limit: int = 1000


TAIHU = ObserversConfig()
HUBIN = ObserversConfig(form=HUBIN_FORM, coverage_period=CoveragePeriod.MONTH, coverage_risk_days=7)
PRESETS = {"taihu": TAIHU, "hubin": HUBIN}
FORMS = {"taihu": TAIHU_FORM, "hubin": HUBIN_FORM}
DEFAULT_CONFIG = TAIHU

_ROLE_FIELDS = ("manager_roles", "committee_roles", "stop_report_roles")


def from_rules(rules: ObserversRules, tz: ZoneInfo) -> ObserversConfig:
    """The settings' observers section: its preset, with each value it sets replacing the preset's."""
    # The section's yearly_* fields are the yearly rating's (handlers.observers.yearly_config), not the forms'.
    dumped = rules.model_dump(exclude={"preset"}).items()
    given = {k: v for k, v in dumped if v is not None and not k.startswith("yearly_")}
    if "form" in given:
        given["form"] = FORMS[given["form"]]
    if "coverage_period" in given:
        given["coverage_period"] = CoveragePeriod(given["coverage_period"])
    if "notice_horizon_days" in given:
        given["notice_horizon"] = timedelta(days=given.pop("notice_horizon_days"))
    for name in _ROLE_FIELDS:
        if name in given:
            given[name] = roles_named(given[name], f"ZHIBU_OBSERVERS__{name.upper()}")
    return replace(PRESETS[rules.preset], tz=tz, **given)


def _from_core(core: CoreConfig) -> ObserversConfig:
    return from_rules(core.rules.observers, core.tz)


def observers_config(core: CoreConfig) -> ObserversConfig:
    """The organisation's observer rules, as the composition root configured them (built once per core)."""
    return core.derive(_from_core)


# ---- validation


@dataclass
class FormInput:
    scores: dict[str, int]
    item_comments: dict[str, str]
    comment: str
    outcome: Outcome
    correct_by: date | None = None
    issues: list[str] = field(default_factory=list)


OUTCOME_BY_TEXT = {**{o.value: o for o in Outcome}, **{v: k for k, v in strings.OUTCOME_LABELS.items()}}


def parse_form(raw: Mapping[str, Any], cfg: ObserversConfig, today: date) -> FormInput:
    """Check every field and collect every problem; raise one Refused listing them all, or return the input.

    `raw` holds score_<key>, comment_<key>, comment, outcome, correct_by (YYYY-MM-DD) and issues
    (one per line), as the H5 form posts them.
    """
    errors: list[str] = []
    bad: list[str] = []
    scores: dict[str, int] = {}
    comments: dict[str, str] = {}
    for item in cfg.form.items:
        value = str(raw.get(f"score_{item.key}", "") or "").strip()
        if not value:
            errors.append(strings.SCORE_MISSING.format(label=item.label))
            bad.append(f"score_{item.key}")
        else:
            try:
                score = int(value)
            except ValueError:
                errors.append(strings.SCORE_NOT_NUMBER.format(label=item.label, max=item.max))
                bad.append(f"score_{item.key}")
            else:
                if not 0 <= score <= item.max:
                    errors.append(
                        strings.SCORE_OUT_OF_RANGE.format(label=item.label, score=score, max=item.max)
                    )
                    bad.append(f"score_{item.key}")
                scores[item.key] = score
        note = str(raw.get(f"comment_{item.key}", "") or "").strip()
        if len(note) > cfg.comment_limit:
            errors.append(strings.COMMENT_TOO_LONG.format(label=item.label, limit=cfg.comment_limit))
            bad.append(f"comment_{item.key}")
        comments[item.key] = note
    comment = str(raw.get("comment", "") or "").strip()
    if len(comment) > cfg.comment_limit:
        errors.append(strings.COMMENT_TOO_LONG.format(label=strings.H5_COMMENT, limit=cfg.comment_limit))
        bad.append("comment")
    outcome = OUTCOME_BY_TEXT.get(str(raw.get("outcome", "") or "").strip())
    if outcome is None:
        errors.append(strings.BAD_OUTCOME)
        bad.append("outcome")
    correct_by: date | None = None
    issues: list[str] = []
    if outcome == Outcome.CORRECT:
        text = str(raw.get("correct_by", "") or "").strip()
        latest = today + timedelta(days=cfg.correct_max_days)
        if not text:
            errors.append(strings.DEADLINE_REQUIRED)
            bad.append("correct_by")
        else:
            try:
                correct_by = date.fromisoformat(text)
            except ValueError:
                correct_by = None
            if correct_by is None or not today < correct_by <= latest:
                example = (today + timedelta(days=14)).isoformat()
                errors.append(strings.BAD_DEADLINE.format(max_days=cfg.correct_max_days, example=example))
                bad.append("correct_by")
        raw_issues = raw.get("issues", "")
        lines = raw_issues if isinstance(raw_issues, list) else str(raw_issues or "").splitlines()
        issues = [str(line).strip()[:500] for line in lines if str(line).strip()]
        if not issues:
            errors.append(strings.ISSUES_REQUIRED)
            bad.append("issues")
        elif len(issues) > cfg.max_issues:
            errors.append(strings.TOO_MANY_ISSUES.format(limit=cfg.max_issues))
            bad.append("issues")
    if errors:
        raise Refused(strings.ERRORS_HEAD + "\n".join(f"· {e}" for e in errors), tuple(bad))
    return FormInput(scores, comments, comment, outcome, correct_by, issues)  # type: ignore[arg-type]
