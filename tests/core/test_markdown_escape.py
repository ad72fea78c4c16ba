"""What people type reaches other people's cards as text, never as markdown: a leave reason
`[点此重新登录](http://…)` is no link in the secretary's card on DingTalk or WeCom, and a plain
reason like 「家中有事」 reads exactly as typed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.messages import Card, CardUpdate, Markdown, from_payload, md_escape
from bot.platforms.dingtalk import render as dingtalk
from bot.platforms.wecom import render as wecom
from models.outbox import OutboxMessage

markdown_it = pytest.importorskip("markdown_it")

BASE = "http://127.0.0.1:8000"
EVIL = "[点此重新登录](http://evil.example/login)"
# Markdown a member could type to dress up a card: a link, a tracking image, raw HTML, a heading.
NASTY = [
    EVIL,
    "![](http://evil.example/track.png)",
    '<a href="http://evil.example">查看</a>',
    "<font color=red>紧急</font>",
    "# 系统通知",
    "家中有事\n# 系统通知：请重新登录",
    "<http://evil.example/login>",
    "**加粗**、_斜体_、`代码`",
    "> 引用\n- 列表\n1. 编号\n---",
]
ACTIVE = {"link_open", "image", "html_inline", "html_block", "heading_open", "strong_open", "em_open"}
ACTIVE |= {"code_inline", "blockquote_open", "bullet_list_open", "ordered_list_open", "hr", "fence"}


def active_tokens(md: str) -> set[str]:
    """The markdown constructs CommonMark finds in `md` (links, images, HTML, headings, emphasis…)."""
    found = set()
    for token in markdown_it.MarkdownIt("commonmark").parse(md):
        found.add(token.type)
        found.update(child.type for child in token.children or ())
    return found & ACTIVE


def markdown_of(message) -> list[str]:
    """Every string a platform interprets as markdown when it shows `message`, on both platforms."""
    out = []
    if isinstance(message, (Card, CardUpdate)) and dingtalk.is_interactive(message):
        out.append(dingtalk.card_params(message, BASE)["markdown"])
    else:
        _key, param = dingtalk.sample(message, BASE)
        out.append(param.get("text", ""))
    if isinstance(message, Markdown):
        out.append(wecom.body(message, task_id="t", base_url=BASE)["markdown"]["content"])
    return out


def assert_inert(message) -> None:
    """No HTML, no heading, and no link or image but the renderer's own (DingTalk's chart picture,
    `### title`) in what either platform renders; the templates' bold labels are fine."""
    for md in markdown_of(message):
        tokens = markdown_it.MarkdownIt("commonmark").parse(md)
        flat = [c for t in tokens for c in [t, *(t.children or ())]]
        assert not {t.type for t in flat} & {"html_inline", "html_block"}, md
        for t in flat:
            if t.type in ("link_open", "image"):
                assert str(t.attrs.get("href") or t.attrs.get("src")).startswith(BASE), md
        assert len([t for t in tokens if t.type == "heading_open"]) <= md.startswith("### "), md


# --- the escape itself --------------------------------------------------------------------------


@pytest.mark.parametrize("text", NASTY)
def test_escaped_text_has_no_markdown(text):
    assert active_tokens(md_escape(text)) == set()
    assert md_escape(md_escape(text)) == md_escape(text)


@pytest.mark.parametrize(
    "text",
    ["家中有事", "出差在外，已向组织委员报告", "3.5分", "-5", "第1-2题", "周五 9:00 在党员活动室", "A1+B2"],
)
def test_plain_text_is_unchanged(text):
    assert md_escape(text) == text


def test_escaped_text_stays_readable():
    assert md_escape(EVIL) == "［点此重新登录］（http://evil.example/login）"
    assert md_escape("去医院(复查)") == "去医院（复查）"
    assert md_escape("# 系统通知") == "＃ 系统通知"
    assert md_escape("1. 学习党章\n2. 交流发言") == "1． 学习党章\n2． 交流发言"


# --- the renderers: fields and titles are plain text -----------------------------------------------


