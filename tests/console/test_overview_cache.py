"""总览's month cache (#16 performance): the whole organisation's figures for a month are built once
per console process and shared by every viewer, stored scores are never shown older than they are,
and a month scored now is rebuilt once it is older than the cache's ttl, in the background.

The organisation is test_overview's small county: a stored November and a December under way.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import timedelta

from handlers.console import overview
from handlers.console.scope import scope_of
from handlers.meetings.types import DEFAULT_CONFIG as MEETINGS
from handlers.monthly import service
from handlers.monthly.config import MonthlyConfig
from handlers.observers.forms import ObserversConfig
from models.db import unit_of_work
from models.meetings import MeetingStatus
from models.observers import Observation, Outcome
from models.org import OrgUnit
from tests.console.test_overview import DEC, NOV, NOW, build_org, console_app, login
from tests.monthly.conftest import comply, local, run_at

MCFG, OCFG = MonthlyConfig(), ObserversConfig()


def _get(cache, session, month, now=NOW):
    return cache.get(session, month, now=now, mcfg=MCFG, cfg=MEETINGS, ocfg=OCFG)


def _view(session, person_id, month, cache=None, now=NOW):
    scope = scope_of(session, person_id)
    return overview.month_view(
        session, scope, month, now=now, mcfg=MCFG, cfg=MEETINGS, ocfg=OCFG, cache=cache
    )


def _numbers(view: overview.MonthView, unit_id=None):
    rows = [(r.unit_id, r.score, r.rank, r.lagging, asdict(r.figures)) for r in view.rows(unit_id)]
    return asdict(view.figures(unit_id)), rows


def test_every_viewer_sees_from_the_shared_month_what_it_would_see_alone(session_factory):
    """A view filtered from the cached whole-organisation month equals one built for the viewer alone,
    for every kind of scope, the stored month and the live one; and viewing changes nothing shared."""
    with unit_of_work(session_factory) as session:
        org = build_org(session)
    c = org.county
    viewers = [org.id("staff"), org.staff_c1.id, org.id("c1sec"), org.id("sec3"), org.observer.id]
    cache = overview.MonthCache()
    with session_factory() as session:
        for month in (NOV, DEC):
            before = {uid: asdict(r.figures) for uid, r in _get(cache, session, month).committees.items()}
            for person in viewers:
                shared, alone = _view(session, person, month, cache), _view(session, person, month)
                assert shared.data is _get(cache, session, month)
                assert _numbers(shared) == _numbers(alone), (month, person)
                for unit in (c.c1.id, c.b1.id, c.b3.id):
                    if unit in alone.units:
                        assert _numbers(shared, unit) == _numbers(alone, unit), (month, person, unit)
            after = {uid: asdict(r.figures) for uid, r in _get(cache, session, month).committees.items()}
            assert after == before


def test_a_live_month_is_rebuilt_in_the_background_once_older_than_the_ttl(session_factory):
    with unit_of_work(session_factory) as session:
        org = build_org(session)
    spawned = []
    cache = overview.MonthCache(timedelta(minutes=3), factory=session_factory, spawn=spawned.append)
    staff = org.id("staff")
    with session_factory() as session:
        first = _get(cache, session, DEC)
        assert first.built_at == NOW and first.total.attendance == 6
    with unit_of_work(session_factory) as session:  # b2 meets too
        comply(session, org.county, session.get(OrgUnit, org.county.b2.id), DEC, day=2)
    with session_factory() as session:
        # Within the ttl: the month as built, without a rebuild.
        assert _get(cache, session, DEC, NOW + timedelta(minutes=2)) is first
        assert spawned == []
        # Past it: still answered at once with what there is, and one rebuild is started.
        later = NOW + timedelta(minutes=4)
        assert _get(cache, session, DEC, later) is first
        assert _get(cache, session, DEC, later) is first
        assert len(spawned) == 1
    spawned.pop()()  # the rebuild, run here (a thread in the console), with a session of its own
    with session_factory() as session:
        rebuilt = _get(cache, session, DEC, NOW + timedelta(minutes=5))
        assert rebuilt is not first and rebuilt.built_at == NOW + timedelta(minutes=4)
        # The whole tree's trend was read by the rebuild, not left to the 组织部's next page.
        assert [p.month for p in rebuilt.trends[(True, (), (), overview.TREND_MONTHS)]] == [NOV]
        assert rebuilt.total.attendance > first.total.attendance
        assert _view(session, staff, DEC, cache, NOW + timedelta(minutes=5)).figures().attendance == (
            _view(session, staff, DEC, None, NOW + timedelta(minutes=5)).figures().attendance
        )
    assert spawned == []


def test_a_stored_month_follows_its_scores_at_once(session_factory):
    """The monthly job recomputing a closed month (a late record) shows on the next request, ttl or not."""
    with unit_of_work(session_factory) as session:
        org = build_org(session)
    cache = overview.MonthCache(timedelta(hours=1))
    with session_factory() as session:
        first = _get(cache, session, NOV)
        assert first.stored and first.total.plans == 3
        assert _get(cache, session, NOV) is first
    with unit_of_work(session_factory) as session:  # b4 met in November after all; the month is rescored
        comply(session, org.county, session.get(OrgUnit, org.county.b4.id), NOV, day=25)
        session.flush()
        service.compute_and_store(session, NOV, now=run_at(NOV) + timedelta(days=1), mcfg=MCFG, cfg=MEETINGS)
    with session_factory() as session:
        second = _get(cache, session, NOV)
        assert second is not first and second.total.plans == 4


def test_the_page_says_when_the_live_month_was_computed(session_factory):
    with unit_of_work(session_factory) as session:
        org = build_org(session)
    client = login(session_factory, console_app(session_factory), org.id("staff"))
    html = client.get("/console/").text
    assert "本月数据实时计算，10:00 更新，每 3 分钟刷新" in html


def test_a_meeting_ordered_reconvened_or_cancelled_does_not_count(session_factory):
    """meeting_detail: 责令重开 (the meetings feature's invalidated_meeting_ids) and 已取消 both void it."""
    with unit_of_work(session_factory) as session:
        org = build_org(session)
        c = org.county
        session.add(
            Observation(
                meeting_id=org.meetings["b1-dec"], observer_id=org.observer.id, branch_id=c.b1.id,
                meeting_starts_at=local(DEC.replace(day=1)), preset="huaibin", items=[], total=40,
                max_total=100, grade="差", comment="", outcome=Outcome.REOPEN, submitted_at=local(DEC.replace(day=1), 12),
            )
        )  # fmt: skip
    with session_factory() as session:
        scope = scope_of(session, org.id("staff"))

        def detail(key):
            return overview.meeting_detail(session, scope, org.meetings[key], now=NOW, cfg=MEETINGS)

        reopened, cancelled, fine = detail("b1-dec"), detail("b3-cancelled"), detail("b3-dec")
        assert (reopened.reconvene, reopened.counts, reopened.held) == (True, False, False)
        assert cancelled.meeting.status == MeetingStatus.CANCELLED
        assert (cancelled.reconvene, cancelled.counts, cancelled.held) == (False, False, False)
        assert (fine.reconvene, fine.counts, fine.held) == (False, True, True)


def test_a_branch_page_issues_as_many_statements_without_meetings_as_with(session_factory):
    """b4 held nothing in November, b1 did: their pages issue the same statements (none is skipped)."""
    from sqlalchemy import event

    with unit_of_work(session_factory) as session:
        org = build_org(session)
    client = login(session_factory, console_app(session_factory), org.id("staff"))
    engine = session_factory.kw["bind"]

    def count(branch_id: int) -> int:
        path = f"/console/units/{branch_id}?month=2026-11"
        client.get(path)  # the month built once
        n = [0]

        def tick(*_a, **_k):
            n[0] += 1

        event.listen(engine, "before_cursor_execute", tick)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", tick)
        return n[0]

    assert count(org.county.b4.id) == count(org.county.b1.id)


def test_a_month_being_built_is_built_once_for_every_request_that_waits_for_it(session_factory, monkeypatch):
    """The start-up warm (or a first viewer) building a month, and a request arriving meanwhile: the
    request waits for that build and gets what it built, rather than scoring the month a second time."""
    import threading

    with unit_of_work(session_factory) as session:
        build_org(session)
    real, started, release, builds = overview.build_month_data, threading.Event(), threading.Event(), []

    def slow_build(*args, **kw):
        builds.append(args[1])
        started.set()
        assert release.wait(10)  # held until the second request is waiting on the build
        return real(*args, **kw)

    monkeypatch.setattr(overview, "build_month_data", slow_build)
    cache = overview.MonthCache(factory=session_factory)
    gate, asked = cache._gate, threading.Event()

    def gate_asked(month):
        if builds:  # the second request, come to the month's gate while the first holds it
            asked.set()
        return gate(month)

    cache._gate = gate_asked
    got: dict[str, overview.MonthData] = {}

    def request(name: str) -> None:
        with session_factory() as session:
            got[name] = _get(cache, session, DEC)

    first = threading.Thread(target=request, args=("first",))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=request, args=("second",))
    second.start()
    assert asked.wait(10)
    release.set()
    first.join(10)
    second.join(10)
    assert builds == [DEC] and got["first"] is got["second"]


