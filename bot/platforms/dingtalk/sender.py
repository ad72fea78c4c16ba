"""The DingTalk side of the relay: batchSend (20 users), group messages, interactive cards.

A repeat of the same outbox row (its relay died after DingTalk took the call, before the row was marked
sent) is harmless only for interactive cards: the card's outTrackId is the row's stable send_id, and
DingTalk answers a second createAndDeliver with it `400 param.cardAlreadyExist` ("卡片已经存在", the
error table of https://open.dingtalk.com/document/development/create-and-deliver-cards: "一个
outTrackId 唯一标识一张卡片"), which is taken as "already delivered". The robot's oToMessages/batchSend
and groupMessages/send take no idempotency key of any kind (their processQueryKey is DingTalk's answer,
not our input): a repeat of those is delivered twice, at most one call per concurrent call of the dead
relay.
"""

from __future__ import annotations

import json

from bot.core import texts
from bot.core.delivery import Batch, BatchOutcome, CardHandle
from bot.core.errors import PermanentPlatformError
from bot.core.messages import Card, CardUpdate, OutgoingMessage
from bot.core.ratelimit import RateLimit
from bot.core.relay import send_id
from bot.platforms.dingtalk import render
from bot.platforms.dingtalk.api import DingTalkApi
from models.org import Platform
from models.outbox import TargetKind

BATCH_SEND_MAX_USERS = 20
# createAndDeliver's answer to an outTrackId it already holds: the card exists, made by an earlier attempt.
CARD_ALREADY_EXISTS = "param.cardAlreadyExist"


class DingTalkSender:
    platform = Platform.DINGTALK.value
    member_limits: tuple[RateLimit, ...] = ()

    def __init__(
        self,
        api: DingTalkApi,
        *,
        robot_code: str,
        public_base_url: str,
        qps: int = 20,
        card_template_id: str,
    ) -> None:
        self.api = api
        self.robot_code = robot_code
        self.base_url = public_base_url
        self.card_template_id = card_template_id
        # DingTalk limits each API per app (20 QPS by default for internal apps), so each gets a window.
        per_api = (RateLimit(qps, 1.0),)
        self.api_limits = dict.fromkeys(("batchSend", "groupSend", "card.create", "card.update"), per_api)

    def api_for(self, message: OutgoingMessage, target_kind: TargetKind) -> str:
        if isinstance(message, CardUpdate):
            return "card.update"
        if render.is_interactive(message):
            return "card.create"
        return "groupSend" if target_kind == TargetKind.GROUP else "batchSend"

    def max_recipients(self, message: OutgoingMessage, target_kind: TargetKind) -> int:
        if target_kind == TargetKind.GROUP or render.is_interactive(message):
            return 1
        return BATCH_SEND_MAX_USERS

    def send(self, batch: Batch) -> BatchOutcome:
        message = batch.message
        if isinstance(message, CardUpdate):
            return self._update_card(batch)
        if isinstance(message, Card) and render.is_interactive(message):
            return self._create_card(batch)
        key, param = render.sample(message, self.base_url)
        body = {
            "robotCode": self.robot_code,
            "msgKey": key,
            "msgParam": json.dumps(param, ensure_ascii=False),
        }
        if batch.target_kind == TargetKind.GROUP:
            self.api.call(
                "POST", "/v1.0/robot/groupMessages/send", body | {"openConversationId": batch.targets[0]}
            )
            return BatchOutcome.all_sent(batch)
        answer = self.api.call("POST", "/v1.0/robot/oToMessages/batchSend", body | {"userIds": batch.targets})
        invalid = set(answer.get("invalidStaffIdList") or [])
        throttled = set(answer.get("flowControlledStaffIdList") or [])
        outcome = BatchOutcome()
        for d in batch.deliveries:
            if d.target in invalid:
                outcome.failed[d.row_id] = texts.REASON_UNKNOWN_ACCOUNT
            elif d.target in throttled:
                outcome.retry[d.row_id] = "DingTalk flow control"
            else:
                outcome.sent.add(d.row_id)
        return outcome

    def _create_card(self, batch: Batch) -> BatchOutcome:
        (d,) = batch.deliveries
        out_track_id = send_id(d)
        body = {
            "cardTemplateId": self.card_template_id,
            "outTrackId": out_track_id,
            "callbackType": "STREAM",
            "cardData": {"cardParamMap": render.card_params(batch.message, self.base_url)},
        }
        if batch.target_kind == TargetKind.GROUP:
            body |= {
                "openSpaceId": f"dtv1.card//IM_GROUP.{d.target}",
                "imGroupOpenSpaceModel": {"supportForward": True},
                "imGroupOpenDeliverModel": {"robotCode": self.robot_code},
            }
        else:
            body |= {
                "openSpaceId": f"dtv1.card//IM_ROBOT.{d.target}",
                "imRobotOpenSpaceModel": {"supportForward": True},
                "imRobotOpenDeliverModel": {"spaceType": "IM_ROBOT"},
            }
        try:
            answer = self.api.call("POST", "/v1.0/card/instances/createAndDeliver", body)
        except PermanentPlatformError as exc:
            if exc.code != CARD_ALREADY_EXISTS:
                raise
            # An earlier attempt of this row made the card, in the one call that also delivers it. The
            # answer says the card exists, not how its delivery went: if that attempt's delivery failed
            # (the member unreachable) and its relay died before recording it, the row ends sent.
            return BatchOutcome(sent={d.row_id}, cards={d.row_id: CardHandle(out_track_id)})
        results = ((answer.get("result") or {}) if isinstance(answer.get("result"), dict) else {}).get(
            "deliverResults"
        ) or []
        if results and not any(r.get("success") for r in results):
            return BatchOutcome(failed={d.row_id: texts.REASON_UNKNOWN_ACCOUNT})
        return BatchOutcome(sent={d.row_id}, cards={d.row_id: CardHandle(out_track_id)})

    def _update_card(self, batch: Batch) -> BatchOutcome:
        (d,) = batch.deliveries
        if d.card is None:
            raise PermanentPlatformError("no card to update", reason=texts.REASON_CARD_NOT_FOUND)
        self.api.call(
            "PUT",
            "/v1.0/card/instances",
            {
                "outTrackId": d.card.card_id,
                "cardData": {"cardParamMap": render.card_params(batch.message, self.base_url)},
                "cardUpdateOptions": {"updateCardDataByKey": True},
            },
        )
        return BatchOutcome.all_sent(batch)
