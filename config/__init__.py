"""Typed settings for zhibu. Only the composition root calls get_settings(); everything else is given values."""

from config.settings import (
    DEFAULT_SECRET_KEY,
    DingTalkSettings,
    Settings,
    SettingsError,
    WeComSettings,
    get_settings,
    load_settings,
    use_settings,
)

__all__ = [
    "DEFAULT_SECRET_KEY",
    "DingTalkSettings",
    "Settings",
    "SettingsError",
    "WeComSettings",
    "get_settings",
    "load_settings",
    "use_settings",
]
