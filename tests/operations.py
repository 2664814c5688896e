"""GraphQL operations the tests send, as a client would write them."""

from __future__ import annotations

from typing import Any

TICKET_FIELDS = """
  id reference number customerId subject description status priority category source
  createdAt updatedAt resolvedAt assignee { id name }
"""

CREATE_TICKET = f"""
mutation Create($input: CreateTicketInput!) {{
  createTicket(input: $input) {{ ticket {{ {TICKET_FIELDS} }} errors {{ code message field }} }}
}}"""

AI_TRANSFER = f"""
mutation Transfer($input: AITransferInput!) {{
  createFromAITransfer(input: $input) {{
    ticket {{ {TICKET_FIELDS} messages {{ senderType senderId body }} aiTransfer {{
      conversationId summaryOfIssue suggestedResolution customerContext }} }}
    errors {{ code message field }}
  }}
}}"""

UPDATE_TICKET = f"""
mutation Update($id: ID!, $input: UpdateTicketInput!) {{
  updateTicket(id: $id, input: $input) {{ ticket {{ {TICKET_FIELDS} }} errors {{ code message field }} }}
}}"""

CHANGE_STATUS = f"""
mutation Status($id: ID!, $status: TicketStatus!, $note: String) {{
  changeTicketStatus(id: $id, status: $status, note: $note) {{
    ticket {{ {TICKET_FIELDS} }} errors {{ code message field }}
  }}
}}"""

ASSIGN = f"""
mutation Assign($id: ID!, $agentId: ID) {{
  assignTicket(id: $id, agentId: $agentId) {{ ticket {{ {TICKET_FIELDS} }} errors {{ code message field }} }}
}}"""

ADD_MESSAGE = f"""
mutation Message($ticketId: ID!, $body: String!, $urls: [String!]) {{
  addMessage(ticketId: $ticketId, body: $body, attachmentUrls: $urls) {{
    message {{ id ticketId senderId senderType body internal attachments {{ url filename }} }}
    ticket {{ {TICKET_FIELDS} }}
    errors {{ code message field }}
  }}
}}"""

ADD_NOTE = """
mutation Note($ticketId: ID!, $body: String!) {
  addInternalNote(ticketId: $ticketId, body: $body) {
    message { id body internal senderType } errors { code message field }
  }
}"""

REQUEST_ESCALATION = """
mutation Escalate($ticketId: ID!, $reason: String!, $target: TicketPriority!) {
  requestEscalation(ticketId: $ticketId, reason: $reason, targetPriority: $target) {
    escalation { id ticketId reason targetPriority status requestedBy decidedBy { id } decidedAt }
    ticket { id priority }
    errors { code message field }
  }
}"""

DECIDE_ESCALATION = """
mutation Decide($id: ID!, $approve: Boolean!, $note: String) {
  decideEscalation(id: $id, approve: $approve, note: $note) {
    escalation { id status decisionNote decidedAt decidedBy { id name } }
    ticket { id priority }
    errors { code message field }
  }
}"""

SUBMIT_FEEDBACK = """
mutation Feedback($ticketId: ID!, $rating: Int!, $comment: String) {
  submitFeedback(ticketId: $ticketId, rating: $rating, comment: $comment) {
    feedback { rating comment createdAt } ticket { id feedback { rating } } errors { code message field }
  }
}"""

GET_TICKET = f"""
query Ticket($id: ID!) {{
  ticket(id: $id) {{
    {TICKET_FIELDS}
    messages {{ body internal senderType }}
    timeline {{ edges {{ cursor node {{ type fromStatus toStatus actorRole message {{ body internal }} }} }} }}
  }}
}}"""

LIST_TICKETS = """
query List($filter: TicketFilter, $orderBy: TicketOrder, $first: Int, $after: String, $last: Int,
           $before: String, $offset: Int) {
  tickets(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before,
          offset: $offset) {
    totalCount
    edges { cursor node { id number priority status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def ticket_input(**overrides: Any) -> dict[str, Any]:
    """A valid createTicket input; override what the test is about."""
    values: dict[str, Any] = {
        "subject": "App keeps crashing",
        "description": "Happens when I try to transfer money",
        "category": "APP_ERROR",
    }
    values.update(overrides)
    return values
