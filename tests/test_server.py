"""A real uvicorn process: health, readiness, a query with a token, CORS, GET safety, production defaults."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import make_settings
from tests.servers import running_server
from tests.subscriptions.wsclient import raw_subscriber
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role

PRODUCTION_SECRET = "a-production-secret-of-at-least-32-bytes!"


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    env = {
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_CORS_ORIGINS": "https://admin.bank.example",
        "TICKETDESK_ENV": "development",
    }
    with running_server(env) as process:
        yield process.url


def test_server_health_and_readiness(server: str) -> None:
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{server}/readyz")
    assert (ready.status_code, ready.json()["database"]) == (200, "up")


def test_server_request_tasks_see_the_lifespan_store(server: str, database_url: str) -> None:
    settings = make_settings(database_url)
    token = mint_token(settings, Role.CUSTOMER, uuid.uuid4(), name="Ann")
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(
        f"{server}/graphql",
        json={
            "query": 'mutation { createTicket(input: {subject: "App keeps crashing", description: "d", '
            "category: APP_ERROR}) { ticket { reference status } errors { code } } }"
        },
        headers=headers,
    ).json()
    assert created["data"]["createTicket"]["ticket"] == {"reference": "TCK-000001", "status": "OPEN"}
    listed = httpx.get(f"{server}/graphql", params={"query": "{ tickets { totalCount } }"}, headers=headers).json()
    assert listed["data"]["tickets"]["totalCount"] == 1


def test_server_refuses_mutations_over_get(server: str, database_url: str) -> None:
    token = mint_token(make_settings(database_url), Role.AGENT, uuid.uuid4())
    response = httpx.get(
        f"{server}/graphql",
        params={"query": 'mutation { addInternalNote(ticketId: "TCK-000001", body: "x") { errors { code } } }'},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert "mutations are not allowed when using get" in response.text.lower()


def test_server_cors_allows_listed_origin_only(server: str) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = httpx.options(f"{server}/graphql", headers={"Origin": "https://admin.bank.example", **preflight})
    denied = httpx.options(f"{server}/graphql", headers={"Origin": "https://evil.example", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://admin.bank.example"
    assert "access-control-allow-origin" not in denied.headers


def test_server_serves_graphiql_in_development(server: str) -> None:
    page = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_server_production_turns_off_graphiql_and_introspection(database_url: str) -> None:
    env = {
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_ENV": "production",
        "TICKETDESK_JWT_SECRET": PRODUCTION_SECRET,
    }
    with running_server(env) as process:
        base = process.url
        page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
        assert page.status_code != 200 or "graphiql" not in page.text.lower()
        body = httpx.post(f"{base}/graphql", json={"query": "{ __schema { types { name } } }"}).json()
        assert body.get("data") is None
        assert "introspection" in body["errors"][0]["message"].lower()
        typo = httpx.post(f"{base}/graphql", json={"query": "{ tikets { totalCount } }"}).json()
        assert "Did you mean" not in typo["errors"][0]["message"]


def test_server_production_refuses_development_secret(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ticketdesk.cli", "token", "--role", "agent"],
        env={**os.environ, "TICKETDESK_ENV": "production", "TICKETDESK_JWT_SECRET": ""},
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode != 0
    assert "TICKETDESK_JWT_SECRET" in result.stderr


@pytest.mark.parametrize(
    "env",
    [
        {"TICKETDESK_DATABASE_URL": "sqlite://x.db"},
        {"TICKETDESK_DATABASE_URL": "postgres://postgres@127.0.0.1/test", "TICKETDESK_BROADCAST_URL": "memory://"},
    ],
)
def test_serve_refuses_several_workers_without_shared_backends(tmp_path: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ticketdesk.cli", "serve", "--workers", "2"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--workers > 1 needs a shared store and broker" in result.stderr


@pytest.mark.postgres
@pytest.mark.redis
def test_serve_starts_several_workers_on_a_fresh_database(postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    env = {"TICKETDESK_DATABASE_URL": postgres_url, "TICKETDESK_BROADCAST_URL": redis_url, "TICKETDESK_GRAPHIQL": "0"}
    log = tmp_path / "serve.log"
    with running_server(env, serve=True, options=["--workers", "3"], log=log) as server:
        token = mint_token(make_settings(postgres_url), Role.CUSTOMER, uuid.uuid4())
        for _ in range(20):
            response = httpx.post(
                f"{server.url}/graphql",
                json={
                    "query": 'mutation { createTicket(input: {subject: "s", description: "d", category: OTHER}) '
                    "{ ticket { number } errors { code } } }"
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.json()["data"]["createTicket"]["errors"] == []
        deadline = time.monotonic() + 20
        while log.read_text().count("Application startup complete") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        output = log.read_text()
    # Every worker migrated on start as well (a no-op behind the migration lock) and came up.
    assert output.count("Application startup complete") == 3, output
    assert "startup failed" not in output and "Traceback" not in output, output


def test_cli_token_refuses_a_sub_that_is_not_a_uuid() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ticketdesk.cli", "token", "--role", "customer", "--sub", "not-a-uuid"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "ticketdesk token: `--sub` must be a UUID.\n"


def test_cli_token_is_accepted_by_the_api(server: str, tmp_path: Path) -> None:
    subject = str(uuid.uuid4())
    result = subprocess.run(
        [sys.executable, "-m", "ticketdesk.cli", "token", "--role", "admin", "--sub", subject, "--name", "Ada"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, "TICKETDESK_ENV": "development"},
    )
    token = result.stdout.strip()
    body = httpx.post(
        f"{server}/graphql", json={"query": "{ viewer { id role name } }"}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert body["data"]["viewer"] == {"id": subject, "role": "ADMIN", "name": "Ada"}


async def test_sigterm_closes_subscriptions_with_1012_and_exits_within_seconds(tmp_path: Path) -> None:
    env = {"TICKETDESK_DATABASE_URL": f"sqlite://{tmp_path / 'ticketdesk.db'}", "TICKETDESK_GRAPHIQL": "false"}
    with running_server(env, serve=True) as server:
        token = mint_token(make_settings("sqlite://unused"), Role.AGENT, uuid.uuid4())
        async with await raw_subscriber(server.ws_url, token, "subscription { ticketEvents { type } }") as ws:
            async with httpx.AsyncClient() as http:
                while (await http.get(f"{server.url}/readyz")).json()["subscriptions"] == 0:
                    await asyncio.sleep(0.02)
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            messages = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    messages.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            exit_code = await asyncio.to_thread(server.process.wait, 10)
            elapsed = time.monotonic() - started
    # 1012 "service restart" and no `complete`: graphql-ws clients reconnect and resume with `since`,
    # where a `complete` would tell them the subscription is over for good.
    assert messages == []
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    # uvicorn re-raises the SIGTERM after its graceful shutdown, so the exit status names the signal.
    assert exit_code in (0, -signal.SIGTERM)
    assert elapsed < 5, elapsed


def test_subscription_over_http_is_refused_with_a_pointer_to_websocket(server: str, database_url: str) -> None:
    token = mint_token(make_settings(database_url), Role.AGENT, uuid.uuid4())
    response = httpx.post(
        f"{server}/graphql",
        json={"query": "subscription { ticketEvents { type } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert "Subscriptions run over WebSocket" in response.text
