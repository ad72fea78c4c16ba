"""消息台账 (#17 item 5): crafted delivery-ledger rows of 城关社区党支部 (b1) with known statuses and reasons,
read back from the page and the .xlsx; filters and keyset pages; scope (404, nothing disclosed); 补发 of
未送达 rows (a new row per message, to the person's current account, refused in Chinese when there is
none, once only, audited), which the relay then sends under a send id of its own; CSRF (403) and the
observer, who is refused the ledger (404, nothing written)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from bot.core import texts
from bot.core.delivery import Delivery
from bot.core.ratelimit import ManualClock
from bot.core.relay import Relay, RelayConfig, send_id
from models.audit import AuditEntry
from models.db import unit_of_work
from models.org import ChatAccount, OrgUnit, Person, Role, UnitKind
from models.outbox import DeliveryStatus, OutboxMessage, TargetKind
from tests import builders
from tests.console.test_overview import NOW, login
from tests.console.test_overview_browser import shots  # noqa: F401
from tests.core.helpers import FakeSender
from tests.ledgers.files import background_file
from tests.monthly.conftest import CORP, local

Q4 = "2026-Q4"


@dataclass
class Sent:
    rows: dict[str, int]  # name → outbox row id

    def __getitem__(self, key: str) -> int:
        return self.rows[key]


def _row(session, key: str, person, *, at: datetime, status: DeliveryStatus, platform: str = "dingtalk",
         target: str | None = None, reason: str | None = None, last_error: str | None = None, attempts: int = 0,
         title: str = "通知", sent_at: datetime | None = None) -> int:  # fmt: skip
    row = OutboxMessage(
        dedup_key=key, recipient=f"p:{person.id}", platform=platform, corp_id=CORP if platform else "",
        target_kind=TargetKind.USER, target=target if target is not None else (f"acc{person.id}" if platform else ""),
        person_id=person.id, branch_id=person.branch_id, payload={"kind": "markdown", "title": title, "text": "正文"},
        content_hash=f"h-{key}", status=status, attempts=attempts, next_attempt_at=at, created_at=at, sent_at=sent_at,
        reason=reason, last_error=last_error,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


@pytest.fixture
def sent(session_factory, lorg) -> Sent:
    with unit_of_work(session_factory) as s:
        return craft(s, lorg)


def craft(s, lorg) -> Sent:
    """b1's fourth quarter, newest last: a notice sent to 书记1; one refused by WeCom (60011) to 党员1甲;
    a 党费 reminder to 党员1乙 when he had no account (he has one now); a reply waiting for its third try;
    a digest being sent; a leave notice to 党员1丁 whose only account left DingTalk's directory; a notice
    given up on to 预备党员1丙 (never bound). Outside it: 书记1's September notice, 书记2's (b2) and
    书记3's (b3) failures."""
    c = lorg.org.county
    p = {name: s.scalars(select(Person).where(Person.name == name)).one()
         for name in ("书记1", "党员1甲", "党员1乙", "党员1丁", "预备党员1丙", "书记2", "书记3")}  # fmt: skip
    gone = builders.account(s, p["党员1丁"], "dingliu", corp=CORP)
    gone.left_directory_at = local(date(2026, 11, 1))
    m = lorg.oct_meeting
    rows = {
        "sep": _row(s, f"meeting:{m}:remind:60m", p["书记1"], at=local(date(2026, 9, 30), 9),
                    status=DeliveryStatus.SENT, sent_at=local(date(2026, 9, 30), 9)),
        "notice": _row(s, f"meeting:{m}:notice", p["书记1"], at=local(date(2026, 10, 14), 9),
                       status=DeliveryStatus.SENT, sent_at=local(date(2026, 10, 14), 9), title="十月支部党员大会"),
        "rejected": _row(s, f"meeting:{m}:notice", p["党员1甲"], at=local(date(2026, 10, 14), 9),
                         status=DeliveryStatus.FAILED, platform="wecom", target="m1a-old",
                         reason=texts.REASON_REJECTED.format(error="60011 no privilege to access/modify"),
                         attempts=1, title="十月支部党员大会"),
        "unbound": _row(s, "fee:2026-11-06", p["党员1乙"], at=local(date(2026, 11, 6), 9),
                        status=DeliveryStatus.FAILED, platform="", reason=texts.REASON_UNBOUND, title="交党费"),
        "retrying": _row(s, "reply:evt-9:0", p["党员1甲"], at=local(date(2026, 11, 20), 9),
                         status=DeliveryStatus.QUEUED, attempts=2, last_error="DingTalk 503: ServiceUnavailable"),
        "sending": _row(s, f"monthly:digest:{c.b1.id}:2026-11", p["书记1"], at=local(date(2026, 12, 1), 9),
                        status=DeliveryStatus.SENDING, title="11月通报"),
        "left": _row(s, "leave:5:told", p["党员1丁"], at=local(date(2026, 12, 1), 10),
                     status=DeliveryStatus.FAILED, platform="", reason=texts.REASON_LEFT_DIRECTORY),
        "gave_up": _row(s, f"meeting:{m}:v2:moved", p["预备党员1丙"], at=local(date(2026, 12, 2), 9),
                        status=DeliveryStatus.FAILED, reason=texts.REASON_GAVE_UP.format(error="DingTalk timeout"),
                        attempts=8),
        "b2": _row(s, "fee:2026-11-06", p["书记2"], at=local(date(2026, 11, 6), 9), status=DeliveryStatus.FAILED,
                   platform="", reason=texts.REASON_UNBOUND),
        "b3": _row(s, "fee:2026-11-06", p["书记3"], at=local(date(2026, 11, 6), 9), status=DeliveryStatus.FAILED,
                   platform="", reason=texts.REASON_UNBOUND),
    }  # fmt: skip
    return Sent(rows)


