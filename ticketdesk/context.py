"""The per-request Context (viewer, loaders, settings) and the typed Info alias resolvers take."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from strawberry.types import Info as StrawberryInfo

from ticketdesk.auth import Viewer, require
from ticketdesk.errors import Unauthenticated
from ticketdesk.models.enums import Role
from ticketdesk.resolvers.loaders import Loaders
from ticketdesk.settings import Settings

if TYPE_CHECKING:
    from ticketdesk.models import TicketEvent

Publish: TypeAlias = Callable[[Sequence["TicketEvent"]], Awaitable[None]]


async def _publish_nothing(events: Sequence[TicketEvent]) -> None:
    return None


@dataclass
class Context:
    """What every resolver of one request (or one subscription event) may use."""

    settings: Settings
    viewer: Viewer | None
    auth_error: Unauthenticated | None = None
    loaders: Loaders = field(default_factory=Loaders)
    # Called with each mutation's events after its transaction committed.
    publish: Publish = _publish_nothing

    def require(self, *roles: Role) -> Viewer:
        """The authenticated viewer, refused (UNAUTHENTICATED / FORBIDDEN) unless in one of `roles`."""
        return require(self.viewer, self.auth_error, *roles)


Info: TypeAlias = StrawberryInfo[Context, Any]
