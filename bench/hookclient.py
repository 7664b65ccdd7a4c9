"""A light HTTP/1.1 load client for the webhook benchmark: one asyncio loop, keep-alive sockets.

The server and the client share this machine's two cores. A `requests` client cost as much
CPU per webhook as the server did (1.7 to 2.8 ms, bench/NOTES.md 2026-12-03), and its 64
sender threads contended for one GIL, so late sends and late reads showed up as the server's
latency. This one writes prepared bytes and reads the status line, the headers and the body
by its Content-Length: a few hundred microseconds per request. Anything but a plain
Content-Length answer is refused, so a change in the server's framing cannot pass unnoticed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from urllib.parse import urlsplit

Prepared = tuple[bytes, dict[str, str]]  # a body and its headers


def request_bytes(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """The whole POST request as it goes on the wire."""
    parts = urlsplit(url)
    lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Connection:
    """One keep-alive connection; `post(raw)` sends a prepared request, returns its status."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> Connection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def post(self, raw: bytes) -> int:
        self.writer.write(raw)
        status = int((await self.reader.readline()).split()[1])
        length = None
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise RuntimeError(f"answer {status} without a Content-Length: not measured")
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def _open_loop(
    url: str, prepared: list[Prepared], rate: float, senders: int, begin: Callable[[], None]
) -> tuple[list[float], dict[int, int]]:
    raws = [request_bytes(url, body, headers) for body, headers in prepared]
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for conn in await asyncio.gather(*(Connection.open(url) for _ in range(senders))):
        idle.put_nowait(conn)
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def one(raw: bytes, due: float) -> None:
        conn = await idle.get()  # none free: the wait counts, the server is behind
        status = await conn.post(raw)
        idle.put_nowait(conn)
        latencies.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1

    begin()
    start, tasks = time.perf_counter(), []
    for i, raw in enumerate(raws):  # request i is due at start + i / rate
        due = start + i / rate
        if (ahead := due - time.perf_counter()) > 0:
            await asyncio.sleep(ahead)
        tasks.append(asyncio.create_task(one(raw, due)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait().close()
    return latencies, statuses


def open_loop(
    url: str, prepared: list[Prepared], rate: float, *, senders: int, begin: Callable[[], None]
) -> tuple[list[float], dict[int, int]]:
    """Send `prepared` at `rate` per second on a fixed schedule over `senders` keep-alive
    connections opened beforehand; each latency counts from the request's scheduled time.
    `begin()` is called once the connections are open, as the schedule starts."""
    return asyncio.run(_open_loop(url, prepared, rate, senders, begin))


async def _closed_loop(
    url: str, make: Callable[[int, int], Prepared], seconds: float, clients: int
) -> tuple[list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        conn, i = await Connection.open(url), 0
        while time.perf_counter() < deadline:
            raw = request_bytes(url, *make(n, i))
            sent = time.perf_counter()
            status = await conn.post(raw)
            latencies.append(time.perf_counter() - sent)
            statuses[status] = statuses.get(status, 0) + 1
            i += 1
        conn.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies, statuses


def closed_loop(
    url: str, make: Callable[[int, int], Prepared], seconds: float, clients: int
) -> tuple[list[float], dict[int, int]]:
    """`clients` connections each posting `make(client, i)` back to back for `seconds`."""
    return asyncio.run(_closed_loop(url, make, seconds, clients))
