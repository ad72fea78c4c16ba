"""The monthly pages take tz, URL and secret key from the settings like every H5 page, and refuse to
start without them: a made-up secret key would sign chart links nobody could verify after a restart."""

from __future__ import annotations

import pytest

import config.settings
from bot.web.h5 import H5Pages
from bot.web.monthly import build_monthly_router


def _no_settings():
    raise RuntimeError("ZHIBU_SECRET_KEY is not set")


def test_without_settings_the_monthly_router_fails_like_every_h5_page(monkeypatch):
    monkeypatch.setattr(config.settings, "get_settings", _no_settings)
    with pytest.raises(RuntimeError, match="ZHIBU_SECRET_KEY"):
        H5Pages(None, {}, prefix="/h5/any")
    with pytest.raises(RuntimeError, match="ZHIBU_SECRET_KEY"):
        build_monthly_router(None, {})
