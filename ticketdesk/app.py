"""The ASGI application: `create_app(settings)` builds it; `app` is what `uvicorn ticketdesk.app:app` serves."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from tortoise.context import TortoiseContext

from ticketdesk import inbound, links
from ticketdesk.auth import TokenVerifier, bearer_token
from ticketdesk.downloads import download_endpoint
from ticketdesk.errors import Unauthenticated
from ticketdesk.graphiql import asset_routes, cache_dir
from ticketdesk.middleware import BodyLimit
from ticketdesk.models.blobs import ContentStore, open_content_store
from ticketdesk.models.files import sweep
from ticketdesk.models.store import open_store, ping
from ticketdesk.outbound import WebhookWorker
from ticketdesk.policy import OPERATORS
from ticketdesk.ratelimit import RateLimits
from ticketdesk.settings import Settings
from ticketdesk.subscriptions.broker import Broker
from ticketdesk.subscriptions.feeds import Feeds
from ticketdesk.subscriptions.hub import EventHub
from ticketdesk.supervisor import Supervisor
from ticketdesk.view import TicketdeskGraphQL

log = logging.getLogger("ticketdesk")

# Content nothing names is kept this long after an upload last touched it: longer than any upload takes to go
# from storing its bytes to committing the row that names them.
CONTENT_GRACE_SECONDS = 3600


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; its lifespan opens the store (applying migrations when configured) and closes it."""
    settings = settings or Settings()
    hub = EventHub(
        Broker(settings.broadcast_url), poll_seconds=settings.event_poll_seconds, tap_limit=settings.subscriber_buffer
    )
    feeds = Feeds(hub, limit=settings.subscriber_buffer, max_held=settings.max_subscriptions_per_principal)
    rates = RateLimits(settings)
    tokens = TokenVerifier(settings)
    files = open_content_store(settings.attachment_store)
    graphql = TicketdeskGraphQL(settings, hub, feeds, rates, tokens, files)
    store: dict[str, TortoiseContext] = {}
    # The app's own background work (the hub supervises its own tasks).
    tasks = Supervisor()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store["db"] = await open_store(settings.database_url, migrate=settings.migrate_on_start)
        try:
            await hub.start()
            tasks.start("ticketdesk-attachment-sweep", lambda: sweep_forever(settings, files))
            tasks.start("ticketdesk-webhooks", WebhookWorker(settings).run_forever)
            try:
                with settled_garbage_collector(settings.gc_young_threshold):
                    log.info(
                        "ticketdesk ready (%s, store %s, broker %s)",
                        settings.env,
                        settings.database_url.split("://", 1)[0],
                        settings.broadcast_url.split("://", 1)[0],
                    )
                    yield
            finally:
                # Subscriptions complete first, then the store they read from closes.
                await tasks.stop()
                await feeds.stop()
                await hub.stop()
                await rates.close()
        finally:
            await store.pop("db").close_connections()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        db = store.get("db")
        database_up = db is not None and await ping(db)
        status = 200 if database_up else 503
        if not _sees_operations(request, tokens):
            return JSONResponse({"status": "ok" if database_up else "unavailable"}, status_code=status)
        body = {
            "status": "ok" if database_up else "unavailable",
            "database": "up" if database_up else "down",
            # A broker outage only delays cross-process delivery (the log is re-read), so it is
            # reported here but does not take the process out of the load balancer.
            "broker": hub.broker.state,
            "subscriptions": feeds.subscribers,
            # Subscriptions that receive the same messages share a feed, which renders each event once.
            "feeds": feeds.count,
            # Each background task: running, or restarting after a failure (logged with its traceback).
            "tasks": {**hub.tasks.report(), **tasks.report()},
        }
        return JSONResponse(body, status_code=status)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route(f"{links.PATH}/{{id}}", download_endpoint(settings, tokens, files), methods=["GET", "HEAD"]),
            Route(inbound.PATH, inbound.inbound_endpoint(settings, rates, hub.publish), methods=["POST"]),
            WebSocketRoute("/graphql", graphql),
            *(asset_routes(cache_dir(settings)) if settings.graphiql_enabled else []),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            ),
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes, multipart_max_bytes=_multipart_max(settings)),
        ],
        lifespan=lifespan,
    )


def _multipart_max(settings: Settings) -> int:
    """The most an upload request may stream: its files at their limit, its fields, and room for part headers.
    ticketdesk.uploads stops reading each file at its own limit; this only bounds what a malformed body costs."""
    return settings.max_root_mutations * (settings.attachment_max_bytes + 64 * 1024) + 2 * settings.max_body_bytes


async def sweep_forever(settings: Settings, files: ContentStore) -> None:
    """Remove expired pending uploads and content nothing names, every TICKETDESK_ATTACHMENT_SWEEP_SECONDS."""
    while True:
        # Waits first: a process just started has nothing to sweep that the others (or its last run) left.
        await asyncio.sleep(settings.attachment_sweep_seconds)
        now = dt.datetime.now(dt.UTC)
        await sweep(
            files,
            pending_before=now - dt.timedelta(hours=settings.attachment_pending_hours),
            untouched_before=now - dt.timedelta(seconds=CONTENT_GRACE_SECONDS),
        )


@contextlib.contextmanager
def settled_garbage_collector(young_threshold: int) -> Iterator[None]:
    """While serving, keep the collector off what start-up built and collect the young generation less often.

    A request allocates thousands of short-lived objects; with CPython's defaults the collector ran several
    times per request and each older-generation pass walked every object the schema, the ORM and the
    libraries hold for good: a third of a page request's time went to it. Frozen objects are never scanned;
    garbage made later is still collected.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(young_threshold, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


LOOPBACK = frozenset({"127.0.0.1", "::1"})


def _sees_operations(request: Request, tokens: TokenVerifier) -> bool:
    """/readyz's details (broker, subscriptions, tasks) go to the host itself and to operators' tokens only."""
    if request.client is not None and request.client.host in LOOPBACK:
        return True
    try:
        token = bearer_token(request.headers)
        viewer = tokens.viewer(token) if token is not None else None
    except Unauthenticated:
        return False
    return viewer is not None and viewer.role in OPERATORS


def __getattr__(name: str) -> Any:
    # `ticketdesk.app:app` is built on first access, so importing this module reads no settings.
    if name == "app":
        return create_app()
    raise AttributeError(name)
