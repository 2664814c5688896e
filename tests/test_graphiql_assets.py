"""GraphiQL's local assets without a network: pinned fetch and cache, asset routes, and the rewritten page."""

from __future__ import annotations

import base64
import hashlib
import http.server
import io
import json
import logging
import re
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from strawberry.http.ides import get_graphql_ide_html

from ticketdesk import graphiql
from ticketdesk.app import create_app
from ticketdesk.graphiql import AssetError, Package
from ticketdesk.settings import Settings

CONTENT = b"window.Thing = 'pinned';\n"


def sri(data: bytes, algorithm: str = "sha384") -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, data).digest()).decode()


def tarball(files: dict[str, bytes]) -> bytes:
    """A gzipped tarball laid out like npm's: every file under package/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(f"package/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@dataclass
class Registry:
    """A local stand-in for registry.npmjs.org serving one tarball."""

    url: str
    tgz: bytes
    hits: list[str]


@pytest.fixture
def registry() -> Iterator[Registry]:
    tgz = tarball({"dist/thing.min.js": CONTENT, "package.json": b"{}"})
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            found = self.path == "/thing/-/thing-1.0.0.tgz"
            self.send_response(200 if found else 404)
            self.send_header("Content-Length", str(len(tgz) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(tgz)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Registry(f"http://127.0.0.1:{server.server_address[1]}", tgz, hits)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def pin(monkeypatch: pytest.MonkeyPatch, integrity: str, path: str = "dist/thing.min.js") -> None:
    """Make the module's manifest one package, `thing@1.0.0`, served as thing-1.0.0.min.js."""
    package = Package("thing", "1.0.0", integrity, ((path, "thing-1.0.0.min.js"),))
    monkeypatch.setattr(graphiql, "PACKAGES", (package,))


def test_fetch_extracts_verifies_and_then_does_nothing(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, sri(registry.tgz, "sha512"))
    cache = tmp_path / "cache"
    graphiql.fetch_assets(cache, registry=registry.url)
    assert (cache / "thing-1.0.0.min.js").read_bytes() == CONTENT
    manifest = json.loads((cache / "manifest.json").read_text())
    assert manifest["files"] == {"thing-1.0.0.min.js": hashlib.sha256(CONTENT).hexdigest()}
    assert sorted(p.name for p in cache.iterdir()) == ["manifest.json", "thing-1.0.0.min.js"]
    assert [p.name for p in tmp_path.iterdir()] == ["cache"]  # no staging left behind
    assert graphiql.assets_ready(cache)

    graphiql.fetch_assets(cache, registry=registry.url)
    assert registry.hits == ["/thing/-/thing-1.0.0.tgz"]  # the second call found a valid cache


def test_fetch_refuses_a_tarball_that_misses_its_pin(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, sri(b"some other tarball", "sha512"))
    cache = tmp_path / "cache"
    with pytest.raises(AssetError, match="does not match the pinned integrity"):
        graphiql.fetch_assets(cache, registry=registry.url)
    assert registry.hits == ["/thing/-/thing-1.0.0.tgz"]
    assert list(tmp_path.iterdir()) == []  # nothing of the refused tarball was kept
    assert not graphiql.assets_ready(cache)


def test_fetch_refuses_a_tarball_without_the_pinned_file(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, sri(registry.tgz, "sha512"), path="dist/../../etc/passwd")
    with pytest.raises(AssetError, match="has no file"):
        graphiql.fetch_assets(tmp_path / "cache", registry=registry.url)
    assert list(tmp_path.iterdir()) == []


