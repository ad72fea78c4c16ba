"""End to end through the sandbox and the real adapters: plan → review → meetings → notices on both
platforms → QR (decoded) → sign-in through the emulated identity flows → leave, window close, 补学.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO
from urllib.parse import parse_qs, urlsplit

import httpx
import zxingcpp
from PIL import Image
from sqlalchemy import delete, func, select

from bot.web.meetings import build_meetings_router
from config import demo
from handlers.meetings import jobs
from handlers.meetings import signin as signin_uc
from handlers.meetings.types import DEFAULT_CONFIG as CFG
from models.meetings import Attendance, AttendanceStatus, MakeupStatus, MakeupTask, Meeting, MeetingType
from models.org import ChatAccount, Platform
from models.outbox import OutboxMessage
from tests.core.e2e import running_bot
from tests.meetings.conftest import build_org
from tests.web import open_session

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Mon 10:00 in Shanghai; plans are for December
DING_UA = "Mozilla/5.0 (iPhone) AliApp(DingTalk/7.6.0)"
WECOM_UA = "Mozilla/5.0 (iPhone) wxwork/4.1.0 MicroMessenger/7.0.1"


def _arrange(session_factory):
    with session_factory() as s, s.begin():
        org = build_org(s)
        # 刘芳 is reached on WeCom only.
        s.execute(delete(ChatAccount).where(ChatAccount.person_id == org.carol.id))
        s.add(ChatAccount(person_id=org.carol.id, platform=Platform.WECOM, corp_id=demo.WECOM_CORP_ID,
                          account_id="LiuFang"))  # fmt: skip
    return org


def _wire(bot):
    """Our router, with the test's config and the sandbox's dd shim, in place of the app factory's."""
    app = bot.service.app
    bot.service.app.include_router(
        build_meetings_router(
            bot.service.session_factory,
            bot.service.platforms.identities,
            bot.service.dispatcher.config,
            cfg=CFG,
            clock=bot.clock.now,
            dingtalk_jsapi_url=bot.sb.url + "/_sandbox/dd-shim.js",
        )
    )
    app.router.routes.insert(0, app.router.routes.pop())  # first match wins


def _to(bot, platform, user):
    return [m for m in bot.sb.outbox(platform=platform) if user in m.get("to", [])]


def _card(bot, user, title_part, interactive=True):
    # Cards with only link buttons go out as DingTalk actionCards (no card id); with action buttons, as cards.
    cards = [
        m
        for m in _to(bot, "dingtalk", user)
        if (m.get("card_id") or not interactive) and title_part in str(m)
    ]
    assert cards, (user, title_part)
    return cards[-1]


def _press(bot, user, card, label):
    button = next(b for b in card["buttons"] if b["text"] == label)
    ack = bot.sb.push_card_action(card["card_id"], user, button["params"], action_id=button["action_id"])
    assert ack["ack"]["code"] == 200
    bot.drain()


def _say(bot, user, text):
    bot.sb.push_dingtalk_message(user, text)
    bot.drain()
    return [m.get("text", "") for m in _to(bot, "dingtalk", user)][-1]


def _dingtalk_login(bot, client, user):
    code = bot.sb.dingtalk_authcode(user)  # what dd.requestAuthCode gives the page
    return open_session(client, "/h5/meetings/session", {"platform": "dingtalk", "code": code})


def _decode(png: bytes) -> str:
    (result,) = zxingcpp.read_barcodes(Image.open(BytesIO(png)))
    return result.text


