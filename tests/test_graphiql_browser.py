"""GraphiQL in a real browser: a uvicorn server, its assets served locally, one query run through the UI.

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
from urllib.parse import urlsplit

import pytest

from ticketdesk.auth import mint_token
from ticketdesk.graphiql import asset_names, default_cache_dir, fetch_assets
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
    cache = default_cache_dir()
    try:
        fetch_assets(cache)
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


def test_graphiql_runs_a_query_with_local_assets_only(node: str, server: str, tmp_path: Path) -> None:
    viewer = uuid.uuid4()
    token = mint_token(Settings(), Role.CUSTOMER, viewer)
    screenshot = tmp_path / "graphiql.png"
    run = subprocess.run(
        [node, str(BROWSER_DIR / "graphiql_check.mjs"), f"{server}/graphql", str(screenshot)],
        env={**os.environ, "GRAPHIQL_TOKEN": token, "GRAPHIQL_QUERY": "{ viewer { id role } }"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert "error" not in report, f"{report['error']}\n(screenshot: {screenshot})"

    assert report["query"] == "{ viewer { id role } }"
    assert json.loads(report["headers"]) == {"Authorization": f"Bearer {token}"}
    assert json.loads(report["result"]) == {"data": {"viewer": {"id": str(viewer), "role": "CUSTOMER"}}}

    # Every request stayed on the server, and the page's scripts and styles came from our asset route.
    assert report["offHost"] == []
    assert {urlsplit(url).hostname for url in report["requests"]} == {"127.0.0.1"}
    served = {urlsplit(url).path for url in report["requests"] if "/graphiql-assets/" in url}
    assert served == {f"/graphiql-assets/{name}" for name in asset_names()}, report["requests"]
    assert report["consoleErrors"] == []
    assert screenshot.stat().st_size > 10_000
    print(f"GraphiQL browser check: {report['steps']} ms, screenshot {screenshot}")
