"""A project's file as .docx from the console: 申报, 评审, milestones, monthly progress, 督办单, 群众评议 and
the result, opened with python-docx; only a viewer whose scope holds the project's unit gets it."""

from __future__ import annotations

import io
from datetime import date

from docx import Document

from handlers.projects import library, orders, progress, rating, review, showcase
from handlers.projects.config import DEFAULT as CFG
from models.projects import RatingVerdict
from tests.console.people_world import console_app, login
from tests.projects.conftest import REGISTRATION, local

NOW = local(date(2027, 11, 5))


def _text(body: bytes) -> str:
    doc = Document(io.BytesIO(body))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_the_project_file(session_factory, session, org):
    p = library.register(session, org.wang, REGISTRATION["wangsj"], now=local(date(2027, 2, 10)), cfg=CFG)
    review.pre_accept(
        session, org.zhou, p.id, now=local(date(2027, 2, 11)), cfg=CFG, public_base_url="http://x"
    )
    review.score(
        session,
        org.sun,
        p.id,
        88,
        "选题精准",
        now=local(date(2027, 2, 12)),
        cfg=CFG,
        public_base_url="http://x",
    )
    progress.report(
        session,
        org.wang,
        p.id,
        "入户调研120户",
        milestone_seq=1,
        done=True,
        now=local(date(2027, 3, 20)),
        cfg=CFG,
    )
    orders.issue(
        session,
        org.zhou,
        p.id,
        date(2027, 7, 15),
        "光伏并网抓紧",
        milestone_seq=2,
        now=local(date(2027, 7, 2)),
        cfg=CFG,
    )
    rating.open_window(
        session, org.zhou, p.id, date(2027, 11, 1), date(2027, 11, 30), public=False, now=NOW, cfg=CFG
    )
    rating.rate(session, org.member, p.id, RatingVerdict.FAIRLY, "收入增加了", now=NOW, cfg=CFG)
    library.set_call(session, org.zhou, 2027, date(2027, 3, 31), 1, cfg=CFG)
    showcase.set_judges(session, org.zhou, 2027, ["孙部长"], cfg=CFG)
    showcase.score(session, org.sun, p.id, 93, "", now=local(date(2027, 12, 1)))
    showcase.choose_excellent(session, org.zhou, p.id, now=local(date(2027, 12, 2)), cfg=CFG)
    session.commit()  # fmt: skip

    app = console_app(session_factory, now=NOW)
    zhou = login(session_factory, app, org.zhou.id, now=NOW)
    assert f"/console/projects/{p.id}/file.docx" in zhou.get("/console/projects?year=2027").text
    got = zhou.get(f"/console/projects/{p.id}/file.docx")
    assert got.status_code == 200 and "wordprocessingml" in got.headers["content-type"]
    text = _text(got.content)
    for part in (
        "2027年书记项目档案", "村集体经济增收", "河东村党支部", "王书记", "盘活闲置土地",  # 申报
        "周组织", "孙部长", "选题精准",  # 预审, 评审
        "完成入户调研", "2027年3月31日",  # milestones
        "入户调研120户",  # progress
        "光伏并网抓紧", "待办理",  # 督办单
        "1人参评", "基本满意", "收入增加了",  # 群众评议
        "88", "100.0%", "1/2", "93.0分（1位评委：孙部长93）", "是（2027-12-02",  # result
    ):  # fmt: skip
        assert part in text, part
    assert "张党员" not in text  # who rated is never printed

    li = login(session_factory, app, org.li.id, now=NOW)
    assert li.get(f"/console/projects/{p.id}/file.docx").status_code == 404
    assert zhou.get("/console/projects/99999/file.docx").status_code == 404
