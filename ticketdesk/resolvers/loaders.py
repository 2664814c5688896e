"""Per-request DataLoaders: each relation of a page of tickets costs one query, whatever the page size."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from ticketdesk.models import (
    AITransfer,
    Attachment,
    EscalationRequest,
    Feedback,
    Message,
    Principal,
    Ticket,
)

M = TypeVar("M", bound=Model)


def _grouped(model: type[M], key: str) -> Callable[[Sequence[uuid.UUID]], Awaitable[list[list[M]]]]:
    async def load(keys: Sequence[uuid.UUID]) -> list[list[M]]:
        groups: dict[Any, list[M]] = defaultdict(list)
        for row in await model.filter(**{f"{key}__in": list(keys)}):
            groups[getattr(row, key)].append(row)
        return [groups.get(k, []) for k in keys]

    return load


def _single(model: type[M], key: str) -> Callable[[Sequence[uuid.UUID]], Awaitable[list[M | None]]]:
    async def load(keys: Sequence[uuid.UUID]) -> list[M | None]:
        rows = {getattr(row, key): row for row in await model.filter(**{f"{key}__in": list(keys)})}
        return [rows.get(k) for k in keys]

    return load


def _key(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


@dataclass
class Loaders:
    """`<Target>By<Key>Loader`s, built fresh for each request (and each subscription event)."""

    principal_by_id: DataLoader[uuid.UUID, Principal | None] = field(
        default_factory=lambda: DataLoader(_single(Principal, "id"), cache_key_fn=_key)
    )
    ticket_by_id: DataLoader[uuid.UUID, Ticket | None] = field(
        default_factory=lambda: DataLoader(_single(Ticket, "id"), cache_key_fn=_key)
    )
    messages_by_ticket: DataLoader[uuid.UUID, list[Message]] = field(
        default_factory=lambda: DataLoader(_grouped(Message, "ticket_id"), cache_key_fn=_key)
    )
    attachments_by_ticket: DataLoader[uuid.UUID, list[Attachment]] = field(
        default_factory=lambda: DataLoader(_grouped(Attachment, "ticket_id"), cache_key_fn=_key)
    )
    attachments_by_message: DataLoader[uuid.UUID, list[Attachment]] = field(
        default_factory=lambda: DataLoader(_grouped(Attachment, "message_id"), cache_key_fn=_key)
    )
    escalations_by_ticket: DataLoader[uuid.UUID, list[EscalationRequest]] = field(
        default_factory=lambda: DataLoader(_grouped(EscalationRequest, "ticket_id"), cache_key_fn=_key)
    )
    feedback_by_ticket: DataLoader[uuid.UUID, Feedback | None] = field(
        default_factory=lambda: DataLoader(_single(Feedback, "ticket_id"), cache_key_fn=_key)
    )
    transfer_by_ticket: DataLoader[uuid.UUID, AITransfer | None] = field(
        default_factory=lambda: DataLoader(_single(AITransfer, "ticket_id"), cache_key_fn=_key)
    )
    message_by_id: DataLoader[uuid.UUID, Message | None] = field(
        default_factory=lambda: DataLoader(_single(Message, "id"), cache_key_fn=_key)
    )
    escalation_by_id: DataLoader[uuid.UUID, EscalationRequest | None] = field(
        default_factory=lambda: DataLoader(_single(EscalationRequest, "id"), cache_key_fn=_key)
    )
