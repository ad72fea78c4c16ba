"""The committee's 民主评议党员 page: per branch of its scope the state, turnout and, once decided, the grades'
distribution; a bad year is a 422 with the reason; no voter or ballot appears."""

from __future__ import annotations

import re

from tests.appraisal.conftest import AFTER_CLOSE
from tests.appraisal.test_flow import PLAN, mark_suspended, open_it, post, vote_all


def row(page: str, name: str) -> str:
    found = re.search(rf"<tr id=\"b\d+\">\s*<td>{name}</td>(.*?)</tr>", page, re.S)
    assert found, name
    return re.sub(r"<[^>]+>", " ", found.group(1))


def test_the_committee_follows_each_branch_to_the_decision(world):
    chen = world.console("chen")
    page = chen.get("/console/appraisals?year=2026")
    assert page.status_code == 200 and "民主评议党员（2026年）" in page.text
    assert "未开启" in row(page.text, "东门社区党支部") and "未开启" in row(page.text, "河西村党支部")

    a = open_it(world)
    mark_suspended(world, a.id)
    vote_all(world, a.id, {k: PLAN[k] for k in ("wang", "li", "zs")})
    line = row(world.console("chen").get("/console/appraisals?year=2026").text, "东门社区党支部")
    assert (
        "进行中（2026年12月9日截止）" in line
        and "3/6（50%）" in line
        and "2026年12月3日至2026年12月9日" in line
    )

    world.clock.now = AFTER_CLOSE
    line = row(world.console("chen").get("/console/appraisals").text, "东门社区党支部")
    assert "已截止，待支委会提出建议" in line
    ids = {acc: p.id for acc, p in world.org.people.items()}
    grades = {f"g{ids[a_]}": "qualified" for a_ in ("wang", "li", "ls", "ww", "zl", "cq", "zb")}
    grades |= {f"g{ids['zs']}": "excellent", "day": "2026-12-10"}
    assert post(world.h5("wang"), f"/h5/appraisal/{a.id}/proposal", grades).status_code == 303
    assert "待支部大会决定" in row(world.console("chen").get("/console/appraisals").text, "东门社区党支部")
    assert post(world.h5("wang"), f"/h5/appraisal/{a.id}/decision", grades).status_code == 303
    page = world.console("chen").get("/console/appraisals").text
    line = row(page, "东门社区党支部")
    assert "已决定" in line and "优秀1，合格7" in line and "支部大会 2026-12-10" in line
    assert "已开启1个，支部大会已决定1个" in page
    # Counts of people only: no name of the branch's members is on the page.
    assert not any(p.name in page for acc, p in world.org.people.items() if acc not in ("chen",))
    # Who proposed and decided which grade is in the 审计日志 of the committee's scope.
    audit = world.console("chen").get("/console/audit")
    assert audit.status_code == 200 and "民主评议等次" in audit.text and "王书记" in audit.text


def test_a_branch_secretary_sees_only_their_branch_and_a_bad_year_is_refused(world):
    sun = world.console("sun")
    page = sun.get("/console/appraisals?year=2026").text
    assert "河西村党支部" in page and "东门社区党支部" not in page
    bad = sun.get("/console/appraisals?year=二〇二六")
    assert bad.status_code == 422 and "四位数" in bad.text
    assert "填写的内容有误" in bad.text and "您没有权限" not in bad.text  # a bad value, not a missing right