B1_Q4 = ["gave_up", "left", "sending", "retrying", "unbound", "rejected", "notice"]  # newest first
EXPECTED = {  # status label, kind, reason, raw
    "notice": ("已送达", "会议通知", "", ""),
    "rejected": ("未送达", "会议通知", "应用没有权限给这个账号发消息（不在应用可见范围内）", "60011 no privilege to access/modify"),
    "unbound": ("未送达", "党费", "未绑定钉钉或企业微信账号", ""),
    "retrying": ("排队中（等待重试）", "对话回复", "上次发送没有成功，稍后自动重试", "DingTalk 503: ServiceUnavailable"),
    "sending": ("发送中", "月度通报", "", ""),
    "left": ("未送达", "请假", "已不在钉钉/企业微信通讯录中", ""),
    "gave_up": ("未送达", "会议变更或取消", "多次重试仍未发出（平台一时无法访问或繁忙）", "DingTalk timeout"),
}  # fmt: skip
_ROW = re.compile(r'<tr data-row="(\d+)" data-status="(\w+)" data-kind="(\w+)">(.*?)</tr>', re.S)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def page_rows(html: str) -> dict[int, str]:
    """Row id → the row's text, in the page's order."""
    return {int(m[1]): _text(m[4]) for m in _ROW.finditer(html)}


def xlsx_rows(content: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return [list(r) for r in ws.iter_rows(min_row=3, values_only=True)]


def test_every_row_with_its_status_and_reason_on_the_page_and_in_the_xlsx(session_factory, app, lorg, sent):
    client = login(session_factory, app, lorg.id("staff"))
    b1 = lorg.org.county.b1.id
    html = client.get(f"/console/ledgers/{b1}/messages?period={Q4}").text
    rows = page_rows(html)
    assert list(rows) == [sent[k] for k in B1_Q4]  # newest first; September's and b2's are not here
    for key, (status, kind, reason, raw) in EXPECTED.items():
        text = rows[sent[key]]
        assert status in text and kind in text and reason in text and raw in text, (key, text)
    assert (
        "60011" not in _text(html).split("应用没有权限")[0]
    )  # the code is beside the plain reason, not instead
    assert '<b id="failed-total" class="bad">4 条</b>' in html

    got = xlsx_rows(client.get(f"/console/ledgers/{b1}/messages.xlsx?period={Q4}").content)
    assert [r[0] for r in got] == [sent[k] for k in B1_Q4]
    by_id = {r[0]: r for r in got}
    for key, (status, kind, reason, raw) in EXPECTED.items():
        r = by_id[sent[key]]
        assert (r[8], r[4], r[10] or "", r[11] or "") == (status, kind, reason, raw), key
    assert by_id[sent["notice"]][2:6] == ["书记1", "城关社区党支部", "会议通知", "十月支部党员大会"]
    assert by_id[sent["notice"]][1] == "2026-10-14 09:00"


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("status=failed", ["gave_up", "left", "unbound", "rejected"]),
        ("status=failed&kind=meeting_notice", ["rejected"]),
        ("kind=fees", ["unbound"]),
        ("kind=reply", ["retrying"]),
        ("status=sent", ["notice"]),
        ("kind=other", []),
        ("status=bogus&kind=nonsense", B1_Q4),  # a stale link: no filter rather than an error
    ],
)
def test_filters_and_the_export_agree(session_factory, app, lorg, sent, query, keys):
    client = login(session_factory, app, lorg.id("staff"))
    b1 = lorg.org.county.b1.id
    rows = page_rows(client.get(f"/console/ledgers/{b1}/messages?period={Q4}&{query}").text)
    assert list(rows) == [sent[k] for k in keys]
    got = xlsx_rows(client.get(f"/console/ledgers/{b1}/messages.xlsx?period={Q4}&{query}").content)
    assert [r[0] for r in got] == [sent[k] for k in keys]


