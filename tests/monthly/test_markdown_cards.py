"""Names in the monthly notices and digests (a member's, a branch's) are text, not markdown."""

from __future__ import annotations

from bot.core.messages import from_payload
from models.meetings import MeetingType
from tests.core.test_markdown_escape import EVIL, assert_inert
from tests.monthly.conftest import comply, outbox
from tests.monthly.test_ladder import MONTHS, _run

JULY = MONTHS[0]


def test_member_notice_escalation_and_digest_show_names_as_text(session, county, observers):
    county.people["m2b"].name = f"党员{EVIL}"
    county.b3.name = f"河西村<img src=http://evil.example/t.png>{EVIL}"
    for b in (county.b1, county.b2, county.b4):
        absent = (county.people["m2b"].name,) if b == county.b2 else ()
        comply(session, county, b, JULY, (MeetingType.THEME_DAY,), absent=absent)
    session.commit()
    _run(session, JULY)
    prefixes = [
        f"monthly:member:member_absence:{county.b2.id}:2026-07",  # the member's name
        f"monthly:esc:branch:{county.b3.id}:",  # the lagging branch's name
        f"monthly:digest:{county.b2.id}:",  # 缺席: the member's name
        f"monthly:digest:{county.c2.id}:",  # 落后支部 and 前五名: the branch's name
    ]
    for prefix in prefixes:
        messages = outbox(session, prefix)
        assert messages, prefix
        assert_inert(from_payload(messages[0].payload))
    text = outbox(session, prefixes[0])[0].payload["text"]
    assert "党员［点此重新登录］（http://evil.example/login）：连续1个月" in text
