"""The per-request Context (viewer, loaders, settings, hub, feeds), the typed Info alias resolvers take, and the
WebSocket operation a subscription resolver delivers to."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from starlette.responses import Response
from strawberry.dataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from ticketdesk import models, policy
from ticketdesk.auth import Viewer, authenticated
from ticketdesk.errors import Unauthenticated
from ticketdesk.links import download_link
from ticketdesk.models.blobs import ContentStore
from ticketdesk.models.enums import Role
from ticketdesk.ratelimit import subject_key
from ticketdesk.resolvers import loaders
from ticketdesk.resolvers.timeline import TimelineRequest, load_timelines
from ticketdesk.resolvers.transaction import Actor
from ticketdesk.settings import Settings

if TYPE_CHECKING:
    from ticketdesk.subscriptions.feeds import Feeds
    from ticketdesk.subscriptions.hub import EventHub


K = TypeVar("K")
V = TypeVar("V")


class _Loader(Generic[K, V]):
    """A Loaders attribute: its DataLoader, built on first use (most requests and events use one or two)."""

    def __init__(self, load: Callable[[list[K]], Awaitable[Sequence[V]]]) -> None:
        self._load = load

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, loaders: Loaders, owner: type | None = None) -> DataLoader[K, V]:
        loader: DataLoader[K, V] = DataLoader(self._load)
        loaders.__dict__[self._name] = loader  # found before this descriptor from now on
        return loader


class Loaders:
    """`<Target>By<Key>Loader`s for one request (or subscription event)."""

    principal_by_id: _Loader[uuid.UUID, models.Principal | None] = _Loader(loaders.principals_by_id)
    ticket_by_id: _Loader[uuid.UUID, models.Ticket | None] = _Loader(loaders.tickets_by_id)
    messages_by_ticket: _Loader[uuid.UUID, list[models.Message]] = _Loader(loaders.messages_by_ticket)
    message_by_id: _Loader[uuid.UUID, models.Message | None] = _Loader(loaders.message_by_id)
    attachments_by_ticket: _Loader[uuid.UUID, list[models.Attachment]] = _Loader(loaders.attachments_by_ticket)
    attachments_by_message: _Loader[uuid.UUID, list[models.Attachment]] = _Loader(loaders.attachments_by_message)
    attachment_by_id: _Loader[uuid.UUID, models.Attachment | None] = _Loader(loaders.attachment_by_id)
    escalations_by_ticket: _Loader[uuid.UUID, list[models.EscalationRequest]] = _Loader(loaders.escalations_by_ticket)
    escalation_by_id: _Loader[uuid.UUID, models.EscalationRequest | None] = _Loader(loaders.escalation_by_id)
    feedback_by_ticket: _Loader[uuid.UUID, models.Feedback | None] = _Loader(loaders.feedback_by_ticket)
    transfer_by_ticket: _Loader[uuid.UUID, models.AITransfer | None] = _Loader(loaders.transfer_by_ticket)
    timelines: _Loader[TimelineRequest, list[models.TicketEvent]] = _Loader(load_timelines)


# The loaders of the WebSocket operation, or subscription event, this task is running. Every operation on a
# WebSocket shares the connection's Context but runs in a task of its own, so a context variable keeps each
# operation's loaders to itself.
_task_loaders: ContextVar[Loaders | None] = ContextVar("ticketdesk_task_loaders", default=None)


def fresh_loaders() -> Loaders:
    """New loaders for the operation or subscription event this task is about to run (older ones would serve
    stale rows)."""
    loaders = Loaders()
    _task_loaders.set(loaders)
    return loaders


@dataclass
class Context:
    """What every resolver of one request (or one subscription event) may use."""

    settings: Settings
    hub: EventHub
    feeds: Feeds
    files: ContentStore
    viewer: Viewer | None
    # Where download links point: TICKETDESK_PUBLIC_URL, else the address the request came to.
    base_url: str = ""
    auth_error: Unauthenticated | None = None
    request_loaders: Loaders = field(default_factory=Loaders)
    # WebSocket only: the `connection_init` payload, which carries the token there.
    connection_params: dict[str, Any] | None = None
    # The client's address, which counts for rate limits when no token does.
    client: str | None = None
    # HTTP only: the response being prepared, whose status and headers a refusal may set.
    response: Response | None = None

    @property
    def principal(self) -> tuple[str, Role | None]:
        """Whom rate limits count this request against: the token's subject, else the client's address."""
        if self.viewer is not None:
            return subject_key(self.viewer.id), self.viewer.role
        return f"address:{self.client or 'unknown'}", None

    def refuse_request(self, status: int, headers: dict[str, str]) -> None:
        """Answer the whole HTTP request with `status` and `headers` (a WebSocket has neither)."""
        if self.response is not None:
            self.response.status_code = status
            self.response.headers.update(headers)

    @property
    def loaders(self) -> Loaders:
        """This request's DataLoaders; in a subscription, those of the event being delivered."""
        return _task_loaders.get() or self.request_loaders

    def authorize(self, operation: str) -> Viewer:
        """The viewer, if the policy lets them call `operation`; else UNAUTHENTICATED / FORBIDDEN."""
        return policy.authorize(self.viewer, self.auth_error, operation)

    @property
    def caller(self) -> Viewer:
        """The authenticated viewer (every root field's policy gate has admitted them before anything runs)."""
        return authenticated(self.viewer, self.auth_error)

    @property
    def scope(self) -> policy.Scope:
        """What the caller may see."""
        return policy.scope_of(self.caller)

    def download_url(self, attachment_id: uuid.UUID) -> str:
        """A signed link through which the caller may download an uploaded file (ticketdesk.links)."""
        viewer = self.caller
        return download_link(
            self.settings.jwt_secret,
            self.base_url,
            attachment_id,
            viewer.id,
            viewer.role,
            self.settings.attachment_link_seconds,
        )

    @property
    def actor(self) -> Actor:
        """The caller as the resolvers' mutations take them: with the settings and this process's publisher."""
        return Actor(self.caller, self.settings, self.hub.publish)


