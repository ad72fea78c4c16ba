"""包保联系 in the console (#20 item 6): a 组织部 cadre with liaison committees sees 我包保的党委 in the top
bar, and the console (总览, units, 组织与党员, 台账, 年度工作) is narrowed to those committees by default;
查看全县 widens it back to their role's scope, never beyond it, whatever the URL or the cookie says.
Narrowing filters the month the console cached; it builds nothing again.

The small county of the overview tests: 城关镇党委 (城关社区, 东门社区) and 河西乡党委 (河西村, 河东村).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.web.console.deps import COOKIE, PREFIX, SCOPE_COOKIE
from handlers.console import overview
from handlers.console.scope import LiaisonCommittee, Scope, scope_of
from models.db import unit_of_work
from models.inspection import Liaison
from models.org import OrgUnit
from tests.console.test_overview import build_org, console_app, login

C1_BRANCHES = ("城关社区党支部", "东门社区党支部")
C2_BRANCHES = ("河西村党支部", "河东村党支部")


@pytest.fixture
def org(session_factory):
    with unit_of_work(session_factory) as session:
        org = build_org(session)
        c = org.county
        # 组织部小刘 (the whole tree) is the cadre of 城关镇党委; 组织部小陈 (组织部 of 城关镇党委 only) is
        # linked to both committees, 河西乡党委 lying outside his role's scope.
        session.add(Liaison(person_id=org.id("staff"), committee_id=c.c1.id))
        session.add_all([Liaison(person_id=org.staff_c1.id, committee_id=u.id) for u in (c.c1, c.c2)])
        return org


@pytest.fixture
def app(session_factory, org):
    return console_app(session_factory)


def switch(client, to: str, next_url: str = f"{PREFIX}/"):
    csrf = client.app.state.console.csrf(client.cookies.get(COOKIE))
    return client.post(
        f"{PREFIX}/scope", data={"csrf_token": csrf, "to": to, "next": next_url}, follow_redirects=False
    )


def names_in(html: str, names) -> set[str]:
    return {n for n in names if n in html}


def test_a_cadre_sees_their_committees_until_widened_and_back(session_factory, org, app):
    c = org.county
    cadre = login(session_factory, app, org.id("staff"))
    home = cadre.get(f"{PREFIX}/").text
    assert "我包保的党委" in home and 'data-liaison="on"' in home and "查看全县" in home
    assert names_in(home, C1_BRANCHES + ("城关镇党委",)) and not names_in(home, C2_BRANCHES + ("河西乡党委",))
    # Every page that lists units reads the same narrowed scope.
    assert cadre.get(f"{PREFIX}/units/{c.c2.id}").status_code == 404
    assert cadre.get(f"{PREFIX}/units/{c.b3.id}").status_code == 404
    assert cadre.get(f"{PREFIX}/units/{c.b1.id}").status_code == 200
    people = cadre.get(f"{PREFIX}/people?q=党员").text
    assert "党员1甲" in people and "党员3甲" not in people
    assert cadre.get(f"{PREFIX}/people/{c.people['m3a'].id}").status_code == 404
    year = cadre.get(f"{PREFIX}/lifemeetings?year=2026").text
    assert names_in(year, C1_BRANCHES) and not names_in(year, C2_BRANCHES)
    assert cadre.get(f"{PREFIX}/ledgers/{c.b3.id}").status_code == 404

    # 查看全县: back to the next page asked for, with the whole county.
    wide = switch(cadre, "all", f"{PREFIX}/units/{c.c2.id}?month=2026-11")
    assert wide.status_code == 303 and wide.headers["location"] == f"{PREFIX}/units/{c.c2.id}?month=2026-11"
    assert cadre.cookies.get(SCOPE_COOKIE) == "all"
    home = cadre.get(f"{PREFIX}/").text
    assert 'data-liaison="off"' in home and "只看包保党委" in home and "我包保的党委" in home
    assert names_in(home, ("城关镇党委", "河西乡党委")) == {"城关镇党委", "河西乡党委"}
    assert cadre.get(f"{PREFIX}/units/{c.c2.id}").status_code == 200
    assert "党员3甲" in cadre.get(f"{PREFIX}/people?q=党员").text
    assert names_in(cadre.get(f"{PREFIX}/lifemeetings?year=2026").text, C2_BRANCHES)

    # 只看包保党委 again.
    assert switch(cadre, "liaison").status_code == 303
    assert cadre.get(f"{PREFIX}/units/{c.c2.id}").status_code == 404
    # A choice the switch does not know changes nothing.
    bad = switch(cadre, "everything")
    assert bad.status_code == 400 and "只看包保党委" in bad.text
    assert cadre.get(f"{PREFIX}/units/{c.c2.id}").status_code == 404


def test_no_url_or_cookie_widens_a_scope(session_factory, org, app):
    c = org.county
    # 组织部小陈's role covers 城关镇党委 only: his 河西乡党委 link shows nowhere and opens nothing.
    xiao = login(session_factory, app, org.staff_c1.id)
    home = xiao.get(f"{PREFIX}/").text
    assert "我包保的党委" in home and "河西乡党委" not in home
    assert "查看全部" in home  # his whole scope is a subtree, not the county
    for cookie in ("all", "liaison", "c2", ""):
        xiao.cookies.set(SCOPE_COOKIE, cookie)
        for url in (f"{PREFIX}/units/{c.c2.id}", f"{PREFIX}/units/{c.b4.id}", f"{PREFIX}/ledgers/{c.c2.id}"):
            assert xiao.get(url).status_code == 404, (cookie, url)
        assert not names_in(xiao.get(f"{PREFIX}/").text, C2_BRANCHES + ("河西乡党委",))
    # A cookie other than "all" is the narrowed default.
    cadre = login(session_factory, app, org.id("staff"))
    cadre.cookies.set(SCOPE_COOKIE, "everything")
    assert cadre.get(f"{PREFIX}/units/{c.c2.id}").status_code == 404


def test_someone_without_liaison_committees_is_unaffected(session_factory, org, app):
    c = org.county
    secretary = login(session_factory, app, org.id("c2sec"))  # 河西乡党委 书记
    home = secretary.get(f"{PREFIX}/").text
    assert "我包保的党委" not in home and "只看包保党委" not in home
    assert "河西乡党委" in home and not names_in(home, C1_BRANCHES + ("城关镇党委",))
    refused = switch(secretary, "liaison")
    assert refused.status_code == 403 and SCOPE_COOKIE not in refused.headers.get("set-cookie", "")
    secretary.cookies.set(SCOPE_COOKIE, "all")
    assert secretary.get(f"{PREFIX}/units/{c.c1.id}").status_code == 404
    assert secretary.get(f"{PREFIX}/units/{c.b3.id}").status_code == 200


def test_narrowing_filters_the_cached_month(session_factory, org, app, monkeypatch):
    """The month is built once for everyone; the cadre's narrowed and whole views are filters of it
    whose figures add up to the county's."""
    built = []
    real = overview.build_month_data
    monkeypatch.setattr(overview, "build_month_data", lambda *a, **kw: built.append(1) or real(*a, **kw))
    cadre = login(session_factory, app, org.id("staff"))
    narrow = cadre.get(f"{PREFIX}/?month=2026-11").text
    switch(cadre, "all")
    whole = cadre.get(f"{PREFIX}/?month=2026-11").text
    switch(cadre, "liaison")
    again = cadre.get(f"{PREFIX}/?month=2026-11").text
    assert len(built) == 1

    def branches(html: str) -> float:
        m = re.search(r'data-figure="plans" data-v="([^"]*)"', html)
        assert m, "no plans figure"
        return float(m.group(1).split("/")[1])

    assert branches(narrow) == branches(again) == 2 and branches(whole) == 4


