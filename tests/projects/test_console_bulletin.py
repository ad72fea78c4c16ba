"""The console's 排位赛 page (the proposed ranking, the confirmation: csrf, role, 4xx with the reason and
nothing changed, once) and 观摩评比 page (the panel's ranking, 评为优秀 with the chat command's rules), and
the projects page's links to them and to the 典型项目 showcase."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from handlers.projects import showcase
from handlers.projects.config import DEFAULT as CFG
from models.org import Role, UnitKind
from models.projects import ProjectBulletin, ProjectRanking, SecretaryProject
from tests import builders
from tests.console.people_world import console_app, csrf_of, login
from tests.projects.conftest import local
from tests.projects.test_bulletin import quarter_data

NOW = local(date(2027, 4, 2))


@pytest.fixture
def quarter(session, org):
    return quarter_data(session, org)


def test_the_ranking_page_and_its_confirmation(session_factory, session, org, quarter):
    other = builders.unit(session, "河西镇党委", UnitKind.COMMITTEE)
    stranger = builders.person(session, "钱书记", None, account_id="qiansj")
    builders.role(session, stranger, other, Role.SECRETARY)
    session.commit()
    stranger_id = stranger.id
    app = console_app(session_factory, now=NOW)
    zhou = login(session_factory, app, org.zhou.id, now=NOW)
    listing = zhou.get("/console/projects?year=2027").text
    url = f"/console/projects/ranking?committee={org.committee.id}&quarter=2027Q1"
    assert url in listing
    page = zhou.get(url)
    assert page.status_code == 200 and "城关镇党委 书记项目排位赛（2027年第1季度）" in page.text
    table = page.text.split("<tbody>", 1)[1]
    assert table.index("A 光伏") < table.index("D 道路") < table.index("E 窗口二期") < table.index("C 窗口")
    assert table.index("C 窗口") < table.index("B 停车") and "尚未确认" in page.text
    assert "确认排位并发布进度通报</button>" in page.text
    assert zhou.get("/console/projects/ranking").text == page.text  # bare: the committee, last quarter
    # A bad quarter is an input error: 400 with the input message, not the permission sentence.
    typo = zhou.get(f"/console/projects/ranking?committee={org.committee.id}&quarter=2027Q7")
    assert typo.status_code == 400 and "季度应写成" in typo.text and "您没有权限" not in typo.text
    assert "填写的内容有误" in typo.text
    # The running quarter: shown as of today, no confirmation.
    running = zhou.get(f"/console/projects/ranking?committee={org.committee.id}&quarter=2027Q2").text
    assert "2027年第2季度尚未结束" in running and "确认排位并发布进度通报</button>" not in running

    li = login(session_factory, app, org.li.id, now=NOW)
    assert li.get(url).status_code == 404  # a branch's secretary: the committee is outside the scope
    qian = login(session_factory, app, stranger_id, now=NOW)  # another committee's 书记: the same
    assert qian.get(url).status_code == 404
    assert (
        qian.post(
            f"/console/projects/ranking/{org.committee.id}",
            data={"csrf_token": csrf_of(qian), "quarter": "2027Q1"},
        ).status_code
        == 404
    )
    post = f"/console/projects/ranking/{org.committee.id}"
    assert li.post(post, data={"csrf_token": csrf_of(li), "quarter": "2027Q1"}).status_code == 404
    csrf = csrf_of(zhou)
    assert zhou.post(post, data={"quarter": "2027Q1"}).status_code == 403  # no csrf
    bad = zhou.post(post, data={"csrf_token": csrf, "quarter": "明年"})
    assert bad.status_code == 422 and "季度应写成" in bad.text and "您没有权限" not in bad.text
    early = zhou.post(post, data={"csrf_token": csrf, "quarter": "2027Q2"})
    assert early.status_code == 422 and "尚未结束" in early.text
    assert session.scalar(select(ProjectBulletin.id)) is None
    ok = zhou.post(post, data={"csrf_token": csrf, "quarter": "2027Q1"}, follow_redirects=False)
    assert ok.status_code == 303
    done = zhou.get(ok.headers["location"]).text
    assert "已确认排位并发布进度通报" in done and "确认排位并发布进度通报</button>" not in done
    assert "2027年3月：红旗 A 光伏；蜗牛 B 停车" in done and "四月中旬前推出承诺制" in done
    session.expire_all()
    assert len(session.scalars(select(ProjectRanking)).all()) == 5
    again = zhou.post(post, data={"csrf_token": csrf, "quarter": "2027Q1"})
    assert again.status_code == 409 and "不能重复确认" in again.text


def test_the_showcase_page_ranks_by_the_panel_and_chooses_excellent_projects(
    session_factory, session, org, quarter
):
    at = local(date(2027, 12, 10))
    showcase.set_judges(session, org.feng, 2027, ["孙部长", "吴副书记"], cfg=CFG)
    showcase.score(session, org.sun, quarter["B"], 90, "", now=at)
    showcase.score(session, org.deputy, quarter["B"], 80, "", now=at)
    showcase.score(session, org.sun, quarter["A"], 70, "", now=at)
    session.commit()
    app = console_app(session_factory, now=at)
    zhou = login(session_factory, app, org.zhou.id, now=at)
    listing = zhou.get("/console/projects?year=2027").text
    # The showcase link opens the console's own page (the H5 page asks for DingTalk/WeCom identity on a PC).
    assert (
        'href="/console/projects/showcase/page?year=2027"' in listing
        and "/console/projects/showcase?year=2027" in listing
        and "/h5/projects/showcase" not in listing
    )
    page = zhou.get("/console/projects/showcase?year=2027")
    assert page.status_code == 200
    table = page.text.split("<tbody>", 1)[1]
    assert table.index("B 停车") < table.index("A 光伏") < table.index("C 窗口")  # C: not scored, after
    assert "85.0（2人）" in table and "90、80" in table and table.count("评为优秀</button>") == 5
    assert 'href="/console/projects/showcase/page?year=2027"' in page.text
    # 评为优秀 cannot be undone: the form asks first, naming the project.
    form = table.split(f'action="/console/projects/showcase/{quarter["B"]}/excellent"', 1)[1].split(">", 1)[0]
    assert f'data-confirm="确定将项目 #{quarter["B"]}“B 停车”评为优秀项目吗？评定后不能撤销。"' in form
    assert 'onsubmit="return confirm(this.dataset.confirm)"' in form

    li = login(session_factory, app, org.li.id, now=at)
    assert "观摩评比和优秀项目" not in li.get("/console/projects?year=2027").text
    refused = li.get("/console/projects/showcase?year=2027")
    assert refused.status_code == 403 and "观摩评比排名和优秀项目由党委" in refused.text
    choose = f"/console/projects/showcase/{quarter['B']}/excellent"
    # li sees his own branch's project but may not choose it (403, the chat command's refusal).
    mine = li.post(choose, data={"csrf_token": csrf_of(li)})
    assert mine.status_code == 403 and "上级党委" in mine.text
    assert (
        li.post(
            f"/console/projects/showcase/{quarter['A']}/excellent", data={"csrf_token": csrf_of(li)}
        ).status_code
        == 404
    )
    assert zhou.post(choose, data={}).status_code == 403  # no csrf
    session.expire_all()
    assert session.get(SecretaryProject, quarter["B"]).excellent_at is None
    ok = zhou.post(choose, data={"csrf_token": csrf_of(zhou)}, follow_redirects=False)
    assert ok.status_code == 303
    shown = zhou.get(ok.headers["location"]).text
    assert "已评为优秀项目" in shown and "★优秀" in shown and shown.count("评为优秀</button>") == 4
    again = zhou.post(choose, data={"csrf_token": csrf_of(zhou)})
    assert again.status_code == 409 and f"项目 #{quarter['B']} 已经是优秀项目。" in again.text
    session.expire_all()
    assert session.get(SecretaryProject, quarter["B"]).excellent_by_id == org.zhou.id
    # The console's 典型项目 page shows what the H5 showcase shows, to a viewer at a PC.
    cards = zhou.get("/console/projects/showcase/page?year=2027")
    assert cards.status_code == 200 and "2027年典型项目展示" in cards.text
    assert f'id="p{quarter["B"]}"' in cards.text and "B 停车" in cards.text and "A 光伏" not in cards.text
    assert "2026年还没有选定的优秀项目" in zhou.get("/console/projects/showcase/page?year=2026").text


def test_a_quarter_with_nothing_to_rank_cannot_be_confirmed(session_factory, session, org):
    from handlers.projects import library
    from tests.projects.test_bulletin import _project

    library.set_call(session, org.feng, 2027, date(2027, 3, 31), 2, cfg=CFG)
    _project(session, org, org.wang, "D 道路", "2027-08-31 硬化")
    session.commit()
    app = console_app(session_factory, now=NOW)
    zhou = login(session_factory, app, org.zhou.id, now=NOW)
    page = zhou.get(f"/console/projects/ranking?committee={org.committee.id}&quarter=2027Q1").text
    assert "本季度各项目没有到期节点，也没有进展报告，无需排位。" in page
    assert '<button type="button" disabled>确认排位并发布进度通报</button>' in page
    assert '<button type="submit">确认排位并发布进度通报</button>' not in page
    # A quarter still running offers no confirmation at all, so it says nothing of 无需排位 either.
    running = zhou.get(f"/console/projects/ranking?committee={org.committee.id}&quarter=2027Q2").text
    assert (
        "尚未结束" in running
        and "无需排位" not in running
        and "确认排位并发布进度通报</button>" not in running
    )
    refused = zhou.post(
        f"/console/projects/ranking/{org.committee.id}",
        data={"csrf_token": csrf_of(zhou), "quarter": "2027Q1"},
    )
    assert refused.status_code == 422 and "无需排位" in refused.text
    assert session.scalar(select(ProjectBulletin.id)) is None


def test_a_narrowed_cadre_sees_and_chooses_only_their_committees_projects(
    session_factory, session, org, quarter
):
    """孙部长 (组织部) is the 包保 cadre of another committee: narrowed, the 观摩评比 lists none of 城关镇党委's
    projects (whose 评为优秀 would be refused as outside the scope); 查看全县 lists them again."""
    from bot.web.console.deps import SCOPE_COOKIE, WHOLE_SCOPE
    from models.inspection import Liaison
    from models.org import UnitKind
    from tests import builders

    other = builders.unit(session, "第二镇党委", UnitKind.COMMITTEE)
    session.add(Liaison(person_id=org.sun.id, committee_id=other.id))
    session.commit()
    at = local(date(2027, 12, 10))
    app = console_app(session_factory, now=at)
    sun = login(session_factory, app, org.sun.id, now=at)
    narrowed = sun.get("/console/projects/showcase?year=2027").text
    assert "B 停车" not in narrowed and "评为优秀</button>" not in narrowed
    sun.cookies.set(SCOPE_COOKIE, WHOLE_SCOPE)
    whole = sun.get("/console/projects/showcase?year=2027").text
    assert "B 停车" in whole and "评为优秀</button>" in whole
