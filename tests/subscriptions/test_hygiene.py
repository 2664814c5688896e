"""Subscribers that go away or fall behind: nothing leaks, nobody else waits, nothing is lost."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import string
import time

import pytest
import redis.asyncio as redis

from tests.conftest import Clients, make_settings, served_app
from tests.helpers import create
from tests.operations import ADD_MESSAGE
from tests.subscriptions.wsclient import raw_subscriber, subscribed, wait_subscriptions
from ticketdesk.models.enums import Role
from ticketdesk.subscriptions.broker import CHANNEL


def _ws_url(clients: Clients) -> str:
    return str(clients.http.base_url.copy_with(scheme="ws").join("/graphql"))


async def test_dropped_subscribers_leave_no_task_tap_or_broker_channel(database_url: str) -> None:
    async with served_app(make_settings(database_url)) as clients:
        token = clients.as_role(Role.AGENT).token or ""
        async with subscribed(clients, token):  # warm up: every lazily started server task exists now
            pass
        await wait_subscriptions(clients, lambda n: n == 0)
        tasks_before = len(asyncio.all_tasks())
        for round_ in range(20):
            sockets = [await raw_subscriber(_ws_url(clients), token) for _ in range(5)]
            await wait_subscriptions(clients, lambda n: n == 5)
            for i, ws in enumerate(sockets):
                if (round_ + i) % 2:
                    ws.transport.abort()  # the phone lost its network: no close frame
                else:
                    await ws.close()
        assert await wait_subscriptions(clients, lambda n: n == 0) == 0
        deadline = time.monotonic() + 5
        while len(asyncio.all_tasks()) > tasks_before and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(asyncio.all_tasks()) == tasks_before, sorted(t.get_name() for t in asyncio.all_tasks())
        if clients.settings.broadcast_url.startswith("redis"):
            async with redis.from_url(clients.settings.broadcast_url) as broker:
                # One broker subscription per process, however many subscribers come and go.
                assert dict(await broker.pubsub_numsub(CHANNEL)) == {CHANNEL.encode(): 1}


def _noise(size: int) -> str:
    return "".join(random.choices(string.ascii_letters, k=size))


async def test_slow_subscriber_stalls_nobody_and_catches_up_without_gaps(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(database_url, subscriber_buffer=20)
    writes = 200
    caplog.set_level(logging.INFO, logger="ticketdesk.subscriptions")
    async with served_app(settings, send_buffer=16384) as clients:
        customer, agent = clients.as_role(Role.CUSTOMER), clients.as_role(Role.AGENT)
        ticket = await create(customer)
        # Never reads, with a small receive window and no compression: the server's sends to it block soon.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((clients.http.base_url.host, clients.http.base_url.port or 80))
        slow = await raw_subscriber(_ws_url(clients), agent.token or "", compression=None, max_queue=1, sock=sock)
        async with subscribed(clients, agent.token or "") as fast:
            await wait_subscriptions(clients, lambda n: n == 2)
            for _ in range(writes):
                body = {"ticketId": ticket["id"], "body": _noise(5000)}
                assert (await customer.data(ADD_MESSAGE, body))["addMessage"]["errors"] == []
            fast_events = await fast.events("1", writes, timeout=30)
        # The slow client wakes up: a normal receive window from now on.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        last = int(fast_events[-1]["id"])
        slow_ids: list[int] = []
        while not slow_ids or slow_ids[-1] < last:
            message = json.loads(await asyncio.wait_for(slow.recv(), 30))
            if message["type"] == "ping":  # the server's keep-alive, when the run takes longer than its interval
                continue
            slow_ids.append(int(message["payload"]["data"]["ticketEvents"]["id"]))
        await slow.close()
    first = int(fast_events[0]["id"])
    assert [int(e["id"]) for e in fast_events] == list(range(first, last + 1))
    # The slow one fell past its buffer, so part of this came from the log: still every event, once.
    assert slow_ids == list(range(slow_ids[0], last + 1)) and slow_ids[0] <= first
    assert "fell behind" in caplog.text
