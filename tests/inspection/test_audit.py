"""督查/巡查 in the 审计日志: a round, a finding, its rectification and a 包保 link read in Chinese (the
tables and their columns by name, a rectification's state and a round's kind in words, people by name),
with no raw table or column names left."""

from __future__ import annotations

import re
from datetime import date

from tests.console.people_world import console_app, csrf_of, login
from tests.inspection.conftest import local

NOW = local(date(2027, 5, 10))


def test_inspection_changes_read_in_chinese_in_the_audit_log(session_factory, session, county):
    app = console_app(session_factory, now=NOW)
    sun, qian = (login(session_factory, app, p.id, now=NOW) for p in (county.sun, county.qian))
    made = sun.post("/console/inspection/rounds", data={"csrf_token": csrf_of(sun), "title": "五月综合督查", "kind": "supervision",
                    "inspector": str(county.qian.id), "units": [str(county.village.id)], "method": "看现场"},
                    follow_redirects=False)  # fmt: skip
    rid = int(re.search(r"round\?id=(\d+)", made.headers["location"]).group(1))
    recorded = qian.post("/console/inspection/round/findings", data={"csrf_token": csrf_of(qian), "round": rid,
                         "branch": county.village.id, "item": "主题党日每月开展，有计划有记录", "result": "problem",
                         "text": "4月未开展主题党日"}, follow_redirects=False)  # fmt: skip
    assert recorded.status_code == 303
    linked = sun.post("/console/inspection/liaison", data={"csrf_token": csrf_of(sun), "person": county.qian.id,
                      "committees": [county.town.id]}, follow_redirects=False)  # fmt: skip
    assert linked.status_code == 303
    text = sun.get("/console/audit").text
    assert (
        "新增督查轮次" in text
        and "督查类型：" in text
        and "督查" in text
        and "方式：" in text
        and "看现场" in text
    )
    assert "新增督查发现" in text and "督查事项：" in text and "主题党日每月开展，有计划有记录" in text
    assert "新增督查整改" in text and "整改责任人：" in text and "王书记" in text and "整改中" in text
    assert "新增包保联系" in text and "包保干部：" in text and "包保党委：" in text and "城关镇党委" in text
    raw = ("inspection_", "item_title", "owner_id", "round_unit_id", "finding_id", "supervision", ">open<")
    assert not [word for word in raw if word in text]
