"""The DingTalk Stream client (dingtalk-stream 0.24.3) in its own thread and event loop.

Bot messages and card callbacks become neutral events and go to the dispatcher; the SDK ACKs what
process() returns, which happens after the dispatcher committed ("commit, then ACK"). process()
never raises: a raise would mean no ACK at all (platforms.md §0.6).

Contact EVENTs (通讯录事件: user_leave_org, user_add_org, user_modify_org) become DirectoryChanges for
bot.core.directory when the composition root hands in DirectoryEvents; the stream then also subscribes
to EVENT "*" (which events arrive is chosen in the developer console's 事件订阅). An EVENT is ACKed with
the protocol's {"status": "SUCCESS"} once stored, or {"status": "LATER"} so DingTalk pushes it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from datetime import UTC, datetime

import dingtalk_stream
import dingtalk_stream.card_replier
import dingtalk_stream.chatbot
import dingtalk_stream.stream
import dingtalk_stream.utils
from dingtalk_stream import AckMessage, CallbackHandler, ChatbotHandler, ChatbotMessage, EventHandler
from dingtalk_stream.frames import EventMessage, Headers

from bot.core.directory import ChangeKind, DirectoryChange, DirectoryEvents
from bot.core.dispatcher import Dispatcher
from bot.core.events import Account, CardActionPressed, Conversation, TextReceived
from models.org import Platform

logger = logging.getLogger(__name__)


def point_sdk_at(endpoint: str) -> None:
    """Redirect the already-imported SDK to `endpoint` (platforms.md §2d, option B).

    The SDK copies DINGTALK_OPENAPI_ENDPOINT into each module at import time; settings are read at
    run time, so we set the copies, with no file patching.
    """
    base = endpoint.rstrip("/")
    dingtalk_stream.utils.DINGTALK_OPENAPI_ENDPOINT = base
    for module in (dingtalk_stream.stream, dingtalk_stream.chatbot, dingtalk_stream.card_replier):
        module.DINGTALK_OPENAPI_ENDPOINT = base
    dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = base + "/v1.0/gateway/connections/open"


class _Client(dingtalk_stream.DingTalkStreamClient):
    def get_host_ip(self) -> str:
        # The SDK "connects" a UDP socket to 8.8.8.8 to learn the local address; it is informational only.
        return "127.0.0.1"


def translate_bot_message(data: dict, corp_id: str, now: datetime) -> TextReceived:
    msg = ChatbotMessage.from_dict(data)
    if msg.message_type == "text" and msg.text is not None:
        text = msg.text.content or ""
    elif msg.message_type == "richText" and msg.rich_text_content is not None:
        text = " ".join(
            item.get("text", "") for item in msg.rich_text_content.rich_text_list if "text" in item
        )
    else:
        text = ""  # a picture, a voice message…: the fallback answers it
    corp = msg.sender_corp_id or corp_id
    staff = msg.sender_staff_id or ""
    is_group = str(msg.conversation_type) == "2"
    conversation = Conversation(Platform.DINGTALK, corp, msg.conversation_id if is_group else staff, is_group)
    return TextReceived(
        event_id=msg.message_id or data.get("msgId", ""),
        sender=Account(Platform.DINGTALK, corp, staff),
        sender_name=msg.sender_nick or "",
        conversation=conversation,
        text=text,
        received_at=now,
    )


def translate_card_callback(data: dict, message_id: str, corp_id: str, now: datetime) -> CardActionPressed:
    content = data.get("content") or data.get("value") or "{}"
    if isinstance(content, str):
        content = json.loads(content or "{}")
    private = content.get("cardPrivateData") or {}
    params = {str(k): str(v) for k, v in (private.get("params") or {}).items()}
    action = params.pop("action", "") or next(iter(private.get("actionIds") or []), "")
    corp = data.get("corpId") or corp_id
    user = data.get("userId", "")
    space = data.get("spaceId", "")
    is_group = (
        bool(space)
        and space != user
        and str(data.get("spaceType", "")).lower() == "im"
        and space.startswith("cid")
    )
    return CardActionPressed(
        event_id=message_id or f"{data.get('outTrackId')}:{user}:{action}",
        sender=Account(Platform.DINGTALK, corp, user),
        sender_name="",
        conversation=Conversation(Platform.DINGTALK, corp, space if is_group else user, is_group),
        action=action,
        params=params,
        card_id=data.get("outTrackId", ""),
        received_at=now,
    )


class BotMessageHandler(ChatbotHandler):
    def __init__(self, dispatcher: Dispatcher, corp_id: str) -> None:
        super().__init__()
        self.dispatcher = dispatcher
        self.corp_id = corp_id

    async def process(self, callback):
        try:
            event = translate_bot_message(callback.data, self.corp_id, datetime.now(UTC))
            await self.dispatcher.dispatch_async(event)
            return AckMessage.STATUS_OK, "OK"
        except Exception:
            logger.exception("DingTalk bot message %s not handled", callback.headers.message_id)
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"


class CardCallbackHandler(CallbackHandler):
    def __init__(self, dispatcher: Dispatcher, corp_id: str) -> None:
        super().__init__()
        self.dispatcher = dispatcher
        self.corp_id = corp_id

    async def process(self, callback):
        try:
            event = translate_card_callback(
                callback.data, callback.headers.message_id, self.corp_id, datetime.now(UTC)
            )
            await self.dispatcher.dispatch_async(event)
            # No in-place change here: the handler's CardUpdate goes through the outbox like any send.
            return AckMessage.STATUS_OK, {}
        except Exception:
            logger.exception("DingTalk card callback %s not handled", callback.headers.message_id)
            return AckMessage.STATUS_SYSTEM_EXCEPTION, {}


# DingTalk's contact events for internal apps (通讯录事件) and what each says about the users named.
CONTACT_EVENTS = {
    "user_leave_org": ChangeKind.LEFT,
    "user_add_org": ChangeKind.JOINED,
    # Only users in the corp are modified ("只有当前企业内的用户信息变更时才会触发此事件"): they are there.
    "user_modify_org": ChangeKind.UPDATED,
}


def _millis(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def translate_contact_event(headers: Headers, data: dict, corp_id: str) -> DirectoryChange | None:
    """A contact EVENT → a DirectoryChange; None for any other event (or one naming nobody)."""
    kind = CONTACT_EVENTS.get(headers.event_type or "")
    if kind is None or not isinstance(data, dict):
        return None
    users = data.get("userId") or data.get("UserId") or []
    if isinstance(users, str):
        users = [users]
    ids = tuple(str(u) for u in users if u)
    if not ids and isinstance(data.get("diffInfo"), dict) and data["diffInfo"].get("userid"):
        ids = (str(data["diffInfo"]["userid"]),)
    if not ids:
        return None
    return DirectoryChange(
        # The event's own id survives re-pushes; messageId only when a frame carries none.
        event_id=f"{headers.event_type}:{headers.event_id or headers.message_id}",
        platform=Platform.DINGTALK,
        corp_id=headers.event_corp_id or corp_id,
        kind=kind,
        account_ids=ids,
        occurred_at=_millis(data.get("timeStamp")) or _millis(headers.event_born_time),
    )


class ContactEventHandler(EventHandler):
    """Every EVENT the stream receives: contact events go to DirectoryEvents, the rest are ACKed."""

    SUCCESS = {"status": "SUCCESS", "message": "success"}

    def __init__(self, directory: DirectoryEvents, corp_id: str) -> None:
        super().__init__()
        self.directory = directory
        self.corp_id = corp_id

    async def process(self, event: EventMessage):
        try:
            change = translate_contact_event(event.headers, event.data, self.corp_id)
            if change is not None:
                await self.directory.handle_async(change)
            return AckMessage.STATUS_OK, "OK"
        except Exception:
            logger.exception(
                "DingTalk event %s (%s) not handled", event.headers.event_id, event.headers.event_type
            )
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "LATER"

    async def raw_process(self, event_message: EventMessage):
        """The SDK's ACK with the protocol's body instead of the event's data echoed back."""
        ack = await super().raw_process(event_message)
        if ack.code == AckMessage.STATUS_OK:
            ack.data = self.SUCCESS
        else:
            ack.code = AckMessage.STATUS_OK  # delivered; "LATER" asks for it again
            ack.data = {"status": "LATER", "message": "not stored, push again later"}
        return ack


