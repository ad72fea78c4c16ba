"""Every ledger page and file (a committee's built in the background too) sends the same number of
statements whatever the number of branches: three more committees with branches (and more branches
under 城关镇党委) change nothing."""

from __future__ import annotations

from sqlalchemy import event

from models.db import unit_of_work
from models.org import OrgUnit, Role
from tests import builders
from tests.console.test_overview import login
from tests.ledgers.files import background_file


def test_statements_do_not_grow_with_branches(session_factory, app, lorg):
    engine = session_factory.kw["bind"]
    client = login(session_factory, app, lorg.id("staff"))
    c = lorg.org.county
    b1, c1, county = c.b1.id, c.c1.id, c.county.id
    paths = [
        "/console/ledgers", f"/console/ledgers/{c1}",
        f"/console/ledgers/{b1}/meetings?period=2026", f"/console/ledgers/{b1}/meetings.xlsx?period=2026",
        f"/console/ledgers/{b1}/meetings.docx?period=2026-Q4",
        f"/console/ledgers/{b1}/fees?period=2026", f"/console/ledgers/{b1}/fees.xlsx?period=2026",
        f"/console/ledgers/{county}/fees?period=2026-Q4",
        f"/console/ledgers/{c1}/scores?period=2026-Q4", f"/console/ledgers/{county}/scores.xlsx?period=2026-11",
    ]  # fmt: skip

    def count(path: str) -> int:
        client.get(path)  # warm
        n = [0]

        def tick(*_a, **_k):
            n[0] += 1

        event.listen(engine, "before_cursor_execute", tick)
        try:
            assert client.get(path).status_code == 200, path
        finally:
            event.remove(engine, "before_cursor_execute", tick)
        return n[0]

    def built(ledger: str, period: str) -> int:
        """Statements of a committee's file built in the background (one worker turn)."""
        n: list[int] = []
        background_file(session_factory, app, client, c1, ledger, period, statements=n)
        return n[0]

    files = [("fees", "2026"), ("observers", "2026-H2"), ("messages", "2026-Q4")]
    before = [count(p) for p in paths] + [built(*f) for f in files]
    with unit_of_work(session_factory) as session:
        top = session.get(OrgUnit, county)
        town = session.get(OrgUnit, c1)
        for i in range(3):
            committee = builders.unit(session, f"新区{i}党委", c.c1.kind, top)
            for j in range(3):
                for parent in (committee, town):
                    b = builders.unit(
                        session, f"新区{i}第{j}支部{parent.id}", c.b1.kind, parent, c.b1.category
                    )
                    p = builders.person(session, f"新党员{i}{j}{parent.id}", b)
                    builders.role(session, p, b, Role.SECRETARY)
    after = [count(p) for p in paths] + [built(*f) for f in files]
    assert dict(zip(paths + files, after, strict=True)) == dict(zip(paths + files, before, strict=True))