def test_corrupted_cache_is_noticed_and_replaced(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin(monkeypatch, sri(registry.tgz, "sha512"))
    cache = tmp_path / "cache"
    graphiql.fetch_assets(cache, registry=registry.url)
    (cache / "thing-1.0.0.min.js").write_bytes(b"alert('tampered');\n")
    assert not graphiql.assets_ready(cache)

    graphiql.fetch_assets(cache, registry=registry.url)
    assert len(registry.hits) == 2
    assert (cache / "thing-1.0.0.min.js").read_bytes() == CONTENT
    assert graphiql.assets_ready(cache)
    assert [p.name for p in tmp_path.iterdir()] == ["cache"]


def test_unreachable_registry_raises_oserror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pin(monkeypatch, "sha512-AAAA")
    with pytest.raises(OSError):
        graphiql.fetch_assets(tmp_path / "cache", registry="http://127.0.0.1:9", timeout=5)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def fake_cache(tmp_path: Path) -> Path:
    """A valid cache for the real manifest, with stand-in file contents (no network needed)."""
    cache = tmp_path / "assets"
    cache.mkdir()
    digests = {}
    for name in graphiql.asset_names():
        (cache / name).write_bytes(f"/* {name} */\n".encode())
        digests[name] = hashlib.sha256((cache / name).read_bytes()).hexdigest()
    manifest = {"manifest": graphiql.manifest_hash(), "files": digests}
    (cache / "manifest.json").write_text(json.dumps(manifest))
    assert graphiql.assets_ready(cache)
    return cache


async def test_asset_routes_serve_only_manifest_names(fake_cache: Path) -> None:
    app = Starlette(routes=graphiql.asset_routes(fake_cache))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/graphiql-assets/graphiql-3.8.3.min.js")
        assert response.status_code == 200
        assert response.content == b"/* graphiql-3.8.3.min.js */\n"
        assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        assert "immutable" in response.headers["cache-control"]
        css = await client.get("/graphiql-assets/graphiql-3.8.3.min.css")
        assert css.headers["content-type"] == "text/css; charset=utf-8"

        (fake_cache.parent / "secret.txt").write_text("secret")
        for name in ("manifest.json", "nope.js", "..%2Fsecret.txt", "%2E%2E/secret.txt", "../secret.txt"):
            response = await client.get(f"/graphiql-assets/{name}")
            assert response.status_code == 404, name
            assert b"secret" not in response.content


def test_page_points_at_local_assets_when_present(fake_cache: Path) -> None:
    html = graphiql.graphiql_html(fake_cache, assets_available=True, cdn_intended=False)
    assert "unpkg.com" not in html
    tags = re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"(/[^\"]+|https?://[^\"]+)\"[^>]*>", html)
    assert sorted(tags) == sorted(f"/graphiql-assets/{name}" for name in graphiql.asset_names())
    for name in graphiql.asset_names():
        # Each local tag carries the SRI hash of the file this cache serves, not the CDN's.
        tag = re.search(rf"<[^>]*/graphiql-assets/{re.escape(name)}\"[^>]*>", html)
        assert tag is not None
        assert f'integrity="{sri((fake_cache / name).read_bytes())}"' in tag.group(0)


def test_page_falls_back_to_the_cdn_when_absent(tmp_path: Path) -> None:
    html = graphiql.graphiql_html(tmp_path, assets_available=False, cdn_intended=False)
    assert "/graphiql-assets/" not in html
    for package in graphiql.PACKAGES:
        for path, _ in package.files:
            assert f'"{package.cdn_url(path)}"' in html
    assert "ticketdesk fetch-graphiql" in html  # the placeholder tells whoever is stuck on "Loading..."

    intended = graphiql.graphiql_html(tmp_path, assets_available=False, cdn_intended=True)
    assert intended == get_graphql_ide_html("graphiql")


def test_missing_assets_warn_unless_the_cdn_is_intended(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="ticketdesk"):
        html = graphiql.graphiql_page(tmp_path / "empty", cdn_intended=False)
    assert "unpkg.com" in html
    assert "ticketdesk fetch-graphiql" in caplog.text

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ticketdesk"):
        graphiql.graphiql_page(tmp_path / "empty", cdn_intended=True)
    assert caplog.text == ""


def test_cache_dir_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TICKETDESK_GRAPHIQL_ASSETS", str(tmp_path / "here"))
    assert graphiql.cache_dir(Settings(_env_file=None)) == tmp_path / "here"
    monkeypatch.delenv("TICKETDESK_GRAPHIQL_ASSETS")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tmp_path / "ticketdesk" / f"graphiql-{graphiql.manifest_hash()}"
    assert graphiql.cache_dir(Settings(_env_file=None)) == expected


def test_pins_name_npm_tarballs() -> None:
    # The registry's tarball URLs (`npm view <pkg>@<ver> dist.tarball`), so the pins fetch what npm would.
    urls = [p.tarball_url(graphiql.DEFAULT_REGISTRY) for p in graphiql.PACKAGES]
    assert "https://registry.npmjs.org/@graphiql/plugin-explorer/-/plugin-explorer-1.0.2.tgz" in urls
    assert "https://registry.npmjs.org/react/-/react-18.2.0.tgz" in urls
    assert all(p.integrity.startswith("sha512-") for p in graphiql.PACKAGES)


async def test_app_serves_the_local_page_and_assets(fake_cache: Path) -> None:
    settings = Settings(database_url="sqlite://:memory:", env="development", graphiql_assets=fake_cache, _env_file=None)
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "/graphiql-assets/graphiql-3.8.3.min.js" in page.text
        assert "unpkg.com" not in page.text
        asset = await client.get("/graphiql-assets/react-18.2.0.production.min.js")
        assert asset.status_code == 200
