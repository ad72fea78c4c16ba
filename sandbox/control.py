"""The control API under /_sandbox (platforms.md §6.4): what tests and the demo use to play the members,
inspect what the bot sent, inject faults and move time. Never part of either real platform."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from sandbox import dingtalk, normalise, wecom
from sandbox.common import bad_request, base_url, read_body, sb_of
from sandbox.fixture import DingTalkUser, WeComUser
from sandbox.state import RESPONSE_CODE_TTL, Sandbox

router = APIRouter()
STATIC = Path(__file__).parent / "static"


def _seconds(value, default: float) -> float | None:
    """A wait/timeout from a request body: a non-negative number, or None when it is not one."""
    if value is None:
        return float(default)
    return float(value) if isinstance(value, int | float) and value >= 0 else None


def _since(request: Request) -> int:
    try:
        return int(request.query_params.get("since", "0"))
    except ValueError:
        return 0


@router.get("/_sandbox/health")
async def health(request: Request):
    sb = sb_of(request)
    return {"ok": True, "now": sb.clock.now(), "connections": len(sb.connections)}


# ---------------------------------------------------------------- fixture, config, reset, clock


@router.get("/_sandbox/fixture")
async def get_fixture(request: Request):
    return sb_of(request).fixture.model_dump()


@router.post("/_sandbox/fixture")
async def put_fixture(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    if not body:
        return bad_request("body must be a JSON fixture with dingtalk and/or wecom")
    try:
        sb.load(body)
    except ValidationError as exc:
        return bad_request(f"invalid fixture: {exc.errors(include_url=False)}", 422)
    return {"ok": True, "dingtalk_users": len(sb.fixture.dingtalk.users) if sb.fixture.dingtalk else 0,
            "wecom_users": len(sb.fixture.wecom.users) if sb.fixture.wecom else 0}  # fmt: skip


@router.get("/_sandbox/config")
async def get_config(request: Request):
    return sb_of(request).config


@router.post("/_sandbox/config")
async def set_config(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    unknown = [k for k in body if k not in sb.config]
    if unknown:
        return bad_request(f"unknown settings: {', '.join(unknown)}; known: {', '.join(sb.config)}")
    for key, value in body.items():
        if type(sb.config[key]) is dict and not (
            isinstance(value, dict) and all(isinstance(v, int | float) and v >= 0 for v in value.values())
        ):
            return bad_request(f"{key} must be an object of non-negative numbers")
        if type(sb.config[key]) in (int, float) and (not isinstance(value, int | float) or value < 0):
            return bad_request(f"{key} must be a non-negative number")
    sb.config.update(body)
    return sb.config


@router.post("/_sandbox/reset")
async def reset(request: Request):
    sb_of(request).reset()
    return {"ok": True}


@router.post("/_sandbox/clock")
async def clock(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    seconds = body.get("advance", body.get("seconds", 0))
    if not isinstance(seconds, int | float) or seconds < 0:
        return bad_request(
            "advance must be a non-negative number of seconds: the sandbox's time only moves forward"
        )
    sb.clock.move(float(seconds))
    return {"now": sb.clock.now(), "offset": sb.clock.offset}


@router.get("/_sandbox/counters")
async def counters(request: Request):
    return sb_of(request).snapshot_counters()


# ---------------------------------------------------------------- faults


@router.post("/_sandbox/faults")
async def add_fault(request: Request):
    sb = sb_of(request)
    try:
        fault = sb.add_fault(await read_body(request))
    except ValueError as exc:
        return bad_request(str(exc))
    return {"id": fault.id, "path": fault.path, "times": fault.times}


@router.get("/_sandbox/faults")
async def list_faults(request: Request):
    return [f.__dict__ for f in sb_of(request).faults]


@router.delete("/_sandbox/faults")
async def clear_faults(request: Request):
    sb_of(request).faults.clear()
    return {"ok": True}


# ---------------------------------------------------------------- records


@router.get("/_sandbox/outbox")
async def outbox(request: Request):
    sb = sb_of(request)
    platform = request.query_params.get("platform")
    since = _since(request)
    return [e for e in sb.outbox if e["seq"] > since and (not platform or e["platform"] == platform)]


@router.get("/_sandbox/inbound")
async def inbound(request: Request):
    sb = sb_of(request)
    platform = request.query_params.get("platform")
    since = _since(request)
    return [e for e in sb.inbound if e["seq"] > since and (not platform or e["platform"] == platform)]


@router.get("/_sandbox/cards/{card_id}")
async def card(request: Request, card_id: str):
    c = sb_of(request).cards.get(card_id)
    if c is None:
        return bad_request("no such card", 404)
    return c.__dict__


@router.get("/_sandbox/media/{media_id}")
async def media(request: Request, media_id: str):
    item = sb_of(request).media.get(media_id)
    if item is None:
        return bad_request("no such media", 404)
    return Response(item[0], media_type=item[1])


# ---------------------------------------------------------------- DingTalk control


def _track(sb: Sandbox, record: dict):
    def hook(ack: dict) -> None:
        record["ack"] = ack

    return hook


async def push_bot_message(sb: Sandbox, base: str, body: dict, *, wait: float) -> tuple[dict, int]:
    userid = body.get("from") or body.get("user") or ""
    conversation = body.get("conversation") or "single"
    text = str(body.get("text", ""))
    data, reason = dingtalk.build_bot_message(
        sb, userid, conversation, text, bool(body.get("at_bot", True)), base
    )
    if data is None:
        return {"delivered": False, "reason": reason, "ack": None}, 409 if "not_at_bot" in reason else 400
    record = {
        "platform": "dingtalk",
        "kind": "bot_message",
        "from": userid,
        "conversation": None if conversation == "single" else conversation,
        "text": text,
        "ack": None,
    }
    result = await dingtalk.push_frame(
        sb, "CALLBACK", dingtalk.BOT_MESSAGE_TOPIC, data, wait=wait, on_ack=_track(sb, record)
    )
    record.update(
        messageId=result.get("messageId"), delivered=result["delivered"], reason=result.get("reason")
    )
    record["ack"] = record["ack"] or result.get("ack")
    sb.record_in(record)
    result.update(data=data, session_webhook=data["sessionWebhook"])
    return result, 200


async def push_card_action(sb: Sandbox, body: dict, *, wait: float) -> tuple[dict, int]:
    card = sb.cards.get(body.get("outTrackId") or body.get("card_id") or "")
    if card is None or card.platform != "dingtalk":
        return {"delivered": False, "reason": "unknown outTrackId", "ack": None}, 404
    if not card.delivered:
        return {"delivered": False, "reason": "the card was created but never delivered"}, 409
    if card.callback_type != "STREAM":
        return {"delivered": False, "reason": "card was created with callbackType HTTP, not STREAM"}, 409
    userid = body.get("userId") or body.get("user") or ""
    if sb.fixture.dingtalk_user(userid) is None:
        return {"delivered": False, "reason": f"unknown DingTalk user {userid!r}"}, 400
    params = body.get("params") or {}
    action_id = body.get("actionId") or body.get("action_id") or "button"
    label = body.get("label") or next(
        (
            b["text"]
            for b in normalise.dingtalk_card(card.template, card.params)["buttons"]
            if b["action_id"] == action_id
        ),
        "",
    )
    data = dingtalk.build_card_callback(sb, card, userid, action_id, params)
    record = {
        "platform": "dingtalk",
        "kind": "card_action",
        "from": userid,
        "conversation": card.conversation,
        "card_id": card.id,
        "action_id": action_id,
        "params": params,
        "text": label,
        "ack": None,
    }

    def on_ack(ack: dict) -> None:
        record["ack"] = ack
        dingtalk.apply_card_ack(sb, card, userid, ack)

    result = await dingtalk.push_frame(
        sb, "CALLBACK", dingtalk.CARD_CALLBACK_TOPIC, data, wait=wait, on_ack=on_ack
    )
    record.update(
        messageId=result.get("messageId"), delivered=result["delivered"], reason=result.get("reason")
    )
    sb.record_in(record)
    result["data"] = data
    return result, 200


@router.post("/_sandbox/dingtalk/push")
async def dingtalk_push(request: Request):
    sb = sb_of(request)
    if sb.fixture.dingtalk is None:
        return bad_request("fixture has no DingTalk corp", 409)
    body = await read_body(request)
    wait = _seconds(body.get("wait"), sb.config["ack_timeout"])
    if wait is None:
        return bad_request("wait must be a non-negative number of seconds")
    kind = body.get("kind", "bot_message")
    if kind == "bot_message":
        result, status = await push_bot_message(sb, base_url(sb, request), body, wait=wait)
    elif kind == "card_action":
        result, status = await push_card_action(sb, body, wait=wait)
    elif kind == "event":
        if not body.get("eventType"):
            return bad_request("eventType is required")
        result, status = (
            await dingtalk.push_event(sb, body["eventType"], body.get("data") or {}, wait=wait),
            200,
        )
    else:
        return bad_request("kind must be bot_message, card_action or event")
    if status == 200 and not result.get("delivered"):
        status = 409
    return JSONResponse(result, status_code=status)


@router.post("/_sandbox/dingtalk/system")
async def dingtalk_system(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    topic = body.get("topic")
    if topic not in ("ping", "disconnect"):
        return bad_request("topic must be ping or disconnect")
    data = body.get("data") or (
        {"opaque": body.get("opaque", "sandbox-opaque")}
        if topic == "ping"
        else {"reason": "connection is expired"}
    )
    wait, grace = _seconds(body.get("wait"), sb.config["ack_timeout"]), _seconds(body.get("grace"), 10)
    if wait is None or grace is None:
        return bad_request("wait and grace must be non-negative numbers of seconds")
    conn = dingtalk.pick_connection(sb, "SYSTEM", topic)
    result = await dingtalk.push_frame(sb, "SYSTEM", topic, data, wait=wait)
    if topic == "disconnect" and conn is not None:
        # The real gateway closes the socket itself about 10 s later if the client has not.
        asyncio.get_running_loop().call_later(grace, _close_later, conn)
    return JSONResponse(result, status_code=200 if result["delivered"] else 409)


def _close_later(conn) -> None:
    if conn.open:
        asyncio.ensure_future(_safe_close(conn, 1000))


async def _safe_close(conn, code: int) -> None:
    with contextlib.suppress(Exception):
        await conn.ws.close(code=code)


@router.post("/_sandbox/dingtalk/drop")
async def dingtalk_drop(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    code = body.get("code", 1011)
    if not isinstance(code, int) or not (1000 <= code <= 4999):
        return bad_request("code must be a WebSocket close code (1000-4999)")
    conns = [c for c in sb.connections.values() if c.open]
    for conn in conns:
        conn.open = False
        await _safe_close(conn, code)
    return {"dropped": [c.id for c in conns], "code": code}


@router.get("/_sandbox/dingtalk/connections")
async def dingtalk_connections(request: Request):
    sb = sb_of(request)
    return {"open": [c.describe() for c in sb.connections.values() if c.open], "log": sb.connection_log}


@router.get("/_sandbox/dingtalk/frames")
async def dingtalk_frames(request: Request):
    return sb_of(request).frames


@router.api_route("/_sandbox/dingtalk/authcode", methods=["GET", "POST"])
async def dingtalk_authcode(request: Request):
    sb = sb_of(request)
    body = await read_body(request) if request.method == "POST" else {}
    userid = body.get("userid") or request.query_params.get("userid") or ""
    code, reason = dingtalk.issue_auth_code(sb, userid)
    headers = {"Access-Control-Allow-Origin": "*"}  # the dd shim runs on the bot's pages, another origin
    if code is None:
        return JSONResponse({"error": reason}, status_code=403 if "range" in reason else 404, headers=headers)
    return JSONResponse({"code": code, "userid": userid}, headers=headers)


@router.get("/_sandbox/dd-shim.js")
async def dd_shim(request: Request):
    sb = sb_of(request)
    user = request.query_params.get("user") or request.cookies.get("sandbox_dingtalk_user") or ""
    corp = sb.fixture.dingtalk.corp_id if sb.fixture.dingtalk else ""
    source = (STATIC / "dd-shim.js").read_text(encoding="utf-8")
    prelude = "window.__SANDBOX__ = " + json.dumps(
        {"base": base_url(sb, request), "user": user, "corpId": corp}, ensure_ascii=False
    )
    return Response(prelude + ";\n" + source, media_type="application/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-store"})  # fmt: skip


# ---------------------------------------------------------------- WeCom control


def prepare_wecom(sb: Sandbox, body: dict) -> tuple[dict | None, dict | None]:
    """Check a member's WeCom message and build it: (delivery, None) or (None, {"error", "status"})."""
    corp = sb.fixture.wecom
    if corp is None:
        return None, {"error": "fixture has no WeCom corp", "status": 409}
    userid = body.get("user") or body.get("from") or ""
    user = sb.fixture.wecom_user(userid)
    if user is None:
        return None, {"error": f"unknown WeCom user {userid!r}", "status": 400}
    if not user.in_range:
        return None, {
            "error": f"{userid} is outside the app's visible range and cannot message it",
            "status": 400,
        }
    callback_url = body.get("callback_url") or corp.callback_url
    if not callback_url:
        return None, {"error": "no callback_url in the request or the fixture", "status": 400}
    timeout, retries = body.get("timeout"), body.get("retries")
    if timeout is not None and _seconds(timeout, 0) is None:
        return None, {"error": "timeout must be a non-negative number of seconds", "status": 400}
    if retries is not None and not (isinstance(retries, int) and 0 <= retries <= 10):
        return None, {"error": "retries must be an integer from 0 to 10", "status": 400}
    kind = body.get("type", "text")
    card = None
    record: dict = {"platform": "wecom", "from": userid, "conversation": None}
    if kind == "text":
        msg_id = str(10**15 + sb.next_seq())
        xml = wecom.text_xml(sb, userid, str(body.get("text", "")), msg_id)
        record.update(kind="text", text=str(body.get("text", "")), msg_id=msg_id)
    elif kind == "template_card_event":
        card = sb.cards.get(body.get("task_id") or "")
        if card is None or card.platform != "wecom":
            return None, {"error": "unknown task_id", "status": 404}
        key = str(body.get("event_key", ""))
        # Every click carries a fresh ResponseCode (single use, 72 h) for update_template_card.
        code = secrets.token_urlsafe(24)
        sb.response_codes[code] = {
            "task_id": card.id,
            "expires_at": sb.clock.now() + RESPONSE_CODE_TTL,
            "used": False,
        }
        xml = wecom.card_event_xml(sb, userid, card, key, code, body.get("selected_items"))
        label = body.get("label") or next(
            (b.get("text", "") for b in card.params.get("button_list") or [] if b.get("key") == key), key
        )
        record.update(
            kind="template_card_event", card_id=card.id, event_key=key, response_code=code, text=label
        )
    elif kind == "event":
        event = str(body.get("event", "enter_agent"))
        xml = wecom.event_xml(sb, userid, event, str(body.get("event_key", "")))
        record.update(kind="event", event=event)
    else:
        return None, {"error": "type must be text, template_card_event or event", "status": 400}
    return {"xml": xml, "record": record, "card": card, "userid": userid, "callback_url": callback_url,
            "timeout": timeout, "retries": retries}, None  # fmt: skip


