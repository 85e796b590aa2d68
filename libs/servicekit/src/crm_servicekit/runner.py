"""Serve an app with uvicorn, with our JSON logs and a graceful stop on SIGTERM/SIGINT."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI

from crm_servicekit.logging import configure_logging
from crm_servicekit.settings import ServiceSettings

__all__ = ["serve", "serve_processes"]


def serve_processes(factory: str, settings: ServiceSettings) -> None:
    """Serve with ``settings.http_workers`` processes, each building its app from ``factory``
    (an import string of a zero-argument function returning the app)."""
    configure_logging(settings.service_name, settings.log_level)
    with _signals_end_quietly():
        uvicorn.run(
            factory, factory=True, workers=settings.http_workers,
            host=settings.http_host, port=settings.http_port, log_config=None,
            log_level=settings.log_level.lower(), access_log=False, server_header=False,
            lifespan="on", timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        )


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run ``app`` on ``settings.http_host:http_port`` until SIGTERM or SIGINT.

    On a signal uvicorn stops accepting connections, lets in-flight requests
    finish (up to ``shutdown_grace_seconds``), runs the lifespan shutdown (workers
    cancelled, producer flushed, engine closed), and the process exits with 0.
    A failed startup exits with uvicorn's status 3.
    """
    configure_logging(settings.service_name, settings.log_level)
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        log_level=settings.log_level.lower(),
        access_log=False,
        server_header=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    with _signals_end_quietly():
        uvicorn.Server(config).run()


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
