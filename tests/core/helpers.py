"""Shared arrangements for the chat-core tests: a small organisation, a fake sender, a dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.delivery import Batch, BatchOutcome
from bot.core.ratelimit import RateLimit
from models.org import Platform, Role, UnitKind
from models.outbox import TargetKind
from tests import builders

# The chat core's events, config and dispatcher come from the one chat harness.
from tests.harness import CONFIG, DT, T0, WC, make_dispatcher, press_event, text_event  # noqa: F401


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
        committee = builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
        branch = builders.unit(s, "第一党支部", UnitKind.BRANCH, committee)
        secretary = builders.person(s, "王书记", branch, account_id="wangshuji", corp=DT)
        builders.account(s, secretary, "WangShuJi", platform=Platform.WECOM, corp=WC)
        builders.role(s, secretary, branch, Role.SECRETARY)
        ids = []
        for i in range(members):
            platform, corp = (Platform.DINGTALK, DT) if i % 2 == 0 else (Platform.WECOM, WC)
            ids.append(
                builders.person(
                    s, f"党员{i}", branch, account_id=f"member{i}", platform=platform, corp=corp
                ).id
            )
        lost = builders.person(s, "未绑定的人", branch)
        return Org(committee.id, branch.id, secretary.id, ids, lost.id)


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
