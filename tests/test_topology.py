"""docker-compose.yml: what it declares, and the same topology run as plain processes on PostgreSQL.

The compose file is read, not only validated: its services must be the parts of `zhibu serve` (web x2,
stream, relay x2, scheduler) behind a one-shot `zhibu db upgrade`, with health checks on what exists,
volumes, and no secret of its own; `docker compose config` checks the syntax when the Compose plugin is
installed. Then the parts it declares are started as processes (tests/topology.py), a meeting notice
goes to 2,000 members through the meetings API on one web process, and one relay and that web process
are SIGKILLed mid-way: every member gets the notice exactly once. The calls the killed relay had in flight
(the platform took them, the relay died before recording them) are made again by the survivor once the
lease runs out, under the same ids, and the platform recognises them: DingTalk answers the card's
outTrackId with param.cardAlreadyExist, WeCom suppresses the identical interaction card under its
duplicate check (bot/core/relay.py, the senders, and the sandbox's emulation of both).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import typer
from pydantic import BaseModel
from sqlalchemy import func, insert, select

from bot.cli import app as zhibu_app
from bot.cli.serve import ROLES, sandbox_fixture
from bot.core.relay import AHEAD, RelayConfig
from config import Settings, demo
from config.settings import ENV_PREFIX
from handlers.meetings import strings as meeting_strings
from models.api_token import issue_token
from models.org import ChatAccount, Person, Platform, Role, UnitKind
from models.outbox import DeliveryStatus, OutboxMessage
from sandbox.testing import SandboxClient
from tests import builders
from tests.topology import COMPOSE_FILE, ENV_EXAMPLE, Topology, compose_file, compose_parts, relay_name

# ---- the compose file ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict:
    return compose_file()


def test_compose_runs_every_part_of_zhibu_serve_with_the_replicas_asked_for(compose):
    parts = {p.role: p for p in compose_parts()}
    assert set(parts) == set(ROLES)
    assert {role: p.replicas for role, p in parts.items()} == {
        "web": 2,
        "stream": 1,
        "relay": 2,
        "scheduler": 1,
    }
    assert {p.service for p in parts.values()} == set(ROLES)  # each service named after its part
    group = typer.main.get_command(zhibu_app)
    for part in parts.values():
        # The real command line accepts each service's arguments (a renamed option would fail here).
        sub = group.get_command(None, part.command[1])
        with sub.make_context(part.command[1], part.command[2:]) as ctx:
            assert ctx.params["role"] == part.role
    # A service starts only after the one-shot upgrade finished, and the upgrade after the database is up.
    services = compose["services"]
    assert services["migrate"]["command"] == ["zhibu", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for role in ROLES:
        assert services[role]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert services[role]["restart"] == "unless-stopped"
        assert services[role]["env_file"] == [{"path": ".env", "required": True}]


def test_compose_checks_health_where_there_is_something_to_ask(compose):
    services = compose["services"]
    web = services["web"]["healthcheck"]["test"]
    assert web[0] == "CMD" and "http://127.0.0.1:8000/healthz" in " ".join(web)
    assert "--port" in services["web"]["command"] and "8000" in services["web"]["command"]
    assert services["db"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    # /healthz is served by the web part only (bot/web/app.py): the others have no endpoint to ask.
    for role in ("stream", "relay", "scheduler"):
        assert "healthcheck" not in services[role]


def test_compose_keeps_data_in_volumes(compose):
    services = compose["services"]
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    # The console's staged uploads sit on the volume every web replica shares (the image owns /data).
    assert "data:/data" in services["web"]["volumes"]
    assert services["web"]["environment"]["ZHIBU_CONSOLE__UPLOADS"].startswith("/data/")
    assert "backups:/backups" in services["backup"]["volumes"]
    assert services["backup"]["profiles"] == ["tools"]
    assert set(compose["volumes"]) == {"pgdata", "data", "backups"}


def _secret_settings(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> set[str]:
    names = set()
    for name, info in model.model_fields.items():
        env = prefix + name.upper()
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            names |= _secret_settings(info.annotation, env + "__")
        elif "SecretStr" in str(info.annotation):
            names.add(env)
    return names


def test_compose_file_holds_no_secret():
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    secrets = _secret_settings()
    assert "ZHIBU_SECRET_KEY" in secrets and "ZHIBU_WECOM__SECRET" in secrets
    for name in secrets:
        assert name not in text, f"{name} belongs in .env, not in docker-compose.yml"
    # Every password is taken from .env by interpolation, and refused when empty.
    for line in text.splitlines():
        if "PASSWORD" in line and ":" in line and not line.lstrip().startswith("#"):
            assert "${POSTGRES_PASSWORD:?" in line, line


def _settings_variables(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> tuple[set, set]:
    """(every variable, the prefixes of the feature-rule sections, which are listed by example)."""
    variables, sections = set(), set()
    for name, info in model.model_fields.items():
        env = prefix + name.upper()
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation.__module__ == "config.rules":
                sections.add(env + "__")
            else:
                variables |= _settings_variables(annotation, env + "__")[0]
        else:
            variables.add(env)
    return variables, sections


def test_env_example_lists_every_setting():
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^#? ?(ZHIBU_[A-Z_]+)=", text, flags=re.M))
    variables, sections = _settings_variables()
    assert variables - listed == set(), "add these settings to .env.example"
    for section in sections:
        assert section in text, f"no example of {section}… in .env.example"
    assert re.search(r"^POSTGRES_PASSWORD=$", text, flags=re.M)


def test_env_example_filled_in_is_a_valid_production_configuration(tmp_path, monkeypatch):
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX):
            monkeypatch.delenv(key)
    filled = ENV_EXAMPLE.read_text(encoding="utf-8").replace(
        "ZHIBU_SECRET_KEY=\n", "ZHIBU_SECRET_KEY=a-long-random-secret-for-the-test\n"
    )
    env = tmp_path / ".env"
    env.write_text(filled, encoding="utf-8")
    s = Settings(_env_file=env)
    s.require_production_secret()
    assert s.public_base_url == "https://zhibu.example.gov.cn"
    assert not s.dingtalk.enabled and not s.wecom.enabled  # until their credentials are filled in


def _docker_compose() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    return [docker, "compose"] if probe.returncode == 0 else None


def test_docker_compose_config_accepts_the_file(tmp_path):
    command = _docker_compose()
    if command is None:
        pytest.skip("`docker compose version` failed: the Docker Compose v2 plugin is not installed here")
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    env = ENV_EXAMPLE.read_text(encoding="utf-8")
    (tmp_path / ".env").write_text(env, encoding="utf-8")
    empty = subprocess.run([*command, "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert empty.returncode != 0 and "POSTGRES_PASSWORD" in empty.stderr  # refused until it is set
    (tmp_path / ".env").write_text(
        env.replace("POSTGRES_PASSWORD=\n", "POSTGRES_PASSWORD=pw\n"), encoding="utf-8"
    )
    done = subprocess.run([*command, "config", "-q"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# ---- the same topology, as processes ---------------------------------------------------------------

MEMBERS = 2000  # in one branch, the secretary among them
ON_DINGTALK = 1000  # the first half (one relay's claim, at DingTalk's 20 cards a second), the rest on WeCom
# The notice's sends, whose answers the sandbox holds around the kill (well under the senders' 10 s timeout).
SENDS = ("/v1.0/card/instances/createAndDeliver", "/cgi-bin/message/send")
HELD_SECONDS = 4


def _seed(session_factory) -> tuple[int, str, list[str], list[str]]:
    """One branch of 2,000: (branch id, a write token for it, DingTalk userIds, WeCom userids)."""
    with session_factory() as s, s.begin():
        committee = builders.unit(s, "城关镇党委", UnitKind.COMMITTEE)
        branch = builders.unit(s, "城关镇第一党支部", UnitKind.BRANCH, committee)
        secretary = builders.person(
            s, "王书记", branch, account_id="wc-secretary", corp=demo.WECOM_CORP_ID, platform=Platform.WECOM
        )
        builders.role(s, secretary, branch, Role.SECRETARY)
        s.execute(
            insert(Person), [{"name": f"党员{i:04d}", "branch_id": branch.id} for i in range(MEMBERS - 1)]
        )
        ids = s.scalars(
            select(Person.id)
            .where(Person.branch_id == branch.id, Person.id != secretary.id)
            .order_by(Person.id)
        ).all()
        accounts = [
            {"person_id": pid, "platform": Platform.DINGTALK, "corp_id": demo.DINGTALK_CORP_ID, "account_id": f"dt{pid}"}
            if n < ON_DINGTALK
            else {"person_id": pid, "platform": Platform.WECOM, "corp_id": demo.WECOM_CORP_ID, "account_id": f"wc{pid}"}
            for n, pid in enumerate(ids)
        ]  # fmt: skip
        s.execute(insert(ChatAccount), accounts)
        _, token = issue_token(s, name="区委组织部", scope_unit=branch, now=datetime.now(UTC), can_write=True)
        dingtalk = [a["account_id"] for a in accounts if a["platform"] == Platform.DINGTALK]
        wecom = ["wc-secretary"] + [a["account_id"] for a in accounts if a["platform"] == Platform.WECOM]
        return branch.id, token, dingtalk, wecom


class Received:
    """What the sandbox received, fetched incrementally: the notice's calls by outbox row id (the
    relay names each card after its row: zb-<row id>-<digest>, bot.core.relay.send_id) and everything
    else."""

    CARD = re.compile(r"^zb-(\d+)-")

    def __init__(self, sb: SandboxClient) -> None:
        self.sb = sb
        self.seq = 0
        self.entries: list[dict] = []

    def poll(self) -> list[dict]:
        new = self.sb.outbox(since=self.seq)
        if new:
            self.seq = new[-1]["seq"]
            self.entries += new
        return self.entries

    def calls_by_row(self, rows: set[int]) -> dict[int, list[dict]]:
        out: dict[int, list[dict]] = {}
        for e in self.poll():
            found = self.CARD.match(e.get("card_id") or "")
            if found and int(found.group(1)) in rows:
                out.setdefault(int(found.group(1)), []).append(e)
        return out


def _healthcheck(compose: dict, port: int) -> int:
    """docker-compose.yml's web health check, run against a web process on `port`."""
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"]
    argv = [sys.executable, *(a.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for a in test[2:])]
    return subprocess.run(argv, capture_output=True, timeout=30).returncode


