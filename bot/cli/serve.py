"""zhibu serve / demo / run-job: the running service, wired from settings (the composition root)."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import typer
import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.common import configured_platforms, core_config, database, echo, fail, settings, settle_heap
from bot.core import outbox
from bot.core.dispatcher import Dispatcher
from bot.core.relay import Relay
from bot.core.router import Routes
from bot.platforms.wiring import build_platforms
from bot.web.app import create_app
from config import Settings, SettingsError, demo, use_settings
from config.rules import ActivityDayRules
from handlers.common import dates
from handlers.ledgers.exports import ExportWorker
from models.base import utcnow
from models.meetings_seed import ACTIVITY_DAY
from models.org import ROLE_LABELS, ChatAccount, OrgUnit, Person, Platform, RoleAssignment, UnitKind

logger = logging.getLogger("zhibu")

ROLES = ("web", "stream", "relay", "scheduler")

TEXT = {
    "bad_role": "未知角色「{role}」，可选：all、web、stream、relay、scheduler。",
    "no_job": "没有名为「{name}」的定时任务。已有：{names}",
    "job": {
        "ran": "任务 {name}（周期 {period}）已运行。",
        "already": "任务 {name} 的周期 {period} 之前已经运行过，这次没有重复运行。",
        "failed": "任务 {name}（周期 {period}）运行失败，详情见日志；该周期仍可重新运行。",
        "not_due": "任务 {name} 的周期 {period} 不在可补跑的时间范围内，没有运行。",
        "not_started": "任务 {name} 的周期 {period} 早于启用月份（或尚未设置启用月份），没有运行。可用 zhibu golive 查看。",
    },
    "serving": "zhibu 已启动：{roles}。网页与回调地址 http://{host}:{port}/ （按 Ctrl+C 停止）",
    "stopped": "zhibu 已停止。",
    "demo_ready": (
        "\n演示已就绪！\n"
        "  聊天页面（在这里扮演任何一位党员、书记、观察员或领导）：{chat}\n"
        "  管理后台（组织部、党委、书记用）：{bot}/console/\n"
        "    可扫码（在模拟页面里选人）或在聊天里发送“登录后台”。试试：赵敏（组织部）、周明华（城关镇党委）、\n"
        "    王建国（东风村党支部书记）、马超（观察员，只读）。\n"
        "  模拟的钉钉 / 企业微信服务器：{sandbox}\n"
        "  机器人：{bot}   数据库：{db}\n"
        "按 Ctrl+C 结束演示。"
    ),
    "demo_seed": "已生成演示组织：{people} 名人员、{accounts} 个聊天账号，以及最近 {months} 个月的会议、签到和观察记录。",
    "demo_monthly": "已计算{month}的月积分，月度通报和落后提醒已发给相关书记和领导（{digests} 份通报）。",
}


# The demo's history: enough months for last month's 月积分, its digest and a ladder notice.
DEMO_HISTORY_MONTHS = 2


def _routes(extra_routers=()):
    from handlers import all_routers, fallback

    return Routes([*extra_routers, *all_routers()]), fallback()


class Service:
    """The service's parts, started in one process for the roles asked for."""

    def __init__(
        self,
        s: Settings,
        session_factory: sessionmaker[Session],
        roles: set[str],
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        relay_clock=None,
        clock: Callable[[], datetime] = utcnow,
        extra_routers=(),
    ) -> None:
        """`clock` is what chat handlers and web pages take as now (tests inject one)."""
        self.settings = s
        # Built once: the chat handlers, the pages and the jobs of this process share these rules.
        self.core = core_config(s)
        self.session_factory = session_factory
        self.roles = roles
        self.host, self.port = host, port
        routes, fallback = _routes(extra_routers)
        self.relay: Relay | None = None
        self.dispatcher = Dispatcher(
            session_factory,
            routes,
            self.core,
            fallback=fallback,
            on_committed=self._wake_relay,
            clock=clock,
            workers=s.event_workers,
        )
        self.platforms = build_platforms(s, self.dispatcher, stream="stream" in roles)
        # Chat handlers, pages and jobs of this process queue people's messages only on the platforms
        # that are configured (the factory given may not come from bot.cli.common.database).
        outbox.configure_platforms(session_factory, configured_platforms(s))
        if "relay" in roles:
            from handlers import all_feeders

            self.relay = Relay(
                session_factory, self.platforms.senders, clock=relay_clock, feeders=all_feeders(self.core)
            )
        self.scheduler = None
        if "scheduler" in roles:
            from scheduler.jobs import all_jobs
            from scheduler.runner import Scheduler

            self.scheduler = Scheduler(session_factory, all_jobs(self.core), s.tz, on_ran=self._wake_relay)
        self.app = (
            create_app(
                session_factory, platforms=self.platforms, relay=self.relay, clock=clock, core=self.core
            )
            if "web" in roles
            else None
        )
        # Ledger files of a committee or the county: every web process builds the ones it claims first.
        self.exports = ExportWorker(session_factory, self.core, clock=clock) if self.app is not None else None
        self.server: uvicorn.Server | None = None
        self._web_thread: threading.Thread | None = None

    def _wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    def start_background(self) -> None:
        """Everything but the web server (which `run` keeps in the foreground)."""
        if self.platforms.stream is not None:
            self.platforms.stream.start()
        if self.relay is not None:
            self.relay.start()
        if self.scheduler is not None:
            self.scheduler.start()
        if self.exports is not None:
            self.exports.start()

    def start_web_thread(self, sock: socket.socket | None = None) -> None:
        """The web server on a thread (tests and the demo)."""
        assert self.app is not None
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host=self.host, port=self.port, log_level="warning", lifespan="off")
        )
        self.server.install_signal_handlers = lambda: None
        sockets = [sock] if sock is not None else None
        self._web_thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=sockets)), name="zhibu-web", daemon=True
        )
        self._web_thread.start()
        while not self.server.started and self._web_thread.is_alive():
            threading.Event().wait(0.02)

    def stop(self) -> None:
        # Order matters: stop taking events, then let the relay put unsent rows back, then the rest.
        if self.server is not None:
            self.server.should_exit = True
        if self.platforms.stream is not None:
            self.platforms.stream.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.relay is not None:
            self.relay.stop()
        if self.exports is not None:
            self.exports.stop()
        if self._web_thread is not None:
            self._web_thread.join(10)
        self.platforms.close()

    def run(self, on_ready=None) -> None:
        """Foreground until SIGTERM/SIGINT; nothing in flight is lost (the relay releases its claims)."""
        stop = threading.Event()
        # Handlers first: a SIGTERM that arrives while the parts start must still stop them cleanly.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            self.start_background()
            if on_ready is not None:
                on_ready()
            if self.app is not None and not stop.is_set():
                # The console's current and last month, built in the background: the server answers
                # at once, and the first viewer does not wait seconds for a city's month to be scored.
                self.app.state.console.warm()
                self.server = uvicorn.Server(
                    uvicorn.Config(self.app, host=self.host, port=self.port, log_level="info", lifespan="off")
                )
                self.server.run()  # installs its own SIGTERM/SIGINT handlers and returns on them
            else:
                stop.wait()
        finally:
            self.stop()


