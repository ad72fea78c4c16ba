"""本月会议 shows a meeting an observer ordered reconvened (责令重开) as not counting, like the monthly count."""

from __future__ import annotations

from datetime import date, timedelta

from handlers import help as help_handlers
from handlers.meetings import meetings as meetings_uc
from handlers.meetings.chat import router as meetings_router
from handlers.meetings.minutes import held_meeting_kinds
from handlers.meetings.types import DEFAULT_CONFIG as MCFG
from handlers.observers import observation
from handlers.observers.chat import router as observers_router
from models.meetings import Minutes
from tests.harness import Chat
from tests.observers.conftest import CFG, NOW, full_form, make_meeting

MAY = date(2026, 5, 1)


def _held(session, world, topic):
    m = make_meeting(session, world, NOW - timedelta(days=1), topic=topic)
    session.add(
        Minutes(
            meeting_id=m.id,
            chair="王书记",
            recorder="赵委员",
            topics=topic,
            submitted_at=NOW,
            due_on=NOW.date(),
        )
    )
    session.flush()
    return m


def test_a_reopened_meeting_is_not_shown_as_held(session_factory, session, world):
    kept = _held(session, world, "学习党章")
    reopened = _held(session, world, "学习条例")
    session.commit()
    observation.submit_observation(
        session, world.observer, reopened.id, full_form("责令重开"), now=NOW, cfg=CFG
    )
    session.commit()

    _, rows = meetings_uc.month_overview(session, world.secretary, month=MAY, now=NOW, cfg=MCFG)
    states = {m.id: state for m, state in rows}
    assert states[kept.id].startswith("已召开，出席")
    assert states[reopened.id].startswith("已召开（观察员责令重开，不计入）")
    # The same rule the monthly count uses: only the kept meeting counts as held.
    assert len(held_meeting_kinds(session, MAY, date(2026, 6, 1), MCFG)) == 1

    chat = Chat(session_factory, [help_handlers.router, meetings_router, observers_router], now=NOW)
    text = chat.say("wangsj", "本月会议").text
    lines = {ln for ln in text.splitlines() if "学习" in ln}
    (reopened_line,) = [ln for ln in lines if "学习条例" in ln]
    (kept_line,) = [ln for ln in lines if "学习党章" in ln]
    assert "已召开（观察员责令重开，不计入），出席" in reopened_line
    assert "已召开，出席" in kept_line and "责令重开" not in kept_line
