"""The count's suggestion (handlers/appraisal/config.py) on crafted tallies: the 1/3 cap, ties on the last
seat, a group past the cap, 不合格 and 基本合格 majorities, a member nobody voted on, and a set cap."""

from __future__ import annotations

from fractions import Fraction

from handlers.appraisal.config import DEFAULT, AppraisalConfig
from handlers.appraisal.grades import MemberCount, cap_of, suggest
from models.appraisal import Grade

E, Q, B, U = Grade.EXCELLENT, Grade.QUALIFIED, Grade.BASIC, Grade.UNQUALIFIED


def rows(*tallies: dict) -> list[MemberCount]:
    return [MemberCount(i, f"党员{i}", False, False, dict(t)) for i, t in enumerate(tallies)]


def outcome(members: list[MemberCount]) -> list[tuple[Grade, bool]]:
    return [(m.suggestion, m.tie) for m in members]


def test_the_cap_is_a_third_of_the_members_rounded_down():
    assert [cap_of(n, DEFAULT) for n in (2, 3, 5, 6, 9, 10, 30)] == [0, 1, 1, 2, 3, 3, 10]


def test_the_most_excellent_votes_take_the_seats():
    ms = rows({E: 6}, {E: 5, Q: 1}, {E: 4, Q: 2}, {Q: 6}, {Q: 6}, {Q: 6})  # 6 members: 2 seats
    assert suggest(ms, DEFAULT) == 2
    assert outcome(ms)[:3] == [(E, False), (E, False), (Q, False)]
    assert ms[2].notes == ["优秀票过半，但优秀名额已满"]


def test_a_tie_on_the_last_seat_is_left_to_the_committee():
    ms = rows({E: 6}, {E: 4, Q: 2}, {E: 4, Q: 2}, {Q: 6}, {Q: 6}, {Q: 6})  # 2 seats: 1 + a tie of 2 for 1
    suggest(ms, DEFAULT)
    assert outcome(ms)[:3] == [(E, False), (Q, True), (Q, True)]
    assert ms[1].notes == ["与党员2并列（4票优秀），优秀名额只剩1个，由支委会决定"]
    # The whole tie fits: all proposed.
    ms = rows({E: 4, Q: 2}, {E: 4, Q: 2}, {Q: 6}, {Q: 6}, {Q: 6}, {Q: 6})
    suggest(ms, DEFAULT)
    assert outcome(ms)[:2] == [(E, False), (E, False)]


def test_half_is_not_a_majority():
    ms = rows({E: 3, Q: 3}, {U: 3, Q: 3}, {B: 2, U: 1, Q: 3}, {Q: 6}, {Q: 6}, {Q: 6})
    suggest(ms, DEFAULT)
    assert [m.suggestion for m in ms[:3]] == [Q, Q, Q]


def test_unqualified_and_basic_majorities_and_a_member_without_ballots():
    ms = rows({U: 4, Q: 2}, {B: 2, U: 2, Q: 2}, {}, {E: 6})
    suggest(ms, DEFAULT)  # 4 members: 1 seat
    assert [m.suggestion for m in ms] == [U, B, Q, E]
    assert "须选择组织处置方式" in ms[0].notes[0] and ms[2].notes == ["无人投票"]
    # 不合格 majority beats an 优秀 count.
    ms = rows({U: 4, E: 2}, {Q: 6}, {Q: 6})
    suggest(ms, DEFAULT)
    assert ms[0].suggestion == U


def test_the_rules_are_settings():
    cfg = AppraisalConfig(excellent_cap=Fraction(1, 2), excellent_share=Fraction(1, 3))
    ms = rows({E: 3, Q: 3}, {E: 3, Q: 3}, {Q: 6}, {Q: 6})
    suggest(ms, cfg)  # half of 4: 2 seats; 3 of 6 is more than a third
    assert [m.suggestion for m in ms[:2]] == [E, E]

    class Rules:  # a settings section as config.rules would give it
        window_days = 10
        excellent_cap = "1/4"
        manager_roles = ["secretary"]

    loaded = AppraisalConfig.from_rules(Rules())
    assert (loaded.window_days, loaded.excellent_cap, {r.value for r in loaded.manager_roles}) == (
        10,
        Fraction(1, 4),
        {"secretary"},
    )
