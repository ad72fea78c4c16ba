"""The production topology of docker-compose.yml, read from the file and started as plain processes.

`compose_parts()` reads docker-compose.yml: every service whose command is `zhibu serve --role …`, with
its replica count. `Topology` starts each replica as a process running that same command through the
real `zhibu` command line (settings from ZHIBU_* variables, the secret-key and schema checks, the
role parser), wrapped by `python -m tests.topology SANDBOX_URL <zhibu arguments>` for one reason: a
relay's clock is the sandbox's (real time plus the offset the test moves through /_sandbox/clock), so a
test can let a killed relay's 5-minute lease run out without waiting 5 minutes. Nothing else differs.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

from config import demo

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SERVE = ["zhibu", "serve", "--role"]


# ---- the compose file ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComposePart:
    service: str
    role: str
    replicas: int
    command: list[str]


def compose_file(path: Path = COMPOSE_FILE) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose_parts(path: Path = COMPOSE_FILE) -> list[ComposePart]:
    """The services that run a part of `zhibu serve`, as the compose file declares them."""
    parts = []
    for name, service in compose_file(path)["services"].items():
        command = service.get("command") or []
        if command[: len(SERVE)] == SERVE:
            replicas = (service.get("deploy") or {}).get("replicas", 1)
            parts.append(ComposePart(name, command[len(SERVE)], replicas, list(command)))
    return parts


def with_port(command: list[str], port: int) -> list[str]:
    """A web part's command listening on 127.0.0.1:`port` instead of the container's 0.0.0.0:8000."""
    out = list(command)
    for option, value in (("--host", "127.0.0.1"), ("--port", str(port))):
        if option in out:
            out[out.index(option) + 1] = value
        else:
            out += [option, value]
    return out


# ---- the sandbox's clock, for relays in other processes ---------------------------------------------


class SandboxClock:
    """bot.core.ratelimit.Clock on the sandbox's time: real time plus the sandbox's offset, read at most
    every `refresh` seconds. Sleeping is real (the sandbox judges rates on the same time)."""

    def __init__(self, url: str, interrupt: threading.Event | None = None, *, refresh: float = 0.5) -> None:
        self.http = httpx.Client(base_url=url, timeout=10, trust_env=False)
        self.interrupt = interrupt or threading.Event()
        self.refresh = refresh
        self._offset = 0.0
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if time.monotonic() - self._read_at > self.refresh:
                self._offset = self.http.post("/_sandbox/clock", json={"advance": 0}).json()["offset"]
                self._read_at = time.monotonic()
            offset = self._offset
        return datetime.fromtimestamp(time.time() + offset, UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.interrupt.wait(seconds)

    def sleep_until(self, moment: datetime) -> None:
        self.sleep((moment - self.now()).total_seconds())


def main(argv: list[str]) -> None:
    """python -m tests.topology SANDBOX_URL serve --role relay …: the zhibu command, relays on the
    sandbox's clock."""
    sandbox_url, *args = argv
    from bot.core import relay

    relay.SystemClock = lambda interrupt=None: SandboxClock(sandbox_url, interrupt)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per clock reading
    from bot.cli import app

    app(args, prog_name="zhibu")


# ---- processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Process:
    name: str
    argv: list[str]
    log: Path
    port: int | None = None
    popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str], cwd: Path) -> Process:
        handle = self.log.open("wb")
        self.popen = subprocess.Popen(
            self.argv, env=env, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU time so far (Linux /proc), to see where a run's time goes."""
        try:
            fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, AttributeError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 25) -> str:
        return f"--- {self.name} ({' '.join(self.argv[-4:])}) ---\n" + "\n".join(
            self.output().splitlines()[-lines:]
        )

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is released."""
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM and wait (a clean stop); SIGKILL the whole session if it does not end."""
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)


