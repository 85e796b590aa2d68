"""The HTTP protocol writes each response to its transport in one write."""

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from crm_servicekit.http_protocol import OneWriteHttpProtocol

BODY = b'{"accepted":true}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 202,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


class RecordingTransport(asyncio.Transport):
    """What a protocol did to its socket: each write, and when it closed."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", b""))

    def is_closing(self) -> bool:
        return any(call == "close" for call, _ in self.calls)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def exchange(request: bytes) -> RecordingTransport:
    config = uvicorn.Config(app, log_config=None, access_log=False, server_header=False,
                            date_header=False, lifespan="off")
    config.load()
    protocol = OneWriteHttpProtocol(config=config, server_state=ServerState(), app_state={})
    transport = RecordingTransport()
    protocol.connection_made(transport)
    protocol.data_received(request)
    for _ in range(5):  # the request's task runs, then the gathered write leaves
        await asyncio.sleep(0)
    return transport


async def test_a_response_leaves_in_one_write() -> None:
    transport = await exchange(b"POST /v1/touchpoints HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Length: 2\r\n\r\n{}")

    assert [call for call, _ in transport.calls] == ["write"]
    [(_, data)] = transport.calls
    assert data.startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert data.endswith(b"\r\n\r\n" + BODY)


async def test_what_was_gathered_leaves_before_the_connection_closes() -> None:
    transport = await exchange(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    assert [call for call, _ in transport.calls] == ["write", "close"]
    assert transport.calls[0][1].endswith(BODY)