@pytest.mark.timeout(400)
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_compose_topology_as_processes_delivers_a_notice_to_2000_members_through_kills(
    migrated_url, session_factory, tmp_path, compose
):
    branch_id, token, dingtalk, wecom = _seed(session_factory)
    topo = Topology(tmp_path, migrated_url)
    assert sorted((p.role, p.replicas) for p in topo.parts) == [
        ("relay", 2),
        ("scheduler", 1),
        ("stream", 1),
        ("web", 2),
    ]
    fixture = tmp_path / "corp.json"
    with session_factory() as s:
        fixture.write_text(
            json.dumps(
                sandbox_fixture(s, callback_url=topo.public_url + "/wecom/callback"), ensure_ascii=False
            )
        )
    started = time.monotonic()
    try:
        sb = SandboxClient(topo.start_sandbox(fixture).url)
        _until(topo, lambda: _answers(sb.url + "/_sandbox/health"), 60, "the sandbox to answer")
        topo.start_parts()
        web_a, web_b = topo.processes["web"]
        relays = topo.processes["relay"]
        _until(
            topo, lambda: _answers(web_a.url + "/healthz") and _answers(web_b.url + "/healthz"), 90, "web x2"
        )
        _until(topo, lambda: sb.connections()["open"], 60, "the stream part to connect to DingTalk")
        for p in topo.processes["relay"] + topo.processes["scheduler"] + topo.processes["stream"]:
            _until(topo, lambda p=p: "zhibu 已启动" in p.output(), 60, f"{p.name} to start")
        names = {relay_name(r): r for r in relays}
        assert None not in names and len(names) == 2, topo.logs()
        ready = time.monotonic()

        # The secretary's office sends the notice through the meetings API on web A.
        starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
        answer = httpx.post(
            web_a.url + "/api/v1/meetings",
            json={"branch_id": branch_id, "types": ["theme_day"], "starts_at": starts.isoformat(),
                  "place": "党员活动室", "topic": "学习贯彻全会精神"},
            headers={"Authorization": f"Bearer {token}"}, trust_env=False, timeout=120,
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        meeting = answer.json()
        # Read once: the API commits before it answers (tests/test_api_commit_order.py), so the 201
        # means every member's row is there.
        rows = _notice_rows(session_factory, meeting["id"])
        assert sorted(rows.values()) == sorted(dingtalk + wecom), _ledger(session_factory)
        received = Received(sb)

        # Mid-way: half delivered. Kill the relay holding the most claimed rows, and web A, while the
        # relays have calls in flight that the platforms took: their answers are held a few seconds
        # (the sandbox's slow_answers), so the killed relay dies not knowing they went out.
        _until(topo, lambda: len(received.calls_by_row(set(rows))) >= MEMBERS // 2, 120, "half delivered")
        taken = len(received.poll())
        sb.configure(slow_answers=dict.fromkeys(SENDS, HELD_SECONDS))
        _until(
            topo,
            lambda: len(received.poll()) >= taken + 2 * RelayConfig().concurrency,
            30,
            "both relays' calls to be taken and their answers held",
        )
        claims = _claims(session_factory, rows)
        victim_name = max(names, key=lambda n: claims.get(n, 0))
        victim, survivor = names[victim_name], next(r for n, r in names.items() if n != victim_name)
        victim.kill()
        web_a.kill()
        killed_at = time.monotonic()
        sb.configure(slow_answers={})
        # The dead relay's rows in a started cycle wait for their lease; those it had only claimed ahead
        # (no call made) are the survivor's to take over at once (bot.core.relay.AHEAD).
        with session_factory() as s:
            stuck = set(
                s.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.id.in_(rows),
                        OutboxMessage.status == DeliveryStatus.SENDING,
                        OutboxMessage.claimed_by.like(f"{victim_name}:%"),
                        OutboxMessage.claimed_by.not_like(f"%{AHEAD}"),
                    )
                )
            )
        assert stuck, f"the killed relay held no claimed row: {claims}"

        # The rest of the topology carries on: web B is healthy by the compose file's own check, web A
        # is not, and every row but the dead relay's is sent by the survivor.
        assert _healthcheck(compose, web_b.port) == 0
        assert _healthcheck(compose, web_a.port) != 0
        _until(topo, lambda: _unsent(session_factory, rows) == stuck, 90, "the surviving relay's share")
        shared = time.monotonic()
        # A member's message through web B (WeCom) and one through the stream part (DingTalk) are
        # answered by the surviving relay.
        seq = len(received.poll())
        assert sb.deliver_wecom(wecom[-1], "帮助")["delivered"]
        sb.push_dingtalk_message(dingtalk[-1], "帮助")
        _until(
            topo,
            lambda: {wecom[-1], dingtalk[-1]} <= {to for e in received.poll()[seq:] if not _notice(e, rows) for to in e["to"]},
            30,
            "the answers to 帮助 on both platforms",
        )  # fmt: skip

        # The dead relay's rows wait for their lease, which runs out when the platforms' clock (and so
        # the relays') passes it.
        sb.move_clock(RelayConfig().lease_seconds + 1)  # no sleeping: time moves through the sandbox
        _until(topo, lambda: not _unsent(session_factory, rows), 60, "the dead relay's rows to be sent again")
        calls = _until(
            topo,
            lambda: (c := received.calls_by_row(set(rows))) and len(c) == MEMBERS and c,
            30,
            "every call",
        )
        done = time.monotonic()

        # Exactly once. The calls the killed relay had in flight were made again by the survivor, and
        # the platforms recognised them (at most one per concurrent call of the dead relay).
        assert all(len(got) == 1 for got in calls.values()), {r: g for r, g in calls.items() if len(g) > 1}
        per_member = Counter(to for got in calls.values() for e in got for to in e["to"])
        assert per_member == Counter(dingtalk + wecom)
        counters = sb.counters()
        repeats = counters["dingtalk_cards_already_exist"] + counters["wecom_duplicates_suppressed"]
        assert 1 <= repeats <= RelayConfig().concurrency, counters
        notice = meeting_strings.NOTICE_TITLE.format(title=meeting["title"])
        assert {e["title"] for got in calls.values() for e in got} <= {
            notice,
            notice[:36],
        }  # WeCom cuts at 36
        with session_factory() as s:
            resent = s.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.id.in_(stuck))).all()
            assert all(c.startswith(relay_name(survivor) + ":") for c in resent)
        cpu = {p.name: round(p.cpu_seconds(), 1) for p in topo.all() if p.alive()}
        assert counters["rate_limited_total"] == 0 and counters["wecom_dropped_total"] == 0
        for p in [web_b, survivor, *topo.processes["stream"], *topo.processes["scheduler"]]:
            assert p.alive(), p.tail()
        print(
            f"\ntopology: parts up in {ready - started:.1f} s; notice to {MEMBERS} members: killed at "
            f"{killed_at - ready:.1f} s, all but the dead relay's {len(stuck)} rows by {shared - ready:.1f} s, "
            f"everything by {done - ready:.1f} s; {repeats} repeats recognised by the platforms, 0 delivered "
            f"twice; CPU seconds {cpu}"
        )
    finally:
        topo.stop()


