"""The H5 pages over HTTP: the published project for the unit's members only, the secretary's progress
form with a photo, refusals that change nothing."""

from __future__ import annotations

import io
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from bot.web.app import answer_refusals
from bot.web.projects import build_projects_router
from handlers.projects import library, review
from handlers.projects.config import DEFAULT as CFG
from models.attachments import Attachment
from models.projects import ProjectProgress
from tests.meetings.test_web import CORE, Clock
from tests.projects.conftest import REGISTRATION, local
from tests.web import set_session

NOW = local(date(2027, 2, 10))


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def web(session_factory, session, org):
    p = library.register(session, org.wang, REGISTRATION["wangsj"], now=NOW, cfg=CFG)
    review.pre_accept(session, org.zhou, p.id, now=NOW, cfg=CFG, public_base_url=CORE.public_base_url)
    review.score(session, org.sun, p.id, 90, "", now=NOW, cfg=CFG, public_base_url=CORE.public_base_url)
    session.commit()
    app = FastAPI()
    answer_refusals(app, session_factory, CORE, Clock(NOW))
    app.include_router(build_projects_router(session_factory, {}, CORE, clock=Clock(NOW)))
    return TestClient(app), p.id


def _as(client, person):
    set_session(client, CORE.secret_key, person.id, NOW)
    return client


def test_the_published_page_is_for_the_units_members_and_those_above(web, org):
    client, pid = web
    assert "zbIdentify" in client.get(f"/h5/projects/{pid}").text  # no session: the identify page
    page = _as(client, org.member).get(f"/h5/projects/{pid}")
    assert page.status_code == 200 and "盘活闲置土地" in page.text and "光伏项目并网" in page.text
    assert f"/h5/projects/{pid}/progress" not in page.text  # a member only views
    assert _as(client, org.zhou).get(f"/h5/projects/{pid}").status_code == 200
    refused = _as(client, org.other_member).get(f"/h5/projects/{pid}", headers={"accept": "text/html"})
    assert refused.status_code == 403 and "不在您所在党组织的公开范围内" in refused.text
    assert _as(client, org.member).get("/h5/projects/999").status_code == 404


def test_the_secretary_reports_progress_with_a_photo(web, org, session):
    client, pid = web
    assert _as(client, org.member).post(f"/h5/projects/{pid}/progress", json={"text": "x"}).status_code == 403
    _as(client, org.wang)
    assert "报告进展" in client.get(f"/h5/projects/{pid}/progress").text
    bad = client.post(f"/h5/projects/{pid}/progress", json={"text": " ", "milestone": "1"})
    assert bad.status_code == 422 and "text" in bad.json()["fields"]
    bad = client.post(f"/h5/projects/{pid}/progress", json={"text": "调研", "milestone": "9"})
    assert bad.status_code == 422 and "没有节点9" in bad.json()["error"]
    assert session.scalar(select(func.count()).select_from(ProjectProgress)) == 0
    ok = client.post(
        f"/h5/projects/{pid}/progress",
        data={"text": "入户调研120户", "milestone": "1", "done": "1"},
        files=[("photos", ("a.jpg", _jpeg(), "image/jpeg"))],
    )
    assert (
        ok.status_code == 200 and "已标记完成" in ok.json()["message"] and "1张照片" in ok.json()["message"]
    )
    page = client.get(f"/h5/projects/{pid}").text
    assert "入户调研120户" in page and "（已完成）" in page
    photo_id = session.scalar(select(Attachment.id).where(Attachment.owner_kind == "project_progress"))
    assert _as(client, org.member).get(f"/h5/projects/{pid}/photos/{photo_id}").status_code == 200
    assert _as(client, org.other_member).get(f"/h5/projects/{pid}/photos/{photo_id}").status_code == 403
