"""GET and POST /wecom/callback: verify, decrypt, translate, dispatch; answer well inside WeCom's 5 s.

A bad signature gets 403 and changes nothing. The dispatcher runs in the threadpool and only writes
rows (replies go out later through the outbox), so the answer is quick; WeCom's retries of a slow
answer are absorbed by the inbound dedup row.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool
from wechatpy.enterprise import WeChatCrypto, parse_message
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.enterprise.messages import TextMessage
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.messages import UnknownMessage

from bot.core.dispatcher import Dispatcher
from bot.core.events import Account, CardActionPressed, Conversation, IncomingEvent, TextReceived
from bot.platforms.wecom.render import parse_button_key
from models.org import Platform

logger = logging.getLogger(__name__)


def translate(msg, corp_id: str, now: datetime) -> IncomingEvent | None:
    """A parsed wechatpy message → a neutral event; None for what the bot does not handle."""
    if isinstance(msg, TextMessage):
        user = msg.source
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


def build_router(*, token: str, encoding_aes_key: str, corp_id: str, dispatcher: Dispatcher) -> APIRouter:
    crypto = WeChatCrypto(token, encoding_aes_key, corp_id)
    router = APIRouter()

    @router.get("/wecom/callback", include_in_schema=False)
    def verify_url(msg_signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = ""):
        try:
            plain = crypto.check_signature(msg_signature, timestamp, nonce, echostr)
        except (InvalidSignatureException, InvalidCorpIdException):
            return PlainTextResponse("invalid signature", status_code=403)
        except Exception:  # undecryptable echostr
            return PlainTextResponse("bad echostr", status_code=400)
        return PlainTextResponse(plain.decode() if isinstance(plain, bytes) else plain)

    @router.post("/wecom/callback", include_in_schema=False)
    async def receive(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = ""):
        body = await request.body()
        try:
            xml = crypto.decrypt_message(body, msg_signature, timestamp, nonce)
        except (InvalidSignatureException, InvalidCorpIdException):
            return PlainTextResponse("invalid signature", status_code=403)
        except Exception:
            return PlainTextResponse("malformed message", status_code=400)
        try:
            msg = parse_message(xml)
        except Exception:
            return PlainTextResponse("malformed message", status_code=400)
        event = translate(msg, corp_id, datetime.now(UTC))
        if event is None:
            return PlainTextResponse("")
        try:
            await run_in_threadpool(dispatcher.dispatch, event)
        except Exception:
            # The database is unreachable: let WeCom retry rather than lose the message.
            logger.exception("WeCom event %s not handled", event.event_id)
            return PlainTextResponse("temporarily unavailable", status_code=503)
        # An empty body: no passive reply; answers go through the outbox.
        return PlainTextResponse("")

    return router
