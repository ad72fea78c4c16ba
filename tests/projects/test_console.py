"""The console's 书记项目 pages: the year's list within the viewer's scope, and a committee's 晒比评 with
the proposal and the decision form (roles, 404 outside the scope, 409 a second time, 422 a bad choice)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from models.projects import PickKind, ProjectPick
from tests.console.people_world import console_app, csrf_of, login
from tests.projects.conftest import local
from tests.projects.test_compare import month  # noqa: F401  (the fixture: four projects in March 2027)

NOW = local(date(2027, 4, 2))


def test_the_list_and_the_compare_page(session_factory, session, org, month):  # noqa: F811
    session.commit()
    app = console_app(session_factory, now=NOW)
    zhou = login(session_factory, app, org.zhou.id, now=NOW)
    page = zhou.get("/console/projects?year=2027")
    assert page.status_code == 200 and 'href="/console/projects" class="on"' in page.text
    assert "A 光伏" in page.text and "B 停车" in page.text and "逾期1" in page.text
    li = login(session_factory, app, org.li.id, now=NOW)
    mine = li.get("/console/projects?year=2027").text
    assert "B 停车" in mine and "A 光伏" not in mine  # a branch secretary sees their branch only
    assert li.get(f"/console/projects/compare?committee={org.committee.id}&month=2027-03").status_code == 404

    url = f"/console/projects/compare?committee={org.committee.id}&month=2027-03"
    view = zhou.get(url)
    assert (
        view.status_code == 200
        and "1个节点逾期未完成，本月未报告进展" in view.text
        and "确认评定并通报" in view.text
    )
    post = f"/console/projects/compare/{org.committee.id}"
    csrf = csrf_of(zhou)
    bad = zhou.post(post, data={"csrf_token": csrf, "month": "2027-03", f"pick_{month['A']}": "gold"})
    assert bad.status_code == 422 and session.scalar(select(ProjectPick.id)) is None
    ok = zhou.post(
        post,
        data={
            "csrf_token": csrf,
            "month": "2027-03",
            f"pick_{month['A']}": "red_flag",
            f"pick_{month['B']}": "snail",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    done = zhou.get(ok.headers["location"]).text
    assert "已保存本月评定" in done and "确认评定并通报" not in done
    session.expire_all()
    chosen = {p.project_id: p.chosen_kind for p in session.scalars(select(ProjectPick))}
    assert chosen[month["A"]] == PickKind.RED_FLAG and chosen[month["B"]] == PickKind.SNAIL
    again = zhou.post(post, data={"csrf_token": csrf, "month": "2027-03"})
    assert again.status_code == 409


def test_the_compare_address_without_parameters_opens_the_viewers_committee_for_last_month(
    session_factory,
    session,
    org,
    month,  # noqa: F811
):
    """/console/projects/compare typed bare is the page the list's link opens: the viewer's committee and
    the last whole month (the one whose reports are all in), not a 422; without a committee in the scope
    it says 晒比评 is a committee's."""
    session.commit()
    app = console_app(session_factory, now=NOW)
    zhou = login(session_factory, app, org.zhou.id, now=NOW)
    bare = zhou.get("/console/projects/compare")
    linked = zhou.get(f"/console/projects/compare?committee={org.committee.id}&month=2027-03")
    assert bare.status_code == 200 and "城关镇党委 书记项目晒比评（2027年3月）" in bare.text
    assert "1个节点逾期未完成，本月未报告进展" in bare.text and bare.text == linked.text
    li = login(session_factory, app, org.li.id, now=NOW)
    page = li.get("/console/projects/compare")
    assert page.status_code == 200 and "您的管理范围内没有党委" in page.text and "城关镇党委" not in page.text


def test_the_compare_page_of_the_running_month_counts_late_as_of_today(session_factory, session, org, month):  # noqa: F811
    """On 3月10日 March's page shows no milestone late (B's is due 3月31日), proposes no 蜗牛, pre-selects
    nothing as 蜗牛, and says it is judged as of today; on 4月2日 the same month is judged at its end."""
    session.commit()
    early = local(date(2027, 3, 10))
    app = console_app(session_factory, now=early)
    zhou = login(session_factory, app, org.zhou.id, now=early)
    page = zhou.get(f"/console/projects/compare?committee={org.committee.id}&month=2027-03").text
    table = page.split("<tbody>", 1)[1]
    assert "逾期未完成" not in table and "本月未报告进展" not in table and "蜗牛项目</span>" not in table
    assert 'value="snail" selected' not in page and 'value="red_flag" selected' in page
    assert "2027年3月尚未结束：逾期节点按今天（2027年3月10日" in page
    app = console_app(session_factory, now=NOW)
    zhou = login(session_factory, app, org.zhou.id, now=NOW)
    page = zhou.get(f"/console/projects/compare?committee={org.committee.id}&month=2027-03").text
    assert "1个节点逾期未完成，本月未报告进展" in page and "尚未结束" not in page
