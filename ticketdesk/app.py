"""The ASGI application: `create_app(settings)` builds it; `app` is what `uvicorn ticketdesk.app:app` serves."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult
from tortoise.context import TortoiseContext

from ticketdesk.auth import Viewer, authenticated, bearer_token, decode_token
from ticketdesk.context import Context
from ticketdesk.errors import Unauthenticated
from ticketdesk.graphiql import asset_routes, cache_dir, graphiql_page
from ticketdesk.internals.strawberry import HTTPException, request_data_of
from ticketdesk.middleware import BodyLimit
from ticketdesk.models.store import open_store, ping
from ticketdesk.resolvers.people import upsert_viewer
from ticketdesk.schema import build_schema
from ticketdesk.schema.limits import Limits
from ticketdesk.settings import Settings
from ticketdesk.subscriptions.broker import Broker
from ticketdesk.subscriptions.hub import EventHub
from ticketdesk.websocket import PingingTransportWSHandler

log = logging.getLogger("ticketdesk")

# How many principals' claims each process remembers as stored.
KNOWN_PRINCIPALS = 10_000


class TicketdeskGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with ticketdesk's per-request context and WebSocket authentication."""

    graphql_transport_ws_handler_class = PingingTransportWSHandler

    def __init__(self, settings: Settings, hub: EventHub) -> None:
        super().__init__(
            build_schema(
                development=settings.development,
                introspection=settings.introspection_enabled,
                limits=Limits.of(settings),
            ),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allowed_origins=settings.cors_origins,
            keep_alive=True,  # graphql-ws (legacy) `ka` messages
            keep_alive_interval=settings.keepalive_seconds,
            connection_init_wait_timeout=dt.timedelta(seconds=settings.connection_init_timeout_seconds),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.settings = settings
        self.hub = hub
        # The claims stored most recently, so a steady stream of requests costs no extra writes; bounded, since
        # every new token subject would otherwise grow it for the life of the process.
        self._known: OrderedDict[tuple[object, ...], None] = OrderedDict()
        self._graphiql_html: str | None = None

    def decode_json(self, data: str | bytes) -> object:
        """JSON as strawberry reads it, but nesting too deep for the parser is a malformed body (400), not a 500."""
        try:
            return json.loads(data)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", data if isinstance(data, str) else "", 0) from None

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL loading its assets from this app (see ticketdesk.graphiql), built on first use."""
        if self._graphiql_html is None:
            self._graphiql_html = graphiql_page(cache_dir(self.settings), cdn_intended=self.settings.graphiql_cdn)
        return HTMLResponse(self._graphiql_html)

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Refuse a subscription sent over plain HTTP with a pointer to WebSocket (strawberry answers `null`)."""
        if _is_subscription(request_data_of(kwargs)):
            raise HTTPException(
                400, "Subscriptions run over WebSocket on /graphql (graphql-transport-ws or graphql-ws), not HTTP."
            )
        return await super().execute_single(*args, **kwargs)

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
        return Context(settings=self.settings, hub=self.hub, viewer=viewer, auth_error=error)

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate a WebSocket from its `connection_init` payload; refusal closes it with 4403."""
        try:
            token = bearer_token(context.connection_params or {})
            if token is not None:
                context.viewer = decode_token(token, self.settings)
            elif context.viewer is None:
                raise context.auth_error or Unauthenticated(
                    'Send {"Authorization": "Bearer <token>"} as the connection_init payload.'
                )
            authenticated(context.viewer, context.auth_error)
        except Unauthenticated as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from exc
        await self._remember(context.viewer)

    async def _remember(self, viewer: Viewer) -> None:
        key = (viewer.id, viewer.role, viewer.name, viewer.email)
        if key in self._known:
            self._known.move_to_end(key)
            return
        await upsert_viewer(viewer)
        self._known[key] = None
        if len(self._known) > KNOWN_PRINCIPALS:
            self._known.popitem(last=False)


def _is_subscription(request_data: GraphQLRequestData) -> bool:
    query = request_data.query
    if not query or "subscription" not in query:
        return False  # the common case costs no parse
    try:
        operation = get_operation_ast(parse(query), request_data.operation_name)
    except GraphQLError:
        return False  # strawberry reports the syntax error
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app; its lifespan opens the store (applying migrations when configured) and closes it."""
    settings = settings or Settings()
    hub = EventHub(
        Broker(settings.broadcast_url),
        poll_seconds=settings.event_poll_seconds,
        tap_limit=settings.subscriber_buffer,
    )
    graphql = TicketdeskGraphQL(settings, hub)
    store: dict[str, TortoiseContext] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store["db"] = await open_store(settings.database_url, migrate=settings.migrate_on_start)
        try:
            await hub.start()
            try:
                log.info(
                    "ticketdesk ready (%s, store %s, broker %s)",
                    settings.env,
                    settings.database_url.split("://", 1)[0],
                    settings.broadcast_url.split("://", 1)[0],
                )
                yield
            finally:
                # Subscriptions complete first, then the store they read from closes.
                await hub.stop()
        finally:
            await store.pop("db").close_connections()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        db = store.get("db")
        database_up = db is not None and await ping(db)
        body = {
            "status": "ok" if database_up else "unavailable",
            "database": "up" if database_up else "down",
            # A broker outage only delays cross-process delivery (the log is re-read), so it is
            # reported here but does not take the process out of the load balancer.
            "broker": hub.broker.state,
            "subscriptions": hub.subscribers,
            # Each background task: running, or restarting after a failure (logged with its traceback).
            "tasks": hub.tasks.report(),
        }
        return JSONResponse(body, status_code=200 if database_up else 503)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
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
            Middleware(BodyLimit, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )


def __getattr__(name: str) -> Any:
    # `ticketdesk.app:app` is built on first access, so importing this module reads no settings.
    if name == "app":
        return create_app()
    raise AttributeError(name)
