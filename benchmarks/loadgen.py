"""A lean HTTP/1.1 load generator on raw asyncio protocols (keep-alive, no pipelining).

Closed loop (``max_rate``): N connections each send the next request as soon as
the previous answer arrived. Open loop (``fixed_rate``): requests are scheduled
at a fixed rate whatever the answers do, and latency is measured from the
*scheduled* time, so a stalled server shows up in the tail (no coordinated
omission).

While it measures, the generator's own garbage collector stays off: a full collection
of its heap (the earlier phases' results) paused it for 25-60 ms, which fixed_rate
counted against the server as tail latency.

The generator shares the machine with what it measures, so it is kept cheap: each
connection is an asyncio protocol that finds an answer's end in the bytes received (no
stream reader reading line by line), and the open loop sends from callbacks (no task per
request). At 1,000 requests/s against the bare app, runs alternating: 208-231 us of CPU
per request with streams and a task each, 181-198 us now (much of the rest is the
kernel's loopback TCP).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
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


class _Connection(asyncio.Protocol):
    """One keep-alive connection with one request in flight at a time."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._received = bytearray()
        self._answer: asyncio.Future[int] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def exchange(self, request: bytes) -> asyncio.Future[int]:
        """Send ``request``; the future is its answer's status."""
        assert self._transport is not None and self._answer is None
        self._answer = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return self._answer

    def data_received(self, data: bytes) -> None:
        self._received += data
        status = _complete_answer(self._received)
        if status is not None and self._answer is not None:
            answer, self._answer = self._answer, None
            answer.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc or ConnectionError("the server closed the connection"))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _complete_answer(received: bytearray) -> int | None:
    """The status of the answer at the start of ``received`` once it is all there (and
    takes it out), else None."""
    end = received.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(received[:end]).lower()
    length = 0
    if (at := head.find(b"\r\ncontent-length:")) >= 0:
        line_end = head.find(b"\r\n", at + 17)
        length = int(head[at + 17:line_end if line_end >= 0 else len(head)])
    if len(received) < end + 4 + length:
        return None
    del received[:end + 4 + length]
    return int(head[9:12])


async def _connect(port: int) -> _Connection:
    _, connection = await asyncio.get_running_loop().create_connection(
        _Connection, "127.0.0.1", port)
    return connection


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

    try:
        with _collector_paused():  # before the clock starts: its first collection takes a while
            deadline = time.perf_counter() + seconds
            started = time.perf_counter()
            await asyncio.gather(*(client(c) for c in conns))
            elapsed = time.perf_counter() - started
    finally:  # a failed answer too: no connection left open
        _close_all(conns)
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
    ``on_answer`` is told each request and its status as soon as it is answered.
    A request due while every connection is busy goes out on the first one freed."""
    conns = [await _connect(port) for _ in range(connections)]
    idle = deque(conns)
    due: deque[float] = deque()  # scheduled times of requests waiting for a connection
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def send(conn: _Connection, scheduled: float) -> None:
        request = make_request()
        conn.exchange(request).add_done_callback(
            lambda answer: answered(conn, request, scheduled, answer))

    def answered(conn: _Connection, request: bytes, scheduled: float,
                 answer: asyncio.Future[int]) -> None:
        if (error := answer.exception()) is not None:
            if not finished.done():
                finished.set_exception(error)
            return
        status = answer.result()
        if on_answer is not None:
            on_answer(request, status)
        latencies.append(time.perf_counter() - scheduled)
        statuses[status] = statuses.get(status, 0) + 1
        if due:
            send(conn, due.popleft())
        else:
            idle.append(conn)
        if len(latencies) == total and not finished.done():
            finished.set_result(None)

    try:
        with _collector_paused():
            start = time.perf_counter() + 0.05
            for n in range(total):
                scheduled = start + n / rate
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if idle:
                    send(idle.popleft(), scheduled)
                else:
                    due.append(scheduled)
            if total:
                await finished
        elapsed = time.perf_counter() - start
    finally:  # a failed answer too: no connection left open
        _close_all(conns)
    return LoadResult(total, elapsed, statuses, latencies)


def _close_all(conns: list[_Connection]) -> None:
    for conn in conns:
        conn.close()


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