def test_a_committee_holds_its_branches_rows_and_no_others(session_factory, app, lorg, sent):
    client = login(session_factory, app, lorg.id("c1sec"))
    c = lorg.org.county
    rows = page_rows(client.get(f"/console/ledgers/{c.c1.id}/messages?period={Q4}&status=failed").text)
    assert set(rows) == {sent[k] for k in ("gave_up", "left", "unbound", "rejected", "b2")}
    assert "东门社区党支部" in rows[sent["b2"]]  # a committee's row names the branch
    assert client.get(f"/console/ledgers/{c.c2.id}/messages?period={Q4}").status_code == 404


def test_keyset_pages_walk_every_row_once(session_factory, app, lorg, sent, monkeypatch):
    from handlers.ledgers import messages

    monkeypatch.setattr(messages, "PAGE_SIZE", 3)
    client = login(session_factory, app, lorg.id("staff"))
    b1 = lorg.org.county.b1.id
    url, seen, pages = f"/console/ledgers/{b1}/messages?period={Q4}", [], 0
    while url:
        html = client.get(url).text
        seen += list(page_rows(html))
        pages += 1
        nxt = re.search(r'href="([^"]+)" id="next-page"', html)
        url = nxt[1].replace("&amp;", "&") if nxt else None
        assert pages < 5
    assert seen == [sent[k] for k in B1_Q4] and pages == 3


def test_out_of_scope_is_404_with_nothing_disclosed(session_factory, app, lorg, sent):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("sec2"))  # b2's secretary
    for path in (f"/console/ledgers/{c.b1.id}/messages?period={Q4}", f"/console/ledgers/{c.b1.id}/messages.xlsx",
                 "/console/ledgers/999999/messages"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 404, path
        assert "党员1甲" not in r.text and "60011" not in r.text
    before = _count(session_factory)
    r = client.post(f"/console/ledgers/{c.b1.id}/messages/resend",
                    data={"csrf_token": _csrf(client, app), "row": [sent["rejected"]]})  # fmt: skip
    assert r.status_code == 404 and _count(session_factory) == before
    # Their own ledger does not take b1's row either.
    r = client.post(f"/console/ledgers/{c.b2.id}/messages/resend",
                    data={"csrf_token": _csrf(client, app), "row": [sent["rejected"], sent["b2"]]})  # fmt: skip
    notice = _text(r.text)
    assert r.status_code == 200 and f"#{sent['rejected']}：不在本单位的消息台账中" in notice
    assert "已补发 1 条" in notice and "党员1甲" not in notice  # their own (书记2 is bound now) goes
    assert set(_resends(session_factory)) == {f"resend:fees:{sent['b2']}"}


def _csrf(client, app) -> str:
    from bot.web.console.deps import COOKIE

    return app.state.console.csrf(client.cookies.get(COOKIE))


def _count(session_factory) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage))


def _resends(session_factory) -> dict[str, tuple]:
    with session_factory() as s:
        return {
            r.dedup_key: (r.person_id, r.platform, r.target, r.status, r.branch_id)
            for r in s.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key.like("resend:%")))
        }


