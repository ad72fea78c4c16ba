"""Build the platform adapters that settings turn on: senders for the relay, identities for H5 pages,
the WeCom callback routes and the DingTalk stream runner. Called only by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter

from bot.core.delivery import PlatformSender
from bot.core.directory import DirectoryEvents
from bot.core.dispatcher import Dispatcher
from config import Settings


@dataclass
class Platforms:
    senders: list[PlatformSender] = field(default_factory=list)
    identities: dict[str, object] = field(default_factory=dict)
    wecom_router: APIRouter | None = None
    stream: object | None = None  # bot.platforms.dingtalk.stream.StreamRunner
    closers: list = field(default_factory=list)

    @property
    def enabled(self) -> list[str]:
        return [s.platform for s in self.senders]

    def close(self) -> None:
        for close in self.closers:
            close()


def directory_events(dispatcher: Dispatcher) -> DirectoryEvents:
    """Directory changes (a member left, came back, got a new userid) handled by the roster's use case,
    with the dispatcher's database, clock and relay wake-up."""
    from handlers.roster.directory import apply_directory_change

    return DirectoryEvents(dispatcher, apply_directory_change)


def build_platforms(
    settings: Settings,
    dispatcher: Dispatcher | None,
    *,
    stream: bool = True,
    directory: DirectoryEvents | None = None,
) -> Platforms:
    """`directory` handles the platforms' contact events; by default the roster's use case over the
    dispatcher (directory_events), when there is a dispatcher."""
    platforms = Platforms()
    if directory is None and dispatcher is not None:
        directory = directory_events(dispatcher)
    dt = settings.dingtalk
    if dt.enabled:
        from bot.platforms.dingtalk.api import DingTalkApi
        from bot.platforms.dingtalk.identity import DingTalkIdentity
        from bot.platforms.dingtalk.sender import DingTalkSender

        api = DingTalkApi(
            dt.client_id,
            dt.client_secret.get_secret_value(),
            openapi_endpoint=dt.openapi_endpoint,
            oapi_endpoint=dt.oapi_endpoint,
        )
        platforms.closers.append(api.close)
        platforms.senders.append(
            DingTalkSender(
                api,
                robot_code=dt.robot_code or dt.client_id,
                public_base_url=settings.public_base_url,
                card_template_id=dt.card_template_id,
            )
        )
        platforms.identities["dingtalk"] = DingTalkIdentity(
            api, dt.corp_id, client_secret=dt.client_secret.get_secret_value(), login_base=dt.login_base
        )
        if stream and dispatcher is not None:
            from bot.platforms.dingtalk.stream import StreamRunner

            platforms.stream = StreamRunner(
                dt.client_id,
                dt.client_secret.get_secret_value(),
                dt.openapi_endpoint,
                dispatcher,
                dt.corp_id,
                directory=directory,
            )
    wc = settings.wecom
    if wc.enabled:
        from bot.platforms.wecom.callback import build_router
        from bot.platforms.wecom.client import ZhibuWeComClient
        from bot.platforms.wecom.identity import WeComIdentity
        from bot.platforms.wecom.sender import WeComSender

        client = ZhibuWeComClient(
            wc.corp_id, wc.secret.get_secret_value(), api_base=wc.api_base, oauth_base=wc.oauth_base
        )
        platforms.senders.append(
            WeComSender(client, agent_id=wc.agent_id, public_base_url=settings.public_base_url)
        )
        platforms.identities["wecom"] = WeComIdentity(
            client,
            corp_id=wc.corp_id,
            agent_id=wc.agent_id,
            oauth_base=wc.oauth_base,
            login_base=wc.login_base,
        )
        if dispatcher is not None and wc.token.get_secret_value() and wc.encoding_aes_key.get_secret_value():
            platforms.wecom_router = build_router(
                token=wc.token.get_secret_value(),
                encoding_aes_key=wc.encoding_aes_key.get_secret_value(),
                corp_id=wc.corp_id,
                dispatcher=dispatcher,
                directory=directory,
            )
    return platforms