def _notice(entry: dict, rows: dict[int, str]) -> bool:
    found = Received.CARD.match(entry.get("card_id") or "")
    return bool(found) and int(found.group(1)) in rows


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, trust_env=False, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _until(topo: Topology, predicate, timeout: float, what: str, every: float = 0.2):
    """Poll for a condition with a deadline; a part that died fails at once, with every log."""
    deadline = time.monotonic() + timeout
    while True:
        dead = [p for p in topo.all() if p.popen and p.popen.poll() not in (None, -signal.SIGKILL)]
        if dead:
            raise AssertionError(
                f"{', '.join(p.name for p in dead)} exited while waiting for {what}\n{topo.logs()}"
            )
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{topo.logs()}")
        time.sleep(every)


def _claims(session_factory, rows: dict[int, str]) -> dict[str, int]:
    """Rows being sent, by the relay that claimed them."""
    with session_factory() as s:
        tokens = s.execute(
            select(OutboxMessage.claimed_by, func.count())
            .where(OutboxMessage.id.in_(rows), OutboxMessage.status == DeliveryStatus.SENDING)
            .group_by(OutboxMessage.claimed_by)
        ).all()
    out: Counter = Counter()
    for token, n in tokens:
        out[token.rsplit(":", 1)[0]] += n
    return dict(out)


def _notice_rows(session_factory, meeting_id: int) -> dict[int, str]:
    """The notice's outbox rows (id → the member's account)."""
    with session_factory() as s:
        return dict(
            s.execute(
                select(OutboxMessage.id, OutboxMessage.target).where(
                    OutboxMessage.dedup_key == f"meeting:{meeting_id}:notice"
                )
            ).all()
        )


def _ledger(session_factory) -> list:
    """The outbox by key and status: what to look at when the notice's rows are not what they should be."""
    with session_factory() as s:
        return s.execute(
            select(
                OutboxMessage.dedup_key, OutboxMessage.status, OutboxMessage.reason, func.count()
            ).group_by(OutboxMessage.dedup_key, OutboxMessage.status, OutboxMessage.reason)
        ).all()


def _unsent(session_factory, rows: dict[int, str]) -> set[int]:
    with session_factory() as s:
        return set(
            s.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.id.in_(rows), OutboxMessage.status != DeliveryStatus.SENT
                )
            )
        )