def test_scope_to_liaison_only_drops_units(session_factory, org):
    c = org.county
    with session_factory() as session:
        path = {u.id: u.path for u in session.scalars(select(OrgUnit))}
        whole = scope_of(session, org.id("staff"))
        sub = scope_of(session, org.staff_c1.id)
        nobody = scope_of(session, org.id("c1sec"))
    assert whole.everything and [x.id for x in whole.liaison] == [c.c1.id]
    narrowed = whole.to_liaison()
    assert not narrowed.everything and narrowed.roots == (path[c.c1.id],) and narrowed.full is whole
    assert narrowed.to_liaison() is narrowed and narrowed.title == whole.title
    # 河西乡党委 is outside 组织部小陈's scope: not his to see, so not his to narrow to.
    assert [x.id for x in sub.liaison] == [c.c1.id] and sub.to_liaison().roots == sub.roots
    assert nobody.liaison == () and nobody.to_liaison() is nobody
    # A branch led inside a liaison committee stays; one observed outside it goes.
    mixed = Scope(1, False, (path[c.b1.id],), (path[c.b3.id],), "x",
                  liaison=(LiaisonCommittee(c.c1.id, "城关镇党委", path[c.c1.id]),))  # fmt: skip
    assert mixed.to_liaison().roots == (path[c.b1.id],) and mixed.to_liaison().observed == ()
