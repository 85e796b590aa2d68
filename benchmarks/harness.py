"""What every benchmark shares: the embedded stack, measurements and the report."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from crm_devstack.broker import EmbeddedBroker
from crm_devstack.ports import free_port
from crm_devstack.postgres import EmbeddedPostgres

# Every component runs on this host, so services reach Postgres through its Unix socket,
# as a single-host deployment would; BENCH_PG_TCP=1 measures over TCP loopback instead
# (what separate containers use).
PG_OVER_TCP = os.environ.get("BENCH_PG_TCP", "") not in ("", "0")


@dataclass(frozen=True)
class Stack:
    database_url: str
    bootstrap_servers: str


# BENCH_PG_STATEMENTS=1: Postgres tracks every statement (pg_stat_statements), and each
# suite's heaviest are written beside the results: where the database's time went.
STATEMENTS = os.environ.get("BENCH_PG_STATEMENTS", "") not in ("", "0")
_TRACKING = {"shared_preload_libraries": "pg_stat_statements",
             "pg_stat_statements.track": "all"}
# Every transaction's commit time, so that a benchmark can tell when a row became readable
# (``pg_xact_commit_timestamp(xmin)``) rather than when a statement wrote it.
_COMMIT_TIMES = {"track_commit_timestamp": "on"}


@contextmanager
def embedded_stack() -> Iterator[Stack]:
    """A fresh Postgres and broker in a temporary directory, stopped afterwards."""
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crm-bench-")))
        postgres = EmbeddedPostgres(root / "pg", free_port(), settings=_COMMIT_TIMES | (
            _TRACKING if STATEMENTS else {}))
        postgres.start()
        stack.callback(postgres.stop)
        broker = EmbeddedBroker(free_port())
        broker.start()
        stack.callback(broker.stop)
        yield Stack(postgres.url if PG_OVER_TCP else postgres.socket_url,
                    broker.bootstrap_servers)


@dataclass
class Measurement:
    """One figure, and the baseline it is compared with (if any)."""

    group: str
    name: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value


@dataclass
class Report:
    measurements: list[Measurement] = field(default_factory=list)

    def add(self, measurement: Measurement) -> None:
        self.measurements.append(measurement)
        print("  " + _row(measurement), flush=True)

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "results.json"
        path.write_text(
            json.dumps(
                {
                    "recorded_at": datetime.now(UTC).isoformat(),
                    "machine": {
                        "cpus": os.cpu_count(),
                        "python": platform.python_version(),
                        # Which build: the same version runs our services at different
                        # speeds built with or without PGO/LTO (README, Interpreter).
                        "python_executable": os.path.realpath(sys.executable),
                        "platform": platform.platform(),
                    },
                    "postgres_via": "tcp loopback" if PG_OVER_TCP else "unix socket",
                    "measurements": [asdict(m) | {"ratio": m.ratio} for m in self.measurements],
                },
                indent=2,
            )
        )
        (directory / "results.txt").write_text(self.table())
        return path

    def table(self) -> str:
        header = f"{'benchmark':<58} {'value':>14}  {'vs baseline':<40}"
        lines = [header, "-" * len(header)]
        lines += [_row(m) for m in self.measurements]
        via = "TCP loopback" if PG_OVER_TCP else "its Unix socket"
        lines.append(f"(services reached Postgres through {via}; Python "
                     f"{platform.python_version()} at {os.path.realpath(sys.executable)})")
        return "\n".join(lines) + "\n"


def _row(m: Measurement) -> str:
    value = f"{m.value:,.1f} {m.unit}"
    versus = ""
    if m.baseline and m.ratio is not None:
        versus = f"{m.ratio:.2f}x of {m.baseline} ({m.baseline_value:,.1f})"
    label = f"{m.group}: {m.name}"
    return f"{label:<58} {value:>14}  {versus:<40}" + (f"  {m.note}" if m.note else "")


class Timer:
    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


class MachineBusy:
    """How busy the machine's cores were over a block, every process counted (Linux's
    ``/proc/stat``; ``share`` stays None elsewhere). The pipeline shares the machine with
    its load generator: a latency figure means little without how near the cores were to
    saturation while it was taken."""

    share: float | None = None

    def __enter__(self) -> MachineBusy:
        self._before = _cpu_ticks()
        return self

    def __exit__(self, *exc: object) -> None:
        after = _cpu_ticks()
        if self._before and after and after[1] > self._before[1]:
            self.share = (after[0] - self._before[0]) / (after[1] - self._before[1])


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, all) ticks of every core since boot; idle and I/O wait are not busy."""
    try:
        with open("/proc/stat") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)
