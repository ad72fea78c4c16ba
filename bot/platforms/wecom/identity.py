"""OAuth2 snsapi_base identity for H5 pages opened inside WeCom."""

from __future__ import annotations

from urllib.parse import quote

from bot.core.errors import IdentityError, PlatformError
from bot.platforms.wecom.client import ZhibuWeComClient
from bot.platforms.wecom.sender import call


class WeComIdentity:
    platform = "wecom"

    def __init__(self, client: ZhibuWeComClient, *, corp_id: str, agent_id: str, oauth_base: str) -> None:
        self.client = client
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.oauth_base = oauth_base

    def authorize_url(self, redirect_uri: str, state: str = "") -> str:
        # wechatpy's authorize_url leaves out agentid, which WeCom recommends.
        return (
            f"{self.oauth_base}?appid={self.corp_id}&redirect_uri={quote(redirect_uri, safe='')}"
            f"&response_type=code&scope=snsapi_base&state={quote(state, safe='')}&agentid={self.agent_id}"
            "#wechat_redirect"
        )

    def user_for_code(self, code: str) -> str:
        """The member's userid (current auth/getuserinfo; `UserId` from the legacy one is accepted)."""
        if not code or len(code) > 512:
            raise IdentityError("empty or oversized code")
        try:
            data = call(self.client, lambda: self.client.get("auth/getuserinfo", params={"code": code}))
        except PlatformError as exc:
            raise IdentityError(str(exc)) from exc
        userid = data.get("userid") or data.get("UserId")
        if not userid:
            raise IdentityError("not a member of the corp (openid only)")
        return userid
