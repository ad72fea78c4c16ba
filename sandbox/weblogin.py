"""Web login on both platforms (platforms.md §7.A and §7.B): the pages a browser is sent to, and the
APIs that turn what they return into a userid.

DingTalk: GET /oauth2/auth (login.dingtalk.com) → redirect_uri?authCode=&state=; POST
/v1.0/oauth2/userAccessToken (a user token); GET /v1.0/contact/users/me (unionId, no userid); POST
/topapi/user/getbyunionid (oapi, app token) → userid and contact_type.
WeCom: GET /wwlogin/sso/login (login.work.weixin.qq.com) → redirect_uri?code=&state=; the code is an
OAuth code like the authorize page's, so /cgi-bin/auth/getuserinfo resolves it (sandbox/wecom.py).

There is no phone to scan with: the page lists the corp's people and the tester picks one, as the chat
page does (the person the chat page is playing comes first). `sandbox_user=` in the query skips the
page, for tests without a browser. Both pages check what the real ones do before anything else: the
app's ids, response_type/login_type, and the redirect host (WeCom: exactly the trusted host:port, which
the sandbox takes from the fixture's callback_url; DingTalk: the app's `redirect_hosts` when the fixture
sets them).
"""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sandbox import wecom
from sandbox.common import ding_error, oapi_error, read_body, request_id, sb_of
from sandbox.dingtalk import _creds_ok, _oapi_auth
from sandbox.state import AUTH_CODE_TTL, TOKEN_TTL, stable_id

router = APIRouter()

USER_TOKEN_HEADER = "x-acs-dingtalk-access-token"


def union_id(userid: str) -> str:
    """The same unionId getuserinfo and user/get answer for this user."""
    return stable_id("union", userid)


def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit(parts._replace(query=query))


def _error_page(title: str, detail: str, status: int = 400) -> HTMLResponse:
    body = f"<h3>{html.escape(title)}</h3><p>{html.escape(detail)}</p>"
    return HTMLResponse(_page(title, body), status_code=status)