def _parse_roles(role: str) -> set[str]:
    if role == "all":
        return set(ROLES)
    roles = {r.strip() for r in role.split(",") if r.strip()}
    unknown = roles - set(ROLES)
    if unknown or not roles:
        fail(TEXT["bad_role"].format(role=",".join(sorted(unknown)) or role))
    return roles


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve(
    role: str = typer.Option(
        "all",
        "--role",
        help="运行哪些部分：all（默认，全部在一个进程）或 web、stream、relay、scheduler（可用逗号组合）。",
    ),
    host: str = typer.Option("0.0.0.0", "--host", help="网页服务监听的地址。"),
    port: int = typer.Option(8000, "--port", help="网页服务监听的端口。"),
) -> None:
    """运行服务（网页与企业微信回调、钉钉连接、消息发送、定时任务）。"""
    s = settings()
    try:
        s.require_production_secret()
    except SettingsError as exc:
        fail(str(exc))
    _configure_logging(s.log_level)
    roles = _parse_roles(role)
    _, session_factory = database(s)  # refuses an out-of-date schema
    service = Service(s, session_factory, roles, host=host, port=port)
    settle_heap()
    service.run(
        on_ready=lambda: echo(TEXT["serving"].format(roles="、".join(sorted(roles)), host=host, port=port))
    )
    echo(TEXT["stopped"])


