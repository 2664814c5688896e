"""Fixtures: a store per test (SQLite file, or the PostgreSQL database CI names), the app, clients per role.

Environment:
    TICKETDESK_TEST_DATABASE_URL   run the whole suite on this store (postgres://...); default: SQLite files
    TICKETDESK_TEST_POSTGRES_URL   a PostgreSQL database for the tests that only PostgreSQL can prove
                                   (concurrency, trigram search, several processes); those tests skip without it
    TICKETDESK_TEST_BROADCAST_URL  the broker of every test app (redis://...); default memory://
    TICKETDESK_TEST_REDIS_URL      a Redis for the tests that need one (several processes); they skip without it
The databases named here are wiped by the tests; with a PostgreSQL URL ending in /<name>, so is the database
<name>_template, which each session migrates once and copies for every test. S3 is always moto's server,
started on loopback (`s3_server`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree

import asyncpg
import httpx
import pytest
import uvicorn
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette

from tests.redisserver import RedisServer
from tests.servers import free_port
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


def _migrate(url: str) -> None:
    """Apply every migration to the store at `url`, as `ticketdesk migrate` does, in a process of its own."""
    env = {**os.environ, "TICKETDESK_DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "ticketdesk.cli", "migrate"], env=env, check=True, timeout=120)


def _in_a_thread(work: Coroutine[Any, Any, None]) -> None:
    """Run `work` to the end in an event loop of its own (session fixtures run beside the tests' loops)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, work).result()


# Applying the migrations costs Tortoise over a second per store, and most tests want a store, not a migration:
# each session migrates one template store per backend, and each test gets a copy. tests/test_store.py and the
# `postgres_url` fixture still migrate from nothing.
@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite store with every migration applied."""
    path = tmp_path_factory.mktemp("template") / "ticketdesk.db"
    _migrate(f"sqlite://{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> str | None:
    """With TICKETDESK_TEST_DATABASE_URL=postgres://.../<name>: the database `<name>_template`, every migration
    applied (None without a PostgreSQL URL)."""
    url = os.environ.get("TICKETDESK_TEST_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    template = f"{_database_name(url)}_template"
    _in_a_thread(_recreate_database(url, template, None))
    _migrate(_with_database(url, template))
    return template


async def _recreate_database(url: str, name: str, template: str | None) -> None:
    """Drop database `name` of the server at `url` (whoever is connected) and create it anew, from `template`."""
    conn = await asyncpg.connect(_with_database(url, "postgres").replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await conn.close()


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@pytest.fixture
async def database_url(tmp_path: Path, migrated_sqlite: Path, postgres_template: str | None) -> str:
    """The store of one test: fresh, migrated and empty."""
    url = os.environ.get("TICKETDESK_TEST_DATABASE_URL", "")
    if url.startswith("postgres") and postgres_template is not None:
        await _recreate_database(url, _database_name(url), postgres_template)
        return url
    shutil.copyfile(migrated_sqlite, tmp_path / "ticketdesk.db")
    return f"sqlite://{tmp_path / 'ticketdesk.db'}"


@pytest.fixture
async def postgres_url() -> str:
    """A fresh PostgreSQL store, for the tests only PostgreSQL can prove; skips without one."""
    if not POSTGRES_URL:
        pytest.skip("set TICKETDESK_TEST_POSTGRES_URL=postgres://... to run the PostgreSQL-only tests")
    await reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


REDIS_URL = os.environ.get("TICKETDESK_TEST_REDIS_URL") or (
    os.environ.get("TICKETDESK_TEST_BROADCAST_URL", "")
    if os.environ.get("TICKETDESK_TEST_BROADCAST_URL", "").startswith("redis")
    else ""
)


@pytest.fixture
def redis_url() -> str:
    """The shared Redis, for the tests that need a real broker; skips without one."""
    if not REDIS_URL:
        pytest.skip("set TICKETDESK_TEST_REDIS_URL=redis://... to run the tests that need Redis")
    return REDIS_URL


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server on a free port, which the test may kill and restart."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed: these tests start and kill their own Redis servers")
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.thaw()
        server.stop()


TEST_RATES = {"rate_limit_mutations": "100000/minute", "rate_limit_query_cost": "100000000/minute"}


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: development behaviour, no .env file, the broker CI names (memory:// by default)."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "broadcast_url": os.environ.get("TICKETDESK_TEST_BROADCAST_URL") or "memory://",
        "env": "development",
        "_env_file": None,
        # Tests of other things make changes far faster than a person; the rate-limit tests set their own.
        **TEST_RATES,
    }
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
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        # ASCII-escaped JSON, as most clients send it: it can carry what UTF-8 cannot (a lone surrogate).
        body = json.dumps({"query": query, "variables": variables or {}})
        response = await self.http.post("/graphql", content=body, headers=headers)
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

    def __init__(self, http: httpx.AsyncClient, settings: Settings, app: Starlette) -> None:
        self.http = http
        self.settings = settings
        self.app = app

    def as_role(self, role: Role, *, name: str | None = None, email: str | None = None) -> Caller:
        """A caller with a fresh identity in `role`."""
        subject = uuid.uuid4()
        token = mint_token(self.settings, role, subject, name=name, email=email)
        return Caller(self.http, subject, role, token)

    def anonymous(self, token: str | None = None) -> Caller:
        """A caller without (or with the given raw) token."""
        return Caller(self.http, uuid.uuid4(), None, token)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Clients]:
    """The app with its lifespan running, called over HTTP in this process (no sockets)."""
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ticketdesk.test") as http:
            yield Clients(http, settings, app)


class _QuietServer(uvicorn.Server):
    # pytest owns the process's signals; a test stops the server through `should_exit`.
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def served_app(settings: Settings, *, send_buffer: int | None = None) -> AsyncIterator[Clients]:
    """The app under a real uvicorn in this event loop, on a free port: real HTTP and real WebSocket.

    `send_buffer` caps the kernel's send buffer of every accepted connection (they inherit it from the
    listening socket), so a client that stops reading blocks the server's sends after little data.
    """
    app = create_app(settings)
    listener = socket.socket()
    # Accepted sockets inherit this; without it Nagle and delayed ACKs add 40 ms to every request.
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if send_buffer is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    server = _QuietServer(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield Clients(http, settings, app)
    finally:
        server.should_exit = True
        await task
        listener.close()


@pytest.fixture
async def app_clients(settings: Settings) -> AsyncIterator[Clients]:
    async with running_app(settings) as clients:
        yield clients


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


@dataclass(frozen=True)
class S3Server:
    """moto's S3 server on loopback, with one bucket the tests share (each test under its own prefix)."""

    endpoint: str
    bucket: str

    # Plain S3 REST calls (moto takes them unsigned), to look at what the app stored without the app's own
    # library; not boto3, whose import leaves the test process a heap that each app start then collects.
    def create_bucket(self) -> None:
        """Make the bucket (S3's CreateBucket)."""
        httpx.put(f"{self.endpoint}/{self.bucket}").raise_for_status()

    def put(self, key: str, content: bytes) -> None:
        """Store an object (S3's PutObject)."""
        httpx.put(f"{self.endpoint}/{self.bucket}/{key}", content=content).raise_for_status()

    def keys(self, prefix: str) -> list[str]:
        """Every object key under `prefix/` (S3's ListObjectsV2; the tests store far fewer than a page)."""
        response = httpx.get(f"{self.endpoint}/{self.bucket}", params={"list-type": "2", "prefix": f"{prefix}/"})
        response.raise_for_status()
        namespace = "{http://s3.amazonaws.com/doc/2006-03-01/}"
        return [key.text or "" for key in ElementTree.fromstring(response.content).iter(f"{namespace}Key")]


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    """Return once `url` answers HTTP at all; raise if the process exits or the deadline passes first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"moto server did not start (exit code {process.poll()})")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """`python -m moto.server` on a free loopback port for the whole session, with a bucket; killed at the end."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = S3Server(f"http://127.0.0.1:{port}", "ticketdesk-tests")
        _wait_until_answering(server.endpoint, process)
        server.create_bucket()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The moto server, with the standard AWS_* variables obstore reads when the app opens an s3:// store."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ALLOW_HTTP", "true")
    return s3_server
