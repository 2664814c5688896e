"""/readyz follows the database: 503 while it is unreachable, 200 again once it is back."""

from __future__ import annotations

import time
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import Clients, make_settings, running_app
from tests.tcpproxy import TcpProxy

pytestmark = pytest.mark.postgres


async def _ready(clients: Clients, status: int, timeout: float = 10) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        response = await clients.http.get("/readyz")
        if response.status_code == status or time.monotonic() > deadline:
            assert response.status_code == status, response.text
            body: dict[str, object] = response.json()
            return body


async def test_readyz_is_503_while_the_database_is_unreachable(postgres_url: str) -> None:
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    through_proxy = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    try:
        async with running_app(make_settings(through_proxy)) as clients:
            assert (await _ready(clients, 200))["database"] == "up"
            await proxy.cut()
            down = await _ready(clients, 503)
            assert (down["status"], down["database"]) == ("unavailable", "down")
            await proxy.start()
            assert (await _ready(clients, 200))["database"] == "up"
    finally:
        await proxy.cut()
