"""A webhook receiver on loopback, as a bank's backend would run one: it verifies every delivery's signature with
`standardwebhooks`, and can be told to fail, to be slow, or to go away and come back."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.servers import free_port


@dataclass
class Delivery:
    """One request the receiver accepted: its webhook-id and body."""

    id: str
    body: dict[str, Any]


@dataclass
class Receiver:
    """Accepts deliveries signed with `secret` (set once the webhook exists); answers 500 to the first `fail`
    requests, waits `delay` seconds before answering."""

    port: int = field(default_factory=free_port)
    secret: str | None = None
    fail: int = 0
    delay: float = 0.0
    status: int = 200
    accepted: list[Delivery] = field(default_factory=list)
    requests: int = 0
    bad_signatures: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Where the webhook points."""
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> None:
        """Listen (again, on the same port)."""
        app = web.Application()
        app.router.add_post("/hooks", self._receive)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Go away: connections are refused until `start`."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail > 0:
            self.fail -= 1
            return web.Response(status=500, text="not now")
        try:
            Webhook(self.secret or "").verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.bad_signatures += 1
            return web.Response(status=401, text="bad signature")
        if 200 <= self.status < 300:
            self.accepted.append(Delivery(request.headers["webhook-id"], json.loads(body)))
        return web.Response(status=self.status, headers={"Location": "http://127.0.0.1:1/elsewhere"})

    def unique(self) -> list[Delivery]:
        """The accepted deliveries, each webhook-id once (the receiver's idempotency), in arrival order."""
        seen: dict[str, Delivery] = {}
        for delivery in self.accepted:
            seen.setdefault(delivery.id, delivery)
        return list(seen.values())

    async def wait_for(self, count: int, timeout: float = 20) -> list[Delivery]:
        """The unique deliveries, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while len(self.unique()) < count:
            assert time.monotonic() < deadline, f"{len(self.unique())} of {count} deliveries arrived"
            await asyncio.sleep(0.02)
        return self.unique()
