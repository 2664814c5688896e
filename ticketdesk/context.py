"""The per-request Context (viewer, loaders, settings) and the typed Info alias resolvers take."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from strawberry.types import Info as StrawberryInfo

from ticketdesk.auth import Viewer, require
from ticketdesk.errors import Unauthenticated
from ticketdesk.models.enums import Role
from ticketdesk.resolvers.loaders import Loaders
from ticketdesk.settings import Settings

if TYPE_CHECKING:
    from ticketdesk.subscriptions.hub import EventHub


@dataclass
class Context:
    """What every resolver of one request (or one subscription event) may use."""

    settings: Settings
    hub: EventHub
    viewer: Viewer | None
    auth_error: Unauthenticated | None = None
    loaders: Loaders = field(default_factory=Loaders)
    # WebSocket only: the `connection_init` payload, which carries the token there.
    connection_params: dict[str, Any] | None = None

    def require(self, *roles: Role) -> Viewer:
        """The authenticated viewer, refused (UNAUTHENTICATED / FORBIDDEN) unless in one of `roles`."""
        return require(self.viewer, self.auth_error, *roles)


Info: TypeAlias = StrawberryInfo[Context, Any]
