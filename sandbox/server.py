"""Run the sandbox: in the foreground (`python -m sandbox`, `zhibu sandbox`) or in a background thread (tests)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from sandbox.app import create_app
from sandbox.state import Sandbox


def read_fixture(path: str | Path | None) -> dict | None:
    if not path:
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this; without it each small answer waits ~40 ms for Nagle + delayed ACK
    # (uvicorn only sets it on sockets it creates itself).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _config(app, log_level: str) -> uvicorn.Config:
    # ws_ping_interval: the real gateway keeps idle connections alive; the SDK answers pings automatically.
    return uvicorn.Config(app, log_level=log_level, ws="websockets-sansio", lifespan="on", access_log=False)


def serve_forever(
    host: str = "127.0.0.1", port: int = 18080, fixture: dict | None = None, log_level: str = "info"
):
    sock = bind(host, port)
    sb = Sandbox(fixture, base_url=f"http://{host}:{sock.getsockname()[1]}")
    server = uvicorn.Server(_config(create_app(sb), log_level))
    asyncio.run(server.serve(sockets=[sock]))


class BackgroundServer:
    """The sandbox on its own thread and event loop; `url` is known before start() returns."""

    def __init__(self, fixture: dict | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind(host, port)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}"
        self.sandbox = Sandbox(fixture, base_url=self.url)
        self.server = uvicorn.Server(_config(create_app(self.sandbox), "warning"))
        self.server.install_signal_handlers = lambda: None  # not the main thread
        self.thread = threading.Thread(target=self._run, name="zhibu-sandbox", daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.sock]))

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"sandbox did not start on {self.url}")
            time.sleep(0.005)
        # The socket was listening before the thread started; one round trip proves the app answers.
        with httpx.Client(trust_env=False, timeout=timeout) as client:
            client.get(self.url + "/_sandbox/health").raise_for_status()

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(min(3.0, timeout))
        if self.thread.is_alive():
            # A client that never finishes its close handshake must not hold the test run.
            self.server.force_exit = True
            self.thread.join(timeout)
        self.sock.close()
