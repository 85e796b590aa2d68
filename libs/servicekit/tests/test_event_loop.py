"""``event_loop.run``: uvloop where it is installed, asyncio's own loop where it is not."""

from __future__ import annotations

import asyncio
import sys

import pytest

from crm_servicekit import event_loop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_a_process_runs_on_uvloop_where_it_is_installed() -> None:
    assert event_loop.run(_loop_module()) == "uvloop"


def test_without_uvloop_it_runs_on_asyncios_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop raises ImportError

    assert event_loop.run(_loop_module()).startswith("asyncio")