def test_warming_builds_this_month_and_the_last_so_the_first_page_scores_nothing(
    session_factory, monkeypatch
):
    with unit_of_work(session_factory) as session:
        org = build_org(session)
    app = console_app(session_factory)
    console = app.state.console
    frozen = []  # a served console keeps its months out of the collector's full passes; not this process
    monkeypatch.setattr(overview.gc, "freeze", lambda: frozen.append(set(console.months._data)))
    console.warm().join(30)
    warmed = {m: console.months._data.get(m) for m in (DEC, NOV)}
    assert warmed[DEC] is not None and not warmed[DEC].stored and warmed[NOV].stored
    assert frozen == [{DEC}, {DEC, NOV}]  # each month frozen once built
    whole_tree = warmed[DEC].trends[(True, (), (), overview.TREND_MONTHS)]  # the 组织部's, read ahead
    scored = []
    monkeypatch.setattr(service, "score_month", lambda *a, **k: scored.append(a) or None)
    client = login(session_factory, app, org.id("staff"))
    assert "本月数据实时计算" in client.get("/console/").text
    assert client.get("/console/?month=2026-11").status_code == 200
    assert scored == [] and console.months._data[DEC] is warmed[DEC]
    assert warmed[DEC].trends[(True, (), (), overview.TREND_MONTHS)] is whole_tree  # not read again


