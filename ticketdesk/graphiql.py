"""GraphiQL without a CDN: its npm assets, pinned by integrity, cached locally and served by the app.

strawberry's GraphiQL page loads React, GraphiQL and the explorer plugin from unpkg.com, so behind a
firewall it never gets past "Loading...". `ticketdesk fetch-graphiql` (and `ticketdesk serve` when GraphiQL
is on and the cache is not valid) downloads the tarballs in `PACKAGES`, refuses any whose sha512 differs
from the pinned registry `dist.integrity`, and extracts only the served files; the app serves them under
`/graphiql-assets/<name>` and points the page there.

Settings (ticketdesk.settings): `graphiql_assets` (the cache directory; default
<XDG_CACHE_HOME or ~/.cache>/ticketdesk/graphiql-<manifest hash>), `npm_registry` (a mirror will do, since every
tarball is checked against its pin) and `graphiql_cdn` (loading the page from unpkg when the assets are missing
is intended).

Cached assets always win. Missing assets never break the page: it falls back to the unpkg URLs (with
strawberry's SRI hashes), which may still work. Unless TICKETDESK_GRAPHIQL_CDN=1 says that is intended, the
app logs a warning naming `ticketdesk fetch-graphiql` and the page's "Loading..." placeholder says the same.

Subscriptions need nothing extra: strawberry's page gives `GraphiQL.createFetcher` a `subscriptionUrl` (ws://
the same host/graphql), and graphiql's UMD build bundles graphql-ws, whose client it creates afresh for each
run with the Headers tab's JSON as the `connection_init` payload: where ticketdesk's WebSocket auth looks.
tests/test_graphiql_browser.py runs a subscription through the page to keep it that way.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import re
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from strawberry.http.ides import get_graphql_ide_html

from ticketdesk.settings import Settings

log = logging.getLogger("ticketdesk")

ROUTE_PREFIX = "/graphiql-assets"
CDN = "https://unpkg.com"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
MANIFEST_FILE = "manifest.json"
# Asset names carry the package version, so a pin bump changes the URL and a year of caching is safe.
CACHE_CONTROL = "public, max-age=31536000, immutable"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class Package:
    """One npm tarball: where it comes from, its pinned sha512, and which of its files are served as what."""

    name: str
    version: str
    integrity: str  # `npm view <name>@<version> dist.integrity`
    files: tuple[tuple[str, str], ...]  # (path inside the package, served asset name)

    def tarball_url(self, registry: str) -> str:
        """The tarball's URL on `registry`; on npmjs.org this is `npm view ... dist.tarball`."""
        return f"{registry.rstrip('/')}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    def cdn_url(self, path: str) -> str:
        """The unpkg URL strawberry's page uses for one of the package's files."""
        return f"{CDN}/{self.name}@{self.version}/{path}"


