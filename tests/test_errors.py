"""Unexpected failures: logged in full on the server, masked for clients outside development."""

from __future__ import annotations

import logging
import sqlite3

import asyncpg
import pytest

from tests.conftest import make_settings, running_app
from ticketdesk.models.enums import Role

PRODUCTION_SECRET = "a-production-secret-of-at-least-32-bytes!"
COUNT = "{ tickets { totalCount } }"


async def _drop_tickets_table(database_url: str) -> None:
    """Break the store underneath the running app, as a botched manual migration would."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite://")) as conn:
            conn.execute("DROP TABLE tickets")
        return
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP TABLE tickets CASCADE")
    finally:
        await conn.close()


@pytest.mark.parametrize("env", ["production", "development"])
async def test_unexpected_error_is_logged_in_full_and_masked_outside_development(
    database_url: str, caplog: pytest.LogCaptureFixture, env: str
) -> None:
    settings = make_settings(database_url, env=env, jwt_secret=PRODUCTION_SECRET)
    async with running_app(settings) as clients:
        agent = clients.as_role(Role.AGENT)
        assert (await agent.data(COUNT))["tickets"]["totalCount"] == 0
        await _drop_tickets_table(database_url)
        with caplog.at_level(logging.ERROR):
            body = await agent.post(COUNT)
    (error,) = body["errors"]
    if env == "production":
        assert error["message"] == "Internal server error."
        assert "no such table" not in str(body) and "does not exist" not in str(body)
    else:
        assert "tickets" in error["message"]
    # Either way the server log has the real cause with its traceback.
    logged = [r.exc_info[1] for r in caplog.records if r.exc_info]
    assert any("tickets" in str(exc) for exc in logged), caplog.text


async def test_expected_errors_stay_readable_in_production(database_url: str) -> None:
    settings = make_settings(database_url, env="production", jwt_secret=PRODUCTION_SECRET)
    async with running_app(settings) as clients:
        body = await clients.anonymous().post(COUNT)
        first = await clients.as_role(Role.AGENT).post("{ tickets(first: 1000) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert first["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