def part_env(database_url: str, sandbox_url: str, public_url: str, tmp: Path) -> dict[str, str]:
    """What docker-compose.yml's .env gives every part, pointed at the sandbox's two platforms."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBU_")}
    env |= {
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "ZHIBU_DATABASE_URL": database_url,
        "ZHIBU_PUBLIC_BASE_URL": public_url,
        "ZHIBU_SECRET_KEY": "topology-test-secret-key-0123456789",
        "ZHIBU_LOG_LEVEL": "INFO",
        "ZHIBU_CONSOLE__UPLOADS": str(tmp / "uploads"),
        "ZHIBU_DINGTALK__CLIENT_ID": demo.DINGTALK_CLIENT_ID,
        "ZHIBU_DINGTALK__CLIENT_SECRET": demo.DINGTALK_CLIENT_SECRET,
        "ZHIBU_DINGTALK__ROBOT_CODE": demo.DINGTALK_ROBOT_CODE,
        "ZHIBU_DINGTALK__CORP_ID": demo.DINGTALK_CORP_ID,
        "ZHIBU_DINGTALK__AGENT_ID": demo.DINGTALK_AGENT_ID,
        "ZHIBU_DINGTALK__OPENAPI_ENDPOINT": sandbox_url,
        "ZHIBU_DINGTALK__OAPI_ENDPOINT": sandbox_url,
        "ZHIBU_DINGTALK__LOGIN_BASE": sandbox_url,
        "ZHIBU_WECOM__CORP_ID": demo.WECOM_CORP_ID,
        "ZHIBU_WECOM__AGENT_ID": demo.WECOM_AGENT_ID,
        "ZHIBU_WECOM__SECRET": demo.WECOM_SECRET,
        "ZHIBU_WECOM__TOKEN": demo.WECOM_TOKEN,
        "ZHIBU_WECOM__ENCODING_AES_KEY": demo.WECOM_ENCODING_AES_KEY,
        "ZHIBU_WECOM__API_BASE": sandbox_url + "/cgi-bin/",
        "ZHIBU_WECOM__OAUTH_BASE": sandbox_url + "/connect/oauth2/authorize",
        "ZHIBU_WECOM__LOGIN_BASE": sandbox_url,
    }
    return env


@dataclass
class Topology:
    """The sandbox and every replica of every `zhibu serve` part in docker-compose.yml, as processes.
    The web replicas get free ports now; `public` (the last web replica) is ZHIBU_PUBLIC_BASE_URL and
    where the sandbox sends WeCom callbacks."""

    tmp: Path
    database_url: str
    parts: list[ComposePart] = field(default_factory=compose_parts)
    sandbox: Process | None = None
    processes: dict[str, list[Process]] = field(default_factory=dict)
    ports: dict[tuple[str, int], int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = {
            (p.role, i): free_port() if p.role == "web" else None
            for p in self.parts
            for i in range(p.replicas)
        }

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{[port for (role, _), port in self.ports.items() if role == 'web'][-1]}"

    def start_sandbox(self, fixture: Path) -> Process:
        port = free_port()
        self.sandbox = Process(
            "sandbox",
            [sys.executable, "-m", "sandbox", "--port", str(port), "--fixture", str(fixture)],
            self.tmp / "sandbox.log",
            port,
        ).start({**os.environ, "PYTHONPATH": str(ROOT)}, ROOT)
        return self.sandbox

    def start_parts(self) -> None:
        assert self.sandbox is not None
        env = part_env(self.database_url, self.sandbox.url, self.public_url, self.tmp)
        for part in self.parts:
            for i in range(part.replicas):
                port = self.ports[(part.role, i)]
                command = with_port(part.command, port) if port else part.command
                process = Process(
                    f"{part.service}-{i + 1}",
                    [sys.executable, "-m", "tests.topology", self.sandbox.url, *command[1:]],
                    self.tmp / f"{part.service}-{i + 1}.log",
                    port,
                )
                self.processes.setdefault(part.role, []).append(process.start(env, self.tmp))

    def all(self) -> list[Process]:
        return [p for group in self.processes.values() for p in group] + (
            [self.sandbox] if self.sandbox else []
        )

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.all())

    def stop(self) -> None:
        """SIGTERM every part at once, then wait for each; the sandbox last."""
        parts = [p for group in self.processes.values() for p in group if p.alive()]
        for p in parts:
            p.popen.send_signal(signal.SIGTERM)
        for p in parts:
            p.stop()
        if self.sandbox is not None:
            self.sandbox.stop()


RELAY_STARTED = re.compile(r"relay (\S+) started")


def relay_name(process: Process) -> str | None:
    """The name a relay process claims rows under (its log's first line about itself)."""
    found = RELAY_STARTED.search(process.output())
    return found.group(1) if found else None


if __name__ == "__main__":
    main(sys.argv[1:])
