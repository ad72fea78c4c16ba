"""The digest per role (a secretary never sees another branch), the web view and its chart, and Chinese in the PNG."""

from __future__ import annotations

import io
from datetime import date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from matplotlib import font_manager
from PIL import Image

from bot.core.context import CoreConfig
from bot.web.app import answer_refusals
from bot.web.monthly import build_monthly_router
from config.rules import LifeMeetingRules, Rules
from handlers.monthly import chart, digest, service
from handlers.monthly.observers_bridge import ObserverSummary
from models.meetings import MeetingType
from tests.monthly.conftest import BASE, CFG, QUARTER, SECRET, comply, outbox, run_at
from tests.monthly.small import small_county
from tests.web import set_session

SEP = date(2026, 9, 1)


@pytest.fixture
def september(session, county, observers):
    comply(session, county, county.b1, SEP, QUARTER)
    comply(
        session,
        county,
        county.b2,
        SEP,
        (MeetingType.THEME_DAY, MeetingType.PARTY_LECTURE),
        absent=("党员2乙",),
    )
    comply(session, county, county.b3, SEP, QUARTER)
    comply(session, county, county.b4, SEP, QUARTER)
    observers[county.b3.id] = ObserverSummary(quality=0.6, observations=1, stops=1, grades=["C"])
    session.commit()
    service.run_month(session, SEP, now=run_at(SEP), send=True, base_url=BASE, secret=SECRET,
                      mcfg=small_county(), cfg=CFG)  # fmt: skip
    session.commit()
    return county


def _cards(session, county, key):
    """person name → card payload, for the digests."""
    by_id = {p.id: p.name for p in county.people.values()}
    return {
        by_id[m.person_id]: m.payload
        for m in outbox(session, "monthly:digest:")
        if m.person_id in by_id and key(m)
    }


def test_digest_per_role(session, september):
    county = september
    digests = outbox(session, "monthly:digest:")
    per_person: dict[int, list] = {}
    for m in digests:
        per_person.setdefault(m.person_id, []).append(m)
    assert all(len(v) == 1 for v in per_person.values())  # one card per person
    names = {p.id: p.name for p in county.people.values()}
    got = {names[pid]: v[0].payload for pid, v in per_person.items()}
    assert set(got) == {"书记1", "书记2", "书记3", "书记4", "党委书记1", "党委副书记1", "组织委员1",
                        "党委书记2", "党委副书记2", "组织委员2", "组织部小刘"}  # fmt: skip
    b2 = got["书记2"]
    assert b2["title"] == "【2026年9月月度通报】东门社区党支部"
    assert "党员2乙" in b2["text"] and "支部党员大会 0/1" in b2["text"] and "列为落后" in b2["text"]
    assert b2["image_url"].startswith(f"{BASE}/h5/monthly/{county.b2.id}/2026-09/chart.png?t=")
    assert b2["buttons"][0]["url"] == f"{BASE}/h5/monthly/{county.b2.id}/2026-09"
    # A secretary's card is about their branch only.
    for other in ("城关社区", "河西村", "河东村"):
        assert other not in b2["text"] + b2["title"]
    assert "党员2乙" not in got["书记1"]["text"]
    assert "叫停1次" in got["书记3"]["text"] and "1次观察" in got["书记3"]["text"]
    # Committee leaders: their branches' ranking, laggards and totals, nothing of the other committee.
    c1 = got["组织委员1"]
    assert "东门社区党支部（82.2分）" in c1["text"] and "城关社区党支部 100" in c1["text"]
    assert "河西村" not in c1["text"]
    assert got["党委书记1"]["text"] == c1["text"]
    # 组织部: all committees.
    org = got["组织部小刘"]
    assert (
        "城关镇党委" in org["text"] and "河西乡党委" in org["text"] and "乡镇类党委**（2个）" in org["text"]
    )
    # 城关镇党委 is last of two at 91.1, above the 90 of the rule the digest states: not 落后.
    assert "落后党委**：无" in org["text"] and "得分低于90分且低于同类中位数的，列为落后" in org["text"]
    assert "同类支部满2个的在同类中排名" in b2["text"] and "社区类支部第2名（共2个）" in b2["text"]


