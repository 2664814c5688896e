"""The ASGI application: `create_app(settings)` builds it; `app` is what `uvicorn ticketdesk.app:app` serves."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from tortoise.context import TortoiseContext

from ticketdesk.auth import Viewer, bearer_token, decode_token
from ticketdesk.context import Context
from ticketdesk.errors import Unauthenticated
from ticketdesk.graphiql import asset_routes, default_cache_dir, graphiql_page
from ticketdesk.models.store import open_store, ping
from ticketdesk.resolvers.people import upsert_viewer
from ticketdesk.schema import build_schema
from ticketdesk.settings import Settings

log = logging.getLogger("ticketdesk")


class TicketdeskGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with ticketdesk's per-request context."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            build_schema(development=settings.development, introspection=settings.introspection_enabled),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allowed_origins=settings.cors_origins,
            **kwargs,
        )
        self.settings = settings
        # Claims already stored, so a steady stream of requests costs no extra writes.
        self._known: set[tuple[object, ...]] = set()
        self._graphiql_html: str | None = None

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL loading its assets from this app (see ticketdesk.graphiql), built on first use."""
        if self._graphiql_html is None:
            self._graphiql_html = graphiql_page()
        return HTMLResponse(self._graphiql_html)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        """Authenticate the request and build its context; a bad token fails only the fields that need one."""
        viewer: Viewer | None = None
        error: Unauthenticated | None = None
        try:
            token = bearer_token(request.headers)
            if token is not None:
                viewer = decode_token(token, self.settings)
        except Unauthenticated as exc:
            error = exc
        if viewer is not None:
            await self._remember(viewer)
        return Context(settings=self.settings, viewer=viewer, auth_error=error)

    async def _remember(self, viewer: Viewer) -> None:
        key = (viewer.id, viewer.role, viewer.name, viewer.email)
        if key not in self._known:
            await upsert_viewer(viewer)
            self._known.add(key)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; its lifespan opens the store (applying migrations when configured) and closes it."""
    settings = settings or Settings()
    graphql = TicketdeskGraphQL(settings)
    store: dict[str, TortoiseContext] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store["db"] = await open_store(settings.database_url, migrate=settings.migrate_on_start)
        log.info("ticketdesk ready (%s, store %s)", settings.env, settings.database_url.split("://", 1)[0])
        try:
            yield
        finally:
            await store.pop("db").close_connections()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        db = store.get("db")
        database_up = db is not None and await ping(db)
        body = {"status": "ok" if database_up else "unavailable", "database": "up" if database_up else "down"}
        return JSONResponse(body, status_code=200 if database_up else 503)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *(asset_routes(default_cache_dir()) if settings.graphiql_enabled else []),
        ],
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            )
        ],
        lifespan=lifespan,
    )


def __getattr__(name: str) -> Any:
    # `ticketdesk.app:app` is built on first access, so importing this module reads no settings.
    if name == "app":
        return create_app()
    raise AttributeError(name)
