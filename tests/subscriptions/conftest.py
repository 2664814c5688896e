"""Fixtures for the realtime tests: the app under a real uvicorn (real HTTP and WebSocket).

Overriding `app_clients` here gives the root conftest's role fixtures (customer, agent, ...) this app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Clients, served_app
from ticketdesk.settings import Settings


@pytest.fixture
async def app_clients(settings: Settings) -> AsyncIterator[Clients]:
    """The app served by uvicorn in this event loop."""
    async with served_app(settings) as clients:
        yield clients


@pytest.fixture
def live(app_clients: Clients) -> Clients:
    """The served app, by the name the realtime tests use."""
    return app_clients
