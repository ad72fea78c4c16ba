"""The 年度工作 hub (/console/year): one top-bar link for the year's cycle, pointing to each part's page."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bot.web.console.year import PARTS
from models.db import unit_of_work
from tests.console.people_world import build_world, console_app, login


@pytest.fixture
def world(session_factory):
    with unit_of_work(session_factory) as session:
        w = build_world(session)
    return w


def test_the_hub_links_every_part_of_the_year_and_is_the_top_bar_entry(session_factory, world):
    chen = login(session_factory, console_app(session_factory), world.people["chen"])  # 城关镇党委 书记
    page = chen.get("/console/year")
    assert page.status_code == 200
    assert "年度工作（2026年）" in page.text
    for path, name, _ in PARTS:
        assert f'href="/console{path}?year=2026"' in page.text and name in page.text
    # The top bar marks the hub, and the 支部年度评定 page (a part of it) keeps the hub marked.
    assert 'href="/console/year" class="on"' in page.text
    assert 'href="/console/year" class="on"' in chen.get("/console/ratings?year=2026").text


def test_the_hub_needs_a_login(session_factory):
    client = TestClient(console_app(session_factory))
    resp = client.get("/console/year", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/console/login")


def test_the_hub_takes_a_year_from_its_form_and_refuses_a_bad_one(session_factory, world):
    chen = login(session_factory, console_app(session_factory), world.people["chen"])
    page = chen.get("/console/year?year=2025")
    assert page.status_code == 200 and "年度工作（2025年）" in page.text
    for path, _, _ in PARTS:
        assert f'href="/console{path}?year=2025"' in page.text
    assert (
        'action="/console/year"' in page.text and 'name="year" value="2025"' in page.text
    )  # the year picker
    for year, reason in (("abc", "年份应为 2026 这样的四位数。"), ("2027", "2027年还没有到")):
        bad = chen.get(f"/console/year?year={year}")
        assert bad.status_code == 422 and reason in bad.text
        assert "填写的内容有误" in bad.text and "您没有权限" not in bad.text


def test_the_hub_names_talks_only_as_the_org_life_meetings_step(session_factory, world):
    """谈心谈话 has no console page: its coverage is the 组织生活会 page's step, so the hub names it there."""
    chen = login(session_factory, console_app(session_factory), world.people["chen"])
    text = chen.get("/console/year").text
    assert "组织生活会（含会前谈心谈话）" in text
    assert "谈心谈话每年至少一次" not in text
