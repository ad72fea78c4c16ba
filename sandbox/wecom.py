"""The WeCom side: qyapi /cgi-bin APIs, the OAuth2 authorize page, and the callback pusher.

Wire formats follow platforms.md §3 and §6.3. Errors are HTTP 200 + {"errcode","errmsg"}, as WeCom answers.
"""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from sandbox import normalise
from sandbox.common import read_body, sb_of, wecom_error
from sandbox.state import AUTH_CODE_TTL, RESPONSE_CODE_TTL, Card, Sandbox, stable_id
from sandbox.wecom_crypto import WeComCipher, cdata, xml_fields

router = APIRouter()

INTERACTIVE_CARDS = {"button_interaction", "vote_interaction", "multiple_interaction"}
MARKDOWN_MAX_BYTES = 2048
MSG_TYPES = {
    "text",
    "image",
    "voice",
    "video",
    "file",
    "textcard",
    "news",
    "mpnews",
    "markdown",
    "miniprogram_notice",
    "template_card",
}


def _corp(sb: Sandbox):
    return sb.fixture.wecom


def _auth(sb: Sandbox, request: Request) -> JSONResponse | None:
    state = sb.check_token(request.query_params.get("access_token"), "wecom")
    if state == "ok":
        return None
    return {
        "missing": lambda: wecom_error(41001, "access_token missing"),
        "invalid": lambda: wecom_error(40014, "invalid access_token"),
        "expired": lambda: wecom_error(42001, "access_token expired"),
    }[state]()


def reachable(sb: Sandbox, userid: str) -> bool:
    user = sb.fixture.wecom_user(userid)
    return bool(user and user.in_range)


# ---------------------------------------------------------------- token


@router.get("/cgi-bin/gettoken")
async def gettoken(request: Request, corpid: str = "", corpsecret: str = ""):
    sb = sb_of(request)
    corp = _corp(sb)
    if corp is None or corpid != corp.corp_id:
        return wecom_error(40013, "invalid corpid")
    if corpsecret != corp.secret:
        return wecom_error(40001, "invalid credential")
    tok = sb.issue_token("wecom", corpid, renew=False)
    return {
        "errcode": 0,
        "errmsg": "ok",
        "access_token": tok.value,
        "expires_in": round(tok.expires_at - sb.clock.now()),
    }


# ---------------------------------------------------------------- sending


def _allowed_by_frequency(sb: Sandbox, userid: str) -> bool:
    """WeCom's per-member limits (30/min, 1000/h per app); over them the message is silently not delivered."""
    minute = ("wecom-min", userid)
    hour = ("wecom-hour", userid)
    per_min = int(sb.config["wecom_per_member_per_minute"])
    per_hour = int(sb.config["wecom_per_member_per_hour"])
    if not (
        sb.hit_window(minute, per_min, 60, record=False) and sb.hit_window(hour, per_hour, 3600, record=False)
    ):
        return False
    sb.hit_window(minute, per_min, 60)
    sb.hit_window(hour, per_hour, 3600)
    return True


def _expand_recipients(sb: Sandbox, body: dict) -> tuple[list[str], list[str], list[str]]:
    """(targets, invalid users, invalid parties)."""
    corp = _corp(sb)
    touser = str(body.get("touser") or "")
    targets: list[str] = []
    invalid: list[str] = []
    if touser == "@all":
        targets = [u.userid for u in corp.users if u.in_range]
    else:
        for uid in dict.fromkeys(u for u in touser.split("|") if u):
            (targets if reachable(sb, uid) else invalid).append(uid)
    invalid_party = []
    dept_ids = {int(d["id"]) for d in corp.departments if "id" in d}
    for part in [p for p in str(body.get("toparty") or "").split("|") if p]:
        try:
            pid = int(part)
        except ValueError:
            invalid_party.append(part)
            continue
        if pid not in dept_ids:
            invalid_party.append(part)
            continue
        targets += [
            u.userid for u in corp.users if pid in u.department and u.in_range and u.userid not in targets
        ]
    return targets, invalid, invalid_party