# What strawberry's graphiql.html (strawberry-graphql 0.341) loads; test_graphiql_assets fails on drift.
PACKAGES: tuple[Package, ...] = (
    Package("react", "18.2.0",
        "sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==",
        (("umd/react.production.min.js", "react-18.2.0.production.min.js"),)),
    Package("react-dom", "18.2.0",
        "sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==",
        (("umd/react-dom.production.min.js", "react-dom-18.2.0.production.min.js"),)),
    Package("js-cookie", "3.0.5",
        "sha512-cEiJEAEoIbWfCZYKWhVwFuvPX1gETRYPw6LlaTKoxD3s2AkXzkCjnp6h0V77ozyqj0jakteJ4YqDJT830+lVGw==",
        (("dist/js.cookie.min.js", "js-cookie-3.0.5.min.js"),)),
    Package("graphiql", "3.8.3",
        "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        (("graphiql.min.js", "graphiql-3.8.3.min.js"), ("graphiql.min.css", "graphiql-3.8.3.min.css"))),
    Package("@graphiql/plugin-explorer", "1.0.2",
        "sha512-9j+kg2UjtLZD5EBmGjeWHkoVVxtbShYg2DzbUVebibnZYZM/iMBEF4vaccXJIAm5KaomIPLx0aoNs4LbODyc3Q==",
        (("dist/index.umd.js", "plugin-explorer-1.0.2.umd.js"),
         ("dist/style.css", "plugin-explorer-1.0.2.css"))),
)  # fmt: skip


class AssetError(RuntimeError):
    """A tarball or cached file failed its integrity check, or lacks a file the manifest names."""


def manifest_hash() -> str:
    """A short hash of the pinned manifest, so a pin change gets a fresh default cache directory."""
    pins = [(p.name, p.version, p.integrity, p.files) for p in PACKAGES]
    return hashlib.sha256(json.dumps(pins).encode()).hexdigest()[:12]


def asset_names() -> dict[str, str]:
    """Served asset name -> media type, for every file of the manifest."""
    return {name: MEDIA_TYPES[Path(name).suffix] for p in PACKAGES for _, name in p.files}


def cache_dir(settings: Settings) -> Path:
    """The configured asset cache, else <XDG_CACHE_HOME or ~/.cache>/ticketdesk/graphiql-<manifest hash>."""
    if settings.graphiql_assets is not None:
        return settings.graphiql_assets.expanduser()
    cache_home = settings.xdg_cache_home or Path.home() / ".cache"
    return cache_home / "ticketdesk" / f"graphiql-{manifest_hash()}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assets_ready(cache_dir: Path) -> bool:
    """Whether `cache_dir` holds every asset of the manifest, each with the sha256 recorded at extraction."""
    try:
        recorded = json.loads((cache_dir / MANIFEST_FILE).read_text())
        files: dict[str, str] = recorded["files"]
        if recorded["manifest"] != manifest_hash() or set(files) != set(asset_names()):
            return False
        return all(_sha256(cache_dir / name) == digest for name, digest in files.items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _download(package: Package, registry: str, timeout: float) -> bytes:
    url = package.tarball_url(registry)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        data: bytes = response.read()
    algorithm, _, expected = package.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        # Nothing of it was written: the bytes are dropped here and the caller removes its temp dir.
        raise AssetError(
            f"{url}: {algorithm} {actual} does not match the pinned integrity {package.integrity}; "
            "refusing the tarball (a tampered mirror or a wrong pin in ticketdesk/graphiql.py)"
        )
    return data


def fetch_assets(cache_dir: Path, *, registry: str = DEFAULT_REGISTRY, timeout: float = 30.0) -> None:
    """Download, verify and extract the manifest's assets into `cache_dir`; a no-op when already valid."""
    if assets_ready(cache_dir):
        return
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed into place, so no reader ever sees half a cache.
    staging = Path(tempfile.mkdtemp(prefix=f".{cache_dir.name}-", dir=cache_dir.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the cache from a server running as another user
    try:
        digests: dict[str, str] = {}
        for package in PACKAGES:
            data = _download(package, registry, timeout)
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
                for path, name in package.files:
                    (staging / name).write_bytes(_member(tar, package, path))
                    digests[name] = _sha256(staging / name)
        manifest = {"manifest": manifest_hash(), "files": digests}
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        _install(staging, cache_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _member(tar: tarfile.TarFile, package: Package, path: str) -> bytes:
    # Read by exact member name and written under our own name: no path inside the tarball is trusted.
    try:
        member = tar.getmember(f"package/{path}")
    except KeyError:
        member = None
    source = tar.extractfile(member) if member is not None and member.isfile() else None
    if source is None:
        raise AssetError(f"{package.name}@{package.version} has no file package/{path}")
    return source.read()


def _install(staging: Path, cache_dir: Path) -> None:
    try:
        staging.rename(cache_dir)
        return
    except OSError:
        pass  # the target exists: a concurrent fetch finished first, or an invalid cache is in the way
    if assets_ready(cache_dir):
        return
    stale = Path(tempfile.mkdtemp(prefix=f".{cache_dir.name}-stale-", dir=cache_dir.parent))
    cache_dir.rename(stale / "old")
    staging.rename(cache_dir)
    shutil.rmtree(stale, ignore_errors=True)


def _sri(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


_TAG = re.compile(r"<(?:script|link)\b[^>]*>")
_URL = re.compile(r'\b(?:src|href)="(https://unpkg\.com/[^"]+)"')
_INTEGRITY = re.compile(r'\bintegrity="[^"]*"')
_PLACEHOLDER = ">Loading...</div>"


def graphiql_html(cache_dir: Path, *, assets_available: bool, cdn_intended: bool) -> str:
    """strawberry's GraphiQL page, pointed at our asset routes when the assets are cached, else at unpkg."""
    html = get_graphql_ide_html("graphiql")
    if not assets_available:
        if cdn_intended:
            return html
        hint = ">Loading... (if this stays, run `ticketdesk fetch-graphiql` on the server)</div>"
        return html.replace(_PLACEHOLDER, hint)
    local = {p.cdn_url(path): name for p in PACKAGES for path, name in p.files}

    def point_home(match: re.Match[str]) -> str:
        tag = match.group(0)
        url = _URL.search(tag)
        if url is None or url.group(1) not in local:
            return tag
        name = local[url.group(1)]
        # The SRI hash is recomputed from the file we serve, so it holds even if a pin bump changes bytes.
        tag = tag.replace(url.group(1), f"{ROUTE_PREFIX}/{name}")
        return _INTEGRITY.sub(f'integrity="{_sri(cache_dir / name)}"', tag)

    html = _TAG.sub(point_home, html)
    if leftover := sorted(set(_URL.findall(html))):
        log.warning("GraphiQL still loads %s from unpkg: pin it in ticketdesk/graphiql.py", leftover)
    return html


def graphiql_page(cache_dir: Path, *, cdn_intended: bool) -> str:
    """The page to serve: local when the cache is valid, else the CDN page (and a warning unless intended)."""
    available = assets_ready(cache_dir)
    if not available and not cdn_intended:
        log.warning(
            "GraphiQL assets are missing from %s, so the page loads them from unpkg.com (which firewalls "
            "block): run `ticketdesk fetch-graphiql`, or set TICKETDESK_GRAPHIQL_CDN=1 if that is intended",
            cache_dir,
        )
    return graphiql_html(cache_dir, assets_available=available, cdn_intended=cdn_intended)


def asset_routes(cache_dir: Path) -> list[Route]:
    """`GET /graphiql-assets/{name}` for the manifest's names only, with long-lived cache headers."""
    media_types = asset_names()

    async def serve(request: Request) -> Response:
        name = request.path_params["name"]
        # Only names from the manifest map to files, so no request can reach any other path.
        path = cache_dir / name if name in media_types else None
        if path is None or not path.is_file():
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(path, media_type=media_types[name], headers={"Cache-Control": CACHE_CONTROL})

    return [Route(f"{ROUTE_PREFIX}/{{name}}", serve, methods=["GET", "HEAD"])]


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def graphiql_security_headers(html: str) -> dict[str, str]:
    """The headers the GraphiQL page goes out with: a CSP that lets it load only what it names, no framing,
    no sniffing, no referrer."""
    # The page's own inline script by its hash, the assets from here (or from unpkg when it falls back there).
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    cdn = f" {CDN}" if CDN in html else ""
    policy = "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {hashes}{cdn}",
            # GraphiQL and its editor set styles from script, which only 'unsafe-inline' lets through.
            f"style-src 'self' 'unsafe-inline'{cdn}",
            "img-src 'self' data:",
            "font-src 'self' data:",
            # Queries over fetch, subscriptions over WebSocket, both to this origin.
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
