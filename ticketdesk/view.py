"""The GraphQL view: strawberry's ASGI view with ticketdesk's context, authentication and HTTP semantics.

- Every request is authenticated from its bearer token (WebSocket: the `connection_init` payload); a bad token
  fails only the fields that need one.
- GraphQL over HTTP: a client that accepts `application/graphql-response+json` gets that media type, and a
  request that fails before execution (unparsable, invalid, over a query limit, variables that do not
  coerce) gets HTTP 400 and no `data` entry; with `application/json` such errors stay in a 200, as the spec
  asks of that media type.
- A subscription sent over HTTP is refused with a pointer to WebSocket; GET queries only where enabled.
- `multipart/form-data` (the GraphQL multipart request spec) is read as a stream by ticketdesk.uploads, for
  uploadAttachment only; its files are spooled for the request and removed when it ends.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import FieldNode, GraphQLError, OperationType, get_operation_ast, parse
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from ticketdesk.auth import TokenVerifier, Viewer, authenticated, bearer_token
from ticketdesk.context import Context
from ticketdesk.errors import Unauthenticated
from ticketdesk.graphiql import cache_dir, graphiql_page, graphiql_security_headers
from ticketdesk.internals.strawberry import HTTPException, request_data_of
from ticketdesk.models.blobs import ContentStore
from ticketdesk.policy import PERMISSIONS
from ticketdesk.ratelimit import RateLimits, subject_key
from ticketdesk.resolvers.people import upsert_viewer
from ticketdesk.schema import build_schema
from ticketdesk.schema.limits import Limits
from ticketdesk.settings import Settings
from ticketdesk.subscriptions.feeds import Feeds
from ticketdesk.subscriptions.hub import EventHub
from ticketdesk.uploads import MalformedUpload, UploadLimits, receive
from ticketdesk.websocket import InitDeadlineWSHandler, PingingTransportWSHandler

log = logging.getLogger("ticketdesk")

# How many principals' claims each process remembers as stored.
KNOWN_PRINCIPALS = 10_000
GRAPHQL_RESPONSE = "application/graphql-response+json"
MULTIPART = "multipart/form-data"
UPLOAD_FIELD = "uploadAttachment"
ONLY_UPLOADS = (
    "multipart/form-data is accepted only for uploadAttachment mutations; send every other operation as "
    "application/json."
)


@dataclass
class _UploadRequest:
    """The multipart request this task serves, the folder its files are spooled to, and whether its body was
    read to the end."""

    request: Request
    spool: Path
    body_read: bool = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The request's body as it arrives; `body_read` once all of it was."""
        async for chunk in self.request.stream():
            yield chunk
        self.body_read = True


_upload_request: ContextVar[_UploadRequest | None] = ContextVar("ticketdesk_upload_request", default=None)


class TicketdeskGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with ticketdesk's per-request context and WebSocket authentication."""

    graphql_transport_ws_handler_class = PingingTransportWSHandler
    graphql_ws_handler_class = InitDeadlineWSHandler

    def __init__(
        self,
        settings: Settings,
        hub: EventHub,
        feeds: Feeds,
        rates: RateLimits,
        tokens: TokenVerifier,
        files: ContentStore,
    ) -> None:
        super().__init__(
            build_schema(
                development=settings.development,
                introspection=settings.introspection_enabled,
                limits=Limits.of(settings),
                rates=rates,
            ),
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=settings.get_queries_enabled,
            allowed_origins=settings.cors_origins,
            keep_alive=True,  # graphql-ws (legacy) `ka` messages
            keep_alive_interval=settings.keepalive_seconds,
            connection_init_wait_timeout=dt.timedelta(seconds=settings.connection_init_timeout_seconds),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            # Read by parse_multipart below, not by strawberry's form parsing (which holds whole files).
            multipart_uploads_enabled=True,
        )
        self.settings = settings
        self.hub = hub
        self.feeds = feeds
        self.rates = rates
        self.tokens = tokens
        self.files = files
        self.upload_limits = UploadLimits(
            max_bytes=settings.attachment_max_bytes,
            allowed_types=tuple(settings.attachment_types),
            max_files=settings.max_root_mutations,
            max_field_bytes=settings.max_body_bytes,
        )
        # The claims stored most recently, so a steady stream of requests costs no extra writes; bounded, since
        # every new token subject would otherwise grow it for the life of the process.
        self._known: OrderedDict[tuple[object, ...], None] = OrderedDict()
        self._graphiql_html: str | None = None

    def decode_json(self, data: str | bytes) -> object:
        """JSON as strawberry reads it; what it cannot take is a malformed body (400, or a closed WebSocket), not a
        500: nesting too deep to parse, integers too long to read, and anything but an object or a batch."""
        document = data if isinstance(data, str) else ""
        try:
            value = json.loads(data)
        except (RecursionError, ValueError) as exc:  # JSONDecodeError is a ValueError
            raise json.JSONDecodeError(f"not a JSON document ticketdesk reads: {exc}", document, 0) from None
        if not isinstance(value, dict | list):
            raise json.JSONDecodeError("a GraphQL request is a JSON object", document, 0)
        return value

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL loading its assets from this app (see ticketdesk.graphiql), built on first use, with a CSP."""
        if self._graphiql_html is None:
            self._graphiql_html = graphiql_page(cache_dir(self.settings), cdn_intended=self.settings.graphiql_cdn)
        return HTMLResponse(self._graphiql_html, headers=graphiql_security_headers(self._graphiql_html))

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """strawberry's run; a multipart request gets a spool folder, removed (with its files) when it ends."""
        if not isinstance(request, Request) or not request.headers.get("content-type", "").startswith(MULTIPART):
            return await super().run(request, context, root_value)
        with tempfile.TemporaryDirectory(prefix="ticketdesk-upload-", dir=self.settings.attachment_spool_dir) as spool:
            upload = _UploadRequest(request, Path(spool))
            token = _upload_request.set(upload)
            try:
                response = await super().run(request, context, root_value)
            except HTTPException as exc:  # answered here (as strawberry would) so it can close the connection
                response = PlainTextResponse(exc.reason, status_code=exc.status_code)
            except ClientDisconnect:  # an upload given up half-way (common on mobile): not a server error
                response = PlainTextResponse("The client went away before sending the whole body.", status_code=400)
            finally:
                _upload_request.reset(token)
        if not upload.body_read:
            # The answer came before the end of the body (a file over the limit, a refused caller): without this
            # the server would go on reading, and throwing away, all the client still sends (gigabytes, maybe).
            response.headers["Connection"] = "close"
        return response

    async def parse_multipart(self, request: Any) -> dict[str, Any]:
        """The GraphQL request of a multipart upload, read as a stream (ticketdesk.uploads)."""
        upload = _upload_request.get()
        if upload is None:
            raise HTTPException(400, ONLY_UPLOADS)
        _, options = parse_options_header(upload.request.headers.get("content-type", ""))
        boundary = options.get(b"boundary")
        if not boundary:
            raise HTTPException(400, "A multipart/form-data request needs a boundary in its Content-Type.")

        async def admit(operations: dict[str, Any], files_map: dict[str, list[str]]) -> bool:
            return await self._admit_upload(upload.request, operations)

        try:
            return await receive(upload.chunks(), boundary.decode("latin-1"), self.upload_limits, admit, upload.spool)
        except MalformedUpload as exc:
            raise HTTPException(400, str(exc)) from None

    async def _admit_upload(self, request: Request, operations: dict[str, Any]) -> bool:
        """Refuse (400) a multipart request for anything but uploadAttachment; answer whether its files are worth
        reading: not for a caller the operation will refuse anyway (no valid token, a role that may not upload,
        over the mutation rate limit), whose request then fails as the same JSON request would."""
        query = operations.get("query")
        if not isinstance(query, str):
            raise MalformedUpload("The operations field needs a query (a GraphQL document).")
        try:
            tokens = self.settings.max_query_tokens
            document = parse(query, no_location=True, max_lexical_tokens=tokens, max_comments=tokens)
        except GraphQLError as exc:
            raise MalformedUpload(f"The query does not parse: {exc.message}") from None
        name = operations.get("operationName")
        operation = get_operation_ast(document, name if isinstance(name, str) else None)
        if operation is None or operation.operation is not OperationType.MUTATION:
            raise MalformedUpload(ONLY_UPLOADS)
        fields = operation.selection_set.selections
        if not all(isinstance(field, FieldNode) and field.name.value == UPLOAD_FIELD for field in fields):
            raise MalformedUpload(ONLY_UPLOADS)
        try:
            token = bearer_token(request.headers)
            viewer = self.tokens.viewer(token) if token is not None else None
        except Unauthenticated:
            return False
        if viewer is None or viewer.role not in PERMISSIONS[UPLOAD_FIELD]:
            return False
        return await self.rates.allows_mutations(subject_key(viewer.id), viewer.role, len(fields))

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Refuse a subscription sent over plain HTTP with a pointer to WebSocket (strawberry answers `null`)."""
        if _is_subscription(request_data_of(kwargs), self.settings.max_query_tokens):
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
                viewer = self.tokens.viewer(token)
        except Unauthenticated as exc:
            error = exc
        if viewer is not None:
            await self._remember(viewer)
        sub_response = response if isinstance(response, Response) else None
        if sub_response is not None and isinstance(request, Request):
            # Read back in create_response, which strawberry hands only this sub-response.
            sub_response.media_type = GRAPHQL_RESPONSE if prefers_graphql_response(request) else None
        return Context(
            settings=self.settings,
            hub=self.hub,
            feeds=self.feeds,
            files=self.files,
            viewer=viewer,
            base_url=self.settings.public_url or _base_url(request),
            auth_error=error,
            client=request.client.host if request.client is not None else None,
            response=sub_response,
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """The response body; for `application/graphql-response+json`, a request error has no `data` entry."""
        body = await super().process_result(request, result)
        if prefers_graphql_response(request) and _is_request_error(result):
            body.pop("data", None)
        return body

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        """strawberry's response, in the negotiated media type; 400 for a request error in graphql-response+json."""
        response = super().create_response(response_data, sub_response)
        if sub_response.media_type == GRAPHQL_RESPONSE:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if isinstance(response_data, dict) and "data" not in response_data and sub_response.status_code is None:
                response.status_code = 400
        return response

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate a WebSocket from its `connection_init` payload; refusal closes it with 4403."""
        try:
            token = bearer_token(context.connection_params or {})
            if token is not None:
                context.viewer = self.tokens.viewer(token)
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


def _base_url(request: Request | WebSocket) -> str:
    """The scheme and host a request came to, as an http(s) address (a WebSocket's too)."""
    url = request.base_url
    scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
    return str(url.replace(scheme=scheme)).rstrip("/")


def _is_subscription(request_data: GraphQLRequestData, tokens: int) -> bool:
    query = request_data.query
    if not query or "subscription" not in query:
        return False  # the common case costs no parse
    try:
        # Under the same token limit as strawberry's own parse: this one runs before any limit is checked.
        document = parse(query, no_location=True, max_lexical_tokens=tokens, max_comments=tokens)
        operation = get_operation_ast(document, request_data.operation_name)
    except GraphQLError:
        return False  # strawberry reports the syntax error or the limit
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


def prefers_graphql_response(request: Request) -> bool:
    """Whether the client's Accept header ranks `application/graphql-response+json` at least as high as JSON."""
    ranks: dict[str, float] = {}
    for part in request.headers.get("accept", "").split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        ranks[media.lower()] = max(quality, ranks.get(media.lower(), 0.0))
    wanted = ranks.get(GRAPHQL_RESPONSE, 0.0)
    return wanted > 0 and wanted >= max(ranks.get("application/json", 0.0), ranks.get("*/*", 0.0))


def _is_request_error(result: ExecutionResult) -> bool:
    """A request that failed before execution: no data, and no error that belongs to a field."""
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors or ())
