import pytest

from config import DEFAULT_SECRET_KEY, SettingsError, load_settings


def test_defaults_and_nested_env(monkeypatch):
    monkeypatch.setenv("ZHIBU_DINGTALK__CLIENT_ID", "ding-app")
    monkeypatch.setenv("ZHIBU_DINGTALK__CLIENT_SECRET", "s3cret-value")
    monkeypatch.setenv("ZHIBU_WECOM__API_BASE", "http://127.0.0.1:9/cgi-bin")
    s = load_settings(_env_file=None)
    assert s.database_url == "sqlite:///./zhibu.db"
    assert s.timezone == "Asia/Shanghai"
    assert s.dingtalk.enabled and not s.wecom.enabled
    assert s.wecom.api_base == "http://127.0.0.1:9/cgi-bin/"
    assert "s3cret-value" not in repr(s) and "s3cret-value" not in str(s.masked())


def test_malformed_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("ZHIBU_WECOM__OAUTH_BASE", "ftp://nowhere")
    with pytest.raises(SettingsError, match=r"^ZHIBU_WECOM__OAUTH_BASE: "):
        load_settings(_env_file=None)
    monkeypatch.delenv("ZHIBU_WECOM__OAUTH_BASE")
    monkeypatch.setenv("ZHIBU_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match=r"^ZHIBU_TIMEZONE: "):
        load_settings(_env_file=None)


def test_the_published_secret_key_is_refused_even_in_demo_mode(monkeypatch):
    """ZHIBU_DEMO=true used to let `zhibu serve` run on the published key (anyone could forge a session)."""
    s = load_settings(_env_file=None)
    assert s.secret_key.get_secret_value() == DEFAULT_SECRET_KEY
    with pytest.raises(SettingsError, match="ZHIBU_SECRET_KEY"):
        s.require_production_secret()
    with pytest.raises(SettingsError, match="ZHIBU_SECRET_KEY"):
        load_settings(_env_file=None, demo=True).require_production_secret()
    monkeypatch.setenv("ZHIBU_SECRET_KEY", "x" * 40)
    load_settings(_env_file=None).require_production_secret()


def test_dingtalk_card_template_reaches_the_sender(monkeypatch):
    from bot.platforms.wiring import build_platforms

    monkeypatch.setenv("ZHIBU_DINGTALK__CLIENT_ID", "ding-app")
    monkeypatch.setenv("ZHIBU_DINGTALK__CLIENT_SECRET", "s3cret-value")
    monkeypatch.setenv("ZHIBU_DINGTALK__CARD_TEMPLATE_ID", "tpl-from-card-platform.schema")
    platforms = build_platforms(load_settings(_env_file=None), None, stream=False)
    try:
        (sender,) = [s for s in platforms.senders if s.platform == "dingtalk"]
        assert sender.card_template_id == "tpl-from-card-platform.schema"
    finally:
        for close in platforms.closers:
            close()


@pytest.mark.parametrize("command", [["serve"], ["check"]])
def test_serve_and_check_refuse_the_published_key_whatever_the_flags(monkeypatch, tmp_path, command):
    from typer.testing import CliRunner

    from bot.cli import app

    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("ZHIBU_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("ZHIBU_DEMO", "true")
    monkeypatch.delenv("ZHIBU_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2 and "ZHIBU_SECRET_KEY" in result.output
    assert not (tmp_path / "x.db").exists()  # refused before anything was opened or served


def test_feature_rules_default_to_the_features_own_defaults():
    """Moving the rules into Settings changed no behaviour: each section, as shipped, builds exactly the
    config the features had before."""
    from zoneinfo import ZoneInfo

    from handlers.fees.policy import Policy
    from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
    from handlers.meetings.types import MeetingsConfig
    from handlers.monthly.config import DEFAULT as MONTHLY
    from handlers.monthly.config import MonthlyConfig
    from handlers.observers.forms import TAIHU, from_rules

    s = load_settings(_env_file=None)
    tz = ZoneInfo("Asia/Shanghai")
    assert MeetingsConfig.from_rules(s.meetings, tz) == MEETINGS
    assert from_rules(s.observers, tz) == TAIHU
    assert MonthlyConfig.from_rules(s.monthly, TAIHU) == MONTHLY
    assert Policy.from_rules(s.fees) == Policy()


def test_feature_rules_read_from_the_environment(monkeypatch):
    from zoneinfo import ZoneInfo

    from handlers.meetings.types import MeetingsConfig, Period
    from handlers.monthly.config import SUSONG_COMMITTEE, MonthlyConfig
    from handlers.observers.forms import HUBIN_FORM, from_rules
    from models.meetings import MeetingType
    from models.org import Role

    monkeypatch.setenv("ZHIBU_MEETINGS__PLAN_DEADLINE_DAY", "20")
    monkeypatch.setenv("ZHIBU_MEETINGS__FREQUENCIES__THEME_DAY", "quarter")
    monkeypatch.setenv("ZHIBU_OBSERVERS__PRESET", "hubin")
    monkeypatch.setenv("ZHIBU_OBSERVERS__MIN_VISITS", "2")
    monkeypatch.setenv("ZHIBU_MONTHLY__PENALTIES", '{"stop": 3, "reopen": 5}')
    monkeypatch.setenv("ZHIBU_MONTHLY__MEMBER_LADDER", '{"rungs": [{"streak": 2, "roles": ["contact"]}]}')
    monkeypatch.setenv("ZHIBU_MONTHLY__REMINDER_ROLES_OF", '{"12": [], "县公安局党委": ["secretary"]}')
    monkeypatch.setenv("ZHIBU_FEES__REMINDER_TIME", "10:30")
    s = load_settings(_env_file=None)
    tz = ZoneInfo("Asia/Shanghai")
    meetings = MeetingsConfig.from_rules(s.meetings, tz)
    assert meetings.plan_deadline_day == 20
    # One type's frequency changed; the others keep theirs.
    assert meetings.type_rules[MeetingType.THEME_DAY].period == Period.QUARTER
    assert meetings.type_rules[MeetingType.BRANCH_COMMITTEE].period == Period.MONTH
    observers = from_rules(s.observers, tz)
    assert (observers.form, observers.min_visits, observers.coverage_risk_days) == (HUBIN_FORM, 2, 7)
    monthly = MonthlyConfig.from_rules(s.monthly, observers)
    assert monthly.penalties == {"stop": 3.0, "reopen": 5.0}
    assert [(r.streak, r.roles) for r in monthly.member_ladder.rungs] == [(2, (Role.CONTACT,))]
    assert monthly.committee_ladder == SUSONG_COMMITTEE
    assert monthly.reminder_roles_of == {12: frozenset(), "县公安局党委": frozenset({Role.SECRETARY})}
    assert monthly.observers is observers
    assert s.fees.reminder_time == "10:30"


def test_the_rating_section_sets_when_the_committee_may_confirm(monkeypatch):
    """ZHIBU_RATING__CONFIRM_DAYS_EARLY reaches the rating rule (a county that rates in late December);
    unset, the year is confirmed from 1 January; more than a month early is refused, naming the variable."""
    from datetime import date

    from handlers.rating.config import DEFAULT, RatingConfig
    from handlers.rating.service import confirm_opens

    assert RatingConfig.from_rules(load_settings(_env_file=None).rating) == DEFAULT
    monkeypatch.setenv("ZHIBU_RATING__CONFIRM_DAYS_EARLY", "10")
    cfg = RatingConfig.from_rules(load_settings(_env_file=None).rating)
    assert confirm_opens(2026, cfg) == date(2026, 12, 22)
    monkeypatch.setenv("ZHIBU_RATING__CONFIRM_DAYS_EARLY", "40")
    with pytest.raises(SettingsError, match=r"^ZHIBU_RATING__CONFIRM_DAYS_EARLY: "):
        load_settings(_env_file=None)


def test_malformed_feature_rule_names_the_variable(monkeypatch):
    monkeypatch.setenv("ZHIBU_FEES__REMINDER_TIME", "9am")
    with pytest.raises(SettingsError, match=r"^ZHIBU_FEES__REMINDER_TIME: "):
        load_settings(_env_file=None)
    monkeypatch.delenv("ZHIBU_FEES__REMINDER_TIME")
    monkeypatch.setenv("ZHIBU_OBSERVERS__PRESET", "nowhere")
    with pytest.raises(SettingsError, match=r"^ZHIBU_OBSERVERS__PRESET: "):
        load_settings(_env_file=None)


def test_the_projects_lifemeeting_and_observers_yearly_sections_default_to_the_features_own_defaults():
    """The sections added for 书记项目, 组织生活会, 民主评议 and the observers' yearly rating change nothing as
    shipped."""
    from dataclasses import fields
    from zoneinfo import ZoneInfo

    from handlers.appraisal.config import DEFAULT as APPRAISAL
    from handlers.appraisal.config import AppraisalConfig
    from handlers.lifemeeting.config import DEFAULT as LIFEMEETING
    from handlers.lifemeeting.config import LifeMeetingConfig
    from handlers.observers.forms import TAIHU
    from handlers.observers.yearly_config import DEFAULT as YEARLY
    from handlers.observers.yearly_config import YearlyConfig
    from handlers.projects.config import DEFAULT as PROJECTS
    from handlers.projects.config import ProjectsConfig

    s = load_settings(_env_file=None)
    assert ProjectsConfig.from_rules(s.projects, ZoneInfo("Asia/Shanghai")) == PROJECTS
    assert YearlyConfig.from_rules(s.observers, TAIHU) == YEARLY
    # Every field of YearlyConfig is settable: the section declares yearly_<field> for each one that
    # the observers' own two lines (excellent_on_time, competent_coverage) do not set.
    shared = {"on_time_excellent", "coverage_competent"}
    assert {f"yearly_{f.name}" for f in fields(YearlyConfig) if f.name not in shared} <= set(
        type(s.observers).model_fields
    )
    assert LifeMeetingConfig.from_rules(s.lifemeeting, ZoneInfo("Asia/Shanghai")) == LIFEMEETING
    assert AppraisalConfig.from_rules(s.appraisal) == APPRAISAL
    # Every field of the two configs is a setting (but the zone, and how many names a line lists).
    assert {f.name for f in fields(LifeMeetingConfig)} - {"tz", "names_shown"} == set(
        type(s.lifemeeting).model_fields
    )
    assert {f.name for f in fields(AppraisalConfig)} == set(type(s.appraisal).model_fields)


def test_the_projects_lifemeeting_and_observers_yearly_sections_read_from_the_environment(monkeypatch):
    from fractions import Fraction
    from zoneinfo import ZoneInfo

    from handlers.appraisal.config import AppraisalConfig
    from handlers.lifemeeting.config import LifeMeetingConfig
    from handlers.monthly.config import BRANCH_LADDER
    from handlers.observers.forms import TAIHU
    from handlers.observers.yearly_config import YearlyConfig
    from handlers.projects.config import ProjectsConfig
    from models.org import Role

    monkeypatch.setenv("ZHIBU_PROJECTS__PASS_SCORE", "70")
    monkeypatch.setenv("ZHIBU_PROJECTS__DEFAULT_DEADLINE", "04-30")
    monkeypatch.setenv("ZHIBU_PROJECTS__LADDER", "branch")
    monkeypatch.setenv("ZHIBU_PROJECTS__COMMITTEE_ROLES", '["secretary"]')
    monkeypatch.setenv("ZHIBU_OBSERVERS__YEARLY_FOLLOWUP_DAYS", "14")
    monkeypatch.setenv("ZHIBU_OBSERVERS__YEARLY_CONFIRM_ROLES", '["organization_member"]')
    monkeypatch.setenv("ZHIBU_LIFEMEETING__DAYS_BEFORE", '{"study": 28}')
    monkeypatch.setenv("ZHIBU_LIFEMEETING__REPORT_ROLES", '["secretary", "organization_member"]')
    monkeypatch.setenv("ZHIBU_APPRAISAL__WINDOW_DAYS", "10")
    monkeypatch.setenv("ZHIBU_APPRAISAL__EXCELLENT_CAP", "0.25")
    monkeypatch.setenv("ZHIBU_APPRAISAL__LOW_TURNOUT", "2/3")
    monkeypatch.setenv("ZHIBU_APPRAISAL__MANAGER_ROLES", '["secretary"]')
    s = load_settings(_env_file=None)
    projects = ProjectsConfig.from_rules(s.projects, ZoneInfo("Asia/Shanghai"))
    assert (projects.pass_score, projects.default_deadline, projects.ladder) == (70.0, (4, 30), BRANCH_LADDER)
    assert projects.committee_roles == {Role.SECRETARY}
    yearly = YearlyConfig.from_rules(s.observers, TAIHU)
    assert (yearly.followup_days, yearly.confirm_roles) == (14, {Role.ORGANIZATION_MEMBER})
    # One step's due day changed; the others keep theirs.
    assert s.lifemeeting.days_before == {"study": 28, "opinions": 14, "talks": 7, "materials": 3}
    life = LifeMeetingConfig.from_rules(s.lifemeeting, ZoneInfo("Asia/Urumqi"))
    assert (life.default_due("study"), life.default_due("materials"), life.tz) == (
        28,
        3,
        ZoneInfo("Asia/Urumqi"),
    )
    assert life.report_roles == {Role.SECRETARY, Role.ORGANIZATION_MEMBER}
    appraisal = AppraisalConfig.from_rules(s.appraisal)
    assert (appraisal.window_days, appraisal.max_window_days) == (10, 31)
    assert (appraisal.excellent_cap, appraisal.low_turnout, appraisal.excellent_share) == (
        Fraction(1, 4),
        Fraction(2, 3),
        Fraction(1, 2),
    )
    assert appraisal.manager_roles == {Role.SECRETARY}


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZHIBU_PROJECTS__DEFAULT_DEADLINE", "02-30"),
        ("ZHIBU_PROJECTS__DEFAULT_DEADLINE", "3月31日"),
        ("ZHIBU_PROJECTS__PASS_SCORE", "120"),
        ("ZHIBU_OBSERVERS__YEARLY_COVERAGE_BASIC", "1.5"),
        ("ZHIBU_LIFEMEETING__DAYS_BEFORE", '{"meeting": 3}'),
        ("ZHIBU_LIFEMEETING__DIGEST_MONTHS", "[13]"),
        ("ZHIBU_APPRAISAL__EXCELLENT_CAP", "3/2"),
        ("ZHIBU_APPRAISAL__BASIC_SHARE", "过半"),
        ("ZHIBU_APPRAISAL__WINDOW_DAYS", "40"),
    ],
)
def test_a_malformed_projects_lifemeeting_or_yearly_rule_names_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=rf"^{variable}"):  # DAYS_BEFORE names the bad key after it
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ZHIBU_PROJECTS__LADDER", "nowhere"),
        ("ZHIBU_PROJECTS__REGISTER_UNIT_KINDS", '["branch", "village"]'),
        ("ZHIBU_PROJECTS__INTERVIEW_ROLES", '["chairman"]'),
    ],
)
def test_an_unknown_name_in_the_projects_section_is_refused_with_the_variable_named(
    monkeypatch, variable, value
):
    from zoneinfo import ZoneInfo

    from handlers.projects.config import ProjectsConfig

    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=rf"^{variable}: unknown"):
        ProjectsConfig.from_rules(load_settings(_env_file=None).projects, ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("variable", "value", "build"),
    [
        ("ZHIBU_LIFEMEETING__MANAGER_ROLES", '["secretary", "chairman"]', "lifemeeting"),
        ("ZHIBU_LIFEMEETING__REPORT_ROLES", '["boss"]', "lifemeeting"),
        ("ZHIBU_APPRAISAL__MANAGER_ROLES", '["chairman"]', "appraisal"),
    ],
)
def test_an_unknown_role_in_the_lifemeeting_or_appraisal_section_is_refused_with_the_variable_named(
    monkeypatch, variable, value, build
):
    from zoneinfo import ZoneInfo

    from handlers.appraisal.config import AppraisalConfig
    from handlers.lifemeeting.config import LifeMeetingConfig

    monkeypatch.setenv(variable, value)
    s = load_settings(_env_file=None)
    with pytest.raises(ValueError, match=rf"^{variable}: unknown"):
        if build == "lifemeeting":
            LifeMeetingConfig.from_rules(s.lifemeeting, ZoneInfo("Asia/Shanghai"))
        else:
            AppraisalConfig.from_rules(s.appraisal)