def test_resend_queues_new_rows_to_current_accounts_once_and_audited(session_factory, app, lorg, sent):
    c = lorg.org.county
    client = login(session_factory, app, lorg.id("sec1"))  # the branch secretary acts on the branch
    b1 = c.b1.id
    html = client.get(f"/console/ledgers/{b1}/messages?period={Q4}").text
    rows = page_rows(html)
    assert "仍无法补发：已不在钉钉/企业微信通讯录中" in rows[sent["left"]]
    assert "仍无法补发：未绑定钉钉或企业微信账号" in rows[sent["gave_up"]]
    assert (
        f'name="one" value="{sent["unbound"]}"' in html and f'name="one" value="{sent["notice"]}"' not in html
    )
    picked = [sent[k] for k in ("rejected", "unbound", "left", "gave_up", "notice", "b2")]
    before = _count(session_factory)
    r = client.post(f"/console/ledgers/{b1}/messages/resend",
                    data={"csrf_token": _csrf(client, app), "row": picked, "period": Q4})  # fmt: skip
    assert r.status_code == 200
    notice = _text(r.text)
    assert "已补发 2 条" in notice
    assert "4 条无法补发" in notice and "党员1丁：已不在钉钉/企业微信通讯录中" in notice
    assert "预备党员1丙：未绑定钉钉或企业微信账号" in notice and "书记1：只有未送达的消息可以补发" in notice
    assert f"#{sent['b2']}：不在本单位的消息台账中" in notice
    assert _count(session_factory) == before + 2
    # To their current DingTalk accounts (党员1甲's failed on WeCom; 党员1乙 had none then), in b1's ledger.
    assert _resends(session_factory) == {
        f"resend:meeting_notice:{sent['rejected']}": (lorg.id("m1a"), "dingtalk", "m1a", DeliveryStatus.QUEUED, b1),
        f"resend:fees:{sent['unbound']}": (lorg.id("m1b"), "dingtalk", "m1b", DeliveryStatus.QUEUED, b1),
    }  # fmt: skip
    with session_factory() as s:
        audit = s.execute(
            select(
                AuditEntry.entity,
                AuditEntry.via,
                AuditEntry.actor_person_id,
                AuditEntry.subject_person_id,
                AuditEntry.unit_id,
            ).where(AuditEntry.entity == "outbox_message", AuditEntry.via == "console")
        ).all()  # the fixture's own rows are the system's
    assert sorted(audit) == sorted(
        [("outbox_message", "console", lorg.id("sec1"), lorg.id(k), b1) for k in ("m1a", "m1b")]
    )
    # The page links each to the other, and offers no second 补发.
    rows = page_rows(r.text)
    new = {v: k for k, v in _ids(session_factory).items()}
    assert list(rows)[:2] == sorted(new, reverse=True)
    for rid, key in new.items():
        original = int(key.rsplit(":", 1)[1])
        assert f"补发自 #{original}" in rows[rid] and "补发" in rows[rid]
        assert f"已补发 #{rid}（排队中）" in rows[original]
        assert f'name="one" value="{original}"' not in r.text
    # Pressing again (the row's own button, or a resubmitted form) sends nothing twice.
    r = client.post(f"/console/ledgers/{b1}/messages/resend",
                    data={"csrf_token": _csrf(client, app), "one": sent["rejected"], "row": picked})  # fmt: skip
    assert "1 条此前已补发过，没有重复发送：党员1甲" in _text(r.text)
    assert _count(session_factory) == before + 2
    # The 审计日志 tells it.
    audit_page = _text(client.get(f"/console/audit?unit={b1}").text)
    assert "消息补发" in audit_page and "党员1甲" in audit_page
    # in the ledger's words, and without the internal key (resend:meeting_notice:…)
    assert "排队中" in audit_page and "待发送" not in audit_page
    assert "resend:" not in audit_page and "补发编号" not in audit_page


def _ids(session_factory) -> dict[str, int]:
    with session_factory() as s:
        return dict(
            s.execute(
                select(OutboxMessage.dedup_key, OutboxMessage.id).where(
                    OutboxMessage.dedup_key.like("resend:%")
                )
            ).all()
        )


def test_the_relay_sends_a_resend_under_a_send_id_of_its_own(session_factory, app, lorg, sent):
    client = login(session_factory, app, lorg.id("staff"))
    b1 = lorg.org.county.b1.id
    client.post(
        f"/console/ledgers/{b1}/messages/resend",
        data={"csrf_token": _csrf(client, app), "one": sent["rejected"]},
    )
    sender = FakeSender("dingtalk")
    # The other rows of the fixture are due too: only the 补发 reaches 党员1甲's DingTalk account now.
    relay = Relay(session_factory, [sender], clock=ManualClock(NOW), config=RelayConfig(concurrency=1))
    relay.drain()
    ((key, rid),) = _ids(session_factory).items()
    with session_factory() as s:
        row = s.get(OutboxMessage, rid)
        assert (row.status, row.sent_at) == (DeliveryStatus.SENT, NOW)
        original = s.get(OutboxMessage, sent["rejected"])
        assert original.status == DeliveryStatus.FAILED  # the ledger keeps what happened
    ((batch,),) = [[b for b in sender.calls if rid in [d.row_id for d in b.deliveries]]]
    assert batch.targets == ["m1a"]
    again = Delivery(
        rid, "dingtalk", CORP, TargetKind.USER, "m1a", batch.message, 0, content_hash=row.content_hash
    )
    # Had the failed row been sent again itself, the platform would have seen its id: the 补发's is new.
    first = Delivery(original.id, "dingtalk", CORP, TargetKind.USER, "m1a", batch.message, 1,
                     content_hash=original.content_hash)  # fmt: skip
    assert original.content_hash == row.content_hash and send_id(again) != send_id(first)
    page = page_rows(client.get(f"/console/ledgers/{b1}/messages?period={Q4}").text)
    assert f"已补发 #{rid}（已送达）" in page[sent["rejected"]]
    assert "已送达" in page[rid]


