"""Optional photos on the minutes form and the observer's evaluation form, over HTTP (both databases)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import ExifTags, Image, PngImagePlugin
from sqlalchemy import func, select

from bot.web.app import answer_refusals
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
    answer_refusals(app, session_factory)  # as create_app does
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
    assert rows[0].uploaded_by_id and rows[0].size == len(rows[0].data)  # stored re-encoded, see below

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
    served = Image.open(BytesIO(client.get(photo_url).content))
    assert served.format == "WEBP" and served.size == (40, 30)

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


# Decoded size and metadata (issue #12, point 9).


def tagged(fmt: str, size=(40, 30)) -> bytes:
    """A photo as a phone takes it: lying on its side (EXIF orientation 6) with the GPS position in EXIF."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.IFD.GPSInfo] = {1: "N", 2: (31.0, 14.0, 5.0), 3: "E", 4: (121.0, 28.0, 1.0)}
    buf = BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">GPSLatitude 31,14N</x:xmpmeta>'
    if fmt == "PNG":  # PNG keeps XMP in a text chunk
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode())
        extra: dict[str, object] = {"pnginfo": info}
    else:
        extra = {"xmp": xmp}
    Image.new("RGB", size, (200, 30, 30)).save(buf, format=fmt, exif=exif.tobytes(), **extra)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_photos_are_stored_upright_without_exif_or_xmp(fmt):
    original = tagged(fmt)
    assert Image.open(BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo has GPS
    assert b"GPSLatitude" in original
    (photo,) = attachments.check_photos([attachments.Upload("p", original)])
    stored = Image.open(BytesIO(photo.data))
    assert stored.format == fmt and photo.content_type == f"image/{fmt.lower()}"
    assert stored.size == (30, 40)  # turned as the orientation said, so it needs no EXIF to show upright
    assert not stored.getexif() and "exif" not in stored.info and "xmp" not in stored.info
    assert b"TestPhone" not in photo.data and b"GPSLatitude" not in photo.data and b"Exif" not in photo.data


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_photo_too_large_to_decode_is_refused_from_its_header():
    buf = BytesIO()
    Image.new("1", (12000, 12000)).save(buf, format="PNG")  # 17 KB on disk, 576 MB decoded as RGBA
    assert len(buf.getvalue()) < 100_000
    with pytest.raises(attachments.PhotoError, match="尺寸太大（最多 2500 万像素）"):
        attachments.check_photos([attachments.Upload("big.png", buf.getvalue())])
    small = BytesIO()
    Image.new("L", (5000, 5000)).save(small, format="PNG")  # 25 million pixels: allowed
    assert attachments.check_photos([attachments.Upload("ok.png", small.getvalue())])


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_the_minutes_form_refuses_a_pixel_bomb_and_strips_gps(web, session, held):
    client, ident = web
    login(client, ident, "wangsj")
    url = f"/h5/meetings/{held.id}/minutes"
    bomb = BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, format="PNG")
    r = client.post(url, data=MINUTES, files=[("photos", ("bomb.png", bomb.getvalue(), "image/png"))])
    assert r.status_code == 400 and "尺寸太大" in r.json()["error"] and "bomb.png" in r.json()["error"]
    assert count(session, Minutes) == 0 and count(session, Attachment) == 0
    r = client.post(url, data=MINUTES, files=[("photos", ("gps.jpg", tagged("JPEG"), "image/jpeg"))])
    assert r.status_code == 200, r.text
    (row,) = session.scalars(select(Attachment)).all()
    assert b"Exif" not in row.data and Image.open(BytesIO(row.data)).size == (30, 40)
