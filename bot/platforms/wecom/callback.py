"""GET and POST /wecom/callback: verify, decrypt, translate, dispatch; answer well inside WeCom's 5 s.

A bad signature gets 403 and changes nothing; so does a timestamp further than FRESHNESS from now (a
replayed capture), as WeCom's guidance on callback security allows. Signatures are compared in
constant time before wechatpy decrypts. Parsing, decryption and dispatch run in one threadpool call,
never on the event loop, and the body is capped (bot.web.limits) before it is read. A message without a sender
(FromUserName) is refused, since nobody could be answered. The dispatcher runs in the threadpool and
only writes rows (replies go out later through the outbox), so the answer is quick; WeCom's retries
of a slow answer are absorbed by the inbound dedup row.

Contact changes (Event change_contact: delete_user, create_user, update_user with NewUserID or Mobile)
arrive on the same URL, from the app's 通讯录变更 events or the 通讯录同步 assistant configured with the
same Token and EncodingAESKey; wechatpy 1.8.18 has no class for them (parse_message gives an
UnknownMessage), so they are read from its fields and go to bot.core.directory.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import xmltodict
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool
from wechatpy.enterprise import WeChatCrypto, parse_message
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.enterprise.messages import TextMessage
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.messages import UnknownMessage
from wechatpy.utils import WeChatSigner

from bot.core.directory import ChangeKind, DirectoryChange, DirectoryEvents
from bot.core.dispatcher import Dispatcher
from bot.core.events import Account, CardActionPressed, Conversation, IncomingEvent, TextReceived
from bot.platforms.wecom.render import parse_button_key
from models.org import Platform

logger = logging.getLogger(__name__)

# How far a callback's timestamp may be from our clock. WeCom retries an unanswered callback within
# seconds, so five minutes leaves room for clock skew and nothing for a replay days later.
FRESHNESS = 300.0


class Refused(Exception):
    """A callback that is not WeCom's, or not fit to handle: (HTTP status, reason)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, timestamp, nonce, encrypt)
    return signer.signature


def check_request(
    token: str, signature: str, timestamp: str, nonce: str, encrypt: str, wall_clock: Callable[[], float]
) -> None:
    """Raise Refused unless the timestamp is fresh and the signature is ours (constant-time compare)."""
    try:
        fresh = abs(wall_clock() - int(timestamp)) <= FRESHNESS
    except ValueError:
        fresh = False
    if not fresh:
        raise Refused(403, "stale or missing timestamp")
    if not hmac.compare_digest(_signature(token, timestamp, nonce, encrypt).encode(), signature.encode()):
        raise Refused(403, "invalid signature")


# change_contact's member ChangeTypes and what each says; department and tag changes are not ours.
CONTACT_CHANGES = {
    "delete_user": ChangeKind.LEFT,
    "create_user": ChangeKind.JOINED,
    "update_user": ChangeKind.UPDATED,
}


def translate_contact(msg, corp_id: str) -> DirectoryChange | None:
    """A change_contact event about a member → a DirectoryChange; None for anything else."""
    data = getattr(msg, "_data", {}) if isinstance(msg, UnknownMessage) else {}
    if data.get("MsgType") != "event" or data.get("Event") != "change_contact":
        return None
    kind = CONTACT_CHANGES.get(data.get("ChangeType") or "")
    user = str(data.get("UserID") or "")
    if kind is None or not user:
        return None
    created = str(data.get("CreateTime") or "")
    try:
        occurred = datetime.fromtimestamp(int(created), UTC)
    except (ValueError, OverflowError, OSError):
        occurred = None
    new_user = str(data.get("NewUserID") or "")
    return DirectoryChange(
        # Every change_contact comes FromUserName "sys": the time, the change and the user identify one,
        # and WeCom's retries of it carry the same three.
        event_id=f"change_contact:{created}:{data.get('ChangeType')}:{user}:{new_user}",
        platform=Platform.WECOM,
        corp_id=corp_id,
        kind=kind,
        account_ids=(user,),
        new_account_id=new_user,
        mobile=str(data.get("Mobile") or ""),
        occurred_at=occurred,
    )


