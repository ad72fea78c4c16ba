"""WeCom's directory and the live checks of a WeCom deployment.

Phone → userid: `POST cgi-bin/user/getuserid` with `{"mobile": …}` → `{"errcode":0,"userid":…}`
(WW/96267). wechatpy 1.8.18 has no wrapper for it (its enterprise `user` API offers get, list,
convert_to_openid …), so it goes through the client's own `post`, with the adapter's error terms
(bot.platforms.wecom.sender.call). Answers: 46004 no such member; 60103 a malformed number; 60011
outside the app's visible range. WeCom suspends the API for a day when misses pass 20% of the corp's
seat limit ("若出错的次数超出企业人数上限的20%，会导致1天不可调用"); that day's refusal arrives as
45009, which stops the run (handlers.roster.accounts.look_up asks nothing more).

`live_checks` runs `zhibu check --live` for WeCom without sending anything to anyone.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
import xml.etree.ElementTree as ET

import httpx
from wechatpy.enterprise import WeChatCrypto
from wechatpy.exceptions import WeChatClientException

from bot.core.errors import PermanentPlatformError, PlatformError
from bot.core.ratelimit import Clock, RateLimit
from bot.platforms.directory import Check, Paced, platform_said
from bot.platforms.wecom.client import ZhibuWeComClient
from bot.platforms.wecom.sender import call
from handlers.roster.accounts import NumberNotUsable, OutOfRange
from models.org import Platform

# The company-wide figure per API (WW/90454): 10,000 calls a minute.
LOOKUP_LIMITS = (RateLimit(10000, 60.0),)
NOT_FOUND = 46004
INVALID_MOBILE = 60103
OUT_OF_RANGE = 60011
FREQUENCY = 45009


class WeComDirectory:
    platform = Platform.WECOM

    def __init__(self, client: ZhibuWeComClient, corp_id: str, *, clock: Clock | None = None) -> None:
        self.client = client
        self.corp_id = corp_id
        self.paced = Paced(LOOKUP_LIMITS, clock)

    def userid_by_mobile(self, mobile: str) -> str | None:
        try:
            data = self.paced(
                lambda: call(self.client, lambda: self.client.post("user/getuserid", data={"mobile": mobile}))
            )
        except PlatformError as exc:
            errcode = getattr(exc.__cause__, "errcode", None)
            if errcode == NOT_FOUND:
                return None
            if errcode == INVALID_MOBILE:
                raise NumberNotUsable(str(exc)) from exc
            if errcode == OUT_OF_RANGE:
                raise OutOfRange(str(exc)) from exc
            if errcode == FREQUENCY:
                reason = "今天不再接受手机号查询（45009：查不到的号码过多或调用过于频繁，明天恢复）"
            else:
                reason = platform_said(exc)
            raise PermanentPlatformError(str(exc), reason=reason) from exc
        return data.get("userid") or None


# ---- zhibu check --live

_TOKEN_RE = re.compile(r"[A-Za-z0-9]{3,32}")


def live_checks(
    client: ZhibuWeComClient,
    *,
    agent_id: str,
    token: str,
    encoding_aes_key: str,
    corp_id: str,
    base_url: str,
    http: httpx.Client | None = None,
) -> list[Check]:
    """Token, agent id, the callback's Token/EncodingAESKey pair, and the callback URL's own answer to
    WeCom's verification handshake (GET with an encrypted echostr), in that order."""
    checks = [_token(client)]
    if checks[0].ok:
        checks.append(_agent(client, agent_id))
    else:
        checks.append(Check("企业微信 AgentId", False, "已跳过：先解决上面的访问凭证问题。"))
    pair = _callback_pair(token, encoding_aes_key, corp_id)
    checks.append(pair)
    if pair.ok:
        checks.append(_callback_url(token, encoding_aes_key, corp_id, base_url, http=http))
    return checks


def _token(client: ZhibuWeComClient) -> Check:
    name = "企业微信 访问凭证"
    try:
        client.fetch_access_token()
    except WeChatClientException as exc:
        if exc.errcode == 40013:
            fix = "企业ID（CorpID）不正确：请在企业微信管理后台 → 我的企业 → 企业信息 复制企业ID 到 ZHIBU_WECOM__CORP_ID。"
        elif exc.errcode in (40001, 40091):
            fix = (
                "Secret 不正确：请在管理后台 → 应用管理 → 本应用 查看 Secret（是本应用的，不是通讯录同步的），"
                "填到 ZHIBU_WECOM__SECRET。"
            )
        else:
            fix = f"企业微信答复 {exc.errcode} {exc.errmsg}。"
        return Check(name, False, fix)
    except Exception as exc:  # noqa: BLE001 - requests' connection errors and a proxy's HTML page alike
        return Check(
            name,
            False,
            f"无法连接企业微信（{type(exc).__name__}）。请确认服务器能访问 {client.API_BASE_URL}。",
        )
    return Check(name, True, "企业ID 和 Secret 正确，已取得访问凭证。")


