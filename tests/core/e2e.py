"""The bot (web + DingTalk stream + relay) running against the sandbox, through the real SDKs."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.cli.serve import Service, demo_settings, sandbox_fixture
from bot.core.ratelimit import ManualClock
from bot.core.relay import Relay
from handlers import all_feeders
from models.outbox import DeliveryStatus, OutboxMessage
from sandbox.testing import RunningSandbox, running_sandbox


@dataclass
class Harness:
    sb: RunningSandbox
    service: Service
    relay: Relay
    url: str
    clock: ManualClock | None

    def drain(self, max_rounds: int = 10_000) -> None:
        """Send everything queued, moving the injected clock (and the sandbox's) to deferred rows' times."""
        factory = self.service.session_factory
        for _ in range(max_rounds):
            result = self.relay.run_once()
            if result.claimed:
                continue
            with factory() as s:
                pending = s.scalar(
                    select(func.min(OutboxMessage.next_attempt_at)).where(
                        OutboxMessage.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.SENDING])
                    )
                )
            if pending is None:
                return
            if self.clock is None:
                raise AssertionError("rows are deferred but the relay runs on the real clock")
            self.clock.sleep(max((pending - self.clock.now()).total_seconds(), 0) + 0.001)
        raise AssertionError("the outbox did not drain")


def sandbox_clock_listener(sb: RunningSandbox, start: datetime):
    last = [start]

    def moved(now: datetime) -> None:
        delta = (now - last[0]).total_seconds()
        last[0] = now
        if delta > 0:
            sb.move_clock(delta)

    return moved


@contextlib.contextmanager
def running_bot(session_factory, database_url: str, *, extra_users=(), routers=(), clock_start=None):
    with running_sandbox() as sb:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port = sock.getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        with session_factory() as s:
            fixture = sandbox_fixture(s, callback_url=url + "/wecom/callback")
        for platform, user in extra_users:
            key = "dept" if platform == "dingtalk" else "department"
            fixture[platform]["users"].append({key: [1], **user})
        sb.load_fixture(fixture)
        settings = demo_settings(database_url, sb.url, url)
        clock = None
        if clock_start is not None:
            clock = ManualClock(clock_start)
            clock.listeners.append(sandbox_clock_listener(sb, clock_start))
        service = Service(
            settings,
            session_factory,
            {"web", "stream"},
            port=port,
            extra_routers=routers,
            **({"clock": clock.now} if clock else {}),
        )
        relay = Relay(
            session_factory, service.platforms.senders, clock=clock, feeders=all_feeders(service.core)
        )
        service.start_web_thread(sock)
        service.start_background()
        assert service.platforms.stream.wait_connected(10), "the DingTalk stream did not connect"
        try:
            yield Harness(sb, service, relay, url, clock)
        finally:
            service.stop()
            sock.close()
