"""Who a WeCom member is: OAuth2 snsapi_base for H5 pages opened inside WeCom, and the web login
(login.work.weixin.qq.com, platforms.md §7.B) for the console. Both return a code that
auth/getuserinfo turns into the member's userid."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from bot.core.errors import IdentityError, PlatformError
from bot.platforms.wecom.client import ZhibuWeComClient
from bot.platforms.wecom.sender import call


class WeComIdentity:
    platform = "wecom"

    def __init__(
        self,
        client: ZhibuWeComClient,
        *,
        corp_id: str,
        agent_id: str,
        oauth_base: str,
        login_base: str = "https://login.work.weixin.qq.com",
    ) -> None:
        self.client = client
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.oauth_base = oauth_base
        self.login_base = login_base.rstrip("/")

    def authorize_url(self, redirect_uri: str, state: str = "") -> str:
        # wechatpy's authorize_url leaves out agentid, which WeCom recommends.
        return (
            f"{self.oauth_base}?appid={self.corp_id}&redirect_uri={quote(redirect_uri, safe='')}"
            f"&response_type=code&scope=snsapi_base&state={quote(state, safe='')}&agentid={self.agent_id}"
            "#wechat_redirect"
        )

    def login_url(self, redirect_uri: str, state: str) -> str:
        """The web login page (a QR code for the WeCom app, or the PC client's own login); it returns
        to `redirect_uri?code=…&state=…`, a code user_for_code exchanges like an OAuth one."""
        query = urlencode(
            {
                "login_type": "CorpApp",
                "appid": self.corp_id,
                "agentid": self.agent_id,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.login_base}/wwlogin/sso/login?{query}"

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