class StreamRunner:
    """Runs the SDK client in a thread with its own loop; stop() is quick despite the SDK swallowing
    a cancel (platforms.md §2e): it cancels again until the task is really gone."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        endpoint: str,
        dispatcher: Dispatcher,
        corp_id: str,
        directory: DirectoryEvents | None = None,
    ):
        point_sdk_at(endpoint)
        self.client = _Client(
            dingtalk_stream.Credential(client_id, client_secret), logger=logging.getLogger("dingtalk_stream")
        )
        self.client.register_callback_handler(ChatbotMessage.TOPIC, BotMessageHandler(dispatcher, corp_id))
        self.client.register_callback_handler(
            dingtalk_stream.Card_Callback_Router_Topic, CardCallbackHandler(dispatcher, corp_id)
        )
        if directory is not None:
            self.client.register_all_event_handler(ContactEventHandler(directory, corp_id))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def connected(self) -> bool:
        ws = self.client.websocket
        state = getattr(ws, "state", None)
        return ws is not None and getattr(state, "name", "") == "OPEN"

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="dingtalk-stream", daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._task = loop.create_task(self.client.start())
        self._ready.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            loop.run_until_complete(self._task)
        # The SDK leaves keepalive and per-frame tasks behind; end them before closing the loop.
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        with contextlib.suppress(Exception):
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connected:
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None or self._loop is None or self._task is None:
            return
        # The SDK logs each cancel it swallows as a "network exception"; on purpose, it is not one.
        self.client.logger.setLevel(logging.CRITICAL)
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            with contextlib.suppress(RuntimeError):  # the loop may close between checks
                self._loop.call_soon_threadsafe(self._task.cancel)
            self._thread.join(0.05)
        if self._thread.is_alive():
            logger.warning("DingTalk stream thread did not stop within %.0f s", timeout)
