"""The benches' load on a server process: a few lines of HTTP/1.1 on asyncio streams over keep-alive
connections, and the CPU the server spent on it.

Not httpx: on a 2-core machine httpx's own cost per request (about 3 ms of CPU at 32-64 connections)
is larger than the endpoints' being measured (1-3 ms), so the clients, not the server, set the rates
and every ratio against a floor comes out nearer 1 than the server's work is.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

# (path with its query, headers, body) of one POST
Post = tuple[str, dict[str, str], bytes]


async def fire(
    base: str, requests: list[Post], clients: int
) -> tuple[float, list[float], list[tuple[int, bytes]]]:
    """POST every request over `clients` keep-alive connections to `base` (http://host:port);
    (seconds, latencies, (status, body) answers in the order they came)."""
    parts = urlsplit(base)
    queue: asyncio.Queue = asyncio.Queue()
    for r in requests:
        queue.put_nowait(r)
    latencies: list[float] = []
    answers: list[tuple[int, bytes]] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            while True:
                try:
                    path, headers, body = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
                writer.write(
                    f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                answer = await reader.readuntil(b"\r\n\r\n")
                status = int(answer.split(b" ", 2)[1])
                length = 0
                for line in answer.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                content = await reader.readexactly(length) if length else b""
                latencies.append(time.perf_counter() - started)
                answers.append((status, content))
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies, answers


def server_cpu(pid: int) -> float:
    """Seconds of CPU the server process has used (Linux /proc), to report CPU per message beside the rates."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: int) -> float:
    """The q-th percentile of latencies in seconds, in milliseconds (0 for fewer than two)."""
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0
