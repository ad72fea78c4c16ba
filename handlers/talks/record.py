"""Recording a 谈心谈话 from chat: 「谈心谈话 张三 2026-11-20 主题」.

A member records a talk they took part in (one name: the other person); the 书记, 副书记 or 组织委员
(TalksConfig.recorder_roles) records any talk in the branch (two or more names; one name means a talk
with themselves). Names are looked up among the people of the branches the actor records in only (their
own, and those where they hold a recorder role; the talk goes to the one where every name is found): a
name from any other branch is "not found here", so nobody learns about other branches from this command.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from handlers.common import dates
from handlers.common.dates import fmt_full_day, fmt_month
from handlers.common.roles import units_where
from handlers.phones import normalize_phone
from handlers.talks import coverage, strings
from handlers.talks.config import TalksConfig
from models import startmonth
from models.org import OrgUnit, Person, UnitKind
from models.talks import HeartTalk, HeartTalkPerson

TOPIC_MAX = 100
_RELATIVE = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
# A word that was meant as the day but is not one we read ("下周三", "2026-13-40").
# Not "月" or "天" alone: names have them (王月, 李天).
_DAYISH = re.compile(r"\d|^[上下这本]?(周|星期|礼拜)|^(明|后|大后)天$")
_NAME_SEPARATORS = re.compile(r"[、，,/]+")
# How close a typed name must be to a member's to be offered as "您是不是想写" (difflib's ratio).
SUGGEST_CUTOFF = 0.5


def parse_day(text: str, today: date) -> date | None:
    """handlers.common.dates.parse_day with a short 11-20 the latest such day not after `today` ("12-28"
    typed on 2 January is last December's), and 今天, 昨天, 前天; None otherwise."""
    if (ago := _RELATIVE.get(unicodedata.normalize("NFKC", text).strip())) is not None:
        return today - timedelta(days=ago)
    return dates.parse_day(text, today, short="past")


@dataclass(frozen=True)
class TalkInput:
    names: list[str]
    day: date
    topic: str


def parse(args: str, today: date, cfg: TalksConfig) -> TalkInput:
    """Names, then the day, then the topic: the first word that reads as a day splits them."""
    words = args.split()
    at = next((i for i, w in enumerate(words) if parse_day(w, today) is not None), None)
    names = [n for w in words[: at if at is not None else len(words)] for n in _NAME_SEPARATORS.split(w) if n]
    if at is None:
        # A word in the day's place that is not a day: say so, rather than the whole usage.
        dayish = next((w for w in words[1:] if _DAYISH.search(w)), None)
        if dayish is not None:
            raise Refused(strings.BAD_DAY.format(text=dayish))
        raise Refused(strings.USAGE.format(recorders=strings.recorders(cfg.recorder_roles)))
    if not names:
        raise Refused(strings.USAGE.format(recorders=strings.recorders(cfg.recorder_roles)))
    day = parse_day(words[at], today)
    topic = " ".join(words[at + 1 :]).strip()
    if not topic:
        raise Refused(strings.NO_TOPIC.format(names=" ".join(names), day=words[at]))
    if len(topic) > TOPIC_MAX:
        raise Refused(strings.TOPIC_TOO_LONG.format(n=TOPIC_MAX))
    return TalkInput(names, day, topic)


@dataclass(frozen=True)
class Place:
    """A branch the actor may record in, and whether they record any talk there (a recorder role)."""

    branch: OrgUnit
    recorder: bool


def places_of(session: Session, actor: Person | None, cfg: TalksConfig) -> list[Place]:
    """The branches the actor may record in: their own (as a participant, or as its 书记) and every
    branch where they hold a recorder role, own first. A 书记 of two branches, or the 组织委员 of a
    branch who is a member of another, records in each."""
    if actor is None:
        raise Refused(strings.NOT_BOUND)
    led = units_where(session, actor.id, cfg.recorder_roles, kind=UnitKind.BRANCH)
    ids = sorted(led, key=lambda u: (u != actor.branch_id, u))
    if actor.branch_id is not None and actor.branch_id not in led:
        ids.insert(0, actor.branch_id)
    if not ids:
        raise Refused(strings.NO_BRANCH)
    return [Place(session.get(OrgUnit, i), i in led) for i in ids]


def branch_people(session: Session, branch: OrgUnit) -> list[Person]:
    """The branch's people as the coverage counts them (its active members and 支委), in id order."""
    names, _committee = coverage.branch_people(session, [branch.id])
    ids = sorted(names.get(branch.id, {}))
    return list(session.scalars(select(Person).where(Person.id.in_(ids)).order_by(Person.id))) if ids else []


def find_person(people: list[Person], branch: OrgUnit, typed: str, day_text: str) -> Person:
    """The one person of the branch `typed` names: the exact name, a phone number, or a unique part of
    a name ("小明" for 王小明); otherwise a refusal that offers the close names."""
    phone = normalize_phone(typed)
    if phone:
        found = [p for p in people if p.phone == phone]
    else:
        found = [p for p in people if p.name == typed]
        if len(found) > 1:
            raise Refused(strings.AMBIGUOUS.format(n=len(found), name=typed, day=day_text))
        if not found and len(typed) >= 2:
            found = [p for p in people if typed in p.name]
            if len(found) > 1:
                raise Refused(strings.SEVERAL.format(name=typed, names="、".join(p.name for p in found)))
    if len(found) == 1:
        return found[0]
    close = difflib.get_close_matches(typed, sorted({p.name for p in people}), n=3, cutoff=SUGGEST_CUTOFF)
    if close:
        raise Refused(
            strings.NOT_FOUND_SUGGEST.format(branch=branch.name, name=typed, names="、".join(close))
        )
    raise Refused(strings.NOT_FOUND.format(branch=branch.name, name=typed))


def resolve(
    session: Session, places: list[Place], names: list[str], day_text: str
) -> tuple[Place, list[Person]]:
    """The one branch among `places` where every typed name is found, with the people found there.
    With one branch, its own refusal (not found, which one, close names). With several: the branch
    where all names are found; none, the refusal of the branch that found the most; several, a
    refusal naming them (the same names in two branches the actor records in)."""
    found: list[tuple[Place, list[Person]]] = []
    best: tuple[int, Refused] | None = None
    for place in places:
        people = branch_people(session, place.branch)
        chosen: list[Person] = []
        try:
            for typed in names:
                chosen.append(find_person(people, place.branch, typed, day_text))
        except Refused as refusal:
            if best is None or len(chosen) > best[0]:
                best = (len(chosen), refusal)
            continue
        found.append((place, chosen))
    if len(found) == 1:
        return found[0]
    if not found:
        raise best[1]
    raise Refused(
        strings.SEVERAL_BRANCHES.format(
            names="、".join(names), branches="、".join(p.branch.name for p, _ in found), day=day_text
        )
    )


def _check_day(session: Session, day: date, today: date) -> None:
    if day > today:
        raise Refused(strings.FUTURE_DAY.format(day=fmt_full_day(day)))
    start = startmonth.start_month(session)
    if start is not None and day < start:
        raise Refused(strings.BEFORE_START.format(day=fmt_full_day(day), start=fmt_month(start)))
    if day < date(today.year - 1, 1, 1):
        raise Refused(strings.TOO_OLD.format(day=fmt_full_day(day)))


@dataclass(frozen=True)
class Recorded:
    talk: HeartTalk
    people: list[Person]
    branch: OrgUnit
    state: str  # "new", "same", "topic"


def record_talk(
    session: Session, actor: Person | None, args: str, *, now: datetime, today: date, cfg: TalksConfig
) -> Recorded:
    """Record one talk; the same people on the same day again is the same talk (its topic updated)."""
    places = places_of(session, actor, cfg)
    data = parse(args, today, cfg)
    _check_day(session, data.day, today)
    day_text = f"{data.day:%Y-%m-%d}"
    place, chosen = resolve(session, places, data.names, day_text)
    branch, recorder = place.branch, place.recorder
    if len(chosen) == 1:
        if chosen[0].id == actor.id:
            raise Refused(strings.SELF_ONLY.format(day=day_text))
        chosen.insert(0, actor)  # one name: a talk between the actor and that person
    ids = [p.id for p in chosen]
    if len(set(ids)) < len(ids):
        twice = next(p for p in chosen if ids.count(p.id) > 1)
        raise Refused(strings.SAME_PERSON.format(name=twice.name))
    if len(ids) > cfg.max_people:
        raise Refused(strings.TOO_MANY.format(n=cfg.max_people))
    if not recorder and actor.id not in ids:
        raise Refused(
            strings.NOT_PARTICIPANT.format(recorders=strings.recorders(cfg.recorder_roles)), status=403
        )
    key = ",".join(str(i) for i in sorted(ids))
    existing = _existing(session, branch.id, data.day, key)
    if existing is not None:
        return _repeat(existing, data.topic, chosen, branch)
    talk = HeartTalk(
        branch_id=branch.id, held_on=data.day, topic=data.topic, people_key=key,
        recorded_by_id=actor.id, recorded_at=now,
        participants=[HeartTalkPerson(person_id=i) for i in ids],
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(talk)
            session.flush()
    except IntegrityError:
        # The same record sent twice at once (two devices, a retry): the other one is it.
        existing = _existing(session, branch.id, data.day, key)
        if existing is None:
            raise
        return _repeat(existing, data.topic, chosen, branch)
    return Recorded(talk, chosen, branch, "new")


def _existing(session: Session, branch_id: int, day: date, key: str) -> HeartTalk | None:
    return session.scalar(
        select(HeartTalk).where(
            HeartTalk.branch_id == branch_id, HeartTalk.held_on == day, HeartTalk.people_key == key
        )
    )


def _repeat(talk: HeartTalk, topic: str, people: list[Person], branch: OrgUnit) -> Recorded:
    if talk.topic == topic:
        return Recorded(talk, people, branch, "same")
    talk.topic = topic
    return Recorded(talk, people, branch, "topic")
