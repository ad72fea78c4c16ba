"""A committee's or the county's ledger file as the console gives it: asked for with 生成台账, built by one
worker turn (handlers.ledgers.exports.run_once on the test's clock) and downloaded by the person who
asked. Shared by the ledgers' tests, whose files above a branch are built in the background."""

from __future__ import annotations

import io

from docx import Document
from openpyxl import load_workbook
from sqlalchemy import event

from bot.web.console.deps import COOKIE
from handlers.ledgers import exports
from models.exports import READY, LedgerExport
from tests.console.test_overview import NOW


def ask(client, unit_id: int, ledger: str, period: str = "2026", **extra):
    return client.post(
        f"/console/ledgers/{unit_id}/exports",
        data={
            "csrf_token": client.app.state.console.csrf(client.cookies.get(COOKIE)),
            "ledger": ledger,
            "period": period,
            **extra,
        },
        follow_redirects=False,
    )


def build_one(session_factory, app, *, now=NOW, worker: str = "w1") -> int | None:
    return exports.run_once(session_factory, core=app.state.console.core, clock=lambda: now, worker=worker)


def background_file(
    session_factory,
    app,
    client,
    unit_id: int,
    ledger: str,
    period: str = "2026",
    *,
    statements: list | None = None,
    **extra,
) -> tuple[LedgerExport, bytes]:
    """(the ready row, the file's bytes); `statements`, when given, gets the number the build issued;
    `extra`: more of the form's fields (format="docx" for a Word file)."""
    r = ask(client, unit_id, ledger, period, **extra)
    assert r.status_code == 303, (r.status_code, r.text[:300])
    engine = session_factory.kw["bind"]
    n = [0]

    def tick(*_a, **_k):
        n[0] += 1

    event.listen(engine, "before_cursor_execute", tick)
    try:
        built = build_one(session_factory, app)
    finally:
        event.remove(engine, "before_cursor_execute", tick)
    if statements is not None:
        statements.append(n[0])
    assert built is not None
    with session_factory() as session:
        row = session.get(LedgerExport, built)
        session.expunge(row)
    assert (row.status, row.reason) == (READY, ""), row.reason
    got = client.get(f"/console/ledgers/{unit_id}/exports/{row.id}/download")
    assert got.status_code == 200
    assert got.headers["content-type"] == exports.file_type(row.ledger)[1]
    return row, got.content


def workbook_rows(content: bytes) -> dict[str, list[tuple]]:
    """Every sheet's every row, caption and headers included."""
    wb = load_workbook(io.BytesIO(content))
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


def document_text(content: bytes) -> tuple[list[tuple[str, str]], list[list[list[str]]]]:
    """A Word file's paragraphs (style, text) and its tables' cells, in order (python-docx)."""
    doc = Document(io.BytesIO(content))
    paragraphs = [(p.style.name, p.text) for p in doc.paragraphs]
    return paragraphs, [[[c.text for c in r.cells] for r in t.rows] for t in doc.tables]
