"""Shared arrangements for the chat-core tests: a small organisation, a fake sender, a dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.context import CoreConfig
from bot.core.delivery import Batch, BatchOutcome
from bot.core.dispatcher import Dispatcher
from bot.core.events import Account, CardActionPressed, Conversation, TextReceived
from bot.core.ratelimit import RateLimit
from bot.core.router import Routes
from config import demo
from models.org import ChatAccount, OrgUnit, Person, Platform, Role, RoleAssignment, UnitKind, set_path
from models.outbox import TargetKind

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
CONFIG = CoreConfig(
    tz=ZoneInfo("Asia/Shanghai"), public_base_url="http://127.0.0.1:8000", secret_key="k" * 32
)
DT, WC = demo.DINGTALK_CORP_ID, demo.WECOM_CORP_ID


@dataclass
class Org:
    committee_id: int
    branch_id: int
    secretary_id: int
    member_ids: list[int]
    unbound_id: int


def make_org(session_factory, members: int = 3) -> Org:
    """A committee with one branch: a secretary (DingTalk + WeCom), members (alternating platforms),
    and one member without any chat account."""
    with session_factory() as s, s.begin():
        committee = OrgUnit(kind=UnitKind.COMMITTEE, name="城关镇党委")
        s.add(committee)
        s.flush()
        set_path(committee, None)
        branch = OrgUnit(kind=UnitKind.BRANCH, name="第一党支部", parent_id=committee.id)
        s.add(branch)
        s.flush()
        set_path(branch, committee)
        secretary = Person(name="王书记", branch_id=branch.id)
        s.add(secretary)
        s.flush()
        s.add(RoleAssignment(person_id=secretary.id, org_unit_id=branch.id, role=Role.SECRETARY))
        s.add(
            ChatAccount(
                person_id=secretary.id, platform=Platform.DINGTALK, corp_id=DT, account_id="wangshuji"
            )
        )
        s.add(
            ChatAccount(person_id=secretary.id, platform=Platform.WECOM, corp_id=WC, account_id="WangShuJi")
        )
        ids = []
        for i in range(members):
            p = Person(name=f"党员{i}", branch_id=branch.id)
            s.add(p)
            s.flush()
            platform, corp = (Platform.DINGTALK, DT) if i % 2 == 0 else (Platform.WECOM, WC)
            s.add(ChatAccount(person_id=p.id, platform=platform, corp_id=corp, account_id=f"member{i}"))
            ids.append(p.id)
        lost = Person(name="未绑定的人", branch_id=branch.id)
        s.add(lost)
        s.flush()
        return Org(committee.id, branch.id, secretary.id, ids, lost.id)


def text_event(
    text: str, *, account: str = "wangshuji", platform=Platform.DINGTALK, event_id: str = "m1", group=""
):
    corp = DT if platform == Platform.DINGTALK else WC
    conv = Conversation(platform, corp, group or account, is_group=bool(group))
    return TextReceived(event_id, Account(platform, corp, account), "某人", conv, text, T0)


def press_event(action: str, params: dict, *, account="wangshuji", platform=Platform.DINGTALK, event_id="c1"):
    corp = DT if platform == Platform.DINGTALK else WC
    conv = Conversation(platform, corp, account)
    return CardActionPressed(
        event_id, Account(platform, corp, account), "某人", conv, action, params, "card-1", T0
    )


def make_dispatcher(session_factory, routers, **kwargs) -> Dispatcher:
    return Dispatcher(session_factory, Routes(routers), CONFIG, clock=lambda: T0, **kwargs)


@dataclass
class FakeSender:
    """Records every batch; `script` holds exceptions to raise (or outcomes to return) on the next calls."""

    platform: str
    batch_size: int = 20
    member_limits: tuple[RateLimit, ...] = ()
    api_limits: dict = field(default_factory=dict)
    invalid: set[str] = field(default_factory=set)
    script: list = field(default_factory=list)
    calls: list[Batch] = field(default_factory=list)
    clock: object = None
    times: list = field(default_factory=list)

    def api_for(self, message, target_kind) -> str:
        return "send"

    def max_recipients(self, message, target_kind) -> int:
        return self.batch_size if target_kind == TargetKind.USER else 1

    def send(self, batch: Batch) -> BatchOutcome:
        if self.script:
            action = self.script.pop(0)
            if isinstance(action, Exception):
                raise action
            if isinstance(action, BatchOutcome):
                return action
        self.calls.append(batch)
        if self.clock is not None:
            self.times.append(self.clock.now())
        outcome = BatchOutcome()
        for d in batch.deliveries:
            if d.target in self.invalid:
                outcome.failed[d.row_id] = "账号不存在或不在应用可见范围内"
            else:
                outcome.sent.add(d.row_id)
        return outcome

    def sent_targets(self) -> list[str]:
        return [t for b in self.calls for t in b.targets]
