"""graphql-http's audit suite (the GraphQL-over-HTTP spec's conformance checks) against a production-mode server
under uvicorn: no error (MUST) and no warning (SHOULD); MAY items are notices and may stay."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import make_settings, served_app

AUDIT_DIR = Path(__file__).parent / "audit"


@pytest.fixture
def node() -> str:
    """node's path, or a skip naming what is missing."""
    node = shutil.which("node")
    if node is None or not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        pytest.skip("the GraphQL-over-HTTP audit needs node and graphql-http: run tests/audit/setup")
    return node


async def test_graphql_http_audit_finds_no_error_and_no_warning(database_url: str, node: str) -> None:
    settings = make_settings(database_url, env="production", jwt_secret="a-production-secret-of-at-least-32-bytes!")
    async with served_app(settings) as clients:
        process = await asyncio.create_subprocess_exec(
            node,
            str(AUDIT_DIR / "audit.mjs"),
            str(clients.http.base_url.join("/graphql")),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    results = [json.loads(line) for line in out.decode().splitlines()]
    assert len(results) > 50  # the suite ran, not an empty shell
    findings = [result for result in results if result["status"] in ("error", "warn")]
    assert findings == []
