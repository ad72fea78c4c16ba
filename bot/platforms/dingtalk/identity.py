"""Who a DingTalk user is: the H5 login-free code (inside the client) and the web scan-to-login (console).

H5: the page gets an auth code from dd.requestAuthCode, the server exchanges it (oapi getuserinfo).
Web login (platforms.md §7.A): login.dingtalk.com/oauth2/auth sends the browser back with an authCode;
the code buys a *user* access token, the token names the user's unionId (never a userid), and the app
token turns the unionId into the corp's userid. Three calls, each checked, since the only thing the
console may trust is the userid at the end.
"""

from __future__ import annotations

from urllib.parse import urlencode

from bot.core.errors import IdentityError, PlatformError
from bot.platforms.dingtalk.api import DingTalkApi

USER_TOKEN_HEADER = "x-acs-dingtalk-access-token"


class DingTalkIdentity:
    platform = "dingtalk"

    def __init__(
        self,
        api: DingTalkApi,
        corp_id: str,
        *,
        client_secret: str = "",
        login_base: str = "https://login.dingtalk.com",
    ) -> None:
        self.api = api
        self.corp_id = corp_id
        self._client_secret = client_secret
        self.login_base = login_base.rstrip("/")

    def user_for_code(self, code: str) -> str:
        """The staff userId the auth code belongs to (single use, 5 minutes); IdentityError otherwise."""
        if not code or len(code) > 512:
            raise IdentityError("empty or oversized auth code")
        try:
            data = self.api.oapi_call("/topapi/v2/user/getuserinfo", {"code": code})
        except PlatformError as exc:
            raise IdentityError(str(exc)) from exc
        userid = (data.get("result") or {}).get("userid")
        if not userid:
            raise IdentityError("DingTalk returned no userid for the code")
        return userid

    # ---- web scan-to-login

    def login_url(self, redirect_uri: str, state: str) -> str:
        """DingTalk's authorisation page; it returns to `redirect_uri?authCode=…&state=…`."""
        query = urlencode(
            {
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "client_id": self.api.client_id,
                "scope": "openid",
                "state": state,
                "prompt": "consent",
            }
        )
        return f"{self.login_base}/oauth2/auth?{query}"

    def user_for_auth_code(self, auth_code: str) -> str:
        """The corp's userid behind a web-login authCode; IdentityError for a bad or used code, a user
        the corp does not know, or an external contact (contact_type 1)."""
        if not auth_code or len(auth_code) > 512:
            raise IdentityError("empty or oversized authCode")
        try:
            token = self.api.request(
                "POST",
                f"{self.api.openapi}/v1.0/oauth2/userAccessToken",
                json={
                    "clientId": self.api.client_id,
                    "clientSecret": self._client_secret,
                    "code": auth_code,
                    "grantType": "authorization_code",
                },
            ).get("accessToken")
            if not token:
                raise IdentityError("DingTalk returned no user access token")
            me = self.api.request(
                "GET", f"{self.api.openapi}/v1.0/contact/users/me", headers={USER_TOKEN_HEADER: token}
            )
            union_id = me.get("unionId")
            if not union_id:
                raise IdentityError("DingTalk returned no unionId for the user")
            data = self.api.oapi_call("/topapi/user/getbyunionid", {"unionid": union_id})
        except PlatformError as exc:
            raise IdentityError(str(exc)) from exc
        result = data.get("result") or {}
        # The documented example gives the numbers as strings; parse both.
        if str(result.get("contact_type", "0")) != "0":
            raise IdentityError("an external contact, not a member of the corp")
        userid = result.get("userid")
        if not userid:
            raise IdentityError("DingTalk returned no userid for the unionId")
        return userid
