"""H5 login-free identity: the page gets an auth code from dd.requestAuthCode, the server exchanges it."""

from __future__ import annotations

from bot.core.errors import IdentityError, PlatformError
from bot.platforms.dingtalk.api import DingTalkApi


class DingTalkIdentity:
    platform = "dingtalk"

    def __init__(self, api: DingTalkApi, corp_id: str) -> None:
        self.api = api
        self.corp_id = corp_id

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
