"""Everything the emulated servers remember, owned by the server's event loop (never touched from other threads).

Time inside the sandbox comes from Clock: real time plus an offset that /_sandbox/clock moves, so tests expire
tokens, sessionWebhooks, auth codes and response codes without sleeping.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from sandbox.fixture import Fixture, load_fixture

TOKEN_TTL = 7200
TICKET_TTL = 90
SESSION_WEBHOOK_TTL = 90 * 60
AUTH_CODE_TTL = 5 * 60
RESPONSE_CODE_TTL = 72 * 3600


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def move(self, seconds: float) -> float:
        self.offset += seconds
        return self.now()


def default_config() -> dict:
    return {
        # DingTalk: per app, per API, calls per second (secondary sources give 20 for internal apps).
        "dingtalk_qps": 20,
        "dingtalk_qps_per_api": {},
        # WeCom: per app, per member.
        "wecom_per_member_per_minute": 30,
        "wecom_per_member_per_hour": 1000,
        # How long WeCom waits for the app's answer, and how many times it retries.
        "wecom_callback_timeout": 5.0,
        "wecom_callback_retries": 3,
        # Stream: how long a control-API push waits for the ACK by default; how often an EVENT is re-pushed.
        "ack_timeout": 5.0,
        "event_retries": 3,
        "token_ttl": TOKEN_TTL,
        # Seconds a send's answer is held after the platform took the call, by path (e.g.
        # {"/cgi-bin/message/send": 5}): the window in which a sender that dies took a call it never
        # learns the answer of. Applied by message/send and card createAndDeliver.
        "slow_answers": {},
    }


@dataclass
class Token:
    value: str
    platform: str  # dingtalk | wecom
    app: str
    expires_at: float


@dataclass
class Fault:
    id: int
    path: str
    times: int
    method: str | None = None
    http: int | None = None
    body: Any = None
    errcode: int | None = None
    errmsg: str | None = None
    delay: float | None = None  # a timeout: hold the request this long, then answer 504
    fired: int = 0


@dataclass
class Card:
    """A DingTalk card instance (by outTrackId) or a WeCom template card (by task_id)."""

    id: str
    platform: str
    template: str = ""
    params: dict = field(default_factory=dict)
    private: dict = field(default_factory=dict)  # userId -> cardParamMap
    callback_type: str = "STREAM"
    space: str = ""  # dtv1.card//IM_ROBOT.<uid> | dtv1.card//IM_GROUP.<cid>
    recipients: list[str] = field(default_factory=list)
    conversation: str | None = None
    delivered: bool = False
    raw: dict = field(default_factory=dict)
    replaced_name: str | None = None  # WeCom: the button text after update_button
    created_at: float = 0.0
    updated_at: float = 0.0


class Sandbox:
    def __init__(self, fixture: dict | None = None, base_url: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.fixture: Fixture = load_fixture(fixture)
        # Members taken out of a corp's directory by /_sandbox/directory/change, by platform and userid,
        # kept so that adding them back restores them as they were.
        self.left_users: dict[str, dict[str, Any]] = {"dingtalk": {}, "wecom": {}}
        self.clock = Clock()
        self.tokens: dict[str, Token] = {}
        self.tickets: dict[str, float] = {}
        self.connections: dict[str, Any] = {}  # connectionId -> dingtalk.StreamConnection
        self.connection_log: list[dict] = []
        self._seq = 0
        self.http = None  # httpx.AsyncClient for callbacks to the app, made on the server's loop
        self.reset()

    # ---- lifecycle

    def reset(self) -> None:
        """Forget everything observed; keep the fixture, the issued tokens and open stream connections."""
        self.config = default_config()
        self.clock.offset = 0.0
        self.outbox: list[dict] = []
        self.inbound: list[dict] = []
        self.frames: list[dict] = []
        self.faults: list[Fault] = []
        self._fault_ids = 0
        self.counters: dict[str, Any] = {
            "calls": defaultdict(int),
            "rate_limited": defaultdict(int),
            "rate_limited_total": 0,
            "wecom_dropped": defaultdict(int),
            "wecom_dropped_total": 0,
            "wecom_duplicates_suppressed": 0,
            "dingtalk_workmsg_forbidden": 0,
            "dingtalk_cards_already_exist": 0,
            "faults_fired": defaultdict(int),
            "wecom_callback_attempts": 0,
            "wecom_callback_failures": 0,
            "wecom_reply_errors": 0,
            "stream_pushes": 0,
            "stream_acks": 0,
            "stream_missing_acks": 0,
            "event_repushes": 0,
        }
        self.cards: dict[str, Card] = {}
        self.sessions: dict[str, dict] = {}
        self.dingtalk_codes: dict[str, dict] = {}
        self.wecom_codes: dict[str, dict] = {}
        self.login_codes: dict[str, dict] = {}  # DingTalk web login authCodes (sandbox/weblogin.py)
        self.user_tokens: dict[str, dict] = {}  # DingTalk user access tokens they bought
        self.response_codes: dict[str, dict] = {}
        self.task_ids: set[str] = set()
        self.rate_windows: dict[Any, deque] = defaultdict(deque)
        self.workmsg_sent: dict[tuple, str] = {}  # (userid, day, content hash) -> task id
        self.workmsg_tasks: dict[int, dict] = {}
        self.wecom_dedup: dict[str, tuple[float, dict]] = {}  # request digest -> (first time, answer)
        self.media: dict[str, tuple[bytes, str]] = {}
        self.acks: dict[str, dict] = {}
        self.background: set = set()
        self.ack_hooks: dict[str, Any] = {}

    def load(self, raw: dict) -> None:
        self.fixture = load_fixture(raw)
        self.left_users = {"dingtalk": {}, "wecom": {}}

    # ---- directory changes

    def directory(self, platform: str):
        """A corp, whose `users` are the members its directory holds now; None without that corp."""
        return self.fixture.dingtalk if platform == "dingtalk" else self.fixture.wecom

    def leave_directory(self, platform: str, userid: str):
        """Take a member out of the corp's directory; the user, or None when no such member."""
        corp = self.directory(platform)
        user = corp.user(userid) if corp is not None else None
        if user is not None:
            corp.users.remove(user)
            corp.users_changed()
            self.left_users[platform][userid] = user
        return user

    def join_directory(self, platform: str, user) -> None:
        """Put a member (back) into the corp's directory."""
        corp = self.directory(platform)
        self.left_users[platform].pop(user.userid, None)
        corp.users.append(user)
        corp.users_changed()

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # ---- tokens

    def issue_token(self, platform: str, app: str, *, renew: bool) -> Token:
        """Return the live token of this app (both platforms hand the same one back while it is valid).

        DingTalk renews its lifetime on a repeated fetch; WeCom returns what is left of it.
        """
        now = self.clock.now()
        ttl = float(self.config["token_ttl"])
        for tok in self.tokens.values():
            if tok.platform == platform and tok.app == app and tok.expires_at > now:
                if renew:
                    tok.expires_at = now + ttl
                return tok
        tok = Token(secrets.token_hex(16), platform, app, now + ttl)
        self.tokens[tok.value] = tok
        return tok

    def check_token(self, value: str | None, platform: str) -> str:
        """'ok', 'missing', 'invalid' or 'expired'."""
        if not value:
            return "missing"
        tok = self.tokens.get(value)
        if tok is None or tok.platform != platform:
            return "invalid"
        if tok.expires_at <= self.clock.now():
            return "expired"
        return "ok"

    # ---- faults and limits

    def add_fault(self, spec: dict) -> Fault:
        times = spec.get("times")
        if not isinstance(times, int) or times < 1 or times > 1000:
            raise ValueError("times must be an integer between 1 and 1000: faults are always finite")
        if not str(spec.get("path", "")).startswith("/"):
            raise ValueError("path must be an absolute request path such as /cgi-bin/message/send")
        if spec.get("http") is None and spec.get("errcode") is None and spec.get("delay") is None:
            raise ValueError("give one of http, errcode or delay")
        self._fault_ids += 1
        fault = Fault(
            id=self._fault_ids,
            path=spec["path"],
            times=times,
            method=(spec.get("method") or "").upper() or None,
            http=spec.get("http"),
            body=spec.get("body"),
            errcode=spec.get("errcode"),
            errmsg=spec.get("errmsg"),
            delay=spec.get("delay"),
        )
        self.faults.append(fault)
        return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if (
                fault.path == path
                and (fault.method is None or fault.method == method)
                and fault.fired < fault.times
            ):
                fault.fired += 1
                self.counters["faults_fired"][path] += 1
                if fault.fired >= fault.times:
                    self.faults.remove(fault)
                return fault
        return None

    def hit_window(self, key: Any, limit: int, window: float, *, record: bool = True) -> bool:
        """Count one event in a sliding window; False when the limit is already reached (the event is not counted)."""
        now = self.clock.now()
        q = self.rate_windows[key]
        while q and q[0] <= now - window:
            q.popleft()
        if len(q) >= limit:
            return False
        if record:
            q.append(now)
        return True

    # ---- records

    def record_out(self, entry: dict) -> dict:
        entry.setdefault("to", [])
        entry.setdefault("conversation", None)
        entry.setdefault("title", "")
        entry.setdefault("text", "")
        entry.setdefault("buttons", [])
        entry.setdefault("images", [])
        entry.setdefault("card_id", None)
        entry.setdefault("invalid", [])
        entry.setdefault("dropped", [])
        entry["seq"] = self.next_seq()
        entry["id"] = f"out-{entry['seq']}"
        entry["time"] = self.clock.now()
        self.outbox.append(entry)
        return entry

    def record_in(self, entry: dict) -> dict:
        entry["seq"] = self.next_seq()
        entry["time"] = self.clock.now()
        self.inbound.append(entry)
        return entry

    async def hold_answer(self, path: str) -> None:
        """Hold a send's answer for the configured `slow_answers` of its path (the call is already taken)."""
        seconds = float(self.config["slow_answers"].get(path, 0))
        if seconds > 0:
            await asyncio.sleep(seconds)

    def snapshot_counters(self) -> dict:
        return {k: (dict(v) if isinstance(v, defaultdict) else v) for k, v in self.counters.items()}


def new_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex


def stable_id(*parts: str, length: int = 24) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:length]
