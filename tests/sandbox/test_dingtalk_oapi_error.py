"""An oapi refusal carries DingTalk's errcode both as OapiError.errcode and as the platform error's
`code`, which callers of any platform read to treat one refusal as an answer."""

from __future__ import annotations

import pytest

from bot.core.errors import PermanentPlatformError
from bot.platforms.dingtalk.api import DingTalkApi, OapiError
from bot.platforms.dingtalk.directory import GET_BY_MOBILE
from config import demo
from sandbox.testing import running_sandbox


def test_an_oapi_refusal_names_its_errcode_as_the_code():
    with running_sandbox() as sb:
        api = DingTalkApi(demo.DINGTALK_CLIENT_ID, demo.DINGTALK_CLIENT_SECRET, openapi_endpoint=sb.url,
                          oapi_endpoint=sb.url)  # fmt: skip
        sb.fault(GET_BY_MOBILE, errcode=40035, errmsg="缺少参数")
        with pytest.raises(OapiError) as refused:
            api.oapi_call(GET_BY_MOBILE, {"mobile": "13900000001"})
        api.close()
    assert isinstance(refused.value, PermanentPlatformError)
    assert (refused.value.errcode, refused.value.code) == (40035, "40035")
    assert "40035" in refused.value.reason
