"""Port checks that fail with a sentence instead of a traceback."""

from __future__ import annotations

import random
import socket
import time

from crm_devstack.errors import DevStackError

__all__ = ["ensure_port_free", "free_port", "port_is_free", "wait_for_port"]


def ensure_port_free(port: int, what: str, host: str = "127.0.0.1") -> None:
    """Raise ``DevStackError`` naming ``what`` if ``host:port`` is already taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DevStackError(
                f"port {port} for {what} is already in use ({exc.strerror}). "
                f"Stop whatever listens there (e.g. `ss -ltnp 'sport = :{port}'`) "
                f"or choose another port in the environment."
            ) from None


def free_port(host: str = "127.0.0.1") -> int:
    """Return a port free right now (for tests), below the kernel's ephemeral range.

    Not port 0's pick: that comes from the ephemeral range (32768+), where the client
    connections of the services already running take their local ports, so one of them
    could hold the port before the server it was meant for binds it.
    """
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(10_000, 32_000)
        if port_is_free(port, host):
            return port
    raise DevStackError("no free port found between 10000 and 32000")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether ``host:port`` can be bound right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, what: str, timeout: float, host: str = "127.0.0.1") -> None:
    """Block until something accepts connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise DevStackError(f"{what} did not start listening on {host}:{port} within {timeout:.0f}s")