def _agent(client: ZhibuWeComClient, agent_id: str) -> Check:
    """agent/get (wechatpy `client.agent.get`): the app's own details, a read that sends nothing."""
    name = "企业微信 AgentId"
    if not str(agent_id).isdigit():
        return Check(
            name, False, f"ZHIBU_WECOM__AGENT_ID「{agent_id}」应是数字：请在应用管理 → 本应用 复制 AgentId。"
        )
    try:
        data = call(client, lambda: client.agent.get(agent_id))
    except PlatformError as exc:
        return Check(
            name,
            False,
            f"企业微信不认 AgentId「{agent_id}」（{platform_said(exc)}）。请在应用管理 → 本应用 复制 AgentId，"
            "并确认 Secret 属于同一个应用。",
        )
    if int(data.get("close", 0) or 0):
        return Check(name, False, f"应用「{data.get('name', agent_id)}」已停用：请在应用管理中启用它。")
    return Check(name, True, f"AgentId {agent_id} 是应用「{data.get('name', '')}」。")


def _callback_pair(token: str, aes_key: str, corp_id: str) -> Check:
    """The Token and EncodingAESKey the callback settings page generated: WeCom's own formats (Token:
    letters and digits, 3-32; EncodingAESKey: 43 characters of base64 for a 32-byte AES key), then an
    encrypt/decrypt round trip through wechatpy with the corp id."""
    name = "企业微信 回调 Token/EncodingAESKey"
    if not token or not aes_key:
        return Check(
            name,
            False,
            "未设置：企业微信发来的消息无法解密。请在应用管理 → 本应用 → 接收消息 → 设置API接收，随机获取 Token 和 "
            "EncodingAESKey，填到 ZHIBU_WECOM__TOKEN 和 ZHIBU_WECOM__ENCODING_AES_KEY。",
        )
    if not _TOKEN_RE.fullmatch(token):
        return Check(
            name, False, "Token 应是 3 到 32 位英文字母或数字：请在“设置API接收”页面重新随机获取并复制。"
        )
    try:
        raw = base64.b64decode(aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(aes_key) != 43 or len(raw) != 32:
        return Check(
            name,
            False,
            "EncodingAESKey 应是 43 位英文字母和数字（可解出 32 字节密钥）：请在“设置API接收”页面重新随机获取并完整复制。",
        )
    crypto = WeChatCrypto(token, aes_key, corp_id)
    nonce, stamp = secrets.token_hex(8), str(int(time.time()))
    echo, signature = _encrypted_echo(crypto, "zhibu-check", nonce, stamp)
    try:
        plain = crypto.check_signature(signature, stamp, nonce, echo)
    except Exception:  # noqa: BLE001 - any failure of the round trip is the same fix
        plain = None
    if plain not in ("zhibu-check", b"zhibu-check"):
        return Check(name, False, "用这对 Token/EncodingAESKey 加解密失败：请重新随机获取并复制两项。")
    return Check(name, True, "格式正确，加解密自检通过。")


def _encrypted_echo(crypto: WeChatCrypto, text: str, nonce: str, stamp: str) -> tuple[str, str]:
    """What WeCom sends to verify a callback URL: the encrypted echostr and its msg_signature."""
    xml = crypto.encrypt_message(text, nonce, stamp)
    root = ET.fromstring(xml)
    return root.findtext("Encrypt") or "", root.findtext("MsgSignature") or ""


def _callback_url(
    token: str, aes_key: str, corp_id: str, base_url: str, *, http: httpx.Client | None = None
) -> Check:
    """Play WeCom's URL verification against ZHIBU_PUBLIC_BASE_URL/wecom/callback: the bot must answer
    the decrypted echostr, exactly, as it must when the admin saves the callback settings."""
    name = "企业微信 回调地址"
    url = base_url.rstrip("/") + "/wecom/callback"
    crypto = WeChatCrypto(token, aes_key, corp_id)
    plain = f"zhibu-check-{secrets.token_hex(4)}"
    nonce, stamp = secrets.token_hex(8), str(int(time.time()))
    echo, signature = _encrypted_echo(crypto, plain, nonce, stamp)
    client = http or httpx.Client(timeout=10.0)
    try:
        response = client.get(
            url, params={"msg_signature": signature, "timestamp": stamp, "nonce": nonce, "echostr": echo}
        )
    except httpx.HTTPError as exc:
        return Check(
            name,
            False,
            f"访问 {url} 失败（{type(exc).__name__}）。请确认 web 进程在运行，反向代理转发 /wecom/callback。",
        )
    finally:
        if http is None:
            client.close()
    if response.status_code == 200 and response.text == plain:
        return Check(name, True, f"{url} 正确答复了验证请求，可在管理后台保存“接收消息”设置。")
    if response.status_code == 404:
        fix = "没有这个地址：web 进程需要配置企业微信（ZHIBU_WECOM__TOKEN 等）后重启。"
    else:
        fix = "答复与企业微信的要求不符：请确认 web 进程使用的 Token/EncodingAESKey/企业ID 与这里相同，并已重启。"
    return Check(name, False, f"{url} 返回 HTTP {response.status_code}。{fix}")