@router.post("/cgi-bin/message/send")
async def message_send(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    corp = _corp(sb)
    body = await read_body(request)
    if str(body.get("agentid", "")) != corp.agent_id:
        return wecom_error(40056, "invalid agentid")
    msgtype = body.get("msgtype")
    if msgtype not in MSG_TYPES:
        return wecom_error(40008, "invalid message type")
    if not isinstance(body.get(msgtype), dict):
        return wecom_error(40008, f"missing {msgtype} content")
    ids = [u for u in str(body.get("touser") or "").split("|") if u]
    if len(ids) > 1000:
        return wecom_error(40058, "invalid touser: more than 1000 userids")
    targets, invalid, invalid_party = _expand_recipients(sb, body)
    extra = {"invaliduser": "|".join(invalid), "invalidparty": "|".join(invalid_party), "invalidtag": ""}
    if not targets:
        return wecom_error(81013, "user & party & tag all invalid", **extra)
    card = body.get("template_card") if msgtype == "template_card" else None
    # As WeCom: a text_notice card needs the link its whole body opens; markdown has a size limit.
    if isinstance(card, dict) and card.get("card_type") == "text_notice" and not card.get("card_action"):
        return wecom_error(40058, "template_card.card_action is required for text_notice")
    if msgtype == "markdown" and len(str(body["markdown"].get("content", "")).encode()) > MARKDOWN_MAX_BYTES:
        return wecom_error(45002, "content size out of limit")
    interactive = isinstance(card, dict) and card.get("card_type") in INTERACTIVE_CARDS
    # The duplicate check: "within the interval, a message of the same content (the request JSON) is not
    # received again" (default 1800 s, at most 4 hours). The repeat is answered as a success; the sandbox
    # answers it with the first call's msgid and response_code (what WeCom answers then is not
    # documented), and checks it before the task_id, so an identical repeat of an interaction card is
    # suppressed rather than refused for its used task_id.
    dedup_key = None
    if body.get("enable_duplicate_check") in (1, "1", True):
        interval = min(int(body.get("duplicate_check_interval") or 1800), 4 * 3600)
        dedup_key = stable_id(json.dumps(body, sort_keys=True, ensure_ascii=False))
        seen = sb.wecom_dedup.get(dedup_key)
        if seen is not None and sb.clock.now() - seen[0] < interval:
            sb.counters["wecom_duplicates_suppressed"] += 1
            return dict(seen[1])
    if interactive:
        task_id = card.get("task_id")
        if not task_id:
            return wecom_error(40058, "template_card.task_id is required for interaction cards")
        if task_id in sb.task_ids:
            return wecom_error(40058, "template_card.task_id already used")
    norm = normalise.wecom_message(body)
    delivered, dropped = [], []
    for uid in targets:
        (delivered if _allowed_by_frequency(sb, uid) else dropped).append(uid)
    for uid in dropped:
        sb.counters["wecom_dropped"][uid] += 1
        sb.counters["wecom_dropped_total"] += 1
    msgid = secrets.token_urlsafe(24)
    answer = {"errcode": 0, "errmsg": "ok", **extra, "unlicenseduser": "", "msgid": msgid}
    card_id = None
    if isinstance(card, dict):
        # Notice cards need no task_id; the sandbox still keeps them (under an id of its own) to draw them.
        card_id = card.get("task_id") or f"sandbox-card-{sb.next_seq()}"
        now = sb.clock.now()
        sb.cards[card_id] = Card(
            id=card_id,
            platform="wecom",
            template=card.get("card_type", ""),
            params=card,
            recipients=delivered,
            delivered=bool(delivered),
            raw=body,
            created_at=now,
            updated_at=now,
        )
    if interactive:
        sb.task_ids.add(card_id)
        code = secrets.token_urlsafe(24)
        sb.response_codes[code] = {"task_id": card_id, "expires_at": now + RESPONSE_CODE_TTL, "used": False}
        answer["response_code"] = code
    if dedup_key is not None:
        sb.wecom_dedup[dedup_key] = (sb.clock.now(), dict(answer))
    sb.record_out(
        {
            "platform": "wecom",
            "api": "message/send",
            "to": delivered,
            "invalid": invalid,
            "dropped": dropped,
            **norm,
            "card_id": card_id,
            "msgid": msgid,
            "raw": {"path": "/cgi-bin/message/send", "body": body},
        }
    )
    await sb.hold_answer("/cgi-bin/message/send")
    return answer


def _use_response_code(sb: Sandbox, code: str) -> dict | None:
    entry = sb.response_codes.get(code)
    if entry is None or entry["used"] or entry["expires_at"] <= sb.clock.now():
        return None
    entry["used"] = True
    return entry


def apply_card_update(
    sb: Sandbox, card: Card, *, replace_name: str | None, template_card: dict | None
) -> None:
    if replace_name:
        card.replaced_name = replace_name
    if isinstance(template_card, dict) and template_card:
        card.params = {**template_card, "task_id": card.id}
        card.replaced_name = None
    card.updated_at = sb.clock.now()


@router.post("/cgi-bin/message/update_template_card")
async def update_template_card(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    if str(body.get("agentid", "")) != _corp(sb).agent_id:
        return wecom_error(40056, "invalid agentid")
    entry = _use_response_code(sb, str(body.get("response_code") or ""))
    if entry is None:
        return wecom_error(40058, "invalid response_code: unknown, used or older than 72 hours")
    card = sb.cards.get(entry["task_id"])
    replace = (body.get("button") or {}).get("replace_name")
    template_card = body.get("template_card")
    if not replace and not isinstance(template_card, dict):
        return wecom_error(40058, "give button.replace_name or template_card")
    users = body.get("userids") or []
    invalid = [u for u in users if not reachable(sb, u)]
    if card is not None:
        apply_card_update(sb, card, replace_name=replace, template_card=template_card)
    sb.record_out(
        {
            "platform": "wecom",
            "api": "update_template_card",
            "to": [u for u in users if u not in invalid] or (list(card.recipients) if card else []),
            "msgtype": "card_update",
            "card_id": entry["task_id"],
            "title": replace or "",
            "raw": {"path": "/cgi-bin/message/update_template_card", "body": body},
        }
    )
    return {"errcode": 0, "errmsg": "ok", "invaliduser": invalid}


@router.post("/cgi-bin/media/upload")
async def media_upload(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    form = await request.form()
    media = form.get("media")
    if media is None or not hasattr(media, "read"):
        return wecom_error(41005, "media data missing")
    data = await media.read()
    media_id = "3" + secrets.token_urlsafe(30)
    sb.media[media_id] = (data, media.content_type or "application/octet-stream")
    return {
        "errcode": 0,
        "errmsg": "ok",
        "type": request.query_params.get("type", "image"),
        "media_id": media_id,
        "created_at": str(int(sb.clock.now())),
    }


# ---------------------------------------------------------------- identity


def issue_oauth_code(sb: Sandbox, userid: str) -> str:
    code = secrets.token_urlsafe(32)
    sb.wecom_codes[code] = {"userid": userid, "expires_at": sb.clock.now() + AUTH_CODE_TTL}
    return code


def _take_code(sb: Sandbox, code: str) -> dict | None:
    entry = sb.wecom_codes.pop(code, None)  # single use
    if entry is None or entry["expires_at"] <= sb.clock.now():
        return None
    return entry


@router.get("/connect/oauth2/authorize")
async def authorize(request: Request):
    sb = sb_of(request)
    q = request.query_params
    corp = _corp(sb)
    if corp is None or q.get("appid") != corp.corp_id:
        return HTMLResponse("<h3>参数错误：appid 不是本企业的 CorpID</h3>", status_code=400)
    redirect_uri = q.get("redirect_uri", "")
    if not redirect_uri.startswith(("http://", "https://")):
        return HTMLResponse("<h3>参数错误：redirect_uri 无效</h3>", status_code=400)
    if q.get("response_type") != "code":
        return HTMLResponse("<h3>参数错误：response_type 必须为 code</h3>", status_code=400)
    userid = (
        q.get("sandbox_user")
        or request.cookies.get("sandbox_wecom_user")
        or request.cookies.get("sandbox_user")
    )
    if not userid or sb.fixture.wecom_user(userid) is None:
        userid = next((u.userid for u in corp.users if u.in_range), None)
    if userid is None:
        return HTMLResponse("<h3>通讯录里没有可用的成员</h3>", status_code=400)
    code = issue_oauth_code(sb, userid)
    parts = urlsplit(redirect_uri)
    query = (parts.query + "&" if parts.query else "") + urlencode(
        {"code": code, "state": q.get("state", "")}
    )
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)


@router.get("/cgi-bin/auth/getuserinfo")
async def auth_getuserinfo(request: Request, code: str = ""):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    entry = _take_code(sb, code)
    if entry is None:
        return wecom_error(40029, "invalid code")
    return {"errcode": 0, "errmsg": "ok", "userid": entry["userid"], "user_ticket": secrets.token_urlsafe(32)}


@router.get("/cgi-bin/user/getuserinfo")
async def legacy_getuserinfo(request: Request, code: str = ""):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    entry = _take_code(sb, code)
    if entry is None:
        return wecom_error(40029, "invalid code")
    return {
        "errcode": 0,
        "errmsg": "ok",
        "UserId": entry["userid"],
        "DeviceId": stable_id("dev", entry["userid"]),
    }


# ---------------------------------------------------------------- directory


def _user_json(user, *, simple: bool) -> dict:
    data = {"userid": user.userid, "name": user.name, "department": user.department}
    if not simple:
        data.update(position=user.position, mobile=user.mobile, status=1, enable=1)
    return data


@router.get("/cgi-bin/user/get")
async def user_get(request: Request, userid: str = ""):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    user = sb.fixture.wecom_user(userid)
    if user is None:
        return wecom_error(60111, "userid not found")
    if not user.in_range:
        return wecom_error(60011, "no privilege to access/modify contact/party/agent")
    return {"errcode": 0, "errmsg": "ok", **_user_json(user, simple=False)}


def _dept_users(sb: Sandbox, request: Request, *, simple: bool):
    q = request.query_params
    try:
        dept = int(q.get("department_id", "0"))
    except ValueError:
        return wecom_error(40058, "invalid department_id")
    corp = _corp(sb)
    depts = {int(d["id"]): d for d in corp.departments if "id" in d}
    if dept not in depts:
        return wecom_error(60123, "invalid party id")
    wanted = {dept}
    if q.get("fetch_child") in ("1", "true"):
        changed = True
        while changed:
            changed = False
            for did, d in depts.items():
                if int(d.get("parentid", 0)) in wanted and did not in wanted:
                    wanted.add(did)
                    changed = True
    users = [_user_json(u, simple=simple) for u in corp.users if u.in_range and set(u.department) & wanted]
    return {"errcode": 0, "errmsg": "ok", "userlist": users}


@router.get("/cgi-bin/user/simplelist")
async def user_simplelist(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    return _dept_users(sb, request, simple=True)


@router.get("/cgi-bin/user/list")
async def user_list(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    return _dept_users(sb, request, simple=False)


@router.get("/cgi-bin/department/list")
async def department_list(request: Request):
    sb = sb_of(request)
    if (err := _auth(sb, request)) is not None:
        return err
    depts = list(_corp(sb).departments)
    if request.query_params.get("id"):
        root = int(request.query_params["id"])
        keep = {root}
        for _ in depts:
            keep |= {int(d["id"]) for d in depts if int(d.get("parentid", 0)) in keep}
        depts = [d for d in depts if int(d["id"]) in keep]
    return {"errcode": 0, "errmsg": "ok", "department": depts}


# ---------------------------------------------------------------- callbacks to the app


def _cipher(sb: Sandbox) -> WeComCipher:
    corp = _corp(sb)
    return WeComCipher(corp.token, corp.encoding_aes_key, corp.corp_id)


def text_xml(sb: Sandbox, userid: str, content: str, msg_id: str) -> str:
    corp = _corp(sb)
    return (
        f"<xml><ToUserName>{cdata(corp.corp_id)}</ToUserName><FromUserName>{cdata(userid)}</FromUserName>"
        f"<CreateTime>{int(sb.clock.now())}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content><MsgId>{msg_id}</MsgId><AgentID>{corp.agent_id}</AgentID></xml>"
    )


def card_event_xml(
    sb: Sandbox, userid: str, card: Card, event_key: str, response_code: str, selected: list | None = None
) -> str:
    corp = _corp(sb)
    items = ""
    if selected:
        parts = []
        for item in selected:
            options = "".join(f"<OptionId>{cdata(o)}</OptionId>" for o in item.get("option_ids", []))
            parts.append(
                f"<SelectedItem><QuestionKey>{cdata(item.get('question_key', ''))}</QuestionKey>"
                f"<OptionIds>{options}</OptionIds></SelectedItem>"
            )
        items = f"<SelectedItems>{''.join(parts)}</SelectedItems>"
    return (
        f"<xml><ToUserName>{cdata(corp.corp_id)}</ToUserName><FromUserName>{cdata(userid)}</FromUserName>"
        f"<CreateTime>{int(sb.clock.now())}</CreateTime><MsgType>{cdata('event')}</MsgType>"
        f"<Event>{cdata('template_card_event')}</Event><EventKey>{cdata(event_key)}</EventKey>"
        f"<TaskId>{cdata(card.id)}</TaskId><CardType>{cdata(card.template)}</CardType>"
        f"<ResponseCode>{cdata(response_code)}</ResponseCode><AgentID>{corp.agent_id}</AgentID>{items}</xml>"
    )


def event_xml(sb: Sandbox, userid: str, event: str, event_key: str = "") -> str:
    corp = _corp(sb)
    return (
        f"<xml><ToUserName>{cdata(corp.corp_id)}</ToUserName><FromUserName>{cdata(userid)}</FromUserName>"
        f"<CreateTime>{int(sb.clock.now())}</CreateTime><MsgType>{cdata('event')}</MsgType>"
        f"<Event>{cdata(event)}</Event><EventKey>{cdata(event_key)}</EventKey>"
        f"<AgentID>{corp.agent_id}</AgentID></xml>"
    )


# ChangeType of the change_contact event each directory change sends.
CONTACT_CHANGES = {"leave": "delete_user", "join": "create_user", "update": "update_user"}


def contact_xml(
    sb: Sandbox,
    change: str,
    userid: str,
    *,
    new_userid: str = "",
    mobile: str = "",
    name: str = "",
    department: list[int] | None = None,
) -> str:
    """A change_contact event (WW/90970): FromUserName "sys"; delete_user has only UserID. Since 2022-08-15
    member fields are UserID/Department only (plus NewUserID); Mobile and Name appear only when given,
    as an older callback configuration would send them."""
    corp = _corp(sb)
    fields = ""
    if change != "leave":
        if new_userid:
            fields += f"<NewUserID>{cdata(new_userid)}</NewUserID>"
        if name:
            fields += f"<Name>{cdata(name)}</Name>"
        fields += f"<Department>{cdata(','.join(str(d) for d in department or [1]))}</Department>"
        if mobile:
            fields += f"<Mobile>{cdata(mobile)}</Mobile>"
    return (
        f"<xml><ToUserName>{cdata(corp.corp_id)}</ToUserName><FromUserName>{cdata('sys')}</FromUserName>"
        f"<CreateTime>{int(sb.clock.now())}</CreateTime><MsgType>{cdata('event')}</MsgType>"
        f"<Event>{cdata('change_contact')}</Event><ChangeType>{cdata(CONTACT_CHANGES[change])}</ChangeType>"
        f"<UserID>{cdata(userid)}</UserID>{fields}</xml>"
    )


def callback_client(sb: Sandbox) -> httpx.AsyncClient:
    """The HTTP client WeCom's side uses to reach the app (created on the server's loop, closed at shutdown)."""
    if sb.http is None:
        sb.http = httpx.AsyncClient(trust_env=False, timeout=float(sb.config["wecom_callback_timeout"]))
    return sb.http


def _signed_query(sb: Sandbox, encrypted: str) -> dict:
    timestamp = str(int(sb.clock.now()))
    nonce = secrets.token_hex(8)
    return {
        "msg_signature": _cipher(sb).sign(timestamp, nonce, encrypted),
        "timestamp": timestamp,
        "nonce": nonce,
    }


async def post_callback(
    sb: Sandbox,
    plaintext_xml: str,
    *,
    userid: str,
    callback_url: str,
    timeout: float | None = None,
    retries: int | None = None,
    card: Card | None = None,
) -> dict:
    """Encrypt, sign and POST one message to the app, retrying on timeouts and failures like WeCom does."""
    cipher = _cipher(sb)
    corp = _corp(sb)
    timeout = float(sb.config["wecom_callback_timeout"] if timeout is None else timeout)
    retries = int(sb.config["wecom_callback_retries"] if retries is None else retries)
    encrypted = cipher.encrypt(plaintext_xml)
    body = (
        f"<xml><ToUserName>{cdata(corp.corp_id)}</ToUserName><AgentID>{cdata(corp.agent_id)}</AgentID>"
        f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>"
    )
    query = _signed_query(sb, encrypted)
    result: dict = {"delivered": False, "attempts": 0, "status": None, "reply": None, "errors": []}
    # One pooled client per sandbox: building one per callback costs more than the callback itself.
    client = callback_client(sb)
    for _ in range(1 + retries):
        result["attempts"] += 1
        sb.counters["wecom_callback_attempts"] += 1
        started = time.monotonic()
        try:
            resp = await client.post(
                callback_url,
                params=query,
                content=body.encode(),
                headers={"Content-Type": "text/xml"},
                timeout=timeout,
            )
        except httpx.TimeoutException:
            result["errors"].append(f"timeout after {timeout:g}s")
            continue
        except httpx.HTTPError as exc:
            result["errors"].append(f"{type(exc).__name__}: {exc}")
            continue
        result["status"] = resp.status_code
        result["elapsed"] = round(time.monotonic() - started, 3)
        if resp.status_code >= 300:
            result["errors"].append(f"HTTP {resp.status_code}")
            continue
        result["delivered"] = True
        result["reply"] = _open_reply(sb, resp.text, userid=userid, card=card)
        break
    if not result["delivered"]:
        sb.counters["wecom_callback_failures"] += 1
    return result


def _open_reply(sb: Sandbox, text: str, *, userid: str, card: Card | None) -> dict | None:
    stripped = text.strip()
    if not stripped or stripped == "success":
        return None
    try:
        plaintext = _cipher(sb).open_reply(stripped)
        fields = xml_fields(plaintext)
    except Exception as exc:  # noqa: BLE001 - any bad reply is reported to the caller, never raised
        sb.counters["wecom_reply_errors"] += 1
        return {"error": str(exc), "raw": stripped[:2000]}
    try:
        _apply_reply(sb, fields, plaintext, userid=userid, card=card)
    except (AttributeError, TypeError, KeyError) as exc:
        sb.counters["wecom_reply_errors"] += 1
        return {"xml": plaintext, "fields": fields, "error": f"unexpected reply shape: {exc}"}
    return {"xml": plaintext, "fields": fields}


def _apply_reply(sb: Sandbox, fields: dict, plaintext: str, *, userid: str, card: Card | None) -> None:
    """What a passive reply does: a message to the member, or a relabelled card button."""
    msgtype = fields.get("MsgType", "")
    if msgtype == "update_button" and card is not None:
        name = (
            (fields.get("Button") or {}).get("ReplaceName", "")
            if isinstance(fields.get("Button"), dict)
            else ""
        )
        apply_card_update(sb, card, replace_name=name or None, template_card=None)
    elif msgtype in ("text", "markdown", "news", "image"):
        if msgtype == "news":
            arts = (
                (fields.get("Articles") or {}).get("item")
                if isinstance(fields.get("Articles"), dict)
                else None
            )
            arts = arts if isinstance(arts, list) else [arts] if arts else []
            norm = normalise._norm(
                "news",
                arts[0].get("Title", "") if arts else "",
                arts[0].get("Description", "") if arts else "",
                buttons=[{"text": a.get("Title", ""), "url": a.get("Url", "")} for a in arts],
                images=[a["PicUrl"] for a in arts if a.get("PicUrl")],
            )
        elif msgtype == "image":
            media = (
                (fields.get("Image") or {}).get("MediaId", "")
                if isinstance(fields.get("Image"), dict)
                else ""
            )
            norm = normalise._norm("image", images=[f"media:{media}"])
        else:
            norm = normalise._norm(msgtype, text=fields.get("Content", ""), markdown=msgtype == "markdown")
        sb.record_out(
            {
                "platform": "wecom",
                "api": "passive_reply",
                "to": [userid],
                **norm,
                "raw": {"path": "(passive reply)", "body": plaintext},
            }
        )


async def verify_url(sb: Sandbox, callback_url: str, timeout: float | None = None) -> dict:
    """The echostr handshake WeCom runs when an admin saves the callback URL."""
    echo = str(secrets.randbits(63))
    encrypted = _cipher(sb).encrypt(echo)
    query = {**_signed_query(sb, encrypted), "echostr": encrypted}
    timeout = float(sb.config["wecom_callback_timeout"] if timeout is None else timeout)
    try:
        resp = await callback_client(sb).get(callback_url, params=query, timeout=timeout)
    except httpx.HTTPError as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "expected": echo}
    # WeCom wants exactly the plaintext: no quotes, BOM or newline.
    ok = resp.status_code == 200 and resp.text == echo
    return {"ok": ok, "status": resp.status_code, "body": resp.text[:500], "expected": echo}