async def send_wecom(sb: Sandbox, delivery: dict) -> dict:
    record = sb.record_in(delivery["record"])
    result = await wecom.post_callback(
        sb,
        delivery["xml"],
        userid=delivery["userid"],
        callback_url=delivery["callback_url"],
        timeout=delivery["timeout"],
        retries=delivery["retries"],
        card=delivery["card"],
    )
    record["result"] = {k: v for k, v in result.items() if k != "reply"}
    if not result["delivered"]:
        record["reason"] = "；".join(result["errors"]) or "机器人没有应答"
    result["plaintext"] = delivery["xml"]
    if "response_code" in record:
        result["response_code"] = record["response_code"]
    return result


def send_wecom_later(sb: Sandbox, delivery: dict) -> None:
    """The chat page answers at once; the callback and WeCom's retries run on and show up when polled."""
    task = asyncio.create_task(send_wecom(sb, delivery))
    sb.background.add(task)
    task.add_done_callback(sb.background.discard)


async def deliver_wecom(sb: Sandbox, body: dict) -> tuple[dict, int]:
    delivery, error = prepare_wecom(sb, body)
    if error is not None:
        return {"error": error["error"]}, error["status"]
    return await send_wecom(sb, delivery), 200


@router.post("/_sandbox/wecom/deliver")
async def wecom_deliver(request: Request):
    sb = sb_of(request)
    result, status = await deliver_wecom(sb, await read_body(request))
    return JSONResponse(result, status_code=status)


