"""Batch loads behind the per-request DataLoaders: each relation of a page of tickets costs one query,
whatever the page size. Each takes the keys of one batch and answers in the same order."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias, TypeVar

from tortoise.models import Model

from ticketdesk.models import AITransfer, Attachment, EscalationRequest, Feedback, Message, Principal, Ticket

M = TypeVar("M", bound=Model)
Keys: TypeAlias = Sequence[uuid.UUID]


def _grouped(model: type[M], key: str) -> Callable[[Keys], Awaitable[list[list[M]]]]:
    async def load(keys: Keys) -> list[list[M]]:
        groups: dict[Any, list[M]] = defaultdict(list)
        for row in await model.filter(**{f"{key}__in": list(keys)}):
            groups[getattr(row, key)].append(row)
        return [groups.get(k, []) for k in keys]

    return load


def _single(model: type[M], key: str) -> Callable[[Keys], Awaitable[list[M | None]]]:
    async def load(keys: Keys) -> list[M | None]:
        rows = {getattr(row, key): row for row in await model.filter(**{f"{key}__in": list(keys)})}
        return [rows.get(k) for k in keys]

    return load


principals_by_id = _single(Principal, "id")
tickets_by_id = _single(Ticket, "id")
messages_by_ticket = _grouped(Message, "ticket_id")
message_by_id = _single(Message, "id")
attachments_by_ticket = _grouped(Attachment, "ticket_id")
attachments_by_message = _grouped(Attachment, "message_id")
attachment_by_id = _single(Attachment, "id")
escalations_by_ticket = _grouped(EscalationRequest, "ticket_id")
escalation_by_id = _single(EscalationRequest, "id")
feedback_by_ticket = _single(Feedback, "ticket_id")
transfer_by_ticket = _single(AITransfer, "ticket_id")
