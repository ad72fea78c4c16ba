"""民主评议党员 end to end through the sandbox and the real adapters, once with the whole branch on DingTalk and
once on WeCom: the secretary opens it in chat, every member gets the card with the page's link, members log in
on the page the login-free way their platform gives, self-assess and vote; after the close the secretary
records the 支委会's proposal and the 支部大会's decision; a member asks 民主评议 in chat."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import delete, func, select

from models.appraisal import Appraisal, AppraisalBallot, AppraisalGrade, Grade
from models.org import ChatAccount, Platform
from tests.appraisal.conftest import AFTER_CLOSE, NOW
from tests.appraisal.test_flow import PLAN, ballot_form
from tests.core.e2e import running_bot
from tests.web import open_session

PREFIX = "/h5/appraisal"
MEMBERS = ("wang", "li", "zs", "ls", "ww", "zl", "cq", "zb")


def _to(bot, platform: str, user: str) -> list[dict]:
    return [m for m in bot.sb.outbox(platform=platform) if user in m.get("to", [])]


def _say(bot, platform: str, user: str, text: str) -> None:
    if platform == "dingtalk":
        bot.sb.push_dingtalk_message(user, text)
    else:
        result = bot.sb.deliver_wecom(user, text)
        assert result["delivered"], result
    bot.drain()


def _browser(bot, platform: str, user: str, page: str) -> httpx.Client:
    """A member's browser with the H5 session open, as the page's script opens it on their platform."""
    client = httpx.Client(base_url=bot.url, trust_env=False, timeout=30, follow_redirects=False)
    if platform == "dingtalk":
        code = bot.sb.dingtalk_authcode(user)  # what dd.requestAuthCode gives the page
        opened = open_session(client, f"{PREFIX}/session", {"platform": "dingtalk", "code": code})
    else:
        client.cookies.set("sandbox_wecom_user", user)
        back = client.get(f"{PREFIX}/auth/wecom", params={"next": page}, follow_redirects=True)
        query = parse_qs(urlsplit(str(back.url)).query)
        opened = open_session(
            client,
            f"{PREFIX}/session",
            {"platform": "wecom", "code": query["code"][0], "state": query["state"][0]},
        )
    assert opened.status_code == 200, opened.text
    return client


@pytest.mark.parametrize("platform", ["dingtalk", "wecom"])
def test_a_branch_year_from_the_opening_to_the_decision(
    platform, session_factory, database_url, session, org
):
    # The whole branch on one platform.
    other = Platform.WECOM if platform == "dingtalk" else Platform.DINGTALK
    session.execute(delete(ChatAccount).where(ChatAccount.platform == other))
    session.commit()
    ids = {acc: p.id for acc, p in org.people.items()}
    with running_bot(session_factory, database_url, clock_start=NOW) as bot:
        _say(bot, platform, "wang", "开始民主评议 12-03 12-09")
        assert any("已开启东门社区党支部2026年民主评议" in str(m) for m in _to(bot, platform, "wang"))
        with session_factory() as s:
            a = s.scalar(select(Appraisal))
        page = f"{PREFIX}/{a.id}"
        for user in MEMBERS:
            cards = [m for m in _to(bot, platform, user) if "民主评议党员（2026年）" in str(m)]
            assert cards and f"{bot.url}{page}" in str(cards[-1]), (user, cards)
        assert not [m for m in _to(bot, platform, "zj") if "民主评议" in str(m)]  # another branch

        # The secretary marks 周八 (留党察看) before the first ballot.
        wang = _browser(bot, platform, "wang", f"{page}/manage")
        r = wang.post(f"{page}/suspended", data={"person_id": ids["zb"], "suspended": "1"})
        assert r.status_code == 303
        # Members self-assess and vote.
        zs = _browser(bot, platform, "zs", page)
        assert "提交选票" in zs.get(page).text
        assert zs.post(f"{page}/self", data={"self_assessment": "认真履行党员义务。"}).status_code == 303
        for user, marks in PLAN.items():
            client = zs if user == "zs" else _browser(bot, platform, user, page)
            r = client.post(f"{page}/ballot", data=ballot_form(_World(org), marks))
            assert r.status_code == 303, (user, r.text)
        assert zs.post(f"{page}/ballot", data=ballot_form(_World(org), PLAN["zs"])).status_code == 409
        cq = _browser(bot, platform, "cq", page)
        assert cq.post(f"{page}/ballot", data={f"p{ids['zs']}": "qualified"}).status_code == 403
        with session_factory() as s:
            assert s.scalar(select(func.count()).select_from(AppraisalBallot)) == 42

        # A member asks in chat: the card again (the secretary's also has the turnout and the manage page).
        before = len(_to(bot, platform, "zs"))
        _say(bot, platform, "zs", "民主评议")
        answer = _to(bot, platform, "zs")[before:]
        assert answer and f"{bot.url}{page}" in str(answer[-1]) and "评议管理" not in str(answer[-1])
        _say(bot, platform, "wang", "民主评议")
        assert "应投票6人，已投6人" in str(_to(bot, platform, "wang")[-1])

        # After the close (the sandbox's WeCom callbacks carry real time, so no chat from here on): the count, the 支委会's proposal, the 支部大会's decision.
        bot.clock.sleep((AFTER_CLOSE - bot.clock.now()).total_seconds())
        late = _browser(bot, platform, "zb", page).post(f"{page}/self", data={"self_assessment": "补写"})
        assert late.status_code == 409
        wang = _browser(bot, platform, "wang", f"{page}/manage")
        manage = wang.get(f"{page}/manage").text
        assert "应投票6人，已投6人" in manage and "与王五并列" in manage
        grades = {f"g{ids[acc]}": g for acc, g in {
            "wang": "qualified", "li": "qualified", "zs": "excellent", "ls": "excellent", "ww": "qualified",
            "zl": "unqualified", "cq": "qualified", "zb": "basically_qualified"}.items()}  # fmt: skip
        form = grades | {f"h{ids['zl']}": "rectify", "day": "2026-12-10"}
        assert wang.post(f"{page}/proposal", data=form).status_code == 303
        assert wang.post(f"{page}/decision", data=form).status_code == 303
        with session_factory() as s:
            decided = {g.person_id: g.decided_grade for g in s.scalars(select(AppraisalGrade))}
            assert decided[ids["zs"]] == Grade.EXCELLENT and decided[ids["zl"]] == Grade.UNQUALIFIED
            assert s.get(Appraisal, a.id).decided_on.isoformat() == "2026-12-10"


class _World:
    """ballot_form's view of the organisation (it reads world.org[account])."""

    def __init__(self, org) -> None:
        self.org = org
