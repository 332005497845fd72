"""The process event loop: uvloop unless asked for the standard one."""

from __future__ import annotations

import asyncio

import pytest

from paymesh.services.common import eventloop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__.split(".")[0]


def test_services_run_on_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYMESH_EVENT_LOOP", raising=False)
    assert eventloop.loop_kind() == "uvloop"
    assert eventloop.run(_loop_module()) == "uvloop"


def test_the_standard_loop_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMESH_EVENT_LOOP", "asyncio")
    assert eventloop.loop_kind() == "asyncio"
    assert eventloop.run(_loop_module()) == "asyncio"
