"""民主评议 in the 审计日志: the opening, the 支委会's proposal and the 支部大会's decision are logged under who
recorded them and read in Chinese (grades and handlings by name, times in the organisation's zone); a
ballot, a self-assessment and a 留党察看 mark leave no entry at all (an entry names who acted)."""

from __future__ import annotations

from sqlalchemy import func, select

from models.appraisal import AppraisalBallot, AppraisalGrade, AppraisalMember, Grade, Handling
from models.audit import AUDITED, AuditEntry
from tests.appraisal.conftest import AFTER_CLOSE
from tests.appraisal.test_flow import PLAN, ballot_form, mark_suspended, open_it, post

Q, B, U = Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED


def _entries(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_a_ballot_leaves_no_audit_entry(world, session):
    a = open_it(world)
    opened = session.scalars(select(AuditEntry).where(AuditEntry.entity == "appraisal")).all()
    assert [(e.action, e.via, e.actor_person_id, e.unit_id) for e in opened] == [
        ("create", "chat", world.org["wang"].id, world.org.branch.id)
    ]
    mark_suspended(world, a.id)
    before = _entries(session)
    for acc in ("zs", "ls", "wang"):
        r = post(world.h5(acc), f"/h5/appraisal/{a.id}/ballot", ballot_form(world, PLAN[acc]))
        assert r.status_code == 303
        assert _entries(session) == before, f"{acc}'s ballot was logged"
    r = post(world.h5("zs"), f"/h5/appraisal/{a.id}/self", {"self_assessment": "按时参加组织生活。"})
    assert r.status_code == 303 and _entries(session) == before
    assert session.scalar(select(func.count()).select_from(AppraisalBallot)) == 21
    logged = set(session.scalars(select(AuditEntry.entity).distinct()))
    assert not logged & {"appraisal_ballot", "appraisal_member"}
    assert AppraisalBallot not in AUDITED and AppraisalMember not in AUDITED


def test_a_decision_reads_in_chinese_in_the_audit_log(world, session):
    a = open_it(world)
    world.clock.now = AFTER_CLOSE  # nobody voted: every member is proposed 合格 unless chosen otherwise
    ids = {acc: p.id for acc, p in world.org.people.items()}
    grades = dict.fromkeys(("wang", "li", "zs", "ls", "ww", "cq", "zb"), Q) | {"zl": U}
    proposal = {f"g{ids[acc]}": g.value for acc, g in grades.items()}
    proposal |= {f"h{ids['zl']}": Handling.RECTIFY.value, "day": "2026-12-10"}
    assert post(world.h5("li"), f"/h5/appraisal/{a.id}/proposal", proposal).status_code == 303
    decision = proposal | {
        f"g{ids['zl']}": B.value,
        f"r{ids['zl']}": "本人在会上作了深刻检查",
        "day": "2026-12-10",
    }
    decision.pop(f"h{ids['zl']}")
    r = post(world.h5("wang"), f"/h5/appraisal/{a.id}/decision", decision)
    assert r.status_code == 303, r.text

    session.expire_all()
    zl = session.scalar(select(AppraisalGrade).where(AppraisalGrade.person_id == ids["zl"]))
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "appraisal_grade", AuditEntry.entity_id == zl.id)
    ).all()
    assert [(e.action, e.actor_person_id, e.unit_id, e.subject_person_id) for e in entries] == [
        ("create", ids["li"], world.org.branch.id, ids["zl"]),
        ("update", ids["wang"], world.org.branch.id, ids["zl"]),
    ]

    page = world.console("chen").get("/console/audit", params={"person": ids["zl"]})
    assert page.status_code == 200
    text = page.text
    assert "新增民主评议等次" in text and "修改民主评议等次" in text
    assert "支委会建议：不合格" in text and "建议处置：限期改正" in text
    assert '支部大会决定：<span class="from">（空）</span> → 基本合格' in text
    assert '理由：<span class="from">（空）</span> → 本人在会上作了深刻检查' in text
    assert "赵六" in text and "appraisal_id" not in text
    raw = (
        "unqualified",
        "basically_qualified",
        "rectify",
        "decided_grade",
        "proposed_grade",
        "appraisal_grade",
    )
    assert not [word for word in raw if word in text]

    # The appraisal itself: opened, proposed and decided, its times in Shanghai's day (the window opened at
    # midnight into 3 December and closes at midnight into the 10th), its people by name.
    text = world.console("chen").get("/console/audit", params={"unit": world.org.branch.id}).text
    assert "新增民主评议" in text and "东门社区党支部（2026年）" in text
    assert "开始时间：2026-12-03 00:00" in text and "截止时间：2026-12-10 00:00" in text
    assert "开启人：王书记" in text and "年度：2026" in text
    assert '支委会日期：<span class="from">（空）</span> → 2026-12-10' in text
    assert '建议登记人：<span class="from">（空）</span> → 李委员' in text
    assert '决定登记人：<span class="from">（空）</span> → 王书记' in text
    assert not [
        word for word in ("opens_at", "opened_by_id", "decided_on", "appraisal_ballot") if word in text
    ]