def _page(title: str, body: str) -> str:
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>
<style>
body {{ font-family: "Microsoft YaHei", "PingFang SC", "WenQuanYi Zen Hei", sans-serif; background: #eef1f5;
  margin: 0; color: #222; }}
.box {{ max-width: 560px; margin: 40px auto; background: #fff; border-radius: 10px; padding: 24px 28px;
  box-shadow: 0 2px 10px rgba(0,0,0,.08); }}
.brand {{ font-size: 20px; font-weight: bold; margin-bottom: 4px; }}
.dingtalk .brand {{ color: #1677ff; }} .wecom .brand {{ color: #07a35a; }}
.hint {{ color: #666; font-size: 13px; margin: 6px 0 14px; }}
.sandbox {{ background: #fff7e0; border: 1px dashed #e0b000; padding: 6px 10px; font-size: 12px; color: #7a5a00;
  border-radius: 4px; }}
ul.people {{ list-style: none; padding: 0; margin: 10px 0; max-height: 420px; overflow-y: auto; }}
ul.people li a {{ display: flex; justify-content: space-between; padding: 8px 10px; border: 1px solid #e3e6ea;
  border-radius: 6px; margin-bottom: 6px; text-decoration: none; color: #222; }}
ul.people li a:hover {{ background: #f3f7ff; }}
ul.people li.current a {{ border-color: #1677ff; }}
.role {{ color: #888; font-size: 12px; }}
a.cancel {{ color: #888; font-size: 13px; }}
#filter {{ width: 100%; margin-top: 12px; padding: 7px 10px; font-size: 14px; border: 1px solid #ccd; border-radius: 6px;
  box-sizing: border-box; }}
</style></head><body>{body}</body></html>"""


def _picker(kind: str, brand: str, app_line: str, people: list, current: str, link) -> HTMLResponse:
    people = sorted(people, key=lambda u: u.userid != current)
    items = "".join(
        f'<li class="{"current" if u.userid == current else ""}"><a href="{html.escape(link(u.userid))}"'
        f' data-userid="{html.escape(u.userid)}"><span class="name">{html.escape(u.name)}</span>'
        f'<span class="role">{html.escape(u.role or "")} · {html.escape(u.userid)}</span></a></li>'
        for u in people
    )
    body = f"""<div class="box {kind}"><div class="brand">{html.escape(brand)}</div>
<div class="hint">{html.escape(app_line)}</div>
<div class="sandbox">沙箱：没有手机可扫码。点选一位成员，即模拟他用手机扫码并确认登录。</div>
<input id="filter" placeholder="按姓名或账号查找" autocomplete="off">
<ul class="people">{items}</ul>
<a class="cancel" href="{html.escape(link(""))}">取消登录</a></div>
<script>
document.getElementById("filter").addEventListener("input", (e) => {{
  const q = e.target.value.trim().toLowerCase();
  for (const li of document.querySelectorAll("ul.people li")) {{
    li.hidden = q !== "" && !li.textContent.toLowerCase().includes(q);
  }}
}});
</script>"""
    return HTMLResponse(_page(brand, body))


# ---------------------------------------------------------------- DingTalk


@router.get("/oauth2/auth")
async def dingtalk_login_page(request: Request):
    sb = sb_of(request)
    q = request.query_params
    corp = sb.fixture.dingtalk
    if corp is None or q.get("client_id") != corp.app.client_id:
        return _error_page("参数错误", "client_id 不是任何已创建的应用")
    if q.get("response_type") != "code":
        return _error_page("参数错误", "response_type 必须为 code")
    if q.get("prompt") != "consent":
        return _error_page("参数错误", "prompt 必须为 consent")
    scopes = q.get("scope", "").split()
    if "openid" not in scopes:
        return _error_page("参数错误", "scope 必须包含 openid")
    redirect_uri = q.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _error_page("参数错误", "redirect_uri 无效")
    allowed = (corp.app.model_extra or {}).get("redirect_hosts") or []
    if allowed and parts.netloc not in allowed:
        return _error_page("参数错误", "redirect_uri 与应用登记的重定向 URL 不一致")
    state = q.get("state", "")

    def link(userid: str) -> str:
        return str(request.url.include_query_params(sandbox_user=userid))

    picked = q.get("sandbox_user")
    if picked is None:
        current = request.cookies.get("sandbox_dingtalk_user") or request.cookies.get("sandbox_user") or ""
        return _picker("dingtalk", "钉钉 · 扫码登录", f"应用 {corp.app.client_id} 申请获取你的钉钉身份",
                       corp.users, current, link)  # fmt: skip
    if not picked:  # the user declined
        return RedirectResponse(_with_query(redirect_uri, {"error": "access_denied", "state": state}), 302)
    if sb.fixture.dingtalk_user(picked) is None:
        return _error_page("登录失败", f"通讯录里没有 {picked}")
    code = secrets.token_hex(16)
    sb.login_codes[code] = {
        "userid": picked,
        "client_id": corp.app.client_id,
        "corp_scope": "corpid" in scopes,
        "expires_at": sb.clock.now() + AUTH_CODE_TTL,
    }
    return RedirectResponse(_with_query(redirect_uri, {"authCode": code, "state": state}), 302)


@router.post("/v1.0/oauth2/userAccessToken")
async def user_access_token(request: Request):
    sb = sb_of(request)
    body = await read_body(request)
    if not _creds_ok(sb, body.get("clientId"), body.get("clientSecret")):
        return ding_error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    if body.get("grantType") != "authorization_code":
        return ding_error(400, "invalidParameter.grantType", "grantType 只支持 authorization_code")
    entry = sb.login_codes.pop(str(body.get("code") or ""), None)  # single use
    if entry is None or entry["expires_at"] <= sb.clock.now() or entry["client_id"] != body["clientId"]:
        return ding_error(400, "invalidCode", "无效的授权码")
    token = secrets.token_hex(16)
    sb.user_tokens[token] = {"userid": entry["userid"], "expires_at": sb.clock.now() + TOKEN_TTL}
    answer = {"accessToken": token, "refreshToken": secrets.token_hex(16), "expireIn": TOKEN_TTL}
    if entry["corp_scope"]:
        answer["corpId"] = sb.fixture.dingtalk.corp_id
    return answer


@router.get("/v1.0/contact/users/me")
async def users_me(request: Request):
    sb = sb_of(request)
    entry = sb.user_tokens.get(request.headers.get(USER_TOKEN_HEADER) or "")
    if entry is None or entry["expires_at"] <= sb.clock.now():
        return ding_error(401, "InvalidAuthentication", "不合法的access_token")
    user = sb.fixture.dingtalk_user(entry["userid"])
    if user is None:
        return ding_error(404, "invalidParameter.user.notFound", "用户不存在")
    # No mobile or email: they need permissions a login app does not ask for.
    return {
        "nick": user.name,
        "avatarUrl": "",
        "openId": stable_id("open", user.userid),
        "unionId": union_id(user.userid),
        "stateCode": "86",
    }


@router.post("/topapi/user/getbyunionid")
async def get_by_unionid(request: Request):
    sb = sb_of(request)
    if (err := _oapi_auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    wanted = str(body.get("unionid") or "")
    corp = sb.fixture.dingtalk
    user = next((u for u in (corp.users if corp else []) if union_id(u.userid) == wanted), None)
    if user is None:
        return oapi_error(60121, "找不到该用户")
    contact_type = int((user.model_extra or {}).get("contact_type", 0))
    return {
        "errcode": 0,
        "errmsg": "ok",
        "result": {"contact_type": contact_type, "userid": user.userid},
        "request_id": request_id(),
    }


# ---------------------------------------------------------------- WeCom


@router.get("/wwlogin/sso/login")
async def wecom_login_page(request: Request):
    sb = sb_of(request)
    q = request.query_params
    corp = sb.fixture.wecom
    if q.get("login_type") != "CorpApp":
        return _error_page("参数错误", "login_type 必须为 CorpApp")
    if corp is None or q.get("appid") != corp.corp_id:
        return _error_page("参数错误", "appid 不是本企业的 CorpID")
    if q.get("agentid") != corp.agent_id:
        return _error_page("参数错误", "agentid 不是本企业的应用")
    redirect_uri = q.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _error_page("参数错误", "redirect_uri 无效")
    trusted = urlsplit(corp.callback_url).netloc if corp.callback_url else ""
    if trusted and parts.netloc != trusted:
        return _error_page("50001 redirect_url 未登记可信域名", f"可信域名是 {trusted}，不是 {parts.netloc}")
    state = q.get("state", "")

    def link(userid: str) -> str:
        return str(request.url.include_query_params(sandbox_user=userid))

    picked = q.get("sandbox_user")
    if picked is None:
        current = request.cookies.get("sandbox_wecom_user") or request.cookies.get("sandbox_user") or ""
        return _picker("wecom", "企业微信 · 扫码登录", f"登录企业 {corp.corp_id} 的应用 {corp.agent_id}",
                       corp.users, current, link)  # fmt: skip
    if not picked:
        # WeCom sends a refusal back without a code.
        return RedirectResponse(_with_query(redirect_uri, {"state": state}), 302)
    if sb.fixture.wecom_user(picked) is None:
        return _error_page("登录失败", f"通讯录里没有 {picked}")
    code = wecom.issue_oauth_code(sb, picked)
    return RedirectResponse(_with_query(redirect_uri, {"code": code, "state": state}), 302)
