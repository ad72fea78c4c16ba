"""DingTalk's directory and the live checks of a DingTalk deployment.

Phone → userid: `POST oapi/topapi/v2/user/getbymobile` (body `mobile`; platforms.md §7.C). DingTalk
has no api.dingtalk.com equivalent; the dingtalk-stream SDK has no contacts API, so this goes through
the adapter's own client (bot.platforms.dingtalk.api.DingTalkApi.oapi_call: its token cache and error terms).
Answers: `{"errcode":0,"result":{"userid":…}}`; 60121 找不到该用户 (also a user who left: "如果员工
离职，无法根据手机号获取用户的userId"); 40104 企业中无效的手机号; 50004 outside the app's
通讯录权限范围. Paced at DingTalk's per-app-per-API 20 calls a second (getbymobile is exempt from the
monthly quota).

`live_checks` runs `zhibu check --live` for DingTalk without sending anything to anyone.
"""

from __future__ import annotations

import secrets

from bot.core.errors import PermanentPlatformError, PlatformError, TokenError
from bot.core.messages import Button, Card
from bot.core.ratelimit import Clock, RateLimit
from bot.platforms.dingtalk import render
from bot.platforms.dingtalk.api import DingTalkApi, OapiError
from bot.platforms.directory import Check, Paced, platform_said
from handlers.roster.accounts import NumberNotUsable, OutOfRange
from models.org import Platform

GET_BY_MOBILE = "/topapi/v2/user/getbymobile"
LOOKUP_LIMITS = (RateLimit(20, 1.0),)
NOT_FOUND = 60121
INVALID_MOBILE = 40104
OUT_OF_RANGE = 50004


class DingTalkDirectory:
    platform = Platform.DINGTALK

    def __init__(self, api: DingTalkApi, corp_id: str, *, clock: Clock | None = None) -> None:
        self.api = api
        self.corp_id = corp_id
        self.paced = Paced(LOOKUP_LIMITS, clock)

    def userid_by_mobile(self, mobile: str) -> str | None:
        try:
            # Paced waits out oapi_call's rate-limit answers (a second each) a few times.
            data = self.paced(lambda: self.api.oapi_call(GET_BY_MOBILE, {"mobile": mobile}))
        except OapiError as exc:
            message = platform_said(exc)
            if exc.errcode == NOT_FOUND:
                return None
            if exc.errcode == INVALID_MOBILE:
                raise NumberNotUsable(message) from exc
            if exc.errcode == OUT_OF_RANGE:
                raise OutOfRange(message) from exc
            raise PermanentPlatformError(
                message,
                reason=f"钉钉拒绝了手机号查询：{message}；请确认应用已开通「通讯录个人信息读权限」（根据手机号获取成员 userId）",
            ) from exc
        except PlatformError as exc:
            # A bad secret, a token refused twice, limits that did not clear: stop asking.
            raise PermanentPlatformError(str(exc), reason=platform_said(exc)) from exc
        return (data.get("result") or {}).get("userid") or None


# ---- zhibu check --live


def live_checks(api: DingTalkApi, *, robot_code: str, card_template_id: str, corp_id: str) -> list[Check]:
    """Token, robot code and card template, in that order; nothing is delivered to anyone."""
    checks = [_token(api)]
    if not checks[0].ok:
        return checks + [Check("钉钉 其余检查", False, "已跳过：先解决上面的访问凭证问题。")]
    if not corp_id:
        checks.append(
            Check(
                "钉钉 CorpId",
                False,
                "ZHIBU_DINGTALK__CORP_ID 未设置：H5 页面在钉钉里免登需要它。请在钉钉开发者后台首页复制 CorpId。",
            )
        )
    checks.append(_robot(api, robot_code))
    checks.append(_card_template(api, card_template_id))
    return checks


def _token(api: DingTalkApi) -> Check:
    name = "钉钉 访问凭证"
    try:
        api.token(refresh=True)
    except PermanentPlatformError as exc:
        return Check(
            name,
            False,
            f"AppKey 或 AppSecret 不正确（钉钉答复：{platform_said(exc)}）。请在钉钉开发者后台 → 应用 → 凭证与基础信息，"
            "把 Client ID 和 Client Secret 填到 ZHIBU_DINGTALK__CLIENT_ID 和 ZHIBU_DINGTALK__CLIENT_SECRET。",
        )
    except PlatformError as exc:
        return Check(
            name,
            False,
            f"无法连接钉钉（{exc}）。请确认服务器能访问 {api.openapi}（防火墙、代理、DNS）。",
        )
    return Check(name, True, "AppKey 和 AppSecret 正确，已取得访问凭证。")