def test_digest_is_sent_once(session, september):
    county = september
    # The first run sent them (issue #13 point 8): one card per recipient, per unit and month: four
    # branch secretaries, three leaders of each committee, 组织部 (the whole tree, unit 0).
    first = outbox(session, "monthly:digest:")
    assert len(first) == 11 and len({m.person_id for m in first}) == 11
    units = (county.b1, county.b2, county.b3, county.b4, county.c1, county.c2)
    assert {m.dedup_key for m in first} == {
        f"monthly:digest:{u}:2026-09" for u in (*(u.id for u in units), 0)
    }
    before = len(outbox(session))
    again = service.run_month(session, SEP, now=run_at(SEP) + timedelta(hours=1), send=True, base_url=BASE,
                              secret=SECRET, mcfg=small_county(), cfg=CFG)  # fmt: skip
    session.commit()
    assert again.digests == 0 and len(outbox(session)) == before


def test_cards_queued_a_few_at_a_time_are_all_queued(session, county, observers, monkeypatch):
    """The cards are built and queued in batches (a province's 100,000 are never all in memory): with batches
    of two, every unit's card still reaches each of its readers once, the odd one at the end too."""
    monkeypatch.setattr(digest, "_QUEUE_BATCH", 2)
    for branch in (county.b1, county.b2, county.b3, county.b4):
        comply(session, county, branch, SEP, QUARTER)
    session.commit()
    run = service.run_month(session, SEP, now=run_at(SEP), send=True, base_url=BASE, secret=SECRET,
                            mcfg=small_county(), cfg=CFG)  # fmt: skip
    session.commit()
    rows = outbox(session, "monthly:digest:")
    units = (county.b1, county.b2, county.b3, county.b4, county.c1, county.c2)
    assert {m.dedup_key for m in rows} == {f"monthly:digest:{u}:2026-09" for u in (*(u.id for u in units), 0)}
    assert run.digests == len(rows) == len({m.person_id for m in rows}) == 11


def test_the_runs_own_explanations_read_as_the_stored_ones(session, september):
    """The job hands the digest the explanations it has just stored instead of decoding them again: the
    same rows as read back from the database; a unit the run did not score keeps its stored one."""
    stored = digest.load(session, SEP, CFG)
    assert stored.rows and all(r.explanation for r in stored.rows.values())
    given = {uid: r.explanation for uid, r in stored.rows.items()}
    assert digest.load(session, SEP, CFG, explanations=given).rows == stored.rows
    # What is handed over is what the cards read (nothing decoded beside it).
    marked = digest.load(session, SEP, CFG, explanations={**given, september.b1.id: {"marker": 1}})
    assert marked.rows[september.b1.id].explanation == {"marker": 1}
    one = september.b2.id
    partial = digest.load(session, SEP, CFG, explanations={k: v for k, v in given.items() if k != one})
    assert partial.rows == stored.rows and partial.rows[one].explanation == stored.rows[one].explanation


def _client(session_factory, now, rules: Rules | None = None) -> TestClient:
    core = CoreConfig(
        tz=ZoneInfo("Asia/Shanghai"), public_base_url=BASE, secret_key=SECRET, rules=rules or Rules()
    )
    app = FastAPI()
    answer_refusals(app, session_factory)  # as create_app does
    app.include_router(build_monthly_router(session_factory, {}, core, clock=lambda: now))
    return TestClient(app)


def _login(client: TestClient, person, now):
    set_session(client, SECRET, person.id, now)


