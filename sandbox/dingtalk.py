"""The DingTalk side: OpenAPI (api.dingtalk.com), oapi (oapi.dingtalk.com) and the Stream gateway.

Wire formats follow platforms.md §2 and §6.2, checked against dingtalk-stream 0.24.3's source.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from sandbox import normalise
from sandbox.common import ding_error, oapi_error, read_body, request_id, sb_of
from sandbox.state import AUTH_CODE_TTL, SESSION_WEBHOOK_TTL, TICKET_TTL, Card, Sandbox, new_id, stable_id

router = APIRouter()

BOT_MESSAGE_TOPIC = "/v1.0/im/bot/messages/get"
CARD_CALLBACK_TOPIC = "/v1.0/card/instances/callback"
_SHANGHAI = timezone(timedelta(hours=8))


# ---------------------------------------------------------------- helpers


def _app(sb: Sandbox):
    return sb.fixture.dingtalk.app if sb.fixture.dingtalk else None


def _creds_ok(sb: Sandbox, key: str | None, secret: str | None) -> bool:
    app = _app(sb)
    return bool(app and key == app.client_id and secret == app.client_secret)


def _auth(sb: Sandbox, request: Request) -> JSONResponse | None:
    state = sb.check_token(request.headers.get("x-acs-dingtalk-access-token"), "dingtalk")
    if state == "ok":
        return None
    message = {
        "missing": "缺少 x-acs-dingtalk-access-token",
        "invalid": "不合法的access_token",
        "expired": "access_token 已过期",
    }[state]
    return ding_error(401, "InvalidAuthentication", message)


def _oapi_auth(sb: Sandbox, request: Request) -> JSONResponse | None:
    state = sb.check_token(request.query_params.get("access_token"), "dingtalk")
    if state == "ok":
        return None
    if state == "expired":
        return oapi_error(42001, "access_token 已过期")
    return oapi_error(40014, "不合法的access_token")


def reachable(sb: Sandbox, userid: str) -> bool:
    user = sb.fixture.dingtalk_user(userid)
    return bool(user and user.in_range)


def single_cid(sb: Sandbox, userid: str) -> str:
    return "cid" + stable_id("single", sb.fixture.dingtalk.corp_id, userid) + "=="


def lwcp(*parts: str) -> str:
    return "$:LWCP_v1:$" + stable_id(*parts, length=32)


def _message_id() -> str:
    h = secrets.token_hex(12)
    return f"{h[:8]}_{h[8:11]}_{h[11:22]}_{h[22:]}"


# ---------------------------------------------------------------- tokens


@router.post("/v1.0/oauth2/accessToken")
async def access_token(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    if not _creds_ok(sb, body.get("appKey"), body.get("appSecret")):
        return ding_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    tok = sb.issue_token("dingtalk", body["appKey"], renew=True)
    return {"accessToken": tok.value, "expireIn": round(tok.expires_at - sb.clock.now())}


@router.get("/gettoken")
async def oapi_gettoken(request: Request, appkey: str = "", appsecret: str = ""):
    sb = sb_of(request)
    if not _creds_ok(sb, appkey, appsecret):
        return oapi_error(40089, "不合法的corpid或corpsecret")
    tok = sb.issue_token("dingtalk", appkey, renew=True)
    return {
        "errcode": 0,
        "errmsg": "ok",
        "access_token": tok.value,
        "expires_in": round(tok.expires_at - sb.clock.now()),
    }


# ---------------------------------------------------------------- Stream gateway


class StreamConnection:
    def __init__(self, ws: WebSocket, ticket: dict) -> None:
        self.id = new_id()
        self.ws = ws
        self.subscriptions: list[dict] = ticket.get("subscriptions") or []
        self.client_id = ticket.get("client_id", "")
        self.ua = ticket.get("ua", "")
        self.pending: dict[str, asyncio.Future] = {}
        self.lock = asyncio.Lock()
        self.open = True

    def subscribed(self, kind: str, topic: str) -> bool:
        if kind == "SYSTEM":
            return True
        for sub in self.subscriptions:
            if sub.get("type") == kind and sub.get("topic") in (topic, "*"):
                return True
        return False

    async def send(self, frame: dict) -> None:
        async with self.lock:
            await self.ws.send_text(json.dumps(frame, ensure_ascii=False))

    def describe(self) -> dict:
        return {
            "connectionId": self.id,
            "subscriptions": self.subscriptions,
            "ua": self.ua,
            "open": self.open,
        }


@router.post("/v1.0/gateway/connections/open")
async def open_connection(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    if not _creds_ok(sb, body.get("clientId"), body.get("clientSecret")):
        return ding_error(401, "InvalidAuthentication", "clientId 或 clientSecret 不正确")
    subs = body.get("subscriptions")
    if not isinstance(subs, list) or not subs:
        return ding_error(400, "InvalidParameter.Subscriptions", "subscriptions 不能为空")
    ticket = str(uuid.uuid4())
    sb.tickets[ticket] = {
        "expires_at": sb.clock.now() + TICKET_TTL,
        "subscriptions": subs,
        "client_id": body["clientId"],
        "ua": body.get("ua", ""),
    }
    host = request.headers.get("host") or request.url.netloc
    return {"endpoint": f"ws://{host}/connect", "ticket": ticket}


@router.websocket("/connect")
async def connect(ws: WebSocket):
    sb: Sandbox = ws.app.state.sandbox
    ticket_id = ws.query_params.get("ticket", "")
    ticket = sb.tickets.pop(ticket_id, None)  # one use only
    if ticket is None or ticket["expires_at"] <= sb.clock.now():
        reason = "unknown or used ticket" if ticket is None else "ticket expired"
        await ws.send_denial_response(
            JSONResponse({"code": "InvalidTicket", "message": reason}, status_code=401)
        )
        return
    await ws.accept()
    conn = StreamConnection(ws, ticket)
    sb.connections[conn.id] = conn
    sb.connection_log.append({"event": "open", "connectionId": conn.id, "time": sb.clock.now()})
    close_code = None
    try:
        while True:
            raw = await ws.receive_text()
            _on_client_frame(sb, conn, raw)
    except WebSocketDisconnect as exc:
        close_code = exc.code
    finally:
        conn.open = False
        sb.connections.pop(conn.id, None)
        sb.connection_log.append(
            {"event": "close", "connectionId": conn.id, "code": close_code, "time": sb.clock.now()}
        )


def _on_client_frame(sb: Sandbox, conn: StreamConnection, raw: str) -> None:
    try:
        msg = json.loads(raw)
        mid = msg["headers"]["messageId"]
    except (ValueError, KeyError, TypeError):
        sb.frames.append({"dir": "in", "connectionId": conn.id, "invalid": raw[:2000]})
        return
    data = msg.get("data")
    with contextlib.suppress(ValueError, TypeError):
        data = json.loads(data) if isinstance(data, str) else data
    ack = {
        "code": msg.get("code"),
        "message": msg.get("message"),
        "headers": msg.get("headers"),
        "data": data,
    }
    sb.frames.append({"dir": "in", "connectionId": conn.id, "messageId": mid, "frame": msg})
    sb.acks[mid] = ack
    sb.counters["stream_acks"] += 1
    fut = conn.pending.pop(mid, None)
    if fut is not None and not fut.done():
        fut.set_result(ack)
    hook = sb.ack_hooks.pop(mid, None)
    if hook is not None:
        try:
            hook(ack)
        except Exception as exc:  # noqa: BLE001 - a malformed ACK must not take the connection down
            sb.frames.append(
                {"dir": "in", "connectionId": conn.id, "messageId": mid, "hook_error": repr(exc)}
            )


def pick_connection(sb: Sandbox, kind: str, topic: str) -> StreamConnection | None:
    live = [c for c in sb.connections.values() if c.open and c.subscribed(kind, topic)]
    return live[-1] if live else None


async def push_frame(
    sb: Sandbox,
    kind: str,
    topic: str,
    data: dict,
    *,
    wait: float,
    extra_headers: dict | None = None,
    message_id: str | None = None,
    on_ack=None,
) -> dict:
    """Send one frame to the newest connection subscribed to it; wait up to `wait` s for its ACK."""
    conn = pick_connection(sb, kind, topic)
    if conn is None:
        return {"delivered": False, "reason": "no_connection", "messageId": None, "ack": None}
    mid = message_id or _message_id()
    app = _app(sb)
    headers = {
        "appId": stable_id("app", app.client_id if app else "", length=10),
        "connectionId": conn.id,
        "contentType": "application/json",
        "messageId": mid,
        "time": str(sb.clock.now_ms()),
        "topic": topic,
        **(extra_headers or {}),
    }
    frame = {
        "specVersion": "1.0",
        "type": kind,
        "headers": headers,
        "data": json.dumps(data, ensure_ascii=False),
    }
    fut = asyncio.get_running_loop().create_future()
    conn.pending[mid] = fut
    if on_ack is not None:
        sb.ack_hooks[mid] = on_ack
    sb.frames.append({"dir": "out", "connectionId": conn.id, "messageId": mid, "frame": frame})
    sb.counters["stream_pushes"] += 1
    try:
        await conn.send(frame)
    except Exception as exc:  # noqa: BLE001 - a socket closing under us is a delivery failure, not a crash
        conn.pending.pop(mid, None)
        return {"delivered": False, "reason": f"send failed: {exc}", "messageId": mid, "ack": None}
    ack = None
    if wait > 0:
        try:
            ack = await asyncio.wait_for(asyncio.shield(fut), wait)
        except TimeoutError:
            sb.counters["stream_missing_acks"] += 1
    return {"delivered": True, "messageId": mid, "connectionId": conn.id, "ack": ack}


async def push_event(
    sb: Sandbox,
    event_type: str,
    data: dict,
    *,
    wait: float,
    event_id: str | None = None,
    message_id: str | None = None,
) -> dict:
    """EVENTs are re-pushed (same messageId) until ACKed, up to event_retries times (the real server re-pushes).

    `event_id`/`message_id` given: the same event delivered once more (a re-push the app must absorb)."""
    mid = message_id or _message_id()
    app = _app(sb)
    extra = {
        "eventType": event_type,
        "eventId": event_id or new_id(),
        "eventCorpId": sb.fixture.dingtalk.corp_id,
        "eventBornTime": str(sb.clock.now_ms()),
        "eventUnifiedAppId": app.client_id if app else "",
    }
    attempts = 0
    per_try = wait if wait > 0 else float(sb.config["ack_timeout"])
    result: dict = {}
    for _ in range(1 + int(sb.config["event_retries"])):
        attempts += 1
        result = await push_frame(sb, "EVENT", "*", data, wait=per_try, extra_headers=extra, message_id=mid)
        if not result["delivered"]:
            break
        ack = result.get("ack") or sb.acks.get(mid)
        later = (
            isinstance(ack, dict)
            and isinstance(ack.get("data"), dict)
            and ack["data"].get("status") == "LATER"
        )
        if ack is not None and not later:
            result["ack"] = ack
            break
        # The protocol's {"status": "LATER"} asks for a re-push, as a missing ACK does.
        sb.acks.pop(mid, None)
        if attempts <= int(sb.config["event_retries"]):
            sb.counters["event_repushes"] += 1
    result["attempts"] = attempts
    result["eventId"] = extra["eventId"]
    return result


# ---------------------------------------------------------------- contact events (通讯录事件)

# What the sandbox's directory changes push, as an internal app subscribed to 通讯录事件 receives them.
CONTACT_EVENTS = {"leave": "user_leave_org", "join": "user_add_org", "update": "user_modify_org"}


def contact_event_data(
    sb: Sandbox, change: str, userid: str, *, prev: dict | None = None, curr: dict | None = None
) -> dict:
    """The data of a user_leave_org / user_add_org / user_modify_org EVENT (KB 0042, 0043, 0079)."""
    data: dict = {"timeStamp": str(sb.clock.now_ms()), "userId": [userid]}
    if change == "update":
        data["diffInfo"] = {"prev": prev or {}, "curr": curr or {}, "userid": userid}
    return data


async def push_contact_event(sb: Sandbox, change: str, data: dict, *, wait: float, repeat: int = 1) -> dict:
    """Push one contact EVENT; `repeat` > 1 delivers the very same event again (same eventId and messageId)."""
    result = await push_event(sb, CONTACT_EVENTS[change], data, wait=wait)
    deliveries = [result]
    for _ in range(repeat - 1):
        if not result.get("delivered"):
            break
        sb.acks.pop(result["messageId"], None)  # this delivery's ACK is its own
        deliveries.append(
            await push_event(
                sb,
                CONTACT_EVENTS[change],
                data,
                wait=wait,
                event_id=result["eventId"],
                message_id=result["messageId"],
            )
        )
    return {**result, "deliveries": len(deliveries), "acks": [d.get("ack") for d in deliveries], "data": data}


def build_bot_message(
    sb: Sandbox, userid: str, conversation: str, text: str, at_bot: bool, base: str
) -> tuple[dict | None, str | None]:
    """(ChatbotMessage data, None) or (None, reason)."""
    dt = sb.fixture.dingtalk
    if dt is None:
        return None, "fixture has no DingTalk corp"
    user = sb.fixture.dingtalk_user(userid)
    if user is None:
        return None, f"unknown DingTalk user {userid!r}"
    now = sb.clock.now()
    bot_uid = lwcp("bot", dt.app.robot_code)
    data: dict[str, Any] = {
        "chatbotCorpId": dt.corp_id,
        "chatbotUserId": bot_uid,
        "robotCode": dt.app.robot_code,
        "msgId": "msg" + secrets.token_urlsafe(18),
        "msgtype": "text",
        "senderId": lwcp("user", dt.corp_id, userid),
        "senderStaffId": userid,
        "senderNick": user.name,
        "senderCorpId": dt.corp_id,
        "isAdmin": False,
        "createAt": int(now * 1000),
    }
    if conversation in ("", "single"):
        if not user.in_range:
            return None, f"{userid} is outside the app's visible range and cannot chat with the bot"
        cid, ctype, session_to, group = single_cid(sb, userid), "1", [userid], None
        data.update(conversationId=cid, conversationType="1", isInAtList=True, text={"content": text})
    else:
        group = sb.fixture.dingtalk_group(conversation)
        if group is None:
            return None, f"unknown group {conversation!r}"
        if userid not in group.members:
            return None, f"{userid} is not a member of {conversation}"
        if not at_bot:
            return None, "not_at_bot: DingTalk only pushes group messages that @ the bot"
        cid, ctype, session_to = group.openConversationId, "2", list(group.members)
        # After the @mention is stripped DingTalk leaves the separating space in front of the text.
        data.update(
            conversationId=cid,
            conversationType="2",
            conversationTitle=group.title,
            isInAtList=True,
            atUsers=[{"dingtalkId": bot_uid}],
            text={"content": " " + text},
        )
    session = secrets.token_urlsafe(24)
    sb.sessions[session] = {
        "conversation": cid,
        "type": ctype,
        "user": userid,
        "to": session_to,
        "group": group is not None,
        "expires_at": now + SESSION_WEBHOOK_TTL,
    }
    data["sessionWebhook"] = f"{base}/robot/sendBySession?session={session}"
    data["sessionWebhookExpiredTime"] = int((now + SESSION_WEBHOOK_TTL) * 1000)
    return data, None


def build_card_callback(sb: Sandbox, card: Card, userid: str, action_id: str, params: dict) -> dict:
    content = json.dumps(
        {"cardPrivateData": {"actionIds": [action_id], "params": params}}, ensure_ascii=False
    )
    space_id = card.space.split(".", 1)[1] if "." in card.space else ""
    return {
        "extension": "{}",
        "corpId": sb.fixture.dingtalk.corp_id,
        "spaceType": "im",
        "userIdType": 1,
        "type": "actionCallback",
        "userId": userid,
        "content": content,
        "spaceId": card.conversation or space_id,
        "outTrackId": card.id,
        "value": content,
    }


def apply_card_ack(sb: Sandbox, card: Card, userid: str, ack: dict) -> None:
    """A card callback's ACK may carry {"response": {"cardData": …, "privateData": …}}: update the card in place."""
    data = ack.get("data")
    response = data.get("response") if isinstance(data, dict) else None
    if isinstance(response, str):
        with contextlib.suppress(ValueError):
            response = json.loads(response)
    if not isinstance(response, dict):
        return
    card_data = response.get("cardData")
    card_data = card_data.get("cardParamMap") if isinstance(card_data, dict) else None
    if isinstance(card_data, dict):
        card.params.update(card_data)
        card.updated_at = sb.clock.now()
    private_data = response.get("privateData")
    for uid, private in private_data.items() if isinstance(private_data, dict) else []:
        if isinstance(private, dict) and isinstance(private.get("cardParamMap"), dict):
            card.private.setdefault(uid, {}).update(private["cardParamMap"])
            card.updated_at = sb.clock.now()


