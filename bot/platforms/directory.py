"""What both platforms' directory adapters share: pacing lookups within a platform's limits, the
lines `zhibu check --live` prints, the public-address check, and the lookups behind the identities
the web app already holds (the console builds its 按手机号匹配账号 from them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from bot.core.errors import TransientPlatformError
from bot.core.ratelimit import Clock, Limiter, RateLimit, SystemClock

T = TypeVar("T")


@dataclass(frozen=True)
class Check:
    """One line of `zhibu check --live`: what was checked, whether it holds, and the fix when not."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'✔' if self.ok else '✘'} {self.name}：{self.detail}"


class Paced:
    """Runs one API's calls at most `limits` (sliding windows, bot.core.ratelimit) on an injected
    clock, and waits out a rate-limit answer a few times before giving up."""

    RETRIES = 3

    def __init__(self, limits: tuple[RateLimit, ...], clock: Clock | None = None) -> None:
        self.limiter = Limiter(limits)
        self.clock = clock or SystemClock()

    def __call__(self, call: Callable[[], T]) -> T:
        for attempt in range(self.RETRIES + 1):
            self.clock.sleep(self.limiter.wait_time(self.clock.now()))
            self.limiter.begin()
            try:
                return call()
            except TransientPlatformError as exc:
                if exc.retry_after is None or attempt == self.RETRIES:
                    raise
                self.clock.sleep(exc.retry_after)
            finally:
                self.limiter.end(self.clock.now())
        raise AssertionError("unreachable")


def platform_said(exc: Exception) -> str:
    """What the platform answered, for a person: the error's own code and message, without our
    prefixes ("DingTalk 400: ", "WeCom ") or WeCom's ", hint: […]" tail."""
    text = re.sub(r"^(DingTalk( oapi \S+:| \d{3}:)?|WeCom)\s*", "", str(exc))
    return re.sub(r",? hint: \[[^\]]*\]", "", text).strip() or type(exc).__name__


def directories(identities: Mapping[str, Any], *, clock: Clock | None = None) -> list:
    """The phone lookups (handlers.roster.accounts.Lookup) of the platforms the app runs, built on
    the identities' own API clients (one token cache per platform). An identity without a client
    (a test's stand-in) gives none."""
    out = []
    dingtalk = identities.get("dingtalk")
    if dingtalk is not None and hasattr(dingtalk, "api"):
        from bot.platforms.dingtalk.directory import DingTalkDirectory

        out.append(DingTalkDirectory(dingtalk.api, dingtalk.corp_id, clock=clock))
    wecom = identities.get("wecom")
    if wecom is not None and hasattr(wecom, "client"):
        from bot.platforms.wecom.directory import WeComDirectory

        out.append(WeComDirectory(wecom.client, wecom.corp_id, clock=clock))
    return out


def check_public_url(base_url: str, *, timeout: float = 10.0, http: httpx.Client | None = None) -> Check:
    """GET ZHIBU_PUBLIC_BASE_URL/healthz the way a member's phone would reach it: by its public name,
    through whatever proxy fronts it (the environment's proxy settings apply, as they would to any
    client on this server). It proves the name resolves and the web process answers there; it cannot
    prove the platforms' own networks reach it, which only a member opening a page does."""
    name = "公网地址 ZHIBU_PUBLIC_BASE_URL"
    url = base_url.rstrip("/") + "/healthz"
    client = http or httpx.Client(timeout=timeout, follow_redirects=True)
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        return Check(
            name,
            False,
            f"访问 {url} 失败（{type(exc).__name__}）。请确认 web 进程在运行、域名解析和反向代理把该地址转发到 zhibu serve。",
        )
    finally:
        if http is None:
            client.close()
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "status" not in body:
        return Check(
            name,
            False,
            f"{url} 返回 HTTP {response.status_code}，不是 zhibu 的健康检查。请检查反向代理是否把该地址转发到 zhibu serve 的 /。",
        )
    if body["status"] != "ok":
        return Check(
            name,
            False,
            f"{url} 可以访问，但服务报告不健康（数据库：{body.get('database', '?')}，钉钉长连接：{body.get('stream', '?')}）。请查看 web 进程的日志。",
        )
    warn = (
        ""
        if base_url.startswith("https://")
        else "（提示：正式使用请用 https，钉钉和企业微信的 H5 页面要求 https）"
    )
    return Check(name, True, f"{url} 可以访问{warn}。")
