"""The AI concierge's hand-off to a human: createFromAITransfer."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError

from ticketdesk.auth import Viewer
from ticketdesk.context import Context
from ticketdesk.errors import validation
from ticketdesk.models import AITransfer, Message, Ticket
from ticketdesk.models.analysis import DEFAULT_PRIORITY, Analysis, analyze
from ticketdesk.models.enums import Category, EventType, Priority, SenderType, Source
from ticketdesk.models.events import Change
from ticketdesk.resolvers.people import customer_for
from ticketdesk.resolvers.tickets import insert_ticket
from ticketdesk.resolvers.unit import clean_optional_text, clean_text, write

CONVERSATION_ID_MAX = 255
HISTORY_MAX = 500


@dataclass(frozen=True)
class Line:
    """One line of the AI conversation as the app sent it."""

    role: SenderType
    content: str
    timestamp: dt.datetime | None = None


def analyze_lines(summary: str, lines: list[Line]) -> Analysis:
    """Escalation analysis of the customer's own words: their lines and the summary, never the AI's."""
    return analyze([summary, *(line.content for line in lines if line.role is SenderType.CUSTOMER)])


async def _existing(customer_id: uuid.UUID, conversation_id: str) -> Ticket | None:
    transfer = await AITransfer.filter(customer_id=customer_id, conversation_id=conversation_id).first()
    return await Ticket.get(id=transfer.ticket_id) if transfer is not None else None


async def create_from_ai_transfer(
    context: Context,
    viewer: Viewer,
    *,
    conversation_id: str,
    summary_of_issue: str,
    category: Category | None,
    priority: Priority | None,
    history: list[Line],
    suggested_resolution: str | None,
    customer_context: dict[str, Any] | None,
    customer_id: uuid.UUID | None,
) -> Ticket:
    """Store the conversation as a ticket, once per (customer, conversation id)."""
    conversation = clean_text(conversation_id, "conversationId", limit=CONVERSATION_ID_MAX)
    summary = clean_text(summary_of_issue, "summaryOfIssue")
    resolution = clean_optional_text(suggested_resolution, "suggestedResolution")
    if len(history) > HISTORY_MAX:
        raise validation(f"conversationHistory may hold at most {HISTORY_MAX} lines.", "conversationHistory")
    lines = [
        Line(line.role, clean_text(line.content, f"conversationHistory.{i}.content"), line.timestamp)
        for i, line in enumerate(history)
    ]
    owner = await customer_for(viewer, customer_id)
    if (replay := await _existing(owner, conversation)) is not None:
        return replay
    analysis = analyze_lines(summary, lines)
    category = category or analysis.category
    try:
        async with write(context, viewer) as unit:
            ticket = await insert_ticket(
                unit,
                customer_id=owner,
                subject=analysis.suggested_subject,
                description=summary,
                category=category,
                priority=priority or max(analysis.priority, DEFAULT_PRIORITY[category], key=lambda p: p.rank),
                source=Source.AI_TRANSFER,
            )
            now = dt.datetime.now(dt.UTC)
            await Message.bulk_create(
                [
                    Message(
                        ticket_id=ticket.id,
                        sender_id=owner if line.role is SenderType.CUSTOMER else None,
                        sender_type=line.role,
                        body=line.content,
                        created_at=line.timestamp or now,
                        position=i,
                    )
                    for i, line in enumerate(lines)
                ]
            )
            await AITransfer.create(
                ticket_id=ticket.id,
                customer_id=owner,
                conversation_id=conversation,
                summary_of_issue=summary,
                suggested_resolution=resolution,
                customer_context=customer_context,
                conversation_history=[
                    {
                        "role": line.role.value,
                        "content": line.content,
                        "timestamp": line.timestamp.isoformat() if line.timestamp else None,
                    }
                    for line in lines
                ],
            )
            await unit.record(ticket, Change(EventType.CREATED))
    except IntegrityError:
        # A concurrent retry of the same conversation committed first; answer with its ticket.
        if (replay := await _existing(owner, conversation)) is not None:
            return replay
        raise
    return ticket