# ---------------------------------------------------------------- sending


@router.post("/robot/sendBySession")
async def send_by_session(request: Request):
    sb = sb_of(request)
    session = sb.sessions.get(request.query_params.get("session", ""))
    if session is None or session["expires_at"] <= sb.clock.now():
        return oapi_error(300001, "session 不存在或已过期")
    body = await read_body(request)
    if not body.get("msgtype"):
        return oapi_error(40035, "缺少参数 msgtype")
    norm = normalise.dingtalk_webhook(body)
    sb.record_out(
        {
            "platform": "dingtalk",
            "api": "sendBySession",
            "to": list(session["to"]),
            "conversation": session["conversation"] if session["group"] else None,
            **norm,
            "raw": {"path": "/robot/sendBySession", "body": body},
        }
    )
    return {"errcode": 0, "errmsg": "ok"}


def _decode_param(body: dict) -> tuple[dict | None, JSONResponse | None]:
    key = body.get("msgKey")
    if key not in normalise.DINGTALK_MSG_KEYS:
        return None, ding_error(400, "InvalidParameter.MsgKey", f"不支持的 msgKey: {key}")
    param = body.get("msgParam")
    if not isinstance(param, str):
        return None, ding_error(400, "InvalidParameter.MsgParam", "msgParam 必须是 JSON 字符串")
    try:
        decoded = json.loads(param)
    except ValueError:
        return None, ding_error(400, "InvalidParameter.MsgParam", "msgParam 不是合法的 JSON")
    if not isinstance(decoded, dict):
        return None, ding_error(400, "InvalidParameter.MsgParam", "msgParam 必须是 JSON 对象")
    return decoded, None