def test_a_window_longer_than_the_longest_is_refused_naming_the_section(monkeypatch):
    monkeypatch.setenv("ZHIBU_APPRAISAL__WINDOW_DAYS", "20")
    monkeypatch.setenv("ZHIBU_APPRAISAL__MAX_WINDOW_DAYS", "14")
    with pytest.raises(SettingsError, match=r"^ZHIBU_APPRAISAL: .*max_window_days"):
        load_settings(_env_file=None)


def test_the_inspection_section_defaults_to_the_features_defaults_and_reads_the_environment(monkeypatch):
    """督查/巡查 (ZHIBU_INSPECTION__…): as shipped it changes nothing; set, it reaches the feature's config
    through the core (inspection_config); an unknown role or a share outside (0, 1] is refused."""
    from dataclasses import fields

    from bot.core.context import CoreConfig
    from handlers.inspection.config import DEFAULT as INSPECTION
    from handlers.inspection.config import InspectionConfig, inspection_config
    from models.org import Role

    s = load_settings(_env_file=None)
    assert InspectionConfig.from_rules(s.inspection) == INSPECTION
    assert {f.name for f in fields(InspectionConfig)} == set(type(s.inspection).model_fields)
    monkeypatch.setenv("ZHIBU_INSPECTION__PATROL_SHARE", "0.2")
    monkeypatch.setenv("ZHIBU_INSPECTION__RECTIFICATION_DAYS", "15")
    monkeypatch.setenv("ZHIBU_INSPECTION__LIAISON_MAX_COMMITTEES", "2")
    monkeypatch.setenv("ZHIBU_INSPECTION__CHECKER_ROLES", '["secretary"]')
    s = load_settings(_env_file=None)
    cfg = inspection_config(CoreConfig.from_settings(s))
    assert (cfg.patrol_share, cfg.rectification_days, cfg.liaison_max_committees) == (0.2, 15, 2)
    assert cfg.checker_roles == {Role.SECRETARY} and cfg.inspector_roles == {Role.ORG_STAFF}
    monkeypatch.setenv("ZHIBU_INSPECTION__PATROL_SHARE", "1.5")
    with pytest.raises(SettingsError, match="ZHIBU_INSPECTION__PATROL_SHARE"):
        load_settings(_env_file=None)
    monkeypatch.setenv("ZHIBU_INSPECTION__PATROL_SHARE", "0.1")
    monkeypatch.setenv("ZHIBU_INSPECTION__INSPECTOR_ROLES", '["chairman"]')
    with pytest.raises(ValueError, match="ZHIBU_INSPECTION__INSPECTOR_ROLES"):
        InspectionConfig.from_rules(load_settings(_env_file=None).inspection)
