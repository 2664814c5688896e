"""The AI concierge's hand-off to a human: createFromAITransfer."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError

from ticketdesk.errors import BadUserInput, validation
from ticketdesk.models import AITransfer, Message, Ticket
from ticketdesk.models.analysis import Analysis, analyze
from ticketdesk.models.enums import DEFAULT_PRIORITY, Category, EventType, Priority, SenderType, Source
from ticketdesk.models.events import Change
from ticketdesk.models.messages import BODY_MAX
from ticketdesk.models.search import index_messages
from ticketdesk.parsing import parse_text
from ticketdesk.policy import HANDOFF_SENDERS, check_priority
from ticketdesk.resolvers.people import customer_for
from ticketdesk.resolvers.tickets import insert_ticket
from ticketdesk.resolvers.transaction import Actor, transaction
from ticketdesk.resolvers.validation import clean_json, clean_optional_text, clean_text, clean_timestamp

CONVERSATION_ID_MAX = 255


@dataclass(frozen=True)
class ConversationLine:
    """One line of the AI conversation as the app sent it."""

    role: SenderType
    content: str
    timestamp: dt.datetime | None = None


def analyze_conversation(lines: list[ConversationLine], summary: str = "") -> Analysis:
    """Escalation analysis of the customer's own words: their lines and the summary, never the AI's."""
    return analyze([summary, *(line.content for line in lines if line.role is SenderType.CUSTOMER)])


def analyze_messages(lines: list[ConversationLine], *, max_lines: int) -> Analysis:
    """analyzeConversation: at most `max_lines` lines of clean text (BAD_USER_INPUT otherwise)."""
    if len(lines) > max_lines:
        raise BadUserInput(f"`messages` takes at most {max_lines} lines; {len(lines)} were given.")
    return analyze_conversation(
        [
            ConversationLine(line.role, parse_text(line.content, f"messages.{i}.content", limit=BODY_MAX))
            for i, line in enumerate(lines)
        ]
    )


@dataclass(frozen=True)
class Handoff:
    """What createFromAITransfer hands over, as the client sent it."""

    conversation_id: str
    summary_of_issue: str
    category: Category | None = None
    priority: Priority | None = None
    history: list[ConversationLine] = field(default_factory=list)
    suggested_resolution: str | None = None
    customer_context: dict[str, Any] | None = None
    customer_id: uuid.UUID | None = None


def _clean_line(line: ConversationLine, field: str) -> ConversationLine:
    if line.role not in HANDOFF_SENDERS:
        raise validation(
            f"{field}.role must be CUSTOMER or AI: a handed-over conversation holds no staff or system lines.",
            f"{field}.role",
        )
    return ConversationLine(
        line.role, clean_text(line.content, f"{field}.content"), clean_timestamp(line.timestamp, f"{field}.timestamp")
    )


async def _existing(customer_id: uuid.UUID, conversation_id: str) -> Ticket | None:
    transfer = await AITransfer.filter(customer_id=customer_id, conversation_id=conversation_id).first()
    return await Ticket.get(id=transfer.ticket_id) if transfer is not None else None


async def create_from_ai_transfer(actor: Actor, handoff: Handoff) -> Ticket:
    """createFromAITransfer: store the conversation as a ticket, once per (customer, conversation id)."""
    conversation = clean_text(handoff.conversation_id, "conversationId", limit=CONVERSATION_ID_MAX)
    summary = clean_text(handoff.summary_of_issue, "summaryOfIssue")
    resolution = clean_optional_text(handoff.suggested_resolution, "suggestedResolution")
    limit = actor.settings.max_conversation_lines
    if len(handoff.history) > limit:
        raise validation(f"conversationHistory may hold at most {limit} lines.", "conversationHistory")
    lines = [_clean_line(line, f"conversationHistory.{i}") for i, line in enumerate(handoff.history)]
    customer_context = clean_json(handoff.customer_context, "customerContext", limit=actor.settings.max_json_bytes)
    check_priority(actor.viewer, handoff.priority, "priority")
    owner = await customer_for(actor.viewer, handoff.customer_id)
    if (replay := await _existing(owner, conversation)) is not None:
        return replay
    analysis = analyze_conversation(lines, summary)
    category = handoff.category or analysis.category
    priority = handoff.priority or max(analysis.priority, DEFAULT_PRIORITY[category], key=lambda p: p.rank)
    try:
        async with transaction(actor) as tx:
            ticket = await insert_ticket(
                customer_id=owner,
                subject=analysis.suggested_subject,
                description=summary,
                category=category,
                priority=priority,
                source=Source.AI_TRANSFER,
            )
            now = dt.datetime.now(dt.UTC)
            history = [
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
            await Message.bulk_create(history)
            await index_messages(history, limit=actor.settings.search_text_limit)
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
            await tx.record(ticket, Change(EventType.CREATED))
    except IntegrityError:
        # A concurrent retry of the same conversation committed first; answer with its ticket.
        if (replay := await _existing(owner, conversation)) is not None:
            return replay
        raise
    return ticket
