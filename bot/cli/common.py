"""What every CLI command shares: loading settings and the database with one clear line on failure."""

from __future__ import annotations

import gc
import sys
from typing import NoReturn

import typer

from bot.core import outbox
from bot.core.context import CoreConfig
from config import Settings, SettingsError, load_settings
from handlers.appraisal.config import appraisal_config
from handlers.fees.policy import default_policy
from handlers.inspection.config import inspection_config
from handlers.lifemeeting.config import lifemeeting_config
from handlers.meetings.types import meetings_config
from handlers.monthly.config import monthly_config
from handlers.observers.forms import observers_config
from handlers.observers.yearly_config import yearly_config
from handlers.projects.config import projects_config
from handlers.rating.config import rating_config
from handlers.talks.config import talks_config
from models.db import SchemaOutOfDate, make_engine, make_sessionmaker, require_current_schema
from models.org import Platform


def fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def settings(**overrides) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        fail(f"配置错误 {exc}")


def core_config(settings_: Settings) -> CoreConfig:
    """What handlers, pages and jobs are given: the settings' zone, address, key and rules, with every
    feature's config built now, once, so a wrong name in a rule (ZHIBU_MEETINGS__MANAGER_ROLES=…) stops
    the process at start with one line instead of failing a chat message later."""
    core = CoreConfig.from_settings(settings_)
    # Every feature whose config reads a settings section (config/rules.py), so none is first built by a
    # job list or the first chat message that needs it.
    builds = (
        meetings_config, observers_config, yearly_config, monthly_config, default_policy, talks_config,
        rating_config, projects_config, lifemeeting_config, appraisal_config, inspection_config,
    )  # fmt: skip
    try:
        for build in builds:
            build(core)
    except ValueError as exc:
        fail(f"配置错误 {exc}")
    return core


def configured_platforms(settings_: Settings) -> list[Platform]:
    """The platforms whose credentials are set, in the order people are reached on them (DingTalk
    first): the one answer to "which platforms does this deployment send on", for every process."""
    on = {Platform.DINGTALK: settings_.dingtalk.enabled, Platform.WECOM: settings_.wecom.enabled}
    return [p for p, enabled in on.items() if enabled]


def database(settings_: Settings, *, check_schema: bool = True):
    """(engine, session factory) for the configured database; refuses an out-of-date schema.

    The factory's sessions know the configured platforms, so every message queued through them (a
    job, a CLI command, the web app) goes to a platform that has a sender."""
    engine = make_engine(settings_.database_url)
    if check_schema:
        try:
            require_current_schema(engine)
        except SchemaOutOfDate as exc:
            fail(str(exc))
        except Exception as exc:  # noqa: BLE001 - any driver error means "cannot reach the database"
            fail(f"无法连接数据库 {engine.url.render_as_string(hide_password=True)}：{exc}")
    factory = make_sessionmaker(engine)
    outbox.configure_platforms(factory, configured_platforms(settings_))
    return engine, factory


def echo(message: str = "") -> None:
    typer.echo(message)
    sys.stdout.flush()


# Objects allocated (net) between the collector's young passes: CPython's 700 made a city's month (about a
# million allocations) run 1,400 young passes and, through them, four or five full ones, 0.2 s of its 0.9 s
# (bench/monthly.py); 10,000 leaves about 0.05 s. A young pass then walks at most 10,000 objects (about a
# millisecond), and cyclic garbage waits that much longer to be freed.
YOUNG_COLLECTION_THRESHOLD = 10_000


def settle_heap() -> None:
    """Set a long-running process's garbage collector for its work: what start-up left (the modules,
    settings, app and engine, about 200,000 objects) is taken out of the full passes (gc.freeze, after a
    collection), and the young passes run every YOUNG_COLLECTION_THRESHOLD allocations, not 700.

    Start-up's objects live as long as the process, and every full pass walked them all again. Called once,
    after start-up and before any part or job runs, so that nothing of a request or job is frozen (a frozen
    cycle is never freed); the console's month cache freezes each month it builds the same way
    (handlers/console/overview.MonthCache._put)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