def test_web_view_is_scoped_by_role(session_factory, session, september):
    county = september
    now = run_at(SEP) + timedelta(days=1)
    client = _client(session_factory, now)
    # Without a session: the identify page (login-free: a platform auth code), no data.
    r = client.get(f"/h5/monthly/{county.b1.id}/2026-09")
    assert r.status_code == 200 and "城关社区" not in r.text
    _login(client, county.people["sec1"], now)
    r = client.get(f"/h5/monthly/{county.b1.id}/2026-09")
    assert r.status_code == 200 and "城关社区党支部" in r.text and "chart.png?t=" in r.text
    for unit in (county.b2, county.b3, county.c1):
        assert client.get(f"/h5/monthly/{unit.id}/2026-09").status_code == 403
    assert client.get("/h5/monthly/0/2026-09").status_code == 403  # the whole tree: staff only
    assert client.get("/h5/monthly/999999/2026-09").status_code == 403  # no such unit: nothing to see
    assert client.get(f"/h5/monthly/{2**63}/2026-09").status_code == 422  # beyond any id: refused, not 500
    assert client.get(f"/h5/monthly/{county.b1.id}/2026-13").status_code == 400
    _login(client, county.people["c1org"], now)
    assert client.get(f"/h5/monthly/{county.b2.id}/2026-09").status_code == 200
    assert client.get(f"/h5/monthly/{county.c1.id}/2026-09").status_code == 200
    assert client.get(f"/h5/monthly/{county.b3.id}/2026-09").status_code == 403
    _login(client, county.people["staff"], now)
    r = client.get("/h5/monthly/0/2026-09")
    assert r.status_code == 200 and "河西乡党委" in r.text


def test_the_lifemeeting_digest_months_setting_reaches_the_digest(session_factory, session, september):
    """ZHIBU_LIFEMEETING__DIGEST_MONTHS=[9]: September's committee digest lists the 组织生活会 too (by
    default only October to December's do)."""
    county, now = september, run_at(SEP) + timedelta(days=1)
    default = _client(session_factory, now)
    _login(default, county.people["c1org"], now)
    r = default.get(f"/h5/monthly/{county.c1.id}/2026-09")
    assert r.status_code == 200 and "组织生活会" not in r.text
    set_to_september = _client(session_factory, now, Rules(lifemeeting=LifeMeetingRules(digest_months=[9])))
    _login(set_to_september, county.people["c1org"], now)
    r = set_to_september.get(f"/h5/monthly/{county.c1.id}/2026-09")
    assert r.status_code == 200 and "组织生活会（2026年）" in r.text and "0/2个支部已召开" in r.text