@router.post("/v1.0/robot/oToMessages/batchSend")
async def batch_send(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    if body.get("robotCode") != _app(sb).robot_code:
        return ding_error(400, "InvalidParameter.RobotCode", "robotCode 不存在")
    user_ids = body.get("userIds")
    if not isinstance(user_ids, list) or not user_ids or not all(isinstance(u, str) for u in user_ids):
        return ding_error(400, "MissingParameter.UserIds", "userIds 不能为空")
    if len(user_ids) > 20:
        return ding_error(400, "InvalidParameter.UserIds", "userIds 最多 20 个")
    param, err = _decode_param(body)
    if err is not None:
        return err
    valid = [u for u in dict.fromkeys(user_ids) if reachable(sb, u)]
    invalid = [u for u in dict.fromkeys(user_ids) if u not in valid]
    key = secrets.token_urlsafe(24)
    if valid:
        sb.record_out(
            {
                "platform": "dingtalk",
                "api": "batchSend",
                "to": valid,
                "invalid": invalid,
                **normalise.dingtalk_sample(body["msgKey"], param),
                "process_query_key": key,
                "raw": {"path": "/v1.0/robot/oToMessages/batchSend", "body": body},
            }
        )
    return {"processQueryKey": key, "invalidStaffIdList": invalid, "flowControlledStaffIdList": []}


@router.post("/v1.0/robot/groupMessages/send")
async def group_send(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    if body.get("robotCode") != _app(sb).robot_code:
        return ding_error(400, "InvalidParameter.RobotCode", "robotCode 不存在")
    group = sb.fixture.dingtalk_group(body.get("openConversationId") or "")
    if group is None:
        return ding_error(400, "InvalidParameter.OpenConversationId", "群会话不存在或机器人不在群内")
    if isinstance(body.get("msgParam"), str) and len(body["msgParam"].encode()) > 15000:
        return ding_error(400, "InvalidParameter.MsgParam", "msgParam 超过 15000 字节")
    param, err = _decode_param(body)
    if err is not None:
        return err
    key = secrets.token_urlsafe(24)
    sb.record_out(
        {
            "platform": "dingtalk",
            "api": "groupMessages/send",
            "to": list(group.members),
            "conversation": group.openConversationId,
            **normalise.dingtalk_sample(body["msgKey"], param),
            "process_query_key": key,
            "raw": {"path": "/v1.0/robot/groupMessages/send", "body": body},
        }
    )
    return {"processQueryKey": key}


# ---------------------------------------------------------------- cards


def _card_params(body: dict) -> tuple[dict | None, JSONResponse | None]:
    params = (body.get("cardData") or {}).get("cardParamMap") or {}
    if not isinstance(params, dict):
        return None, ding_error(400, "InvalidParameter.CardData", "cardParamMap 必须是对象")
    bad = [k for k, v in params.items() if not isinstance(v, str)]
    if bad:
        # The real cardParamMap is Map<String, String>: lists and numbers must be JSON-encoded by the caller.
        return None, ding_error(
            400, "InvalidParameter.CardData", f"cardParamMap 的值必须是字符串: {', '.join(bad)}"
        )
    return params, None


def _create_card(sb: Sandbox, body: dict) -> tuple[Card | None, JSONResponse | None]:
    if not body.get("cardTemplateId"):
        return None, ding_error(400, "MissingParameter.CardTemplateId", "cardTemplateId 不能为空")
    if not body.get("outTrackId"):
        return None, ding_error(400, "MissingParameter.OutTrackId", "outTrackId 不能为空")
    existing = sb.cards.get(body["outTrackId"])
    if existing is not None and existing.platform == "dingtalk":
        # "一个 outTrackId 唯一标识一张卡片": creating it again is refused, and nothing is delivered.
        sb.counters["dingtalk_cards_already_exist"] += 1
        return None, ding_error(400, "param.cardAlreadyExist", "param.cardAlreadyExist")
    params, err = _card_params(body)
    if err is not None:
        return None, err
    now = sb.clock.now()
    card = Card(
        id=body["outTrackId"],
        platform="dingtalk",
        template=body["cardTemplateId"],
        params=dict(params),
        callback_type=body.get("callbackType") or "STREAM",
        raw=body,
        created_at=now,
        updated_at=now,
    )
    for uid, private in (body.get("privateData") or {}).items():
        if isinstance(private, dict):
            card.private[uid] = dict(private.get("cardParamMap") or {})
    sb.cards[card.id] = card
    return card, None


def _deliver_card(sb: Sandbox, card: Card, body: dict, path: str) -> dict | JSONResponse:
    spaces = [s for s in str(body.get("openSpaceId") or "").split(";") if s]
    if not spaces:
        return ding_error(400, "MissingParameter.OpenSpaceId", "openSpaceId 不能为空")
    results = []
    for space in spaces:
        prefix = "dtv1.card//"
        kind, _, space_id = space[len(prefix) :].partition(".") if space.startswith(prefix) else ("", "", "")
        if kind == "IM_ROBOT":
            ok = reachable(sb, space_id)
            to, conversation = [space_id], None
        elif kind == "IM_GROUP":
            group = sb.fixture.dingtalk_group(space_id)
            ok = group is not None
            model = body.get("imGroupOpenDeliverModel") or {}
            recipients = model.get("recipients")
            to = list(recipients) if recipients else (list(group.members) if group else [])
            conversation = space_id
        else:
            return ding_error(400, "InvalidParameter.OpenSpaceId", f"openSpaceId 格式不正确: {space}")
        results.append(
            {"spaceType": kind, "spaceId": space_id, "success": ok}
            | ({} if ok else {"errorMsg": "用户不存在或不在应用可见范围"})
        )
        if ok:
            card.space, card.conversation, card.recipients, card.delivered = space, conversation, to, True
            sb.record_out(
                {
                    "platform": "dingtalk",
                    "api": "card/deliver" if path.endswith("/deliver") else "card/createAndDeliver",
                    "to": to,
                    "conversation": conversation,
                    "msgtype": "card",
                    "card_id": card.id,
                    **{
                        k: v
                        for k, v in normalise.dingtalk_card(card.template, card.params).items()
                        if k != "msgtype"
                    },
                    "raw": {"path": path, "body": body},
                }
            )
    return {"success": True, "result": {"outTrackId": card.id, "deliverResults": results}}


@router.post("/v1.0/card/instances")
async def create_card(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    card, err = _create_card(sb, await read_body(request))
    if err is not None:
        return err
    return {"success": True, "result": card.id}


@router.post("/v1.0/card/instances/deliver")
async def deliver_card(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    card = sb.cards.get(body.get("outTrackId") or "")
    if card is None:
        return ding_error(400, "InvalidParameter.OutTrackId", "卡片实例不存在")
    return _deliver_card(sb, card, body, "/v1.0/card/instances/deliver")


@router.post("/v1.0/card/instances/createAndDeliver")
async def create_and_deliver(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    if not body.get("openSpaceId"):
        return ding_error(400, "MissingParameter.OpenSpaceId", "openSpaceId 不能为空")
    card, err = _create_card(sb, body)
    if err is not None:
        return err
    answer = _deliver_card(sb, card, body, "/v1.0/card/instances/createAndDeliver")
    await sb.hold_answer("/v1.0/card/instances/createAndDeliver")
    return answer


@router.put("/v1.0/card/instances")
async def update_card(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    card = sb.cards.get(body.get("outTrackId") or "")
    if card is None:
        return ding_error(400, "InvalidParameter.OutTrackId", "卡片实例不存在")
    params, err = _card_params(body)
    if err is not None:
        return err
    card.params.update(params)
    for uid, private in (body.get("privateData") or {}).items():
        if isinstance(private, dict):
            card.private.setdefault(uid, {}).update(private.get("cardParamMap") or {})
    card.updated_at = sb.clock.now()
    sb.record_out(
        {
            "platform": "dingtalk",
            "api": "card/update",
            "to": list(card.recipients),
            "conversation": card.conversation,
            "msgtype": "card_update",
            "card_id": card.id,
            "title": card.params.get("title", ""),
            "raw": {"path": "/v1.0/card/instances", "method": "PUT", "body": body},
        }
    )
    return {"success": True, "result": True}


@router.put("/v1.0/card/streaming")
async def stream_card(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    card = sb.cards.get(body.get("outTrackId") or "")
    if card is None:
        return ding_error(400, "InvalidParameter.OutTrackId", "卡片实例不存在")
    key = body.get("key") or "content"
    content = str(body.get("content", ""))
    card.params[key] = content if body.get("isFull", True) else card.params.get(key, "") + content
    card.updated_at = sb.clock.now()
    return {"success": True, "result": True}


# ---------------------------------------------------------------- oapi: identity, directory, work notices


@router.post("/topapi/v2/user/getuserinfo")
async def getuserinfo(request: Request):
    sb = sb_of(request)
    if (err := _oapi_auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    code = body.get("code") or request.query_params.get("code") or ""
    entry = sb.dingtalk_codes.pop(code, None)  # single use
    if entry is None or entry["expires_at"] <= sb.clock.now():
        return oapi_error(40078, "不存在的临时授权码")
    user = sb.fixture.dingtalk_user(entry["userid"])
    return {
        "errcode": 0,
        "errmsg": "ok",
        "request_id": request_id(),
        "result": {
            "userid": user.userid,
            "device_id": stable_id("device", user.userid),
            "sys": False,
            "sys_level": 0,
            "associated_unionid": "",
            "unionid": stable_id("union", user.userid),
            "name": user.name,
        },
    }


def issue_auth_code(sb: Sandbox, userid: str) -> tuple[str | None, str | None]:
    user = sb.fixture.dingtalk_user(userid)
    if user is None:
        return None, f"unknown DingTalk user {userid!r}"
    if not user.in_range:
        return None, f"{userid} is outside the app's visible range"
    code = secrets.token_hex(16)
    sb.dingtalk_codes[code] = {"userid": userid, "expires_at": sb.clock.now() + AUTH_CODE_TTL}
    return code, None


@router.post("/topapi/v2/user/get")
async def user_get(request: Request):
    sb = sb_of(request)
    if (err := _oapi_auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    user = sb.fixture.dingtalk_user(body.get("userid") or "")
    if user is None:
        return oapi_error(60121, "找不到该用户")
    if not user.in_range:
        return oapi_error(50004, "请确认员工是否在应用的通讯录权限范围内")
    return {
        "errcode": 0,
        "errmsg": "ok",
        "request_id": request_id(),
        "result": {
            "userid": user.userid,
            "unionid": stable_id("union", user.userid),
            "name": user.name,
            "mobile": user.mobile,
            "title": user.title,
            "dept_id_list": user.dept,
            "active": True,
            "admin": False,
            "boss": False,
        },
    }


def _shanghai_day(ts: float) -> str:
    return datetime.fromtimestamp(ts, _SHANGHAI).date().isoformat()


@router.post("/topapi/message/corpconversation/asyncsend_v2")
async def asyncsend_v2(request: Request):
    sb = sb_of(request)
    if (err := _oapi_auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    if str(body.get("agent_id", "")) != str(_app(sb).agent_id):
        return oapi_error(40056, "不合法的agentid")
    msg = body.get("msg")
    if isinstance(msg, str):
        try:
            msg = json.loads(msg)
        except ValueError:
            msg = None
    if not isinstance(msg, dict) or not msg.get("msgtype"):
        return oapi_error(40035, "缺少参数 msg")
    if str(body.get("to_all_user", "false")).lower() == "true":
        targets = [u.userid for u in sb.fixture.dingtalk.users]
    else:
        targets = [u for u in str(body.get("userid_list") or "").split(",") if u]
    if not targets:
        return oapi_error(40035, "缺少参数 userid_list")
    if len(targets) > 5000:
        return oapi_error(40035, "userid_list 最多 5000 人")
    day = _shanghai_day(sb.clock.now())
    digest = stable_id(json.dumps(msg, sort_keys=True, ensure_ascii=False), length=32)
    task_id = len(sb.workmsg_tasks) + 1000001
    invalid, forbidden, delivered = [], [], []
    for uid in dict.fromkeys(targets):
        if not reachable(sb, uid):
            invalid.append(uid)
        elif (uid, day, digest) in sb.workmsg_sent:
            # Identical content reaches a person once a day; the call still "succeeds".
            forbidden.append(uid)
            sb.counters["dingtalk_workmsg_forbidden"] += 1
        else:
            sb.workmsg_sent[(uid, day, digest)] = str(task_id)
            delivered.append(uid)
    sb.workmsg_tasks[task_id] = {"invalid": invalid, "forbidden": forbidden, "delivered": delivered}
    if delivered:
        norm = _worknotice(msg)
        sb.record_out(
            {
                "platform": "dingtalk",
                "api": "asyncsend_v2",
                "to": delivered,
                "invalid": invalid,
                "dropped": forbidden,
                **norm,
                "task_id": task_id,
                "raw": {"path": "/topapi/message/corpconversation/asyncsend_v2", "body": body},
            }
        )
    return {"errcode": 0, "errmsg": "ok", "task_id": task_id, "request_id": request_id()}


def _worknotice(msg: dict) -> dict:
    t = msg.get("msgtype")
    if t == "action_card":
        ac = msg.get("action_card") or {}
        buttons = (
            [{"text": ac["single_title"], "url": ac.get("single_url", "")}] if ac.get("single_title") else []
        )
        buttons += [
            {"text": b.get("title", ""), "url": b.get("action_url", "")}
            for b in ac.get("btn_json_list") or []
        ]
        return {"msgtype": "action_card", "title": ac.get("title", ""), "text": ac.get("markdown", ""),
                "markdown": True, "buttons": buttons,
                "images": normalise._md_images(ac.get("markdown", ""))}  # fmt: skip
    if t == "oa":
        oa = msg.get("oa") or {}
        b = oa.get("body") or {}
        return {"msgtype": "oa", "title": b.get("title", ""), "text": b.get("content", ""),
                "buttons": [{"text": "查看详情", "url": oa.get("message_url", "")}] if oa.get("message_url") else []}  # fmt: skip
    if t == "link":
        link = msg.get("link") or {}
        return {"msgtype": "link", "title": link.get("title", ""), "text": link.get("text", ""),
                "buttons": [{"text": "查看详情", "url": link.get("messageUrl", "")}]}  # fmt: skip
    return normalise.dingtalk_webhook(msg)


@router.post("/topapi/message/corpconversation/getsendresult")
async def getsendresult(request: Request):
    sb = sb_of(request)
    if (err := _oapi_auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    try:
        task = sb.workmsg_tasks.get(int(body.get("task_id", 0)))
    except (TypeError, ValueError):
        task = None
    if task is None:
        return oapi_error(40035, "task_id 不存在")
    return {
        "errcode": 0,
        "errmsg": "ok",
        "request_id": request_id(),
        "send_result": {
            "invalid_user_id_list": task["invalid"],
            "forbidden_user_id_list": task["forbidden"],
            "failed_user_id_list": [],
            "read_user_id_list": [],
            "unread_user_id_list": task["delivered"],
            "invalid_dept_id_list": [],
            "forbidden_list": [{"code": "143106", "count": 1, "userid": u} for u in task["forbidden"]],
        },
    }


@router.post("/media/upload")
async def media_upload(request: Request):
    sb = sb_of(request)
    if (err := _oapi_auth(sb, request)) is not None:
        return err
    form = await request.form()
    media = form.get("media")
    if media is None or not hasattr(media, "read"):
        return oapi_error(40035, "缺少参数 media")
    data = await media.read()
    media_id = "@lA" + secrets.token_urlsafe(18)
    sb.media[media_id] = (data, media.content_type or "application/octet-stream")
    return {"errcode": 0, "errmsg": "ok", "type": form.get("type", "image"), "media_id": media_id,
            "created_at": sb.clock.now_ms()}  # fmt: skip