def run_job_cmd(
    name: str = typer.Argument(..., help="任务名称。"),
    period: str = typer.Option(
        "", "--period", help="要运行的周期（如 2026-08）；默认是最近一次应运行的周期。"
    ),
    send: bool = typer.Option(False, "--send", help="monthly：重新计算后发送提醒和通报（不加则只重算）。"),
) -> None:
    """立即运行一个定时任务（同一周期不会重复运行）。"""
    if name == "monthly":  # recomputes on demand and shows the differences (bot/cli/monthly.py)
        from bot.cli.monthly import run_monthly

        return run_monthly(period, send=send)
    from scheduler.jobs import all_jobs
    from scheduler.runner import latest_fire, run_job

    s = settings()
    _configure_logging(s.log_level)
    jobs = {j.name: j for j in all_jobs(core_config(s))}
    spec = jobs.get(name)
    if spec is None:
        fail(TEXT["no_job"].format(name=name, names="、".join(sorted(jobs)) or "（无）"))
    _, session_factory = database(s)
    settle_heap()
    now = datetime.now(UTC)
    if not period:
        from datetime import timedelta

        fire = latest_fire(spec, s.tz, now, within=timedelta(days=400))
        period = spec.period(fire or now.astimezone(s.tz))
    result = run_job(session_factory, spec, now=now, period=period, trigger="manual")
    echo(TEXT["job"][result.value].format(name=name, period=period))
    if result.value == "failed":
        raise typer.Exit(1)


# ---- demo ------------------------------------------------------------------------------


def sandbox_fixture(session: Session, *, callback_url: str) -> dict:
    """The sandbox's corps and members, built from the roster's chat accounts (what the bot will see)."""
    people = {p.id: p for p in session.scalars(select(Person))}
    units = {u.id: u for u in session.scalars(select(OrgUnit))}
    label: dict[int, str] = {}
    for r in session.scalars(select(RoleAssignment).order_by(RoleAssignment.id)):
        unit = units.get(r.org_unit_id) if r.org_unit_id else None
        label.setdefault(r.person_id, f"{unit.name if unit else ''}{ROLE_LABELS[r.role]}")
    ding_users, wecom_users = [], []
    members_by_branch: dict[int, list[str]] = {}
    for acc in session.scalars(select(ChatAccount).order_by(ChatAccount.id)):
        person = people[acc.person_id]
        role = label.get(person.id, "党员")
        mobile = person.phone or ""  # the directory answers `zhibu accounts match` by phone
        if acc.platform == Platform.DINGTALK:
            ding_users.append(
                {"userid": acc.account_id, "name": person.name, "role": role, "dept": [1], "mobile": mobile}
            )
            if person.branch_id:
                members_by_branch.setdefault(person.branch_id, []).append(acc.account_id)
        else:
            wecom_users.append(
                {
                    "userid": acc.account_id,
                    "name": person.name,
                    "role": role,
                    "department": [1],
                    "mobile": mobile,
                }
            )
    groups = [
        {"openConversationId": f"cidBranch{bid:04d}==", "title": units[bid].name, "members": members}
        for bid, members in sorted(members_by_branch.items())
        if bid in units and units[bid].kind == UnitKind.BRANCH
    ]
    return {
        "dingtalk": {
            "corp_id": demo.DINGTALK_CORP_ID,
            "app": {
                "client_id": demo.DINGTALK_CLIENT_ID,
                "client_secret": demo.DINGTALK_CLIENT_SECRET,
                "robot_code": demo.DINGTALK_ROBOT_CODE,
                "agent_id": demo.DINGTALK_AGENT_ID,
            },
            "users": ding_users,
            "groups": groups,
        },
        "wecom": {
            "corp_id": demo.WECOM_CORP_ID,
            "agent_id": demo.WECOM_AGENT_ID,
            "secret": demo.WECOM_SECRET,
            "token": demo.WECOM_TOKEN,
            "encoding_aes_key": demo.WECOM_ENCODING_AES_KEY,
            "callback_url": callback_url,
            "users": wecom_users,
        },
    }


def demo_settings(database_url: str, sandbox_url: str, public_base_url: str) -> Settings:
    """Both platforms pointed at the sandbox, with config/demo.py's identities."""
    return Settings(
        demo=True,
        database_url=database_url,
        public_base_url=public_base_url,
        dingtalk={
            "client_id": demo.DINGTALK_CLIENT_ID,
            "client_secret": demo.DINGTALK_CLIENT_SECRET,
            "robot_code": demo.DINGTALK_ROBOT_CODE,
            "corp_id": demo.DINGTALK_CORP_ID,
            "agent_id": demo.DINGTALK_AGENT_ID,
            "openapi_endpoint": sandbox_url,
            "oapi_endpoint": sandbox_url,
            "login_base": sandbox_url,
        },
        wecom={
            "corp_id": demo.WECOM_CORP_ID,
            "agent_id": demo.WECOM_AGENT_ID,
            "secret": demo.WECOM_SECRET,
            "token": demo.WECOM_TOKEN,
            "encoding_aes_key": demo.WECOM_ENCODING_AES_KEY,
            "api_base": sandbox_url + "/cgi-bin/",
            "oauth_base": sandbox_url + "/connect/oauth2/authorize",
            "login_base": sandbox_url,
        },
    )


