"""The console's 督查巡查 pages: the 组织部 opens a round, the named inspector records findings (a problem
becomes a rectification), the owner's report is confirmed, the round closes and only a correction with a
reason changes a finding; the unit's file as a page and as a .docx opened with python-docx; the monthly
draw hidden from the drawn branch until its month is over; the 交叉互查 checker's read-only view.
Refusals: 404 outside the viewer's rounds, 403 not theirs, 409 a closed round, 422 a bad value."""

from __future__ import annotations

import io
import re
from datetime import date

import docx
from sqlalchemy import select

from handlers.inspection import rounds
from handlers.inspection.config import DEFAULT
from models.inspection import Finding, InspectionRectification, InspectionRound, RoundKind, RoundUnit
from models.observers import RectificationStatus
from tests.console.people_world import console_app, csrf_of, login
from tests.inspection.conftest import local, st

TODAY = date(2027, 5, 10)
NOW = local(TODAY)


def test_a_round_in_the_console(session_factory, session, county):
    app = console_app(session_factory, now=NOW)
    sun, qian, wang, li = (
        login(session_factory, app, p.id, now=NOW) for p in (county.sun, county.qian, county.wang, county.li)
    )
    page = sun.get("/console/inspection")
    assert page.status_code == 200 and 'href="/console/inspection" class="on"' in page.text
    assert "“三会一课”按规定召开，记录完整" in page.text  # the year's default 督查清单
    made = sun.post(
        "/console/inspection/rounds",
        data={"csrf_token": csrf_of(sun), "title": "五月综合督查", "kind": "supervision", "inspector": str(county.qian.id),
              "units": [str(county.village.id), str(county.community.id)], "method": "看现场"},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    url = made.headers["location"]
    rid = int(re.search(r"round\?id=(\d+)", url).group(1))
    assert "河东村党支部" in qian.get(url).text
    assert li.get("/console/inspection").text.count("五月综合督查") == 1  # their branch is in it
    assert "河东村党支部" not in li.get(url).text  # but they see their own branch only
    zhao = login(session_factory, app, county.zhao.id, now=NOW)
    assert zhao.get(url).status_code == 404
    post = "/console/inspection/round/findings"
    bad = qian.post(
        post,
        data={
            "csrf_token": csrf_of(qian),
            "round": rid,
            "branch": county.village.id,
            "item": "台账",
            "result": "problem",
        },
    )
    assert bad.status_code == 422 and session.scalar(select(Finding.id)) is None
    ok = qian.post(
        post, data={"csrf_token": csrf_of(qian), "round": rid, "branch": county.village.id, "item": "主题党日每月开展，有计划有记录",
                    "result": "problem", "text": "4月未开展主题党日", "due_on": "2027-06-10"},
        follow_redirects=False,
    )  # fmt: skip
    assert ok.status_code == 303
    assert "4月未开展主题党日" in qian.get(url).text
    assert (
        wang.post(
            post,
            data={
                "csrf_token": csrf_of(wang),
                "round": rid,
                "branch": county.village.id,
                "item": "x",
                "result": "ok",
            },
        ).status_code
        == 403
    )
    session.expire_all()
    rect = session.scalar(select(InspectionRectification))
    assert rect.due_on == date(2027, 6, 10) and rect.owner_id == county.wang.id
    with session_factory() as s, s.begin():
        rounds.report_fixed(s, s.get(type(county.wang), county.wang.id), s.get(InspectionRectification, rect.id),
                            "5月8日补开", now=NOW)  # fmt: skip
    decide = "/console/inspection/rectification"
    assert (
        qian.post(
            decide, data={"csrf_token": csrf_of(qian), "rect": rect.id, "decision": "reopen"}
        ).status_code
        == 422
    )
    assert (
        qian.post(
            decide,
            data={"csrf_token": csrf_of(qian), "rect": rect.id, "decision": "confirm"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert (
        qian.post(
            decide, data={"csrf_token": csrf_of(qian), "rect": rect.id, "decision": "confirm"}
        ).status_code
        == 409
    )
    session.expire_all()
    assert session.get(InspectionRectification, rect.id).status == RectificationStatus.CLOSED
    # The close: the inspector may not close; once closed, no more edits but the 组织部's correction.
    close = "/console/inspection/round/close"
    assert qian.post(close, data={"csrf_token": csrf_of(qian), "round": rid}).status_code == 403
    assert (
        sun.post(close, data={"csrf_token": csrf_of(sun), "round": rid}, follow_redirects=False).status_code
        == 303
    )
    late = {
        "csrf_token": csrf_of(qian),
        "round": rid,
        "branch": county.village.id,
        "item": "台账",
        "result": "ok",
    }
    assert qian.post(post, data=late).status_code == 409
    fix = {"csrf_token": csrf_of(sun), "round": rid, "branch": county.village.id, "item": "主题党日每月开展，有计划有记录",
           "result": "problem", "text": "4月未开展主题党日，记录后补", "reason": "复核发现记录系事后补写"}  # fmt: skip
    assert sun.post(post, data=fix, follow_redirects=False).status_code == 303
    # The unit's file: the page and the Word file.
    file_page = wang.get(f"/console/inspection/units/{county.village.id}")
    assert file_page.status_code == 200 and "复核发现记录系事后补写" in file_page.text
    exported = wang.get(f"/console/inspection/units/{county.village.id}/file.docx")
    assert exported.status_code == 200
    doc = docx.Document(io.BytesIO(exported.content))
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "河东村党支部 督查档案（一户一档）" in text and "五月综合督查" in text
    assert "4月未开展主题党日，记录后补（更正：复核发现记录系事后补写）" in cells
    assert any(c.startswith("已销号，期限 2027-06-10") for c in cells) and "钱督查" in cells
    assert zhao.get(f"/console/inspection/units/{county.village.id}/file.docx").status_code == 404


def test_patrol_hidden_and_cross_check(session_factory, session, county):
    app = console_app(session_factory, now=NOW)
    sun = login(session_factory, app, county.sun.id, now=NOW)
    drawn = sun.post("/console/inspection/patrol", data={"csrf_token": csrf_of(sun), "month": "2027-05", "share": "100"},
                     follow_redirects=False)  # fmt: skip
    assert drawn.status_code == 303
    url = drawn.headers["location"]
    assert (
        sun.post(
            "/console/inspection/patrol", data={"csrf_token": csrf_of(sun), "month": "2027-05"}
        ).status_code
        == 409
    )
    assert (
        sun.post(
            "/console/inspection/patrol", data={"csrf_token": csrf_of(sun), "month": "2027-06", "share": "0"}
        ).status_code
        == 422
    )
    wang = login(session_factory, app, county.wang.id, now=NOW)
    assert wang.get(url).status_code == 404 and "随机抽查" not in wang.get("/console/inspection").text
    june_1 = local(date(2027, 6, 1))
    june = login(session_factory, console_app(session_factory, now=june_1), county.wang.id, now=june_1)
    assert "河东村党支部" in june.get(url).text  # the month is over: the branch sees it was checked
    june_draw = sun.post(
        "/console/inspection/patrol",
        data={"csrf_token": csrf_of(sun), "month": "2027-06"},
        follow_redirects=False,
    )
    assert june_draw.status_code == 303
    # 交叉互查 in 东风镇: two branches check each other; 陈书记 reads 东风二村's meetings, read-only.
    cross = sun.post("/console/inspection/cross", data={"csrf_token": csrf_of(sun), "committee": county.east.id,
                     "title": "二季度交叉互查", "start": "2027-04-01", "end": "2027-06-30"}, follow_redirects=False)  # fmt: skip
    assert cross.status_code == 303
    rid = int(re.search(r"round\?id=(\d+)", cross.headers["location"]).group(1))
    pairs = {
        (u.checker_branch_id, u.branch_id)
        for u in session.scalars(select(RoundUnit).where(RoundUnit.round_id == rid))
    }
    assert pairs == {(county.east1.id, county.east2.id), (county.east2.id, county.east1.id)}
    chen = login(session_factory, app, county.chen.id, now=NOW)
    assert chen.get(f"/console/inspection/ledger?round={rid}&branch={county.east2.id}").status_code == 200
    assert (
        chen.get(f"/console/inspection/ledger?round={rid}&branch={county.east1.id}").status_code == 404
    )  # its own: not this view
    record = chen.post("/console/inspection/round/findings", data={"csrf_token": csrf_of(chen), "round": rid, "branch": county.east2.id,
                       "item": "三会一课记录", "result": "ok"}, follow_redirects=False)  # fmt: skip
    assert record.status_code == 303
    assert session.scalar(select(InspectionRound.seed).where(InspectionRound.id == rid)) is not None
    bad = sun.post("/console/inspection/cross", data={"csrf_token": csrf_of(sun), "committee": county.east.id,
                   "title": "x", "start": "2027-06-30", "end": "2027-04-01"})  # fmt: skip
    assert bad.status_code == 422


def test_a_committee_leader_sees_the_rounds_over_its_branches_read_only(session_factory, session, county):
    """周明华's case: a committee's 组织委员 sees the 组织部's round over her branches (and its open
    rectification) without being able to record or decide, not another committee's branch, and a patrol
    draw only once its month is over (until then only the 组织部 and the inspectors see it)."""
    from models.org import Role
    from tests import builders

    zhou = builders.person(session, "周委员", None, account_id="zhouwy")
    builders.role(session, zhou, county.town, Role.ORGANIZATION_MEMBER)
    session.commit()
    app = console_app(session_factory, now=NOW)
    sun, qian, leader = (login(session_factory, app, p.id, now=NOW) for p in (county.sun, county.qian, zhou))
    assert "暂无您可以查看的督查、巡查轮次" in leader.get("/console/inspection").text
    made = sun.post(
        "/console/inspection/rounds",
        data={"csrf_token": csrf_of(sun), "title": "五月综合督查", "kind": "supervision", "inspector": str(county.qian.id),
              "units": [str(county.village.id), str(county.east1.id)]},
        follow_redirects=False,
    )  # fmt: skip
    url = made.headers["location"]
    rid = int(re.search(r"round\?id=(\d+)", url).group(1))
    qian.post("/console/inspection/round/findings", data={"csrf_token": csrf_of(qian), "round": rid, "branch": county.village.id,
              "item": "主题党日每月开展，有计划有记录", "result": "problem", "text": "4月未开展主题党日"})  # fmt: skip
    assert "五月综合督查" in leader.get("/console/inspection").text
    page = leader.get(url)
    assert page.status_code == 200 and "河东村党支部" in page.text and "4月未开展主题党日" in page.text
    assert "东风一村党支部" not in page.text  # another committee's branch
    assert "结束本轮" not in page.text and 'name="result"' not in page.text  # read-only
    record = leader.post("/console/inspection/round/findings", data={"csrf_token": csrf_of(leader), "round": rid,
                         "branch": county.village.id, "item": "x", "result": "ok"})  # fmt: skip
    assert record.status_code == 403
    assert (
        leader.post(
            "/console/inspection/round/close", data={"csrf_token": csrf_of(leader), "round": rid}
        ).status_code
        == 403
    )
    unit = leader.get(f"/console/inspection/units/{county.village.id}")
    assert unit.status_code == 200 and "4月未开展主题党日" in unit.text
    # The month's patrol: hidden from the committee until the month is over.
    drawn = sun.post("/console/inspection/patrol", data={"csrf_token": csrf_of(sun), "month": "2027-05", "share": "100"},
                     follow_redirects=False)  # fmt: skip
    patrol = drawn.headers["location"]
    assert (
        leader.get(patrol).status_code == 404 and "月 随机抽查" not in leader.get("/console/inspection").text
    )
    june_1 = local(date(2027, 6, 1))
    june = login(session_factory, console_app(session_factory, now=june_1), zhou.id, now=june_1)
    later = june.get(patrol).text
    assert "河东村党支部" in later and "东风一村党支部" not in later


def test_the_forms_offer_plausible_inspectors_and_a_correction_picks_a_recorded_item(
    session_factory, session, county
):
    """The 督查人员 picker groups the 组织部 first, then each committee's leaders, then the rest by branch
    (not one flat list of everyone); the 包保 picker offers 组织部 staff only; after the close the 更正
    form's 事项 is a choice of the unit's recorded items, not free text."""
    from models.org import Role
    from tests import builders

    leader = builders.person(session, "周委员", None, account_id="zhouwy")
    builders.role(session, leader, county.town, Role.ORGANIZATION_MEMBER)
    session.commit()
    app = console_app(session_factory, now=NOW)
    sun, qian = (login(session_factory, app, p.id, now=NOW) for p in (county.sun, county.qian))
    page = sun.get("/console/inspection").text
    picker = re.search(r'<select name="inspector">(.*?)</select>', page, re.S).group(1)
    groups = re.findall(r'<optgroup label="([^"]+)">', picker)
    assert groups[:2] == ["组织部", "城关镇党委负责人"] and "其他：河东村党支部" in groups
    first = re.search(r'<optgroup label="组织部">(.*?)</optgroup>', picker, re.S).group(1)
    assert "孙部长（组织部）" in first and "钱督查（组织部）" in first and "王书记" not in first
    assert "周委员（组织委员）" in picker
    cadres = re.search(r'<select name="person">(.*?)</select>', page, re.S).group(1)
    assert "钱督查" in cadres and "王书记" not in cadres and "周委员" not in cadres
    made = sun.post("/console/inspection/rounds", data={"csrf_token": csrf_of(sun), "title": "五月综合督查", "kind": "supervision",
                    "inspector": str(county.qian.id), "units": [str(county.village.id)]}, follow_redirects=False)  # fmt: skip
    url = made.headers["location"]
    rid = int(re.search(r"round\?id=(\d+)", url).group(1))
    for item, result in (("党费按月足额收缴，台账清楚", "ok"), ("主题党日每月开展，有计划有记录", "ok")):
        qian.post("/console/inspection/round/findings", data={"csrf_token": csrf_of(qian), "round": rid,
                  "branch": county.village.id, "item": item, "result": result})  # fmt: skip
    assert 'list="items' in sun.get(url).text  # open: the checklist as suggestions
    sun.post("/console/inspection/round/close", data={"csrf_token": csrf_of(sun), "round": rid})
    closed = sun.get(url).text
    choice = re.search(r'<select name="item" required>(.*?)</select>', closed, re.S).group(1)
    assert re.findall(r"<option>(.*?)</option>", choice) == [
        "主题党日每月开展，有计划有记录",
        "党费按月足额收缴，台账清楚",
    ]
    assert 'type="text" name="item"' not in closed


def test_a_console_correction_keeps_the_photos_taken_on_the_phone(session_factory, session, county):
    """The console's form has no photos: correcting a finding recorded (with photos) on the H5 form
    keeps its photos."""
    rnd = rounds.open_round(
        session, st(session, county.sun), kind=RoundKind.SUPERVISION, title="五月看现场", unit=None,
        assignments=[(county.village, county.qian.id, None)], today=TODAY,
    )  # fmt: skip
    ru = rnd.units[0]
    rounds.record_finding(
        session, st(session, county.qian), rnd, ru, item="主题党日", ok=False, text="签到表代签",
        photos=[41, 42], now=NOW, today=TODAY, cfg=DEFAULT,
    )  # fmt: skip
    rounds.close_round(session, st(session, county.sun), rnd, now=NOW)
    session.commit()
    app = console_app(session_factory, now=NOW)
    sun = login(session_factory, app, county.sun.id, now=NOW)
    fix = {"csrf_token": csrf_of(sun), "round": rnd.id, "branch": county.village.id, "item": "主题党日",
           "result": "problem", "text": "签到表代签，已补签", "reason": "复核"}  # fmt: skip
    assert sun.post("/console/inspection/round/findings", data=fix, follow_redirects=False).status_code == 303
    session.expire_all()
    finding = session.scalar(select(Finding))
    assert finding.text == "签到表代签，已补签" and finding.photos == [41, 42]
    assert "照片2张" in sun.get(f"/console/inspection/round?id={rnd.id}").text
