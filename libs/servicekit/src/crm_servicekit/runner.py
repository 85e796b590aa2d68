"""Serve an app with uvicorn, with our JSON logs and a graceful stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn
from fastapi import FastAPI

from crm_servicekit import event_loop
from crm_servicekit.app import ProcessRole, ServiceApp
from crm_servicekit.gc_policy import collect_garbage_for_throughput
from crm_servicekit.http_protocol import OneWriteHttpProtocol
from crm_servicekit.logging import configure_logging
from crm_servicekit.settings import ServiceSettings
from crm_servicekit.workers import WorkerGroup

__all__ = ["serve", "serve_processes"]

_log = logging.getLogger("crm_servicekit.runner")


def serve_processes(factory: Callable[[], FastAPI], settings: ServiceSettings) -> None:
    """Serve with ``settings.http_workers`` HTTP processes and
    ``settings.background_processes`` background ones, each building its app with
    ``factory`` (a picklable zero-argument function).

    The HTTP processes run the app's request-path workers and serve; the background
    processes run its background workers (relays, consumers), each its share, and serve
    nothing, so a consumer's work never holds up a request, and a consumer and a relay
    in two processes use two cores. Each HTTP process binds the port with
    ``SO_REUSEPORT``, so that the kernel spreads new connections evenly over them (with a
    single shared socket, as uvicorn's own workers use, whichever process wakes first
    takes them: under load one process served every connection while the other idled).

    SIGTERM/SIGINT are passed on and the processes stop gracefully. A process that ends
    (a background worker that crashed ends its process with status 1) stops the others,
    and the exit status is its own, for the orchestrator to restart the service. The
    processes die with their parent, even one killed with SIGKILL.
    """
    configure_logging(settings.service_name, settings.log_level)
    spawn = multiprocessing.get_context("spawn")
    parent = os.getpid()
    processes = [
        spawn.Process(target=_serve_http, args=(factory, settings, parent),
                      name=f"{settings.service_name}-http-{n}")
        for n in range(settings.http_workers)
    ]
    processes += [
        spawn.Process(target=_work_in_background, args=(factory, settings, parent, n),
                      name=f"{settings.service_name}-background-{n}")
        for n in range(settings.background_processes)
    ]
    status = 0  # stays 0 when a signal ends the wait
    with _signals_end_quietly():
        for process in processes:
            process.start()
        try:
            status = _wait_for_first_exit(processes)
        finally:
            _stop_all(processes, settings.shutdown_grace_seconds + 5)
    if status:
        sys.exit(status)


def _serve_http(factory: Callable[[], FastAPI], settings: ServiceSettings, parent: int) -> None:
    _die_with_parent(parent)
    app = _app_in_role(factory, ProcessRole.HTTP, settings)
    listener = socket.socket(socket.AF_INET6 if ":" in settings.http_host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((settings.http_host, settings.http_port))
    with _signals_end_quietly():
        uvicorn.Server(_config(app, settings)).run(sockets=[listener])


def _work_in_background(
    factory: Callable[[], FastAPI], settings: ServiceSettings, parent: int, share: int
) -> None:
    _die_with_parent(parent)
    app = _app_in_role(factory, ProcessRole.BACKGROUND, settings)
    app.state.background.keep_share(share, settings.background_processes)
    sys.exit(event_loop.run(_background(app)))


async def _background(app: FastAPI) -> int:
    """Run the app's lifespan (so its background workers) until a signal or a crash."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    group: WorkerGroup = app.state.background
    async with app.router.lifespan_context(app):
        signalled = asyncio.create_task(stop.wait())
        crashed = asyncio.create_task(group.until_crash())
        await asyncio.wait({signalled, crashed}, return_when=asyncio.FIRST_COMPLETED)
        for task in (signalled, crashed):
            task.cancel()
    if group.crashed():
        _log.error("a background worker crashed: the background process ends",
                   extra={"workers": sorted(group.crashed())})
        return 1
    return 0


def _app_in_role(
    factory: Callable[[], FastAPI], role: ProcessRole, settings: ServiceSettings
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level)
    app = factory()
    if not isinstance(app, ServiceApp):
        raise TypeError("serve_processes needs an app made by create_app")
    app.process_role = role
    collect_garbage_for_throughput()
    return app


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


_PR_SET_PDEATHSIG = 1


def _wait_for_first_exit(processes: Sequence[BaseProcess]) -> int:
    """Block until one process ends; its exit status (0 after a graceful stop)."""
    multiprocessing.connection.wait([process.sentinel for process in processes])
    ended = next(process for process in processes if not process.is_alive())
    return ended.exitcode or 0


def _stop_all(processes: Sequence[BaseProcess], grace_seconds: float) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace_seconds
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run ``app`` on ``settings.http_host:http_port`` until SIGTERM or SIGINT.

    On a signal uvicorn stops accepting connections, lets in-flight requests
    finish (up to ``shutdown_grace_seconds``), runs the lifespan shutdown (workers
    cancelled, producer flushed, engine closed), and the process exits with 0.
    A failed startup exits with uvicorn's status 3.
    """
    configure_logging(settings.service_name, settings.log_level)
    collect_garbage_for_throughput()
    with _signals_end_quietly():
        uvicorn.Server(_config(app, settings)).run()


def _config(app: FastAPI, settings: ServiceSettings) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        http=OneWriteHttpProtocol,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )


class _StopSignalError(Exception):
    """Raised by a signal that uvicorn re-delivers after its graceful shutdown."""


@contextmanager
def _signals_end_quietly() -> Iterator[None]:
    # Uvicorn handles SIGTERM/SIGINT itself while serving, then re-raises the signal
    # for the previous handler; this one ends the process normally instead of as
    # "killed by SIGTERM" or with a KeyboardInterrupt traceback.
    def stop(signum: int, frame: FrameType | None) -> None:
        raise _StopSignalError

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except _StopSignalError:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