def demo_monthly(session: Session, s: Settings, now: datetime):
    """Last month's 月积分 for the demo, sent like the 1st-of-month job would (digests and ladder
    notices queued; the relay delivers them once the bot runs), so a newcomer sees them in the chat."""
    from handlers.monthly import service as monthly
    from scheduler.runner import claim_period

    core = core_config(s)
    month = monthly.previous_month(now.astimezone(core.tz).date())
    run = monthly.run_month_for(session, month, core, now=now, send=True)  # the seed set its start month
    claim_period(
        session, "monthly", f"{month:%Y-%m}", now=now, trigger="manual"
    )  # the scheduler's catch-up skips it
    return run


def _free_socket(host: str, port: int) -> socket.socket:
    """Bind `port`, or any free port when it is taken (the demo must start on a busy machine too)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.bind((host, 0))
    sock.listen(128)
    return sock


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def demo_cmd(
    data_dir: Path = typer.Option(
        Path("demo-data"), "--data-dir", help="演示数据库所在目录（每次启动都会重建）。"
    ),
    port: int = typer.Option(8000, "--port", help="机器人的端口（0 = 任选空闲端口）。"),
    sandbox_port: int = typer.Option(18080, "--sandbox-port", help="模拟平台的端口（0 = 任选空闲端口）。"),
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址。"),
) -> None:
    """在本机启动演示：模拟钉钉/企业微信服务器 + 机器人 + 演示组织，并打印聊天页面的地址。"""
    from models.db import make_engine, make_sessionmaker, unit_of_work, upgrade
    from models.seed import seed
    from sandbox.testing import running_sandbox

    _configure_logging("WARNING")
    data_dir.mkdir(parents=True, exist_ok=True)
    db_file = data_dir / "zhibu-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    database_url = f"sqlite:///{db_file.resolve()}"
    upgrade(database_url)
    engine = make_engine(database_url)
    session_factory = make_sessionmaker(engine)
    now = datetime.now(UTC)
    with unit_of_work(session_factory) as session:
        result = seed(
            session,
            "demo",
            dingtalk_corp_id=demo.DINGTALK_CORP_ID,
            wecom_corp_id=demo.WECOM_CORP_ID,
            seed=2026,
            months=DEMO_HISTORY_MONTHS,
            today=now.date(),
            now=now,
        )
    echo(
        TEXT["demo_seed"].format(
            people=result.rows["person"], accounts=result.rows["chat_account"], months=DEMO_HISTORY_MONTHS
        )
    )
    bot_sock = _free_socket(host, port)
    bot_url = f"http://{host}:{bot_sock.getsockname()[1]}"
    if sandbox_port and not _port_free(host, sandbox_port):
        sandbox_port = 0
    with running_sandbox(port=sandbox_port, host=host) as sb:
        with session_factory() as session:
            sb.load_fixture(sandbox_fixture(session, callback_url=bot_url + "/wecom/callback"))
        s = demo_settings(database_url, sb.url, bot_url)
        # The seeded demo holds its 主题党日 on its 党员活动日 (the 25th, as 曲阜): its notices and plan form say so.
        if s.meetings.activity_day.rule == "none":
            s.meetings.activity_day = ActivityDayRules(rule="day_of_month", day=ACTIVITY_DAY)
        # The demo's ports are chosen at start: its jobs read these settings, not the environment's.
        use_settings(s)
        outbox.configure_platforms(session_factory, configured_platforms(s))
        with unit_of_work(session_factory) as session:
            run = demo_monthly(session, s, now)
        echo(TEXT["demo_monthly"].format(month=dates.fmt_month(run.month), digests=run.digests))
        service = Service(s, session_factory, set(ROLES), host=host, port=bot_sock.getsockname()[1])
        service.start_web_thread(bot_sock)
        service.start_background()
        if service.platforms.stream is not None:
            service.platforms.stream.wait_connected(10)
        echo(TEXT["demo_ready"].format(chat=sb.url + "/", sandbox=sb.url, bot=bot_url, db=db_file))
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            service.stop()
    echo(TEXT["stopped"])


def register(root: typer.Typer) -> None:
    root.command("serve")(serve)
    root.command("demo")(demo_cmd)
    root.command("run-job")(run_job_cmd)