def test_no_csrf_is_403_and_an_observer_is_refused_the_ledger_with_nothing_written(
    session_factory, app, lorg, sent
):
    """The ledger is for those who lead the unit: an observer of b1 gets a 404 for its page, its .xlsx
    and its 补发 (as for a unit outside the scope), and no card on b1's 台账 hub."""
    b1 = lorg.org.county.b1.id
    before = _count(session_factory)
    staff = login(session_factory, app, lorg.id("staff"))
    r = staff.post(f"/console/ledgers/{b1}/messages/resend", data={"row": [sent["rejected"]]})
    assert r.status_code == 403
    r = staff.post(
        f"/console/ledgers/{b1}/messages/resend", data={"row": [sent["rejected"]], "csrf_token": "x"}
    )
    assert r.status_code == 403
    observer = login(session_factory, app, lorg.org.observer.id)  # observes b1, read-only
    for path in (
        f"/console/ledgers/{b1}/messages?period={Q4}",
        f"/console/ledgers/{b1}/messages.xlsx?period={Q4}",
    ):
        r = observer.get(path)
        assert r.status_code == 404, path
        assert "党员1甲" not in r.text and "60011" not in r.text
    hub = observer.get(f"/console/ledgers/{b1}?period={Q4}")
    assert hub.status_code == 200 and 'id="ledger-messages"' not in hub.text and "/messages" not in hub.text
    r = observer.post(f"/console/ledgers/{b1}/messages/resend",
                      data={"csrf_token": _csrf(observer, app), "row": [sent["rejected"]]})  # fmt: skip
    assert r.status_code == 404
    assert _count(session_factory) == before
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.via == "console")) == 0


def test_a_person_back_in_the_directory_is_resent_to(session_factory, app, lorg, sent):
    """党员1丁 left DingTalk's directory (his rows failed so) and came back: the 补发 goes to him."""
    with unit_of_work(session_factory) as s:
        s.scalars(
            select(ChatAccount).where(ChatAccount.account_id == "dingliu")
        ).one().left_directory_at = None
    client = login(session_factory, app, lorg.id("staff"))
    b1 = lorg.org.county.b1.id
    r = client.post(
        f"/console/ledgers/{b1}/messages/resend", data={"csrf_token": _csrf(client, app), "one": sent["left"]}
    )
    assert "已补发 1 条" in _text(r.text)
    assert _resends(session_factory) == {
        f"resend:leave:{sent['left']}": (_person_id(session_factory, "党员1丁"), "dingtalk", "dingliu",
                                         DeliveryStatus.QUEUED, b1)
    }  # fmt: skip


def _person_id(session_factory, name: str) -> int:
    with session_factory() as s:
        return s.scalars(select(Person.id).where(Person.name == name)).one()


def test_statements_per_page_do_not_grow_with_branches(session_factory, app, lorg, sent):
    engine = session_factory.kw["bind"]
    client = login(session_factory, app, lorg.id("staff"))
    c = lorg.org.county
    paths = [f"/console/ledgers/{c.b1.id}/messages?period={Q4}", f"/console/ledgers/{c.county.id}/messages?period={Q4}",
             f"/console/ledgers/{c.c1.id}/messages?period={Q4}&status=failed",
             f"/console/ledgers/{c.b1.id}/messages.xlsx?period={Q4}", f"/console/ledgers/{c.b1.id}"]  # fmt: skip

    def count(path: str) -> int:
        client.get(path)
        n = [0]

        def tick(*_a, **_k):
            n[0] += 1

        event.listen(engine, "before_cursor_execute", tick)
        try:
            assert client.get(path).status_code == 200, path
        finally:
            event.remove(engine, "before_cursor_execute", tick)
        return n[0]

    def built() -> int:  # the county's file, built in the background a chunk of rows at a time
        n: list[int] = []
        background_file(session_factory, app, client, c.county.id, "messages", Q4, statements=n)
        return n[0]

    before = [count(p) for p in paths] + [built()]
    with unit_of_work(session_factory) as s:
        top, town = s.get(OrgUnit, c.county.id), s.get(OrgUnit, c.c1.id)
        for i in range(3):
            committee = builders.unit(s, f"新区{i}党委", c.c1.kind, top)
            for parent in (committee, town):
                b = builders.unit(s, f"新区{i}支部{parent.id}", c.b1.kind, parent, c.b1.category)
                p = builders.person(s, f"新党员{i}{parent.id}", b, account_id=f"n{i}{parent.id}", corp=CORP)
                builders.role(s, p, b, Role.SECRETARY)
                _row(s, f"fee:new{i}", p, at=local(date(2026, 11, 6), 9), status=DeliveryStatus.FAILED, platform="",
                     reason=texts.REASON_UNBOUND)  # fmt: skip
    after = [count(p) for p in paths] + [built()]
    keys = [*paths, "county.xlsx"]
    assert dict(zip(keys, after, strict=True)) == dict(zip(keys, before, strict=True))


