"""A real uvicorn process: health, readiness, a query with a token, CORS, GET safety, production defaults."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role
from tests.conftest import make_settings

PRODUCTION_SECRET = "a-production-secret-of-at-least-32-bytes!"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(env: dict[str, str]) -> Iterator[str]:
    """Start `uvicorn ticketdesk.app:app` in its own process and yield its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ticketdesk.app:app", "--port", str(port), "--log-level", "warning"],
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start (exit code {process.poll()})")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    env = {
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_CORS_ORIGINS": "https://admin.bank.example",
        "TICKETDESK_ENV": "development",
    }
    with running_server(env) as base:
        yield base


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
        params={"query": "mutation { addInternalNote(ticketId: \"TCK-000001\", body: \"x\") { errors { code } } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert "mutations are not allowed when using get" in response.text.lower()


def test_server_cors_allows_listed_origin_only(server: str) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    allowed = httpx.options(f"{server}/graphql", headers={"Origin": "https://admin.bank.example", **preflight})
    denied = httpx.options(f"{server}/graphql", headers={"Origin": "https://evil.example", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://admin.bank.example"
    assert "access-control-allow-origin" not in denied.headers


def test_server_serves_graphiql_in_development(server: str) -> None:
    page = httpx.get(f"{server}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


def test_server_production_turns_off_graphiql_and_introspection(database_url: str) -> None:
    env = {"TICKETDESK_DATABASE_URL": database_url, "TICKETDESK_ENV": "production", "TICKETDESK_JWT_SECRET": PRODUCTION_SECRET}
    with running_server(env) as base:
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
