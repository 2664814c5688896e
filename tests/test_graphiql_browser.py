"""GraphiQL in a real browser: a uvicorn server, its assets served locally, a query and a subscription run
through the UI (the subscription authenticated by the Headers tab, fed by a change made over HTTP meanwhile).

Needs Debian's chromium, node and playwright-core (`apt-get install -y chromium && npm ci --prefix
tests/browser`), and the registry once to fill the asset cache (then it is reused).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ticketdesk.auth import mint_token
from ticketdesk.graphiql import asset_names, cache_dir, fetch_assets
from ticketdesk.models.enums import Role
from ticketdesk.settings import Settings

pytestmark = pytest.mark.browser

BROWSER_DIR = Path(__file__).parent / "browser"
CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get install -y chromium && npm ci --prefix tests/browser"


@pytest.fixture(scope="module")
def node() -> str:
    """node's path, or a skip naming whatever of the browser toolchain is missing."""
    node = shutil.which("node")
    needed = {
        str(CHROMIUM): CHROMIUM.exists(),
        "node": node is not None,
        "tests/browser/node_modules/playwright-core": (BROWSER_DIR / "node_modules/playwright-core").is_dir(),
    }
    missing = [what for what, present in needed.items() if not present]
    if node is None or missing:
        pytest.skip(f"browser test needs {', '.join(missing)}; install with: {INSTALL}")
    return node


@pytest.fixture(scope="module")
def assets() -> Path:
    """The GraphiQL asset cache, filled from the registry on first use."""
    settings = Settings()
    cache = cache_dir(settings)
    try:
        fetch_assets(cache, registry=settings.npm_registry)
    except OSError as exc:  # an integrity mismatch (AssetError) is a failure, not a reason to skip
        pytest.skip(f"cannot reach the npm registry to fetch GraphiQL's assets into {cache}: {exc}")
    return cache


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path, assets: Path) -> Iterator[str]:
    """A real uvicorn serving ticketdesk on a free port; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "TICKETDESK_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "TICKETDESK_GRAPHIQL_ASSETS": str(assets),
        "TICKETDESK_GRAPHIQL": "true",
        # The token is minted here with the same settings, whatever .env or environment supplies.
        "TICKETDESK_JWT_SECRET": Settings().jwt_secret,
    }
    env.pop("TICKETDESK_GRAPHIQL_CDN", None)
    log_path = tmp_path / "server.log"
    command = [sys.executable, "-m", "uvicorn", "ticketdesk.app:create_app", "--factory", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"uvicorn did not answer /healthz within 30s:\n{log_path.read_text()}")
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _graphql(base: str, token: str, query: str) -> dict[str, Any]:
    """POST one operation with a bearer token; returns `data`, failing on any error."""
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _await_subscriber(base: str, browser: subprocess.Popen[str], timeout: float) -> bool:
    """Wait until the server feeds a subscription (`/readyz` counts them), or the browser script ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and browser.poll() is None:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
            if json.load(response)["subscriptions"] > 0:
                return True
        time.sleep(0.1)
    return False


def test_graphiql_runs_a_query_and_a_subscription_with_local_assets_only(
    node: str, server: str, tmp_path: Path
) -> None:
    settings = Settings()
    viewer = uuid.uuid4()
    token = mint_token(settings, Role.CUSTOMER, viewer)
    agent = mint_token(settings, Role.AGENT, uuid.uuid4())
    created = _graphql(
        server,
        token,
        'mutation { createTicket(input: {subject: "Card blocked", description: "It is declined everywhere", '
        "category: BANKING_ISSUE}) { ticket { id reference } errors { code message } } }",
    )["createTicket"]
    assert created["errors"] == []
    ticket = created["ticket"]

    screenshot = tmp_path / "graphiql.png"
    subscription = "subscription { ticketStatusChanged { type toStatus ticket { reference status } } }"
    browser = subprocess.Popen(
        [node, str(BROWSER_DIR / "graphiql_check.mjs"), f"{server}/graphql", str(screenshot)],
        env={
            **os.environ,
            "GRAPHIQL_TOKEN": token,
            "GRAPHIQL_QUERY": "{ viewer { id role } }",
            "GRAPHIQL_SUBSCRIPTION": subscription,
            "GRAPHIQL_EXPECT": "IN_PROGRESS",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # "Another tab": once the page's subscription is live on the server, an agent moves the ticket on.
        subscribed = _await_subscriber(server, browser, timeout=60)
        if subscribed:
            changed = _graphql(
                server,
                agent,
                f'mutation {{ changeTicketStatus(id: "{ticket["id"]}", status: IN_PROGRESS) '
                "{ ticket { status } errors { code message } } }",
            )["changeTicketStatus"]
            assert changed == {"ticket": {"status": "IN_PROGRESS"}, "errors": []}
        stdout, stderr = browser.communicate(timeout=90)
    finally:
        if browser.poll() is None:
            browser.kill()
            browser.communicate()
    assert browser.returncode == 0, stderr
    report = json.loads(stdout.strip().splitlines()[-1])
    # A socket refused at connection_init (4403) is retried for ~40 s by graphql-ws, the pane staying empty.
    failed = f"{report.get('error')}\n(result pane: {report.get('event')!r}; screenshot: {screenshot})"
    assert subscribed, f"the page's subscription never reached the server: {report['sockets']}\n{failed}"
    assert "error" not in report, failed

    assert report["query"] == "{ viewer { id role } }"
    assert json.loads(report["headers"]) == {"Authorization": f"Bearer {token}"}
    result = json.loads(report["result"])
    assert result["data"] == {"viewer": {"id": str(viewer), "role": "CUSTOMER"}}
    # GraphiQL's users see their rate-limit budget with every answer.
    assert set(result["extensions"]["rateLimit"]) == {"limit", "remaining", "resetAt", "cost"}

    # The event reached the result pane while the subscription was still running.
    assert report["subscription"] == subscription
    assert json.loads(report["event"]) == {
        "data": {
            "ticketStatusChanged": {
                "type": "STATUS_CHANGED",
                "toStatus": "IN_PROGRESS",
                "ticket": {"reference": ticket["reference"], "status": "IN_PROGRESS"},
            }
        }
    }
    assert report["runButton"].startswith("Stop"), report["runButton"]
    # It came over one graphql-transport-ws socket whose connection_init carried the Headers tab's JSON.
    [socket] = report["sockets"]
    assert socket["url"] == f"ws://{urlsplit(server).netloc}/graphql"
    assert socket["connectionInit"] == {"Authorization": f"Bearer {token}"}
    assert socket["sent"][:2] == ["connection_init", "subscribe"]
    assert socket["received"][0] == "connection_ack" and "next" in socket["received"], socket

    # Every request stayed on the server, and the page's scripts and styles came from our asset route.
    assert report["offHost"] == []
    assert {urlsplit(url).hostname for url in report["requests"]} == {"127.0.0.1"}
    served = {urlsplit(url).path for url in report["requests"] if "/graphiql-assets/" in url}
    assert served == {f"/graphiql-assets/{name}" for name in asset_names()}, report["requests"]
    assert report["consoleErrors"] == []
    assert screenshot.stat().st_size > 10_000
    print(f"GraphiQL browser check: {report['steps']} ms, screenshot {screenshot}")
