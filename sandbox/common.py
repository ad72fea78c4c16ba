"""Error shapes of each real API family, request helpers, and the gate every emulated call passes
(call counters, injected faults, DingTalk's per-API QPS limit)."""

from __future__ import annotations

import asyncio
import json
import secrets
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from sandbox.state import Sandbox

DINGTALK_NEW = "dingtalk"  # api.dingtalk.com: HTTP 4xx + {"code","message","requestid"}
DINGTALK_OAPI = "dingtalk-oapi"  # oapi.dingtalk.com: HTTP 200 + {"errcode","errmsg"}
WECOM = "wecom"  # qyapi.weixin.qq.com: HTTP 200 + {"errcode","errmsg"}

_OAPI_PREFIXES = ("/gettoken", "/topapi/", "/robot/sendBySession", "/media/upload")

DEFAULT_ERRMSG = {
    40001: "invalid credential",
    40014: "invalid access_token",
    41001: "access_token missing",
    42001: "access_token expired",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    90002: "您的服务器调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
    90018: "您的应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
    -1: "system busy",
}


def sb_of(request: Request) -> Sandbox:
    return request.app.state.sandbox


def family(path: str) -> str | None:
    if path.startswith("/cgi-bin/") or path.startswith("/connect/oauth2/"):
        return WECOM
    if path.startswith("/v1.0/"):
        return DINGTALK_NEW
    if path.startswith(_OAPI_PREFIXES):
        return DINGTALK_OAPI
    return None


def request_id() -> str:
    return secrets.token_hex(8).upper()


def ding_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "requestid": request_id()}, status_code=status)


def oapi_error(errcode: int, errmsg: str) -> JSONResponse:
    return JSONResponse({"errcode": errcode, "errmsg": errmsg, "request_id": request_id()})


def wecom_error(errcode: int, errmsg: str, **extra) -> JSONResponse:
    hint = secrets.token_hex(4)
    return JSONResponse({"errcode": errcode, "errmsg": f"{errmsg}, hint: [{hint}]", **extra})


def bad_request(reason: str, status: int = 400) -> JSONResponse:
    """For the control API: a machine-readable reason."""
    return JSONResponse({"error": reason}, status_code=status)


def errcode_response(fam: str, errcode: int, errmsg: str | None) -> JSONResponse:
    msg = errmsg or DEFAULT_ERRMSG.get(errcode, "error")
    if fam == WECOM:
        return wecom_error(errcode, msg)
    if fam == DINGTALK_OAPI:
        return oapi_error(errcode, msg)
    # New-style APIs speak HTTP statuses and string codes; map the classic numbers onto them.
    if errcode in (40001, 40014, 41001, 42001):
        return ding_error(401, "InvalidAuthentication", "不合法的access_token")
    if errcode in (90002, 90018, 45009, 45033):
        return ding_error(403, "Forbidden.AccessDenied.QpsLimitForApi", f"{msg} ({errcode})")
    return ding_error(400, str(errcode), msg)


def rate_limited(fam: str) -> JSONResponse:
    if fam == DINGTALK_NEW:
        return ding_error(403, "Forbidden.AccessDenied.QpsLimitForApi", DEFAULT_ERRMSG[90002] + " (90002)")
    return oapi_error(90002, DEFAULT_ERRMSG[90002])


async def gate(sb: Sandbox, request: Request, call_next):
    path = request.url.path
    fam = family(path)
    if fam is None:
        return await call_next(request)
    sb.counters["calls"][f"{request.method} {path}"] += 1
    fault = sb.take_fault(request.method, path)
    if fault is not None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
            if fault.http is None and fault.errcode is None:
                return Response("gateway timeout", status_code=504)
        if fault.http is not None:
            body = fault.body
            if body is None:
                body = (
                    {"code": "ServiceUnavailable", "message": "服务暂不可用", "requestid": request_id()}
                    if fam == DINGTALK_NEW
                    else {"errcode": -1, "errmsg": "system error"}
                )
            return JSONResponse(body, status_code=fault.http)
        if fault.errcode is not None:
            return errcode_response(fam, fault.errcode, fault.errmsg)
    if fam in (DINGTALK_NEW, DINGTALK_OAPI) and not path.startswith("/robot/sendBySession"):
        limit = int(sb.config["dingtalk_qps_per_api"].get(path, sb.config["dingtalk_qps"]))
        if not sb.hit_window(("dingtalk-qps", path), limit, 1.0):
            sb.counters["rate_limited"][path] += 1
            sb.counters["rate_limited_total"] += 1
            return rate_limited(fam)
    return await call_next(request)


async def read_body(request: Request) -> dict:
    """JSON or form body as a dict ({} when empty or malformed: the handler then reports what is missing)."""
    raw = await request.body()
    if not raw:
        return {}
    ctype = request.headers.get("content-type", "")
    if "json" in ctype or raw.lstrip()[:1] in (b"{", b"["):
        try:
            data = json.loads(raw)
            return data if isinstance(data, dict) else {}
        except ValueError:
            return {}
    return dict(parse_qsl(raw.decode("utf-8", "replace")))


def base_url(sb: Sandbox, request: Request) -> str:
    return sb.base_url or str(request.base_url).rstrip("/")