def translate(msg, corp_id: str, now: datetime) -> IncomingEvent | None:
    """A parsed wechatpy message → a neutral event; None for what the bot does not handle."""
    if isinstance(msg, TextMessage):
        user = msg.source
        if not user:
            raise Refused(400, "message without a sender")
        return TextReceived(
            event_id=str(msg.id),
            sender=Account(Platform.WECOM, corp_id, user),
            sender_name="",
            conversation=Conversation(Platform.WECOM, corp_id, user),
            text=msg.content or "",
            received_at=now,
        )
    data = getattr(msg, "_data", {}) if isinstance(msg, UnknownMessage) else {}
    if data.get("MsgType") == "event" and data.get("Event") in (
        "template_card_event",
        "template_card_menu_event",
    ):
        user = data.get("FromUserName", "")
        if not user:
            raise Refused(400, "event without a sender")
        key = data.get("EventKey", "") or ""
        action, params = parse_button_key(key)
        task_id = data.get("TaskId", "") or ""
        return CardActionPressed(
            # Events carry no MsgId: the sender, the time and the key identify one press.
            event_id=f"{user}:{data.get('CreateTime', '')}:{task_id}:{key}",
            sender=Account(Platform.WECOM, corp_id, user),
            sender_name="",
            conversation=Conversation(Platform.WECOM, corp_id, user),
            action=action,
            params=params,
            card_id=task_id,
            received_at=now,
            response_code=data.get("ResponseCode", "") or "",
        )
    return None


def build_router(
    *,
    token: str,
    encoding_aes_key: str,
    corp_id: str,
    dispatcher: Dispatcher,
    directory: DirectoryEvents | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> APIRouter:
    """`wall_clock` (seconds since the epoch) is what a callback's timestamp is checked against: the
    real time, as WeCom's servers keep it, not the injected business clock of the dispatcher."""
    crypto = WeChatCrypto(token, encoding_aes_key, corp_id)
    router = APIRouter()

    @router.get("/wecom/callback", include_in_schema=False)
    def verify_url(msg_signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = ""):
        try:
            check_request(token, msg_signature, timestamp, nonce, echostr, wall_clock)
            plain = crypto.check_signature(msg_signature, timestamp, nonce, echostr)
        except Refused as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status)
        except (InvalidSignatureException, InvalidCorpIdException):
            return PlainTextResponse("invalid signature", status_code=403)
        except Exception:  # undecryptable echostr
            return PlainTextResponse("bad echostr", status_code=400)
        return PlainTextResponse(plain.decode() if isinstance(plain, bytes) else plain)

    def open_message(
        body: bytes, msg_signature: str, timestamp: str, nonce: str
    ) -> IncomingEvent | DirectoryChange | None:
        """Check, decrypt, parse and translate one callback body (in the threadpool)."""
        try:
            envelope = xmltodict.parse(body)["xml"]
            encrypt = envelope["Encrypt"]
            if not isinstance(encrypt, str):
                raise TypeError("Encrypt is not text")
        except Exception:
            raise Refused(400, "malformed message") from None
        check_request(token, msg_signature, timestamp, nonce, encrypt, wall_clock)
        try:
            xml = crypto.decrypt_message(envelope, msg_signature, timestamp, nonce)
        except (InvalidSignatureException, InvalidCorpIdException):
            raise Refused(403, "invalid signature") from None
        except Exception:
            raise Refused(400, "malformed message") from None
        try:
            msg = parse_message(xml)
        except Exception:
            raise Refused(400, "malformed message") from None
        now = datetime.now(UTC)
        return translate_contact(msg, corp_id) or translate(msg, corp_id, now)

    def handle(body: bytes, msg_signature: str, timestamp: str, nonce: str) -> tuple[int, str]:
        """The whole POST in one worker thread (one hop off the event loop, not one per step): open the
        message, then dispatch it or pass the contact change on. (status, body) for the answer."""
        try:
            event = open_message(body, msg_signature, timestamp, nonce)
        except Refused as exc:
            return exc.status, exc.reason
        if event is None:
            return 200, ""
        if isinstance(event, DirectoryChange):
            if directory is None:
                return 200, ""  # not followed in this deployment
            try:
                directory.handle(event)
            except Exception:
                logger.exception("WeCom contact change %s not handled", event.event_id)
                return 503, "temporarily unavailable"
            return 200, ""
        try:
            dispatcher.dispatch(event)
        except Exception:
            # The database is unreachable: let WeCom retry rather than lose the message.
            logger.exception("WeCom event %s not handled", event.event_id)
            return 503, "temporarily unavailable"
        # An empty body: no passive reply; answers go through the outbox.
        return 200, ""

    @router.post("/wecom/callback", include_in_schema=False)
    async def receive(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = ""):
        body = await request.body()  # capped by bot.web.limits before it is read
        status, answer = await run_in_threadpool(handle, body, msg_signature, timestamp, nonce)
        return PlainTextResponse(answer, status_code=status)

    return router
