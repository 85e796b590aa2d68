"""A lean HTTP/1.1 load generator on raw asyncio streams (keep-alive, no pipelining).

Closed loop (``max_rate``): N connections each send the next request as soon as
the previous answer arrived. Open loop (``fixed_rate``): requests are scheduled
at a fixed rate whatever the answers do, and latency is measured from the
*scheduled* time, so a stalled server shows up in the tail (no coordinated
omission).

While it measures, the generator's own garbage collector stays off: a full collection
of its heap (the earlier phases' results) paused it for 25-60 ms, which fixed_rate
counted against the server as tail latency.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: dict[int, int]
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def get_request_bytes(path: str, api_key: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {api_key}\r\n" if api_key else ""
    return f"GET {path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\n".encode()


def request_bytes(path: str, body: bytes, api_key: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {api_key}\r\n" if api_key else ""
    return (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"{auth}Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return int(status_line.split()[1])


async def _connect(port: int) -> _Connection:
    return _Connection(*await asyncio.open_connection("127.0.0.1", port))


async def max_rate(
    port: int, make_request: Callable[[], bytes], *, connections: int, seconds: float
) -> LoadResult:
    """As many requests as ``connections`` closed-loop clients get answered."""
    conns = [await _connect(port) for _ in range(connections)]
    statuses: dict[int, int] = {}
    latencies: list[float] = []

    async def client(conn: _Connection) -> None:
        while time.perf_counter() < deadline:
            request = make_request()
            started = time.perf_counter()
            status = await conn.exchange(request)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    with _collector_paused():  # before the clock starts: its first collection takes a while
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in conns))
        elapsed = time.perf_counter() - started
    for conn in conns:
        conn.writer.close()
    return LoadResult(len(latencies), elapsed, statuses, latencies)


async def fixed_rate(
    port: int,
    make_request: Callable[[], bytes],
    *,
    rate: float,
    seconds: float,
    connections: int = 64,
    on_answer: Callable[[bytes, int], None] | None = None,
) -> LoadResult:
    """Requests at ``rate`` per second; latency measured from each scheduled send time.
    ``on_answer`` is told each request and its status as soon as it is answered."""
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await _connect(port))
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    total = int(rate * seconds)

    async def one(scheduled: float) -> None:
        conn = await pool.get()
        request = make_request()
        status = await conn.exchange(request)
        if on_answer is not None:
            on_answer(request, status)
        latencies.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1
        pool.put_nowait(conn)

    tasks = []
    with _collector_paused():
        start = time.perf_counter() + 0.05
        for n in range(total):
            scheduled = start + n / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled)))
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().writer.close()
    return LoadResult(total, elapsed, statuses, latencies)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection in the generator while it measures (see the module doc);
    what it allocates meanwhile is collected after."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