@router.post("/_sandbox/wecom/verify_url")
async def wecom_verify_url(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    url = body.get("callback_url") or (sb.fixture.wecom.callback_url if sb.fixture.wecom else "")
    if not url:
        return bad_request("no callback_url")
    return await wecom.verify_url(sb, url, body.get("timeout"))


@router.post("/_sandbox/wecom/oauth_code")
async def wecom_oauth_code(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    userid = body.get("userid") or ""
    if sb.fixture.wecom_user(userid) is None:
        return bad_request(f"unknown WeCom user {userid!r}", 404)
    return {"code": wecom.issue_oauth_code(sb, userid)}


# ---------------------------------------------------------------- directory changes


DIRECTORY_CHANGES = ("leave", "join", "update")


async def change_directory(sb: Sandbox, body: dict) -> tuple[dict, int]:
    """Change a member in a corp's directory and tell the app the way the platform does: a contact EVENT
    over the Stream (DingTalk) or an encrypted change_contact callback (WeCom)."""
    platform, change = body.get("platform"), body.get("change")
    userid = str(body.get("userid") or body.get("user") or "")
    if platform not in ("dingtalk", "wecom"):
        return {"error": "platform must be dingtalk or wecom"}, 400
    if change not in DIRECTORY_CHANGES:
        return {"error": f"change must be one of {', '.join(DIRECTORY_CHANGES)}"}, 400
    corp = sb.directory(platform)
    if corp is None:
        return {"error": f"fixture has no {platform} corp"}, 409
    repeat = body.get("repeat", 1)
    if not (isinstance(repeat, int) and 1 <= repeat <= 3):
        return {"error": "repeat must be 1, 2 or 3 (how many times the same event is delivered)"}, 400
    wait = _seconds(body.get("wait"), sb.config["ack_timeout"])
    if wait is None:
        return {"error": "wait must be a non-negative number of seconds"}, 400
    new_userid = str(body.get("new_userid") or "")
    mobile, name = str(body.get("mobile") or ""), str(body.get("name") or "")
    if new_userid and (platform != "wecom" or change != "update"):
        return {"error": "only a WeCom update changes a userid (DingTalk userids do not change)"}, 400
    present = corp.user(userid)
    prev: dict = {}
    if change == "leave":
        if present is None:
            return {"error": f"{userid!r} is not in the {platform} directory"}, 404
        sb.leave_directory(platform, userid)
    elif change == "join":
        if present is not None:
            return {"error": f"{userid!r} is already in the {platform} directory"}, 409
        user = sb.left_users[platform].get(userid)
        if user is None:
            if not name:
                return {"error": f"{userid!r} never left; give a name to add a new member"}, 404
            model = DingTalkUser if platform == "dingtalk" else WeComUser
            user = model(userid=userid, name=name, mobile=mobile)
        sb.join_directory(platform, user)
    else:
        if present is None:
            return {"error": f"{userid!r} is not in the {platform} directory"}, 404
        if new_userid and corp.user(new_userid) is not None:
            return {"error": f"{new_userid!r} is already taken in the {platform} directory"}, 409
        prev = {"name": present.name}
        present.name = name or present.name
        present.mobile = mobile or present.mobile
        if new_userid:
            present.userid = new_userid
            corp.users_changed()
    if platform == "dingtalk":
        data = dingtalk.contact_event_data(
            sb, change, userid, prev=prev, curr={"name": name} if name else prev
        )
        result = await dingtalk.push_contact_event(sb, change, data, wait=wait, repeat=repeat)
        sb.record_in({"platform": "dingtalk", "kind": "event", "from": userid, "conversation": None,
                      "event": dingtalk.CONTACT_EVENTS[change], "ack": result.get("ack")})  # fmt: skip
        return result, 200 if result.get("delivered") else 409
    xml = wecom.contact_xml(sb, change, userid, new_userid=new_userid, mobile=mobile, name=name)
    callback_url = body.get("callback_url") or sb.fixture.wecom.callback_url
    if not callback_url:
        return {"error": "no callback_url in the request or the fixture"}, 400
    results = []
    for _ in range(repeat):
        results.append(await wecom.post_callback(sb, xml, userid="sys", callback_url=callback_url))
    sb.record_in({"platform": "wecom", "kind": "event", "from": userid, "conversation": None,
                  "event": f"change_contact/{wecom.CONTACT_CHANGES[change]}"})  # fmt: skip
    result = {**results[0], "deliveries": len(results), "results": results, "plaintext": xml}
    result["delivered"] = all(r["delivered"] for r in results)
    return result, 200 if result["delivered"] else 409


@router.post("/_sandbox/directory/change")
async def directory_change(request: Request):
    sb = sb_of(request)
    result, status = await change_directory(sb, await read_body(request))
    return JSONResponse(result, status_code=status)


# ---------------------------------------------------------------- chat page


@router.get("/")
async def index():
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-store"})  # fmt: skip


@router.get("/_sandbox/static/{name}")
async def static(name: str):
    path = STATIC / name
    if "/" in name or not path.is_file():
        return bad_request("not found", 404)
    return FileResponse(path, headers={"Cache-Control": "no-store"})


@router.get("/_sandbox/directory")
async def directory(request: Request):
    fx = sb_of(request).fixture
    out: dict = {"dingtalk": None, "wecom": None}
    if fx.dingtalk:
        out["dingtalk"] = {
            "users": [
                {"userid": u.userid, "name": u.name, "role": u.role, "in_range": u.in_range}
                for u in fx.dingtalk.users
            ],
            "groups": [
                {"id": g.openConversationId, "title": g.title, "members": g.members}
                for g in fx.dingtalk.groups
            ],
        }
    if fx.wecom:
        out["wecom"] = {
            "users": [
                {"userid": u.userid, "name": u.name, "role": u.role, "in_range": u.in_range}
                for u in fx.wecom.users
            ],
            "groups": [],
            "callback_url": fx.wecom.callback_url,
        }
    return out


def _media_urls(sb: Sandbox, urls: list[str]) -> list[str]:
    """Media ids (WeCom image messages, DingTalk photoURL given as an uploaded media id) become sandbox URLs."""
    out = []
    for u in urls:
        media_id = u[6:] if u.startswith("media:") else u if u in sb.media else None
        if media_id is not None:
            out.append(f"/_sandbox/media/{media_id}")
        elif u:
            out.append(u)
    return out


def _card_view(sb: Sandbox, card_id: str, userid: str) -> dict | None:
    card = sb.cards.get(card_id)
    if card is None:
        return None
    if card.platform == "dingtalk":
        view = normalise.dingtalk_card(card.template, {**card.params, **card.private.get(userid, {})})
    else:
        view = normalise.wecom_template_card(card.params)
        view["replaced_name"] = card.replaced_name
    view["card_id"] = card.id
    view["images"] = _media_urls(sb, view["images"])
    return view


@router.get("/_sandbox/chat")
async def chat(request: Request):
    sb = sb_of(request)
    q = request.query_params
    platform, userid = q.get("platform", "dingtalk"), q.get("user", "")
    conversation = q.get("conversation") or "single"
    conv = None if conversation == "single" else conversation
    names = {}
    if sb.fixture.dingtalk and platform == "dingtalk":
        names = {u.userid: u.name for u in sb.fixture.dingtalk.users}
    elif sb.fixture.wecom:
        names = {u.userid: u.name for u in sb.fixture.wecom.users}
    items = []
    for rec in sb.inbound:
        if rec["platform"] != platform or rec.get("conversation") != conv:
            continue
        if conv is None and rec["from"] != userid:
            continue
        if rec.get("kind") == "event":
            continue
        ok = rec.get("delivered", True) and (rec.get("result") or {}).get("delivered", True) is not False
        items.append({"seq": rec["seq"], "time": rec["time"], "dir": "in", "kind": rec.get("kind"),
                      "from": rec["from"], "from_name": names.get(rec["from"], rec["from"]),
                      "text": rec.get("text", ""), "ok": ok, "reason": rec.get("reason")})  # fmt: skip
    for out in sb.outbox:
        if out["platform"] != platform or out.get("conversation") != conv or userid not in out["to"]:
            continue
        if out["msgtype"] == "card_update":
            continue
        item = {k: out[k] for k in ("seq", "time", "api", "msgtype", "title", "text", "buttons", "card_id")}
        item.update(
            dir="out", markdown=out.get("markdown", False), images=_media_urls(sb, out.get("images", []))
        )
        if out.get("card_id"):
            view = _card_view(sb, out["card_id"], userid)
            if view:
                item["card"] = view
        items.append(item)
    items.sort(key=lambda i: i["seq"])
    return {"items": items, "now": sb.clock.now()}


def _chat_reason(reason: str) -> str:
    """The chat page's words for why a message could not go out."""
    if reason.startswith("no_connection"):
        return "机器人当前没有连接（钉钉 Stream 未在线）"
    if "visible range" in reason:
        return "此人不在应用的可见范围内，不能给机器人发消息"
    if "callback_url" in reason:
        return "企业微信没有配置回调地址，消息无处投递"
    if reason.startswith("not_at_bot"):
        return "群消息需要 @机器人 才会推送给机器人"
    return reason


@router.post("/_sandbox/chat/send")
async def chat_send(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    text = str(body.get("text", "")).strip()
    if not text:
        return bad_request("请输入消息内容")
    if body.get("platform") == "wecom":
        delivery, error = prepare_wecom(sb, {"user": body.get("user"), "type": "text", "text": text})
        if error is not None:
            return JSONResponse({"ok": False, "reason": _chat_reason(error["error"])}, status_code=409)
        send_wecom_later(sb, delivery)
        return {"ok": True}
    payload = {"from": body.get("user"), "conversation": body.get("conversation") or "single", "text": text,
               "at_bot": True}  # fmt: skip
    result, status = await push_bot_message(sb, base_url(sb, request), payload, wait=0)
    if not result.get("delivered"):
        reason = result.get("reason") or ""
        return JSONResponse({"ok": False, "reason": _chat_reason(reason)}, status_code=409)
    return {"ok": True, "messageId": result.get("messageId")}


@router.post("/_sandbox/chat/press")
async def chat_press(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    card_id, userid = body.get("card_id") or "", body.get("user") or ""
    view = _card_view(sb, card_id, userid)
    try:
        button = view["buttons"][int(body.get("button", -1))] if view else None
    except (IndexError, ValueError, TypeError):
        button = None
    if button is None:
        return bad_request("没有这个按钮", 404)
    if body.get("platform") == "wecom":
        if view.get("replaced_name"):
            return bad_request("这张卡片已经处理过了", 409)
        spec = {"user": userid, "type": "template_card_event", "task_id": card_id, "event_key": button.get("key", ""),
                "label": button.get("text", "")}  # fmt: skip
        delivery, error = prepare_wecom(sb, spec)
        if error is not None:
            return JSONResponse({"ok": False, "reason": _chat_reason(error["error"])}, status_code=409)
        send_wecom_later(sb, delivery)
        return {"ok": True}
    spec = {"outTrackId": card_id, "userId": userid, "actionId": button.get("action_id") or "button",
            "params": button.get("params") or {}, "label": button.get("text", "")}  # fmt: skip
    result, status = await push_card_action(sb, spec, wait=0)
    if not result.get("delivered"):
        reason = result.get("reason") or ""
        return JSONResponse({"ok": False, "reason": _chat_reason(reason)}, status_code=409)
    return {"ok": True}


@router.get("/_sandbox/open")
async def open_link(request: Request):
    """Open a link as a person: remember who is browsing (cookies) and go there."""
    q = request.query_params
    url = q.get("url", "")
    if not url.startswith(("http://", "https://", "/")):
        return bad_request("url must be http(s)")
    resp = RedirectResponse(url, status_code=302)
    user, platform = q.get("user", ""), q.get("platform", "")
    if user:
        resp.set_cookie("sandbox_user", user, samesite="lax")
        if platform in ("dingtalk", "wecom"):
            resp.set_cookie(f"sandbox_{platform}_user", user, samesite="lax")
    if platform in ("dingtalk", "wecom"):
        # An ordinary browser's User-Agent names neither client; a page in demo mode may read this instead
        # (cookies ignore the port, so the bot's pages on 127.0.0.1 see it too).
        resp.set_cookie("sandbox_platform", platform, samesite="lax")
    return resp
