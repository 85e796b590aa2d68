"""Uvicorn's HTTP protocol (httptools), writing each response to the socket at once.

Uvicorn writes a response's status line and headers as soon as the app sends them, then
the body: two system calls per response, and a client that reads the head, wakes up,
and waits again for the body. Here what the app writes within one step of the event
loop goes out in one write, at the end of that step: a response sent whole (as every
one of ours is) costs the server one system call and the client one wake-up.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["OneWriteHttpProtocol"]


class OneWriteHttpProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` on a transport that gathers each step's writes."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # Duck-typed: the transport's own methods, but for writing and closing.
        super().connection_made(cast(asyncio.Transport, _GatheringTransport(transport, self.loop)))


class _GatheringTransport:
    """A transport whose writes within one event-loop step leave as one write. Anything
    else is the transport's own; closing sends what was gathered first."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._gathered: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._gathered:
            self._loop.call_soon(self._flush)
        self._gathered.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._gathered))

    def _flush(self) -> None:
        if self._gathered:
            data = self._gathered[0] if len(self._gathered) == 1 else b"".join(self._gathered)
            self._gathered = []
            if not self._transport.is_closing():
                self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