Info: TypeAlias = StrawberryInfo[Context, Any]


Delivery: TypeAlias = Callable[[], Awaitable[None]]
"""A subscription's delivery: sends its messages until it ends (an error included, as a last message)."""


@dataclass(frozen=True)
class WebSocketOperation:
    """A subscription as its client sent it over a WebSocket, and how to send it a result message.

    Subscription resolvers deliver through `send` themselves: a feed renders each event once for all of
    its subscribers (ticketdesk.subscriptions.feeds), which strawberry's one execution per subscriber and
    event cannot do. Where the handler offers `hand_off`, a resolver that has admitted the subscription
    hands it its delivery and returns: the handler runs the delivery after strawberry's per-operation
    pipeline (executor, extensions, resolver frames) has ended, so a subscriber holds only what delivering
    needs.
    """

    query: str
    variables: Mapping[str, object] | None
    operation_name: str | None
    # Sends one `next` (graphql-transport-ws) or `data` (graphql-ws) message whose payload is this JSON text.
    send: Callable[[str], Awaitable[None]]
    hand_off: Callable[[Delivery], None] | None = None


_websocket_operation: ContextVar[WebSocketOperation | None] = ContextVar("ticketdesk_ws_operation", default=None)


def serve_websocket_operation(operation: WebSocketOperation) -> None:
    """Make `operation` the one this task runs, with loaders of its own (the WebSocket handlers call it in each
    operation's task: every operation on a socket shares the connection's Context)."""
    _websocket_operation.set(operation)
    fresh_loaders()


def websocket_operation() -> WebSocketOperation | None:
    """The WebSocket operation this task runs, if any."""
    return _websocket_operation.get()
