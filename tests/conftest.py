"""Fixtures: a store per test (SQLite file, or the PostgreSQL database CI names), the app, clients per role.

Environment:
    TICKETDESK_TEST_DATABASE_URL   run the whole suite on this store (postgres://...); default: SQLite files
    TICKETDESK_TEST_POSTGRES_URL   a PostgreSQL database for the tests that only PostgreSQL can prove
                                   (concurrency, trigram search); those tests skip without it
The databases named here are wiped by the tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager

from ticketdesk.app import create_app
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role
from ticketdesk.settings import Settings

POSTGRES_URL = os.environ.get("TICKETDESK_TEST_POSTGRES_URL") or (
    os.environ.get("TICKETDESK_TEST_DATABASE_URL", "")
    if os.environ.get("TICKETDESK_TEST_DATABASE_URL", "").startswith("postgres")
    else ""
)


async def reset_postgres(url: str) -> None:
    """Empty the database: the tests own it."""
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """The store of one test: fresh and empty."""
    url = os.environ.get("TICKETDESK_TEST_DATABASE_URL", "")
    if url.startswith("postgres"):
        await reset_postgres(url)
        return url
    return f"sqlite://{tmp_path / 'ticketdesk.db'}"


@pytest.fixture
async def postgres_url() -> str:
    """A fresh PostgreSQL store, for the tests only PostgreSQL can prove; skips without one."""
    if not POSTGRES_URL:
        pytest.skip("set TICKETDESK_TEST_POSTGRES_URL=postgres://... to run the PostgreSQL-only tests")
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: development behaviour, no .env file."""
    values: dict[str, Any] = {"database_url": database_url, "env": "test", "_env_file": None}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@dataclass
class Caller:
    """One principal talking to the API over HTTP."""

    http: httpx.AsyncClient
    id: uuid.UUID
    role: Role | None
    token: str | None

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a GraphQL operation and return the decoded response body."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of an operation that must not produce GraphQL errors."""
        body = await self.post(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


class Clients:
    """Makes callers of every role against one running app."""

    def __init__(self, http: httpx.AsyncClient, settings: Settings) -> None:
        self.http = http
        self.settings = settings

    def as_role(self, role: Role, *, name: str | None = None, email: str | None = None) -> Caller:
        """A caller with a fresh identity in `role`."""
        subject = uuid.uuid4()
        token = mint_token(self.settings, role, subject, name=name, email=email)
        return Caller(self.http, subject, role, token)

    def anonymous(self, token: str | None = None) -> Caller:
        """A caller without (or with the given raw) token."""
        return Caller(self.http, uuid.uuid4(), None, token)


@pytest.fixture
async def app_clients(settings: Settings) -> AsyncIterator[Clients]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ticketdesk.test") as http:
            yield Clients(http, settings)


@pytest.fixture
def customer(app_clients: Clients) -> Caller:
    return app_clients.as_role(Role.CUSTOMER, name="Ann Customer", email="ann@example.com")


@pytest.fixture
def other_customer(app_clients: Clients) -> Caller:
    return app_clients.as_role(Role.CUSTOMER, name="Carl Other")


@pytest.fixture
def agent(app_clients: Clients) -> Caller:
    return app_clients.as_role(Role.AGENT, name="Bob Agent", email="bob@bank.example")


@pytest.fixture
def admin(app_clients: Clients) -> Caller:
    return app_clients.as_role(Role.ADMIN, name="Ada Admin", email="ada@bank.example")


@pytest.fixture
def service(app_clients: Clients) -> Caller:
    return app_clients.as_role(Role.SERVICE, name="concierge")
