"""The ordinary minutes form, saved for a 组织生活会, points the secretary to the meeting's own record in chat;
other meetings' messages are unchanged."""

from __future__ import annotations

from datetime import timedelta

from handlers.meetings import meetings as meetings_uc
from tests.meetings.conftest import CFG, NOW, org  # noqa: F401  (fixture)
from tests.meetings.test_web import START, login, web  # noqa: F401  (fixture)


def test_org_life_minutes_point_to_the_chat_record(web, session, org):  # noqa: F811
    client, ident, clock = web
    life, other = (
        meetings_uc.schedule_meeting(
            session,
            org.secretary,
            types=[kind],
            starts_at=START,
            place="会议室",
            topic="年度",
            now=NOW,
            cfg=CFG,
        )  # fmt: skip
        for kind in ("组织生活会", "党员大会")
    )
    session.commit()
    clock.now = START + timedelta(hours=2)
    login(client, ident, "wangsj")
    body = {"chair": "王书记", "recorder": "赵委员", "topics": "年度组织生活会"}
    saved = client.post(f"/h5/meetings/{life.id}/minutes", json=body)
    assert saved.status_code == 200 and "批评和自我批评 姓名" in saved.json()["message"]
    saved = client.post(f"/h5/meetings/{other.id}/minutes", json=body)
    assert saved.status_code == 200 and "批评和自我批评" not in saved.json()["message"]