def test_dingtalk_fields_and_titles_are_escaped_wecom_shows_them_as_typed():
    card = Card(
        title=f"请假审批：{EVIL}",
        text="张丽申请不参加「党员大会」。",
        fields=(("原因", EVIL), ("地点", "家中有事")),
    )
    key, param = dingtalk.sample(card, BASE)
    assert key == "sampleMarkdown" and active_tokens(param["text"]) == {"heading_open", "strong_open"}
    assert "**原因**：［点此重新登录］（http://evil.example/login）" in param["text"]
    assert "**地点**：家中有事" in param["text"]
    interactive = Card(card.title, card.text, card.fields, buttons=(), card_key="leave:1")
    update = CardUpdate("leave:1", card.title, card.text, fields=card.fields, status_label="已批准")
    for message in (interactive, update):
        md = dingtalk.card_params(message, BASE)["markdown"]
        assert active_tokens(md) == {"strong_open"} and "［点此重新登录］" in md
    # WeCom's template card is plain text: the reason shows exactly as typed, nothing to click.
    body = wecom.update_body(update, task_id="t", base_url=BASE)["template_card"]
    assert {"keyname": "原因", "value": EVIL} in body["horizontal_content_list"]
    content = wecom.body(Markdown(title=EVIL, text="正文"), task_id="t", base_url="")["markdown"]["content"]
    assert active_tokens(content) == {"strong_open"}


# --- the handlers: every card built from what someone typed ----------------------------------------


def _outbox(session, prefix):
    return [
        from_payload(m.payload)
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedup_key.startswith(prefix)).order_by(OutboxMessage.id)
        )
    ]


def _one(session, prefix):
    """The message queued under `prefix` (the same one to each recipient)."""
    messages = _outbox(session, prefix)
    assert messages and all(m == messages[0] for m in messages), prefix
    return messages[0]


def test_leave_and_makeup_cards(session):
    from handlers.meetings import leave as leave_uc
    from handlers.meetings import makeup as makeup_uc
    from handlers.meetings import meetings as meetings_uc
    from handlers.meetings import signin as signin_uc
    from models.meetings import MakeupTask
    from tests.meetings.conftest import CFG, NOW, build_org

    org = build_org(session)
    org.alice.name = "张丽<font color=red>（已转正）</font>"
    start = NOW + timedelta(days=1)
    m = meetings_uc.schedule_meeting(
        session, org.secretary, types=["党员大会"], starts_at=start, place=EVIL, topic=f"学习{EVIL}",
        now=NOW, cfg=CFG, title=f"党课{EVIL}",
    )  # fmt: skip
    leave = leave_uc.request_leave(session, org.alice, m.id, reason=EVIL, now=NOW, cfg=CFG)
    plain = leave_uc.request_leave(session, org.bob, m.id, reason="家中有事", now=NOW, cfg=CFG)
    leave_uc.decide_leave(session, org.secretary, leave.id, approve=True, now=NOW, cfg=CFG)
    for prefix in (f"leave:{leave.id}:ask", f"leave:{leave.id}:card", f"meeting:{m.id}:notice"):
        assert_inert(_one(session, prefix))
    assert "**原因**：家中有事" in markdown_of(_outbox(session, f"leave:{plain.id}:ask")[0])[0]

    signin_uc.close_windows(session, now=start + timedelta(hours=1), cfg=CFG)
    task = session.scalars(select(MakeupTask).where(MakeupTask.person_id == org.carol.id)).one()
    later = start + timedelta(days=1)
    makeup_uc.report_makeup(
        session, org.carol, note=f"![](http://evil.example/t.png){EVIL}", now=later, cfg=CFG
    )
    makeup_uc.decide_makeup(session, org.secretary, task.id, confirm=True, now=later, cfg=CFG)
    for prefix in (f"makeup:{task.id}:new", f"makeup:{task.id}:reported", f"makeup:{task.id}:decided"):
        assert_inert(_one(session, prefix))


def test_observer_result_and_rectification_cards(session):
    from handlers.observers import observation, rectification
    from tests.observers.conftest import CFG, NOW, build_world, full_form, make_meeting

    world = build_world(session)
    held = make_meeting(session, world, NOW - timedelta(days=1), topic=EVIL)
    raw = full_form(
        "责令纠正", correct_by="2026-06-01", issues=f"# 系统通知\n\n{EVIL}", comment=f"<b>{EVIL}</b>"
    )
    obs = observation.submit_observation(session, world.observer, held.id, raw, now=NOW, cfg=CFG)
    (rect, _) = obs.rectifications
    rectification.report_fixed(session, world.secretary, rect.id, EVIL, now=NOW, cfg=CFG)
    for prefix in (f"observers:result:{obs.id}", f"observers:rect:{rect.id}:reported"):
        assert_inert(_one(session, prefix))