def _robot(api: DingTalkApi, robot_code: str) -> Check:
    """The robot's quick-entry list (查询单聊机器人快捷入口, POST /v1.0/robot/plugins/query): a read
    that names only the robotCode, so a wrong code is refused without a message going anywhere."""
    name = "钉钉 机器人 robotCode"
    try:
        api.call("POST", "/v1.0/robot/plugins/query", {"robotCode": robot_code})
    except (PermanentPlatformError, TokenError) as exc:
        if _permission_denied(exc):
            return Check(
                name,
                False,
                f"钉钉拒绝了查询：应用缺少机器人权限（{platform_said(exc)}）。请在开发者后台 → 权限管理 申请"
                "「企业内机器人发送消息权限」和机器人单聊读写权限（Robot.SingleChat.ReadWrite），然后重新检查。",
            )
        return Check(
            name,
            False,
            f"钉钉不认这个 robotCode「{robot_code}」（{platform_said(exc)}）。请在开发者后台 → 应用 → "
            "机器人 中确认已启用机器人（Stream 模式），把 RobotCode 填到 ZHIBU_DINGTALK__ROBOT_CODE（企业内部应用通常等于 Client ID）。",
        )
    except PlatformError as exc:
        return Check(name, False, f"查询机器人时钉钉暂时没有答复（{exc}），请稍后再试。")
    return Check(name, True, f"robotCode「{robot_code}」可用。")


def _permission_denied(exc: Exception) -> bool:
    """DingTalk's answer when the app lacks the API's permission: HTTP 403
    Forbidden.AccessDenied.AccessTokenPermissionDenied (platforms.md §7.A)."""
    return "PermissionDenied" in str(exc)


def card_sample() -> dict[str, str]:
    """The variables zhibu fills on every interactive card (bot.platforms.dingtalk.render)."""
    card = Card(
        title="zhibu 配置检查",
        text="检查卡片模板，不会发给任何人。",
        buttons=(Button("确定", action="noop"),),
    )
    return render.card_params(card, "https://example.invalid")


def _card_template(api: DingTalkApi, template_id: str) -> Check:
    """DingTalk offers no API that reads a card template or lists its variables (card_1_0 creates,
    delivers and updates instances only). The cheapest honest check: create one instance of the
    template with the variables zhibu fills, and deliver it nowhere: an unknown template id or a
    template the app may not use is refused there. Whether the template *shows* each variable cannot
    be read back; the line says which ones to look for in the card platform's editor."""
    name = "钉钉 互动卡片模板"
    params = card_sample()
    wanted = "、".join([*params, "image", "status"])
    body = {
        "cardTemplateId": template_id,
        "outTrackId": f"zhibu-check-{secrets.token_hex(6)}",
        "callbackType": "STREAM",
        "cardData": {"cardParamMap": params},
    }
    try:
        api.call("POST", "/v1.0/card/instances", body)
    except (PermanentPlatformError, TokenError) as exc:
        if _permission_denied(exc):
            return Check(
                name,
                False,
                f"钉钉拒绝创建卡片：应用缺少互动卡片权限（{platform_said(exc)}）。请在开发者后台 → 权限管理 申请"
                "「互动卡片实例写权限」（Card.Instance.Write），然后重新检查。",
            )
        return Check(
            name,
            False,
            f"钉钉拒绝用模板「{template_id}」创建卡片（{platform_said(exc)}）。请在钉钉卡片平台创建或发布模板，"
            f"把模板 ID 填到 ZHIBU_DINGTALK__CARD_TEMPLATE_ID，并把模板关联到本应用。",
        )
    except PlatformError as exc:
        return Check(name, False, f"创建检查用卡片时钉钉暂时没有答复（{exc}），请稍后再试。")
    return Check(
        name,
        True,
        f"模板「{template_id}」可以创建卡片（检查用的卡片没有投放给任何人）。钉钉不提供读取模板变量的接口，"
        f"请在卡片平台确认模板使用了这些变量：{wanted}。",
    )
