"""One typed settings object, read from ZHIBU_* environment variables and an optional .env file.

The variable names are a public interface: deployers and tests set them. Nested values use "__",
so ZHIBU_DINGTALK__CLIENT_ID fills settings.dingtalk.client_id.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.rules import (
    AppraisalRules,
    ConsoleRules,
    FeesRules,
    InspectionRules,
    LifeMeetingRules,
    MeetingsRules,
    MonthlyRules,
    ObserversRules,
    ProjectsRules,
    RatingRules,
    RetentionRules,
    Rules,
    TalksRules,
)

ENV_PREFIX = "ZHIBU_"
# Only good enough for the demo and the tests; refused anywhere else.
DEFAULT_SECRET_KEY = "zhibu-demo-secret-key-change-me"
# The organisation's zone unless ZHIBU_TIMEZONE says otherwise; also the zone of the features' default
# configs that tests build without settings.
DEFAULT_TIMEZONE = "Asia/Shanghai"
# Chat events one process handles at once on PostgreSQL (bot.core.dispatcher says why so few).
DEFAULT_EVENT_WORKERS = 4


def _check_http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value.rstrip("/") if not value.endswith("/cgi-bin/") else value


# A setting that is an http(s) URL (without its trailing slash, but for WeCom's /cgi-bin/ base).
HttpUrlText = Annotated[str, AfterValidator(_check_http_url)]


class SettingsError(RuntimeError):
    """A setting is missing or malformed. The message is one line that names the variable."""


class DingTalkSettings(BaseModel):
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    robot_code: str = ""
    corp_id: str = ""
    agent_id: str = ""
    # The interactive-card template made on DingTalk's card platform (卡片平台) that shows zhibu's
    # title / markdown / buttons / image variables; real DingTalk accepts only ids that exist there.
    card_template_id: str = "zhibu.standard.v1"
    openapi_endpoint: HttpUrlText = "https://api.dingtalk.com"
    oapi_endpoint: HttpUrlText = "https://oapi.dingtalk.com"
    # The console's scan-to-login page (login.dingtalk.com/oauth2/auth, platforms.md §7.A).
    login_base: str = "https://login.dingtalk.com"

    @property
    def enabled(self) -> bool:
        # A platform is on when its credentials are set.
        return bool(self.client_id and self.client_secret.get_secret_value())


class WeComSettings(BaseModel):
    corp_id: str = ""
    agent_id: str = ""
    secret: SecretStr = SecretStr("")
    token: SecretStr = SecretStr("")
    encoding_aes_key: SecretStr = SecretStr("")
    api_base: HttpUrlText = "https://qyapi.weixin.qq.com/cgi-bin/"
    oauth_base: HttpUrlText = "https://open.weixin.qq.com/connect/oauth2/authorize"
    # The console's web login (login.work.weixin.qq.com/wwlogin/sso/login, platforms.md §7.B).
    login_base: str = "https://login.work.weixin.qq.com"

    @property
    def enabled(self) -> bool:
        return bool(self.corp_id and self.secret.get_secret_value())

    @field_validator("api_base")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # wechatpy joins relative endpoints onto this base.
        return value if value.endswith("/") else value + "/"

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key_length(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if raw and len(raw) != 43:
            raise ValueError("EncodingAESKey must be 43 characters, as the WeCom admin console shows it")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = "sqlite:///./zhibu.db"
    timezone: str = DEFAULT_TIMEZONE
    public_base_url: HttpUrlText = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET_KEY)
    # Demo mode is set by `zhibu demo` and the tests (the demo organisation's corp ids); it never makes
    # the published default secret key acceptable to `zhibu serve` or `zhibu check`.
    demo: bool = False
    log_level: str = "INFO"
    event_workers: int = Field(DEFAULT_EVENT_WORKERS, ge=1, le=64)

    dingtalk: DingTalkSettings = Field(default_factory=DingTalkSettings)
    wecom: WeComSettings = Field(default_factory=WeComSettings)

    # Each feature's rules (config/rules.py): ZHIBU_MEETINGS__PLAN_DEADLINE_DAY=20 and so on.
    meetings: MeetingsRules = Field(default_factory=MeetingsRules)
    observers: ObserversRules = Field(default_factory=ObserversRules)
    monthly: MonthlyRules = Field(default_factory=MonthlyRules)
    fees: FeesRules = Field(default_factory=FeesRules)
    console: ConsoleRules = Field(default_factory=ConsoleRules)
    talks: TalksRules = Field(default_factory=TalksRules)
    rating: RatingRules = Field(default_factory=RatingRules)
    projects: ProjectsRules = Field(default_factory=ProjectsRules)
    lifemeeting: LifeMeetingRules = Field(default_factory=LifeMeetingRules)
    appraisal: AppraisalRules = Field(default_factory=AppraisalRules)
    inspection: InspectionRules = Field(default_factory=InspectionRules)

    retention: RetentionRules = Field(default_factory=RetentionRules)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def rules(self) -> Rules:
        return Rules(**{name: getattr(self, name) for name in Rules.model_fields})

    def require_production_secret(self) -> None:
        """A served deployment's signing key must be set and must not be the published default.

        ZHIBU_DEMO does not lift this: with the published key anyone can forge a session cookie. Only
        `zhibu demo` (sandbox, loopback, a throwaway database) runs on it, and it never calls this.
        """
        key = self.secret_key.get_secret_value()
        if not key or key == DEFAULT_SECRET_KEY:
            raise SettingsError(
                "ZHIBU_SECRET_KEY: 未设置或仍为默认值。请设置一个足够长的随机字符串"
                "（例如 python -c 'import secrets; print(secrets.token_urlsafe(32))'）。"
            )
        if len(key) < 16:
            raise SettingsError("ZHIBU_SECRET_KEY: 太短，至少需要 16 个字符。")

    def masked(self) -> dict:
        """The effective configuration with every secret masked, for `zhibu check`."""
        return self.model_dump(mode="json")  # SecretStr dumps as '**********'


def _env_name(loc: tuple) -> str:
    return ENV_PREFIX + "__".join(str(part).upper() for part in loc)


def load_settings(**overrides) -> Settings:
    """Build settings, turning a validation error into one clear line that names the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SettingsError(f"{_env_name(first['loc'])}: {first['msg']}") from None


_process_settings: Settings | None = None


def use_settings(settings: Settings | None) -> None:
    """Make `settings` what every get_settings() of this process returns (None: the environment's again).

    For a composition root whose settings are built rather than read from the environment (`zhibu demo`,
    which picks its ports at start): its jobs and pages must then link to the same public URL as its
    chat replies, not to the environment's default.
    """
    global _process_settings
    _process_settings = settings


def get_settings() -> Settings:
    return _process_settings if _process_settings is not None else _settings_from_environment()


@lru_cache(maxsize=1)
def _settings_from_environment() -> Settings:
    return load_settings()