def test_the_hub_offers_the_messages_ledger(session_factory, app, lorg):
    client = login(session_factory, app, lorg.id("c1sec"))
    html = client.get(f"/console/ledgers/{lorg.org.county.c1.id}?period=2026").text
    card = re.search(r'<div class="card" id="ledger-messages">(.*?)</div>', html, re.S)[1]
    assert "消息台账" in card and f"/console/ledgers/{lorg.org.county.c1.id}/messages?period=2026" in card


def test_a_resend_reaches_the_member_through_the_sandbox(session_factory, database_url):
    """Against the sandbox playing DingTalk, through the real sender: a meeting card failed while the
    member's account was out of DingTalk's directory; back in it, the secretary's 补发 is sent as a new
    card (its own outTrackId), and the member gets it once."""
    from bot.core.messages import Button, Card
    from bot.core.outbox import enqueue_to_people
    from tests.console.test_overview import console_app
    from tests.core.e2e import running_bot
    from tests.core.helpers import make_org

    start = datetime(2026, 3, 2, 1, 0, tzinfo=NOW.tzinfo)
    from models.meetings import Meeting

    org = make_org(session_factory, members=1)  # 党员0 on DingTalk as member0
    with session_factory() as s, s.begin():
        meeting = Meeting(branch_id=org.branch_id, title="支部党员大会", topic="学习", place="党员活动室",
                          starts_at=start + timedelta(days=3))  # fmt: skip
        s.add(meeting)
        s.flush()
        key = f"meeting:{meeting.id}:notice"  # a meeting still as noticed: its notice may be sent again
        card = Card("支部党员大会通知", "3月5日 9:00 在党员活动室召开", buttons=(Button("参加", action="meeting.rsvp",
                    params={"id": str(meeting.id)}),), card_key=key)  # fmt: skip
        account = s.scalars(select(ChatAccount).where(ChatAccount.account_id == "member0")).one()
        account.left_directory_at = start
        s.flush()
        enqueue_to_people(s, org.member_ids, card, dedup_key=key, now=start)
        account.left_directory_at = None  # back in the directory
    with session_factory() as s:
        failed = s.scalars(select(OutboxMessage).where(OutboxMessage.dedup_key == key)).one()
    assert (failed.status, failed.reason) == (DeliveryStatus.FAILED, texts.REASON_LEFT_DIRECTORY)
    with running_bot(session_factory, database_url, clock_start=start) as bot:
        app = console_app(session_factory, now=start)
        client = login(session_factory, app, org.secretary_id, now=start)
        r = client.post(f"/console/ledgers/{org.branch_id}/messages/resend",
                        data={"csrf_token": _csrf(client, app), "one": failed.id, "period": "2026-03"})  # fmt: skip
        assert "已补发 1 条" in _text(r.text)
        bot.drain()
        (rid,) = _ids(session_factory).values()
        got = [e for e in bot.sb.outbox(platform="dingtalk") if "member0" in e["to"]]
        assert len(got) == 1 and got[0]["card_id"].startswith(f"zb-{rid}-")
        with session_factory() as s:
            assert s.get(OutboxMessage, rid).status == DeliveryStatus.SENT
        page = page_rows(client.get(f"/console/ledgers/{org.branch_id}/messages?period=2026-03").text)
        assert f"已补发 #{rid}（已送达）" in page[failed.id] and "已送达" in page[rid]