def test_chart_url_needs_its_token(session_factory, session, september):
    county = september
    now = run_at(SEP) + timedelta(days=1)
    client = _client(session_factory, now)
    (msg,) = outbox(session, f"monthly:digest:{county.b2.id}:")
    parts = urlsplit(msg.payload["image_url"])
    r = client.get(f"{parts.path}?{parts.query}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size[0] > 300
    # The token is for this unit and month only.
    assert (
        client.get(
            parts.path.replace(f"/{county.b2.id}/", f"/{county.b1.id}/") + "?" + parts.query
        ).status_code
        == 403
    )
    assert client.get(parts.path.replace("2026-09", "2026-08") + "?" + parts.query).status_code == 403
    assert client.get(parts.path + "?t=forged").status_code == 403


def test_a_chart_is_drawn_once_until_its_scores_change(session_factory, session, september, monkeypatch):
    county = september
    chart._cached_bars.cache_clear()
    draws = []
    draw = chart.draw_bars
    monkeypatch.setattr(chart, "draw_bars", lambda *args: draws.append(args[0]) or draw(*args))
    client = _client(session_factory, run_at(SEP) + timedelta(days=1))
    (msg,) = outbox(session, f"monthly:digest:{county.b2.id}:")
    parts = urlsplit(msg.payload["image_url"])
    url = f"{parts.path}?{parts.query}"
    first, second = client.get(url), client.get(url)
    assert first.status_code == second.status_code == 200 and first.content == second.content
    assert len(draws) == 1  # the second reader got the same PNG without drawing it again
    # A late 党员大会 of 东门社区 and a recompute of the month: new scores, so a new chart.
    comply(session, county, county.b2, SEP, (MeetingType.PARTY_CONGRESS,), day=12, plan=False)
    session.commit()
    service.run_month(session, SEP, now=run_at(SEP) + timedelta(days=1), send=False, base_url=BASE,
                      secret=SECRET, mcfg=small_county(), cfg=CFG)  # fmt: skip
    session.commit()
    third = client.get(url)
    assert third.status_code == 200 and third.content != first.content
    assert len(draws) == 2


def _ink(png: bytes) -> int:
    img = Image.open(io.BytesIO(png)).convert("L")
    return sum(img.histogram()[:128])  # pixels darker than mid-grey


def test_chart_renders_chinese():
    assert chart.cjk_font_path().endswith((".ttc", ".ttf", ".otf"))

    def render(label: str, font=None) -> bytes:
        return chart.bars_png("", [label], [0], xlabel="", font=font)

    # With the CJK font each character is its own glyph: two different labels give different images,
    # and a label leaves ink where an empty one leaves none.
    assert render("党支部") != render("组织会")
    assert _ink(render("党支部")) > _ink(render("")) + 50
    # The fallback (DejaVu has no Chinese) draws the same empty box for every character: the same
    # two labels then render identically. This is what the CJK font prevents.
    fallback = font_manager.FontProperties(fname=font_manager.findfont("DejaVu Sans"))
    with pytest.warns(UserWarning, match="Glyph"):
        assert render("党支部", fallback) == render("组织会", fallback)
    # A whole chart with Chinese labels renders through the same font.
    png = chart.branch_chart("城关社区党支部", "2026年9月", {"items": {"meetings": 1.0}, "quality": 1.0,
                                                          "rectification": 1.0})  # fmt: skip
    assert Image.open(io.BytesIO(png)).format == "PNG"


def test_no_cjk_font_is_a_clear_error(monkeypatch):
    chart.cjk_font_path.cache_clear()
    monkeypatch.setattr(chart.font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(chart, "CJK_FAMILIES", ())
    monkeypatch.setattr(chart.subprocess, "run", lambda *a, **k: type("R", (), {"stdout": ""})())
    try:
        with pytest.raises(chart.NoCJKFont, match="fonts-wqy-zenhei"):
            chart.cjk_font_path()
    finally:
        chart.cjk_font_path.cache_clear()


def test_value_labels_at_100_stay_inside_the_chart():
    """Issue 15, also seen: a bar at 100 ended on the frame and its label was clipped."""
    fig = chart.bars_figure("得分排名", ["东风村党支部", "幸福社区党支部"], [100, 83.3], "得分", [False, True],
                            100.0, chart.cjk_font())  # fmt: skip
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    (ax,) = fig.axes
    frame = ax.get_window_extent(renderer)
    labels = {t.get_text(): t.get_window_extent(renderer) for t in ax.texts}
    assert set(labels) == {"100", "83.3"}
    for text, box in labels.items():
        assert frame.x0 < box.x0 and box.x1 < frame.x1, text  # wholly inside the plotting area
    assert ax.get_xticks()[-1] == 100  # the scale still ends at 100


def test_the_scheduled_run_sends_the_lifemeeting_line_in_the_months_the_settings_name(
    session, county, observers
):
    """The monthly run (as the scheduler starts it) passes the organisation's 组织生活会 settings to the digests
    it queues: with the digest months set to September, September's committee cards carry the line."""
    from dataclasses import replace

    from handlers.lifemeeting.config import DEFAULT as LIFE

    comply(session, county, county.b1, SEP, QUARTER)
    session.commit()
    service.run_month(session, SEP, now=run_at(SEP), send=True, base_url=BASE, secret=SECRET,
                      mcfg=small_county(), cfg=CFG, life=replace(LIFE, digest_months=frozenset({9})))  # fmt: skip
    session.commit()
    committee = _cards(session, county, lambda m: f"monthly:digest:{county.c1.id}:" in m.dedup_key)
    assert committee and all("组织生活会（2026年）" in str(card) for card in committee.values())
