"""Optional photos on the minutes form and the observer's evaluation form, over HTTP (both databases)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from bot.web.meetings import build_meetings_router
from bot.web.observers import build_observers_router
from handlers.meetings.types import DEFAULT_CONFIG as MCFG
from models import attachments
from models.attachments import Attachment
from models.meetings import Minutes
from models.observers import Observation
from tests.meetings.test_web import CORE, Clock, FakeIdentity
from tests.observers.conftest import CFG, NOW, build_world, full_form, make_meeting
from tests.web import open_session


@pytest.fixture
def world(session):
    w = build_world(session)
    session.commit()
    return w


@pytest.fixture
def web(session_factory, world):
    ident = FakeIdentity()
    clock = Clock(NOW)
    app = FastAPI()
    app.include_router(
        build_meetings_router(session_factory, {"dingtalk": ident}, CORE, cfg=MCFG, clock=clock)
    )
    app.include_router(
        build_observers_router(session_factory, {"dingtalk": ident}, CORE, cfg=CFG, clock=clock)
    )
    return TestClient(app), ident


@pytest.fixture
def held(session, world):
    m = make_meeting(session, world, NOW - timedelta(days=1))
    session.commit()
    return m


def login(client, ident, account):
    # One session cookie for every H5 feature: the meetings endpoint opens it for the observers pages too.
    r = open_session(client, "/h5/meetings/session", {"platform": "dingtalk", "code": ident.issue(account)})
    assert r.status_code == 200


def image(fmt="PNG", color=(200, 30, 30)) -> bytes:
    buf = BytesIO()
    Image.new("RGB", (40, 30), color).save(buf, format=fmt)
    return buf.getvalue()


MINUTES = {"chair": "王书记", "recorder": "赵委员", "topics": "学习党章，讨论发展对象"}


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_minutes_with_photos_are_saved_shown_and_served_to_the_branch_only(web, session, held):
    client, ident = web
    login(client, ident, "wangsj")
    files = [("photos", ("a.png", image(), "image/png")), ("photos", ("b.jpg", image("JPEG"), "image/jpeg"))]
    r = client.post(f"/h5/meetings/{held.id}/minutes", data=MINUTES, files=files)
    assert r.status_code == 200, r.text
    minutes = session.scalars(select(Minutes)).one()
    rows = attachments.photos_of(session, attachments.MINUTES, minutes.id)
    assert [p.content_type for p in rows] == ["image/png", "image/jpeg"]
    assert rows[0].uploaded_by_id and rows[0].size == len(image())

    page = client.get(f"/h5/meetings/{held.id}/minutes").text
    urls = [f"/h5/meetings/{held.id}/minutes/photos/{p.id}" for p in rows]
    assert all(u in page for u in urls) and "已上传的照片" in page
    got = client.get(urls[1])
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert Image.open(BytesIO(got.content)).format == "JPEG"

    login(client, ident, "zhangli")  # an ordinary member of the same branch
    assert client.get(urls[0]).status_code == 200
    login(client, ident, "zhengq")  # another branch's member
    assert client.get(urls[0]).status_code == 403
    assert client.get(f"/h5/meetings/{held.id}/minutes/photos/999999").status_code == 404
    client.cookies.clear()
    assert client.get(urls[0]).status_code == 401

    # Without photos the JSON form works as before, and a correction keeps the earlier photos.
    login(client, ident, "wangsj")
    assert client.post(f"/h5/meetings/{held.id}/minutes", json=MINUTES).status_code == 200
    assert count(session, Attachment) == 2


def test_minutes_refusals_save_nothing_and_say_why(web, session, held):
    client, ident = web
    login(client, ident, "wangsj")
    url = f"/h5/meetings/{held.id}/minutes"
    fake = [("photos", ("note.jpg", b"%PDF-1.4 not an image at all", "image/jpeg"))]
    r = client.post(url, data=MINUTES, files=fake)
    assert (
        r.status_code == 400 and "不是可识别的照片" in r.json()["error"] and "note.jpg" in r.json()["error"]
    )
    gif = BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    r = client.post(url, data=MINUTES, files=[("photos", ("x.gif", gif.getvalue(), "image/gif"))])
    assert r.status_code == 400 and "JPG、PNG、WebP" in r.json()["error"]
    six = [("photos", (f"{i}.png", image(), "image/png")) for i in range(attachments.MAX_PHOTOS + 1)]
    r = client.post(url, data=MINUTES, files=six)
    assert r.status_code == 400 and "最多 5 张" in r.json()["error"]
    big = image() + b"\0" * attachments.MAX_PHOTO_BYTES
    r = client.post(url, data=MINUTES, files=[("photos", ("big.png", big, "image/png"))])
    assert r.status_code == 400 and "超过 5 MB" in r.json()["error"]
    assert count(session, Minutes) == 0 and count(session, Attachment) == 0

    # A record holds at most MAX_PHOTOS in all, across corrections.
    four = [("photos", (f"{i}.png", image(), "image/png")) for i in range(4)]
    assert client.post(url, data=MINUTES, files=four).status_code == 200
    two = four[:2]
    r = client.post(url, data={**MINUTES, "topics": "改过的内容"}, files=two)
    assert r.status_code == 400 and "最多 5 张" in r.json()["error"]
    assert count(session, Attachment) == 4
    assert session.scalars(select(Minutes)).one().topics == MINUTES["topics"]


def test_observation_photos_for_the_observer_secretary_and_committee_only(web, session, world, held):
    client, ident = web
    login(client, ident, "qiangc")
    url = f"/h5/observers/{held.id}/form"
    webp = image("WEBP")
    r = client.post(url, data=full_form(), files=[("photos", ("p.webp", webp, "image/webp"))])
    assert r.status_code == 200, r.text
    obs = session.scalars(select(Observation)).one()
    (photo,) = attachments.photos_of(session, attachments.OBSERVATION, obs.id)
    assert photo.content_type == "image/webp"
    photo_url = f"/h5/observers/{held.id}/photos/{photo.id}"
    assert photo_url in client.get(url).text
    assert client.get(photo_url).content == webp

    login(client, ident, "wangsj")  # the observed branch's secretary
    assert client.get(photo_url).status_code == 200
    login(client, ident, "fengsj")  # the committee's secretary
    assert client.get(photo_url).status_code == 200
    for outsider in ("zhengq", "zhangli", "konggc"):  # other branch, a plain member, another observer
        login(client, ident, outsider)
        assert client.get(photo_url).status_code == 403, outsider
    assert client.get(f"/h5/observers/{held.id + 1}/photos/{photo.id}").status_code == 404


def test_observation_refusals_keep_the_form_unsaved(web, session, held):
    client, ident = web
    login(client, ident, "qiangc")
    url = f"/h5/observers/{held.id}/form"
    r = client.post(url, data=full_form(), files=[("photos", ("x.png", b"garbage", "image/png"))])
    assert r.status_code == 400 and "不是可识别的照片" in r.json()["error"]
    assert r.json()["fields"] == ["photos"]
    six = [("photos", (f"{i}.png", image(), "image/png")) for i in range(6)]
    assert client.post(url, data=full_form(), files=six).status_code == 400
    assert count(session, Observation) == 0 and count(session, Attachment) == 0
    # JSON without photos still works (older pages and clients).
    assert client.post(url, json=full_form()).status_code == 200