def test_plan_to_signin_to_makeup_through_the_sandbox(session_factory, database_url):
    org = _arrange(session_factory)
    stranger = {"userid": "stranger", "name": "路人"}
    with running_bot(
        session_factory, database_url, clock_start=T0, extra_users=[("dingtalk", stranger)]
    ) as bot:
        _wire(bot)
        web = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        # 1. The secretary opens the plan form from chat and submits December's plan.
        bot.sb.push_dingtalk_message("wangsj", "月度计划")
        bot.drain()
        plan_card = _card(bot, "wangsj", "组织生活计划", interactive=False)
        assert any("/h5/meetings/plan?month=2026-12" in str(b) for b in plan_card["buttons"])
        assert _dingtalk_login(bot, web, "wangsj").status_code == 200
        items = [
            {"types": ["theme_day", "party_lecture"], "starts_at": "2026-12-04T09:00", "place": "党员活动室",
             "topic": "学习党章"},
            {"types": ["group_meeting"], "starts_at": "2026-12-10T15:00", "place": "村委会", "topic": "谈心谈话",
             "group_id": org.group.id},
        ]  # fmt: skip
        # December ends the quarter: without a 党员大会 and a 支委会 the form asks first (issue 15).
        ask = web.post("/h5/meetings/plan", json={"month": "2026-12", "items": items})
        assert ask.status_code == 409 and "支委会" in ask.json()["error"]
        confirmed = {"month": "2026-12", "items": items, "confirm_missing": True}
        assert web.post("/h5/meetings/plan", json=confirmed).status_code == 200
        bot.drain()
        # 2. The committee's 组织委员 approves (备案) from the review card.
        review = _card(bot, "zhouzz", "月度计划待审核")
        _press(bot, "zhouzz", review, "备案")
        with session_factory() as s:
            meetings = s.scalars(select(Meeting).order_by(Meeting.starts_at)).all()
            theme = next(m for m in meetings if MeetingType.THEME_DAY in m.types)
            other = next(m for m in meetings if m.id != theme.id)
        # 3. Every expected member got the notice, on the platform they are on.
        for user in ("wangsj", "lifsj", "zhaowy", "zhangli", "chengang"):
            assert any("会议通知" in str(m) and "学习党章" in str(m) for m in _to(bot, "dingtalk", user)), (
                user
            )
        assert any("会议通知" in str(m) for m in _to(bot, "wecom", "LiuFang"))
        assert not any("学习党章" in str(m) for m in _to(bot, "dingtalk", "zhengq"))
        # 4. Leave from the notice, approved from the secretary's card.
        notice = _card(bot, "zhangli", "学习党章")
        _press(bot, "zhangli", notice, "请假")
        _press(bot, "zhangli", _card(bot, "zhangli", "请选择请假原因"), "出差在外")
        assert "已提交" in [m.get("text", "") for m in _to(bot, "dingtalk", "zhangli")][-1]
        _press(bot, "wangsj", _card(bot, "wangsj", "请假审批"), "批准")
        assert "已批准" in [m.get("text", "") for m in _to(bot, "dingtalk", "zhangli")][-1]
        # 5. Ten minutes before the start the secretary asks for the code; the QR decodes to the sign-in link.
        bot.clock.sleep((theme.starts_at - timedelta(minutes=10) - bot.clock.now()).total_seconds())
        bot.sb.push_dingtalk_message("wangsj", "签到码")
        bot.drain()
        with session_factory() as s:
            images = [m.payload for m in s.scalars(select(OutboxMessage)) if m.payload.get("kind") == "image"]
        assert any(images[-1]["url"] in str(m) for m in _to(bot, "dingtalk", "wangsj"))  # delivered
        image_url = images[-1]["url"]
        png = web.get(urlsplit(image_url).path + "?" + urlsplit(image_url).query)
        link = _decode(png.content)
        assert link.startswith(f"{bot.url}/h5/meetings/{theme.id}/signin?t=")
        token = parse_qs(urlsplit(link).query)["t"][0]
        signin_path = urlsplit(link).path
        # 6a. A DingTalk member: the page, then the auth-code exchange, then the sign-in.
        member = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        page = member.get(signin_path, params={"t": token}, headers={"user-agent": DING_UA})
        assert "dd-shim.js" in page.text
        assert member.post(signin_path, json={"t": token}).status_code == 401
        assert _dingtalk_login(bot, member, "chengang").status_code == 200
        assert member.post(signin_path, json={"t": token}).json()["outcome"] == "ok"
        assert member.post(signin_path, json={"t": token}).json()["outcome"] == "already"
        # 6b. A WeCom member through the OAuth redirect (the sandbox knows her by its cookie).
        wecom = httpx.Client(base_url=bot.url, trust_env=False, timeout=30, follow_redirects=True)
        wecom.cookies.set("sandbox_wecom_user", "LiuFang")
        back = wecom.get("/h5/meetings/auth/wecom", params={"next": f"{signin_path}?t={token}"})
        query = parse_qs(urlsplit(str(back.url)).query)
        code, state = query["code"][0], query["state"][0]
        # The code comes back with the state this browser was given; without it, it is refused.
        assert wecom.post("/h5/meetings/session", json={"platform": "wecom", "code": code}).status_code == 400
        opened = open_session(
            wecom, "/h5/meetings/session", {"platform": "wecom", "code": code, "state": state}
        )
        assert opened.status_code == 200
        assert (
            wecom.post(
                "/h5/meetings/session", json={"platform": "wecom", "code": code, "state": state}
            ).status_code
            == 400  # single use: the state cookie went with the first exchange
        )
        assert wecom.post(signin_path, json={"t": token}).json()["outcome"] == "ok"
        # 6c. Refusals: forged, expired, another meeting's token, another branch, an unbound account.
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        assert member.post(signin_path, json={"t": forged}).json()["outcome"] == "forged"
        stale = signin_uc.projector_token(bot.service.dispatcher.config.secret_key, theme, T0, CFG)
        assert member.post(signin_path, json={"t": stale}).json()["outcome"] == "expired"
        other_token = signin_uc.chat_token(
            bot.service.dispatcher.config.secret_key, other, bot.clock.now(), CFG
        )
        assert member.post(signin_path, json={"t": other_token}).json()["outcome"] == "other_meeting"
        outsider = httpx.Client(base_url=bot.url, trust_env=False, timeout=30)
        assert _dingtalk_login(bot, outsider, "zhengq").status_code == 200
        assert outsider.post(signin_path, json={"t": token}).json()["outcome"] == "not_expected"
        assert _dingtalk_login(bot, outsider, "stranger").status_code == 403
        bot.drain()
        assert any("您已签到" in m.get("text", "") for m in _to(bot, "dingtalk", "chengang"))
        assert any("您已签到" in m.get("text", "") for m in _to(bot, "wecom", "LiuFang"))
        # 7. After the start, leave is refused with the reason.
        bot.clock.sleep(11 * 60)
        assert "不能再请假" in _say(bot, "zhaowy", f"请假 #{theme.id} 临时有事")
        # 8. The window closes: absentees and leave are marked, 补学 tasks go out.
        bot.clock.sleep(30 * 60)
        with session_factory() as s, s.begin():
            jobs.close_signin_windows(s, bot.clock.now(), CFG)
        bot.drain()
        with session_factory() as s:
            status = dict(
                s.execute(
                    select(Attendance.person_id, Attendance.status).where(Attendance.meeting_id == theme.id)
                ).all()
            )
            assert status == {
                org.bob.id: AttendanceStatus.PRESENT,
                org.carol.id: AttendanceStatus.PRESENT,
                org.alice.id: AttendanceStatus.LEAVE,
                # 王书记 submitted the plan and so hosts the meeting: present without scanning.
                org.secretary.id: AttendanceStatus.PRESENT,
                org.deputy.id: AttendanceStatus.ABSENT,
                org.org_member.id: AttendanceStatus.ABSENT,
            }
            assert s.scalar(select(func.count()).select_from(MakeupTask)) == 3
        assert any("补学任务" in str(m) for m in _to(bot, "dingtalk", "zhangli"))
        summary = str(_card(bot, "wangsj", "签到已结束"))
        assert "实到3人，请假1人，缺席2人" in summary and "缺席：李副书记、赵委员" in summary
        # 9. 补学: reported in chat, confirmed from the card, the member is told.
        assert "等待书记确认" in _say(bot, "zhangli", "补学完成 已学习党章并写了心得")
        _press(bot, "wangsj", _card(bot, "wangsj", "补学确认"), "确认")
        assert "已确认完成" in [m.get("text", "") for m in _to(bot, "dingtalk", "zhangli")][-1]
        with session_factory() as s:
            task = s.scalars(select(MakeupTask).where(MakeupTask.person_id == org.alice.id)).one()
            assert task.status == MakeupStatus.CONFIRMED
