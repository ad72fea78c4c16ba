"""The inspector's H5 form over HTTP: a finding with a photo recorded by the unit's inspector, the photo
shown to those who see the unit, refusals (not the inspector, outside the round, a closed round, a
problem without its text) that change nothing."""

from __future__ import annotations

import io
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from bot.web.app import answer_refusals
from bot.web.inspection import build_inspection_router
from handlers.inspection import rounds
from models.attachments import Attachment
from models.inspection import Finding, RoundKind
from tests.inspection.conftest import local, st
from tests.meetings.test_web import CORE, Clock
from tests.web import set_session

TODAY = date(2027, 5, 10)
NOW = local(TODAY)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def web(session_factory, session, county):
    rnd = rounds.open_round(
        session, st(session, county.sun), kind=RoundKind.SUPERVISION, title="五月看现场", unit=None,
        assignments=[(county.village, county.qian.id, None)], today=TODAY, method="看现场",
    )  # fmt: skip
    session.commit()
    app = FastAPI()
    answer_refusals(app, session_factory, CORE, Clock(NOW))
    app.include_router(build_inspection_router(session_factory, {}, CORE, clock=Clock(NOW)))
    return TestClient(app), rnd.id


def _as(client, person):
    set_session(client, CORE.secret_key, person.id, NOW)
    return client


def test_the_inspector_records_a_problem_with_a_photo(web, county, session):
    client, rid = web
    url = f"/h5/inspection/{rid}/units/{county.village.id}"
    assert "zbIdentify" in client.get(url).text
    page = _as(client, county.qian).get(url)
    assert page.status_code == 200 and "河东村党支部" in page.text and "五月看现场" in page.text
    assert _as(client, county.wang).get(url).status_code == 403  # the branch's own 书记 does not inspect
    assert _as(client, county.li).get(url).status_code == 404
    _as(client, county.qian)
    bad = client.post(url, json={"item": "主题党日", "result": "problem", "text": " "})
    assert bad.status_code == 422 and "text" in bad.json()["fields"]
    assert session.scalar(select(func.count()).select_from(Finding)) == 0
    ok = client.post(
        url, data={"item": "主题党日", "result": "problem", "text": "签到表代签"},
        files=[("photos", ("a.jpg", _jpeg(), "image/jpeg"))],
    )  # fmt: skip
    assert ok.status_code == 200, ok.text
    session.expire_all()
    finding = session.scalar(select(Finding))
    assert not finding.ok and finding.text == "签到表代签" and len(finding.photos) == 1
    assert finding.rectification is not None and finding.rectification.owner_id == county.wang.id
    photo_url = f"/h5/inspection/{rid}/photos/{finding.photos[0]}"
    assert photo_url in client.get(url).text
    assert client.get(photo_url).headers["content-type"] == "image/jpeg"
    assert _as(client, county.wang).get(photo_url).status_code == 200  # the branch sees its own finding
    assert _as(client, county.li).get(photo_url).status_code == 404
    # Once the round is closed the form refuses, and nothing changes.
    rnd = rounds.get_round(session, rid)
    rounds.close_round(session, st(session, county.sun), rnd, now=NOW)
    session.commit()
    late = _as(client, county.qian).post(url, json={"item": "主题党日", "result": "ok"})
    assert late.status_code == 409
    session.expire_all()
    assert session.scalar(select(Finding.ok)) is False
    assert session.scalar(select(func.count()).select_from(Attachment)) == 1