def test_the_scores_ledger_reads_the_overviews_month_without_scoring_it_again(session_factory, monkeypatch):
    """月积分台账's current month is the console's MonthCache month: opened after the 总览, nothing is
    scored again, and the ledger lists the very scores the 总览 shows."""
    with unit_of_work(session_factory) as session:
        org = build_org(session)
    app = console_app(session_factory)
    client = login(session_factory, app, org.id("staff"))
    assert client.get("/console/").status_code == 200
    real, scored = service.score_month, []

    def counted(*a, **k):
        scored.append(a[1])
        return real(*a, **k)

    monkeypatch.setattr(service, "score_month", counted)
    html = client.get(f"/console/ledgers/{org.county.county.id}/scores?period=2026-12").text
    assert scored == []
    data = app.state.console.months._data[DEC]
    for uid, row in data.branches.items():
        assert f'data-unit="{uid}" data-score="{row.score}" data-rank="{row.rank}"' in html
        # each branch's row says how its score was reached, from the month's whole explanations (the
        # table's 得分 header alone would not show that)
        tr = re.search(rf'<tr [^>]*data-unit="{uid}"[^>]*>(.*?)</tr>', html, re.S)[1]
        assert f"得分 {row.score:g}" in tr, (uid, tr)


def test_a_rebuild_does_not_keep_a_request_s_cycles_frozen_for_ever():
    """gc.freeze() in _put takes whatever is alive then, e.g. a request's ORM session (cyclic): once
    that request is done, the next rebuild must collect it rather than leave it frozen for good."""
    import gc
    import weakref
    from types import SimpleNamespace

    class Cyclic:
        pass

    cache = overview.MonthCache(freeze=True)
    in_flight = Cyclic()
    in_flight.me = in_flight  # only the cyclic collector can free it
    gone = weakref.ref(in_flight)
    try:
        cache._put(SimpleNamespace(month=NOV, built_at=NOW))  # while the request is running
        del in_flight  # the request ends
        cache._put(SimpleNamespace(month=DEC, built_at=NOW))  # the next rebuild
        assert gone() is None
    finally:
        gc.unfreeze()  # the rest of this process's tests collect as usual
