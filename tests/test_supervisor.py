"""Supervised background tasks: a failure is logged and restarted with backoff, and /readyz shows each task."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator

import pytest

from tests.conftest import make_settings, running_app
from ticketdesk.subscriptions.broker import Broker
from ticketdesk.supervisor import Supervisor


async def _until(condition: object, timeout: float = 5) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.01)


async def test_supervisor_restarts_a_failing_task_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[float] = []

    async def flaky() -> None:
        runs.append(asyncio.get_running_loop().time())
        if len(runs) <= 3:
            raise RuntimeError(f"failure {len(runs)}")
        await asyncio.Event().wait()  # healthy from the fourth run on

    supervisor = Supervisor(first_delay=0.05, max_delay=1)
    with caplog.at_level(logging.ERROR, logger="ticketdesk.supervisor"):
        supervisor.start("flaky", flaky)
        await _until(lambda: len(runs) == 4)
    try:
        # The backoff doubles: 0.05 s, 0.1 s, 0.2 s (less a timer's resolution).
        gaps = [later - earlier for earlier, later in itertools.pairwise(runs)]
        assert gaps[0] >= 0.045 and gaps[1] >= 0.095 and gaps[2] >= 0.195, gaps
        assert supervisor.report() == {
            "flaky": {"state": "running", "restarts": 3, "lastError": "RuntimeError: failure 3"}
        }
        assert caplog.text.count("Traceback") == 3
        assert "background task flaky: RuntimeError: failure 1; restarting it in 0.05s" in caplog.text
    finally:
        await supervisor.stop()
    assert supervisor.report()["flaky"]["state"] == "stopped"


async def test_supervisor_restarts_a_task_that_returns() -> None:
    runs = 0

    async def quits() -> None:
        nonlocal runs
        runs += 1

    supervisor = Supervisor(first_delay=0.01)
    supervisor.start("quits", quits)
    try:
        await _until(lambda: runs >= 3)
        assert supervisor.report()["quits"]["lastError"] == "ended on its own"
    finally:
        await supervisor.stop()


async def test_supervisor_readyz_shows_a_hub_task_that_failed_and_came_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: the broker's first listening attempt breaks as a bug would; the second works.
    real_tails = Broker.tails
    attempts = 0

    async def breaks_once(self: Broker) -> AsyncIterator[int]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("listener bug")
        async for seq in real_tails(self):
            yield seq

    monkeypatch.setattr(Broker, "tails", breaks_once)
    async with running_app(make_settings(database_url)) as clients:
        await _until(lambda: attempts >= 2)
        body = (await clients.http.get("/readyz")).json()
    listener = body["tasks"]["ticketdesk-hub-listen"]
    assert listener == {"state": "running", "restarts": 1, "lastError": "RuntimeError: listener bug"}
    assert body["tasks"]["ticketdesk-hub-read"] == {"state": "running", "restarts": 0, "lastError": None}