@pytest.fixture(scope="module")
def msg_site(tmp_path_factory):
    """The ledgers' world with the crafted rows, served by uvicorn on SQLite (the browser's)."""
    import threading
    import time

    import uvicorn

    from models.base import Base
    from models.db import make_engine, make_sessionmaker
    from tests.console.test_overview import console_app
    from tests.console.test_overview_browser import free_port
    from tests.ledgers.world import build_ledger_org

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('messages') / 'messages.db'}")
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        lorg = build_ledger_org(session)
        rows = craft(session, lorg)
    server = uvicorn.Server(uvicorn.Config(console_app(factory), host="127.0.0.1", port=free_port(),
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}", factory, lorg, rows
    server.should_exit = True
    thread.join(10)
    engine.dispose()


def _chromium() -> str:
    from tests.journeys.driver import CHROMIUM

    return CHROMIUM


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_a_branch_secretary_resends_the_failed_in_chromium(msg_site, shots):  # noqa: F811
    """At 1366×768: 书记1 opens the ledger from the hub (only 未送达), presses one row's 补发, then ticks the
    rest and presses 补发所选; the two with an account go, the two without cannot be ticked and say why."""
    import os

    if not os.path.exists(_chromium()):
        pytest.skip(f"{_chromium()} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from tests.console.test_overview_browser import ARGS, VIEWPORT, open_as

    base, factory, lorg, rows = msg_site
    b1 = lorg.org.county.b1.id
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=ARGS)
        page, errors = open_as(browser, msg_site[:3], lorg.id("sec1"))
        page.goto(f"{base}/console/ledgers/{b1}?period={Q4}")
        page.locator("#ledger-messages a", has_text="只看未送达").click()
        page.locator("h1", has_text="消息台账").wait_for()
        assert page.locator("#messages tr[data-row]").count() == 4
        assert page.evaluate("() => document.documentElement.scrollWidth") <= VIEWPORT["width"] + 400
        page.screenshot(path=str(shots / "ledgers-messages-failed.png"), full_page=True)
        # A row's own button sends that row alone (htmx posts the pressed button), then 全选 the rest.
        page.locator(f"button[name=one][value='{rows['unbound']}']").click()
        page.locator(".notice", has_text="已补发 1 条").wait_for()
        assert page.url.endswith("/messages?period=2026-Q4&status=failed")  # the page keeps its address
        page.locator("#pick-all").check()
        assert page.locator("input[name=row]:checked").count() == 1  # the one left with an account to go to
        page.locator("#resend-picked").click()
        page.locator(".notice", has_text="已补发 1 条").wait_for()
        page.locator(f"tr[data-row='{rows['rejected']}']", has_text="已补发 #").wait_for()
        assert page.locator("#pick-all, #resend-picked").count() == 0  # nothing left that could go
        page.screenshot(path=str(shots / "ledgers-messages-resent.png"), full_page=True)
        assert "已补发 #" in page.locator(f"tr[data-row='{rows['rejected']}']").inner_text()
        page.select_option("select[name=status]", "")
        page.locator("#filters button").click()
        page.wait_for_url("**status=&kind=**")
        assert page.locator("#messages tr[data-row]").count() == len(B1_Q4) + 2
        assert not errors, errors
        browser.close()
    with factory() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.dedup_key.like("resend:%"))
            )
            == 2
        )


def test_the_failed_count_stops_at_its_cap(session_factory, app, lorg, sent, monkeypatch):
    from handlers.ledgers import messages

    monkeypatch.setattr(messages, "FAILED_COUNT_CAP", 3)
    client = login(session_factory, app, lorg.id("staff"))
    html = client.get(f"/console/ledgers/{lorg.org.county.b1.id}/messages?period={Q4}").text
    assert '<b id="failed-total" class="bad">3 条以上</b>' in html  # b1 has 4
    monkeypatch.setattr(messages, "FAILED_COUNT_CAP", 4)
    html = client.get(f"/console/ledgers/{lorg.org.county.b1.id}/messages?period={Q4}").text
    assert '<b id="failed-total" class="bad">4 条</b>' in html


def test_a_notice_about_another_unit_shows_only_to_its_recipient_and_the_org_department(
    session_factory, app, lorg, sent
):
    """观察员老周 is a member of b3 and observes b1: his 观察提示 about b1 and a 月积分 notice are filed
    under b3 (his home branch). 书记3 sees that they were sent and how they went, never what they say;
    the meeting notice to a b3 member stays readable."""
    c = lorg.org.county
    with unit_of_work(session_factory) as s:
        obs = s.get(Person, lorg.org.observer.id)
        m3a = s.scalars(select(Person).where(Person.name == "党员3甲")).one()
        rows = {
            "obs": _row(s, f"observers:notices:{obs.id}:20261202", obs, at=local(date(2026, 12, 2), 9),
                        status=DeliveryStatus.FAILED, reason=texts.REASON_UNBOUND,
                        title="观察提示：城关社区党支部学习记录不完整"),
            "ladder": _row(s, f"monthly:esc:{c.b1.id}:2026-11", obs, at=local(date(2026, 12, 2), 10),
                           status=DeliveryStatus.SENT, title="【月积分】城关社区党支部：连续落后"),
            "own": _row(s, "meeting:77:notice", m3a, at=local(date(2026, 12, 2), 11),
                        status=DeliveryStatus.SENT, title="河西村十二月党员大会"),
        }  # fmt: skip
    sec3 = login(session_factory, app, lorg.id("sec3"))
    url = f"/console/ledgers/{c.b3.id}/messages"
    html = sec3.get(f"{url}?period={Q4}").text
    page = page_rows(html)
    assert "城关社区" not in html
    for key in ("obs", "ladder"):
        assert "（发给观察员/负责人的工作通知，内容不在本台账显示）" in page[rows[key]]
        assert "观察员老周" in page[rows[key]]  # who it went to and how it went stay visible
    assert "河西村十二月党员大会" in page[rows["own"]]
    cells = {r[0]: r for r in xlsx_rows(sec3.get(f"{url}.xlsx?period={Q4}").content)}
    assert not any("城关社区" in str(v) for r in cells.values() for v in r)
    assert cells[rows["obs"]][5] == "（发给观察员/负责人的工作通知，内容不在本台账显示）"
    assert cells[rows["own"]][5] == "河西村十二月党员大会"
    # 组织部 reads them whole.
    staff = login(session_factory, app, lorg.id("staff"))
    assert (
        "观察提示：城关社区党支部学习记录不完整"
        in page_rows(staff.get(f"{url}?period={Q4}").text)[rows["obs"]]
    )


