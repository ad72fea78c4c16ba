"""wechatpy's enterprise client, pointed at settings.wecom.api_base (platforms.md §3.3)."""

from __future__ import annotations

from wechatpy.enterprise import WeChatClient


class ZhibuWeComClient(WeChatClient):
    """Every call, the token fetch included, goes to `api_base` (upstream hard-codes gettoken's host).

    auto_retry is off: wechatpy would re-fetch the token and retry a 42001 forever; the sender
    refreshes once itself.
    """

    def __init__(self, corp_id: str, secret: str, *, api_base: str, oauth_base: str, timeout: float = 10.0):
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self.API_BASE_URL = api_base
        self.oauth.OAUTH_BASE_URL = oauth_base
        # Loopback traffic in tests and the demo must not go through an environment proxy.
        self._http.trust_env = False

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self.API_BASE_URL + "gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )
