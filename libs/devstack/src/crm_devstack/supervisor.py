"""Runs child processes with prefixed output and stops them all together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

__all__ = ["Child", "Supervisor"]

_COLOURS = ("36", "32", "35", "33", "34", "31", "96", "92")


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    pump: threading.Thread = field(repr=False)


class Supervisor:
    """Starts named processes, pipes their output line by line with a prefix."""

    def __init__(self, out: IO[str] = sys.stdout) -> None:
        self.children: list[Child] = []
        self._out = out
        self._lock = threading.Lock()
        self._width = 14
        self._colour = out.isatty()

    def start(self, name: str, command: Sequence[str], env: Mapping[str, str]) -> Child:
        process = subprocess.Popen(
            list(command), env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        prefix = self._prefix(name, len(self.children))
        pump = threading.Thread(target=self._pump, args=(process, prefix), daemon=True)
        pump.start()
        child = Child(name, process, pump)
        self.children.append(child)
        return child

    def say(self, line: str) -> None:
        with self._lock:
            self._out.write(self._prefix("crm", 7) + line + "\n")
            self._out.flush()

    def exited(self) -> list[Child]:
        return [c for c in self.children if c.process.poll() is not None]

    def stop_all(self, grace: float = 15.0) -> None:
        """SIGTERM every child (newest first), wait up to ``grace`` s, then SIGKILL."""
        for child in reversed(self.children):
            if child.process.poll() is None:
                os.killpg(child.process.pid, signal.SIGTERM)
        for child in reversed(self.children):
            try:
                child.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop in {grace:.0f}s: killing it")
                os.killpg(child.process.pid, signal.SIGKILL)
                child.process.wait()
            child.pump.join(2)

    def _prefix(self, name: str, index: int) -> str:
        label = f"[{name}]".ljust(self._width)
        if not self._colour:
            return label + " "
        return f"\033[{_COLOURS[index % len(_COLOURS)]}m{label}\033[0m "

    def _pump(self, process: subprocess.Popen[bytes], prefix: str) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip("\n")
            with self._lock:
                self._out.write(prefix + line + "\n")
                self._out.flush()