def test_a_stale_meeting_message_is_not_resent(session_factory, app, lorg, sent):
    """A 补发 must not bring back what has since changed: the notice of a meeting moved since (its moved
    notice goes), anything of a cancelled meeting, a reminder or the host's sign-in card once the sign-in
    window closed (b1's meeting at 09:00 today; it is 10:00), and a failed 补发 of a superseded notice."""
    from models.meetings import Meeting, MeetingStatus

    c = lorg.org.county
    with unit_of_work(session_factory) as s:
        m1a = s.scalars(select(Person).where(Person.name == "党员1甲")).one()

        def meeting(day: int, hour: int, **kw) -> int:
            m = Meeting(branch_id=c.b1.id, title=f"{day}日党员大会", topic="学习", place="会议室",
                        starts_at=local(date(2026, 12, day), hour), **kw)  # fmt: skip
            s.add(m)
            s.flush()
            return m.id

        moved, cancelled = meeting(10, 9, version=2), meeting(8, 9, status=MeetingStatus.CANCELLED)
        today = meeting(3, 9)

        def failed(key: str) -> int:
            return _row(s, key, m1a, at=local(date(2026, 12, 2), 9), status=DeliveryStatus.FAILED,
                        reason=texts.REASON_UNBOUND)  # fmt: skip

        rows = {
            "old_notice": failed(f"meeting:{moved}:notice"),
            "moved": failed(f"meeting:{moved}:v2:moved"),
            "cancelled": failed(f"meeting:{cancelled}:v1:remind:60m"),
            "remind": failed(f"meeting:{today}:v1:remind:60m"),
            "host": failed(f"meeting:{today}:v1:host-signin:{m1a.id}"),
        }
        rows["again"] = failed(f"resend:meeting_notice:{rows['old_notice']}")
    client = login(session_factory, app, lorg.id("sec1"))
    r = client.post(f"/console/ledgers/{c.b1.id}/messages/resend",
                    data={"csrf_token": _csrf(client, app), "row": list(rows.values())})  # fmt: skip
    notice = _text(r.text)
    assert r.status_code == 200 and "已补发 1 条" in notice and "5 条无法补发" in notice, notice
    assert notice.count("党员1甲：会议已变更或取消，请以最新通知为准") == 3
    assert notice.count("党员1甲：签到已结束") == 2
    # the failed 补发 crafted above, and the one queued now
    assert set(_resends(session_factory)) == {f"resend:meeting_notice:{rows['old_notice']}",
                                              f"resend:meeting_change:{rows['moved']}"}  # fmt: skip


@pytest.mark.parametrize("data", [{"one": "²"}, {"row": ["²", "１２", "x"]}, {"one": "٣", "row": ["3"]}])
def test_a_row_id_that_is_not_one_is_no_row_not_an_error(session_factory, app, lorg, sent, data):
    """「²」, full-width and Arabic-Indic digits pass str.isdigit() and int() refuses or misreads them:
    they pick no row, and the page says so."""
    client = login(session_factory, app, lorg.id("sec1"))
    before = _count(session_factory)
    r = client.post(f"/console/ledgers/{lorg.org.county.b1.id}/messages/resend",
                    data={"csrf_token": _csrf(client, app), **data})  # fmt: skip
    assert r.status_code == 200 and "请先勾选要补发的未送达消息。" in _text(r.text)
    assert _count(session_factory) == before


def test_scan_receipts_are_filed_under_signin_under_their_key_old_and_new(session):
    """A scan's receipt is keyed by its meeting (handlers.meetings.signin.receipt_key); those queued before
    2026-12-05 also named the member. The 消息台账 files both under 签到, in Python and in SQL alike."""
    from handlers.ledgers.messages import KIND_BY_KEY, classify, kind_clause
    from handlers.meetings.signin import receipt_key

    signin = KIND_BY_KEY["signin"]
    keys = [receipt_key(7), "meeting:7:signin:12", "meeting:7:v2:host-signin:12"]
    assert [classify(k)[0] for k in keys] == [signin] * 3
    assert classify("meeting:7:signinx")[0] is KIND_BY_KEY["other"]
    branch = builders.unit(session, "签到党支部", UnitKind.BRANCH)
    person = Person(name="张三", branch_id=branch.id)
    session.add(person)
    session.flush()
    for key in [*keys, "meeting:7:notice"]:
        _row(session, key, person, at=NOW, status=DeliveryStatus.SENT)
    filed = session.scalars(select(OutboxMessage.dedup_key).where(kind_clause(signin))).all()
    assert sorted(filed) == sorted(keys)
