"""The WeCom side of the relay: message/send (up to 1,000 users per call), template cards, card updates.

WeCom silently drops messages past 30 per minute / 1,000 per hour to one member; the relay keeps to
`member_limits` itself, because the API answers success either way.

A repeat of the same outbox row (its relay died after WeCom took the call, before the row was marked
sent): an interactive template card carries the row's stable send_id as its task_id and is sent with
`enable_duplicate_check` over `duplicate_check_interval` (the 4-hour maximum). WeCom's message/send
documentation: within the interval "the same content (the request JSON)" is not received again. The
repeat is that identical request, so it reaches nobody; what the call answers then is not documented -
an errcode-0 answer (the sandbox's emulation) ends the row sent, an error would end it failed although
the member has the card. Other messages (text, markdown,
news, batched up to 1,000 users) carry no id of ours: switching the check on for them would also
swallow a genuinely repeated identical message (the same answer to 帮助 asked twice), so they stay
at-least-once - a repeat of such a batch is delivered again.
"""

from __future__ import annotations

import logging

import requests
from wechatpy.exceptions import WeChatClientException

from bot.core import texts
from bot.core.delivery import Batch, BatchOutcome, CardHandle
from bot.core.errors import PermanentPlatformError, TokenError, TransientPlatformError
from bot.core.messages import CardUpdate, OutgoingMessage
from bot.core.ratelimit import RateLimit
from bot.core.relay import send_id
from bot.platforms.wecom import render
from bot.platforms.wecom.client import ZhibuWeComClient
from models.org import Platform
from models.outbox import TargetKind

logger = logging.getLogger(__name__)

MESSAGE_SEND_MAX_USERS = 1000
TOKEN_ERRORS = {40001, 40014, 42001, 41001}
# 45009: API frequency; 45033: concurrent calls (not documented, seen in the field); -1: system busy.
TRANSIENT_ERRORS = {45009, 45033, 45011, -1}
# message/send's duplicate check window: its maximum, far beyond a relay's lease (a repeat after a crash
# comes once the lease runs out, 5 minutes by default).
DUPLICATE_CHECK_SECONDS = 4 * 3600
# message/send's answer when every recipient is unknown or outside the app's range: each row fails.
ALL_RECIPIENTS_UNKNOWN = "81013"


def call(client: ZhibuWeComClient, fn):
    """Run one wechatpy call with our error vocabulary and a single token refresh."""
    for attempt in (0, 1):
        try:
            return fn()
        except WeChatClientException as exc:
            errcode = exc.errcode
            if errcode in TOKEN_ERRORS:
                if attempt == 0:
                    logger.info("WeCom token rejected (%s); refreshing once", errcode)
                    try:
                        client.fetch_access_token()
                    except (WeChatClientException, requests.RequestException) as again:
                        raise TransientPlatformError(f"WeCom token refresh failed: {again}") from again
                    continue
                raise TokenError(f"WeCom kept refusing a fresh token: {errcode}") from exc
            if errcode is None or errcode in TRANSIENT_ERRORS:
                raise TransientPlatformError(f"WeCom {errcode}: {exc.errmsg}") from exc
            raise PermanentPlatformError(
                f"WeCom {errcode}: {exc.errmsg}",
                reason=texts.REASON_REJECTED.format(error=f"{errcode} {exc.errmsg}"),
                code=str(errcode),
            ) from exc
        except requests.RequestException as exc:
            raise TransientPlatformError(f"WeCom unreachable: {exc}") from exc
        except ValueError as exc:  # a non-JSON answer (a proxy page)
            raise TransientPlatformError(f"WeCom answered without JSON: {exc}") from exc
    raise AssertionError("unreachable")


class WeComSender:
    platform = Platform.WECOM.value
    member_limits = (RateLimit(30, 60.0), RateLimit(1000, 3600.0))
    # The company-wide API figure (10,000 calls a minute) is far above what one app sends.
    api_limits = {
        "message/send": (RateLimit(10000, 60.0),),
        "update_template_card": (RateLimit(10000, 60.0),),
    }

    def __init__(self, client: ZhibuWeComClient, *, agent_id: str, public_base_url: str) -> None:
        self.client = client
        self.agent_id = agent_id
        self.base_url = public_base_url

    def api_for(self, message: OutgoingMessage, target_kind: TargetKind) -> str:
        return "update_template_card" if isinstance(message, CardUpdate) else "message/send"

    def max_recipients(self, message: OutgoingMessage, target_kind: TargetKind) -> int:
        # Interactive cards go one by one: each recipient's card gets its own task_id and response_code.
        return 1 if render.is_interactive(message) else MESSAGE_SEND_MAX_USERS

    def send(self, batch: Batch) -> BatchOutcome:
        if batch.target_kind != TargetKind.USER:
            raise PermanentPlatformError(
                "WeCom app messages go to users", reason="企业微信应用消息只能发给成员"
            )
        if isinstance(batch.message, CardUpdate):
            return self._update(batch)
        task_id = send_id(batch.deliveries[0])
        msg = render.body(batch.message, task_id=task_id, base_url=self.base_url)
        if msg["msgtype"] == "template_card":
            # One row per call and its own task_id: an identical request is a repeat of this row alone.
            msg |= {"enable_duplicate_check": 1, "duplicate_check_interval": DUPLICATE_CHECK_SECONDS}
        try:
            answer = call(
                self.client, lambda: self.client.message.send(self.agent_id, batch.targets, msg=msg)
            )
        except PermanentPlatformError as exc:
            if exc.code == ALL_RECIPIENTS_UNKNOWN:
                return BatchOutcome(failed={d.row_id: texts.REASON_UNKNOWN_ACCOUNT for d in batch.deliveries})
            raise
        invalid = {u for u in str(answer.get("invaliduser") or "").split("|") if u}
        unlicensed = {u for u in str(answer.get("unlicenseduser") or "").split("|") if u}
        outcome = BatchOutcome()
        for d in batch.deliveries:
            if d.target in invalid:
                outcome.failed[d.row_id] = texts.REASON_UNKNOWN_ACCOUNT
            elif d.target in unlicensed:
                outcome.failed[d.row_id] = "企业微信账号未获得接口许可"
            else:
                outcome.sent.add(d.row_id)
                if msg["msgtype"] == "template_card" and render.is_interactive(batch.message):
                    outcome.cards[d.row_id] = CardHandle(task_id, answer.get("response_code"))
        return outcome

    def _update(self, batch: Batch) -> BatchOutcome:
        (d,) = batch.deliveries
        if d.card is None or not d.card.response_code:
            raise PermanentPlatformError("no response_code for the card", reason=texts.REASON_CARD_NOT_FOUND)
        data = {
            "userids": [d.target],
            "agentid": int(self.agent_id) if str(self.agent_id).isdigit() else self.agent_id,
            "response_code": d.card.response_code,
            **render.update_body(batch.message, task_id=d.card.card_id, base_url=self.base_url),
        }
        call(self.client, lambda: self.client.post("message/update_template_card", data=data))
        # The code is single use: forget it until the next press brings a new one.
        return BatchOutcome(sent={d.row_id}, cards={d.row_id: CardHandle(d.card.card_id, None)})
