"""Directory lookups and the read-only calls `zhibu check --live` makes, for the sandbox's own corps.

Phone → userid from the fixture users' `mobile` (platforms.md §7.C):
- DingTalk `POST /topapi/v2/user/getbymobile` (form or JSON `mobile`): `{"errcode":0,"result":{"userid"}}`;
  unknown number 60121 找不到该用户; malformed 40104 企业中无效的手机号; a user outside the app's
  visible range 50004 (as /topapi/v2/user/get answers).
- WeCom `POST /cgi-bin/user/getuserid` (`{"mobile"}`, 5-32 bytes): `{"errcode":0,"userid"}`; unknown
  46004, malformed 60103, outside the visible range 60011. WeCom suspends the API for the rest of the
  day once errors pass 20% of the corp's seat limit: 45009 from then on. The seat limit is the WeCom
  fixture's optional `seats` (default 200, an unverified corp's limit).
And the reads the live check uses: DingTalk `POST /v1.0/robot/plugins/query` (the robot's quick
entries, refused for an unknown robotCode) and WeCom `GET /cgi-bin/agent/get` (the app's details,
40056 for another agent id).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request

from sandbox import dingtalk, wecom
from sandbox.common import ding_error, oapi_error, read_body, request_id, sb_of, wecom_error
from sandbox.state import Sandbox

router = APIRouter()

_SHANGHAI = timezone(timedelta(hours=8))
_MOBILE = re.compile(r"\+?[0-9][0-9 -]{4,30}")
DEFAULT_SEATS = 200


def _digits(mobile: str) -> str:
    d = re.sub(r"\D", "", mobile or "")
    return d[2:] if len(d) == 13 and d.startswith("86") else d


def _by_mobile(users, mobile: str):
    wanted = _digits(mobile)
    return next((u for u in users if u.mobile and _digits(u.mobile) == wanted), None)


@router.post("/topapi/v2/user/getbymobile")
async def dingtalk_getbymobile(request: Request):
    sb = sb_of(request)
    if (err := dingtalk._oapi_auth(sb, request)) is not None:
        return err
    mobile = str((await read_body(request)).get("mobile") or "")
    if not _MOBILE.fullmatch(mobile):
        return oapi_error(40104, "企业中无效的手机号")
    user = _by_mobile(sb.fixture.dingtalk.users if sb.fixture.dingtalk else [], mobile)
    if user is None:
        return oapi_error(60121, "找不到该用户")
    if not user.in_range:
        return oapi_error(50004, "请确认员工是否在应用的通讯录权限范围内")
    return {"errcode": 0, "errmsg": "ok", "result": {"userid": user.userid}, "request_id": request_id()}


def _misses_key(sb: Sandbox) -> tuple:
    day = datetime.fromtimestamp(sb.clock.now(), _SHANGHAI).date().isoformat()
    return ("wecom-getuserid-errors", day)


@router.post("/cgi-bin/user/getuserid")
async def wecom_getuserid(request: Request):
    sb = sb_of(request)
    if (err := wecom._auth(sb, request)) is not None:
        return err
    corp = sb.fixture.wecom
    errors = sb.rate_windows[_misses_key(sb)]
    seats = int(getattr(corp, "seats", None) or DEFAULT_SEATS)
    if len(errors) > seats * 0.2:
        return wecom_error(45009, "api freq out of limit")
    mobile = str((await read_body(request)).get("mobile") or "")
    if not 5 <= len(mobile.encode()) <= 32 or not _MOBILE.fullmatch(mobile):
        errors.append(sb.clock.now())
        return wecom_error(60103, "mobile invalid")
    user = _by_mobile(corp.users, mobile)
    if user is None:
        errors.append(sb.clock.now())
        return wecom_error(46004, "user no exist")
    if not user.in_range:
        return wecom_error(60011, "no privilege to access/modify contact/party/agent")
    return {"errcode": 0, "errmsg": "ok", "userid": user.userid}


@router.post("/v1.0/robot/plugins/query")
async def robot_plugins(request: Request):
    sb = sb_of(request)
    if (err := dingtalk._auth(sb, request)) is not None:
        return err
    body = await read_body(request)
    app = sb.fixture.dingtalk.app if sb.fixture.dingtalk else None
    if app is None or body.get("robotCode") != app.robot_code:
        return ding_error(400, "InvalidParameter.RobotCode", "robotCode 不存在")
    return {"pluginInfoList": []}


@router.get("/cgi-bin/agent/get")
async def agent_get(request: Request, agentid: str = ""):
    sb = sb_of(request)
    if (err := wecom._auth(sb, request)) is not None:
        return err
    corp = sb.fixture.wecom
    if agentid != str(corp.agent_id):
        return wecom_error(40056, "invalid agentid")
    visible = [{"userid": u.userid} for u in corp.users if u.in_range]
    return {
        "errcode": 0,
        "errmsg": "ok",
        "agentid": int(corp.agent_id) if corp.agent_id.isdigit() else corp.agent_id,
        "name": getattr(corp, "agent_name", None) or "支部助手",
        "square_logo_url": "",
        "description": "",
        "allow_userinfos": {"user": visible},
        "allow_partys": {"partyid": []},
        "allow_tags": {"tagid": []},
        "close": 0,
        "redirect_domain": "",
        "report_location_flag": 0,
        "isreportenter": 0,
        "home_url": "",
    }
