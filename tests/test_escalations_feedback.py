"""requestEscalation / decideEscalation and submitFeedback."""

from __future__ import annotations

from tests.conftest import Caller
from tests.helpers import create, event_types, walk
from tests.operations import DECIDE_ESCALATION, REQUEST_ESCALATION, SUBMIT_FEEDBACK


async def escalate(caller: Caller, ticket_id: str, target: str = "CRITICAL") -> dict[str, object]:
    data = await caller.data(REQUEST_ESCALATION, {"ticketId": ticket_id, "reason": "Money missing", "target": target})
    payload: dict[str, object] = data["requestEscalation"]
    return payload


async def test_escalation_approved_raises_priority(customer: Caller, admin: Caller) -> None:
    ticket = await create(customer, category="APP_ERROR")
    request = await escalate(customer, ticket["id"])
    escalation = request["escalation"]
    assert isinstance(escalation, dict)
    assert (escalation["status"], escalation["targetPriority"], escalation["requestedBy"]) == (
        "PENDING",
        "CRITICAL",
        str(customer.id),
    )
    data = await admin.data(DECIDE_ESCALATION, {"id": escalation["id"], "approve": True, "note": "Agreed"})
    decided = data["decideEscalation"]
    assert decided["escalation"]["status"] == "APPROVED"
    assert decided["escalation"]["decidedBy"] == {"id": str(admin.id), "name": "Ada Admin"}
    assert decided["escalation"]["decisionNote"] == "Agreed"
    assert decided["ticket"]["priority"] == "CRITICAL"
    assert await event_types(admin, ticket["id"]) == [
        "CREATED",
        "ESCALATION_REQUESTED",
        "ESCALATION_DECIDED",
        "UPDATED",
    ]


async def test_escalation_approval_never_lowers_priority(customer: Caller, admin: Caller) -> None:
    ticket = await create(customer, category="SECURITY_CONCERN")
    request = await escalate(customer, ticket["id"], target="HIGH")
    data = await admin.data(DECIDE_ESCALATION, {"id": request["escalation"]["id"], "approve": True})  # type: ignore[index]
    assert data["decideEscalation"]["ticket"]["priority"] == "CRITICAL"
    assert await event_types(admin, ticket["id"]) == ["CREATED", "ESCALATION_REQUESTED", "ESCALATION_DECIDED"]


async def test_escalation_denied_keeps_priority(customer: Caller, admin: Caller) -> None:
    ticket = await create(customer, category="OTHER")
    request = await escalate(customer, ticket["id"])
    data = await admin.data(DECIDE_ESCALATION, {"id": request["escalation"]["id"], "approve": False})  # type: ignore[index]
    assert data["decideEscalation"]["escalation"]["status"] == "DENIED"
    assert data["decideEscalation"]["ticket"]["priority"] == "LOW"


async def test_escalation_one_pending_at_a_time(customer: Caller, agent: Caller, admin: Caller) -> None:
    ticket = await create(customer)
    first = await escalate(customer, ticket["id"])
    second = await escalate(agent, ticket["id"])
    assert [(e["code"], e["field"]) for e in second["errors"]] == [("CONFLICT", ["ticketId"])]  # type: ignore[union-attr,index]
    await admin.data(DECIDE_ESCALATION, {"id": first["escalation"]["id"], "approve": False})  # type: ignore[index]
    third = await escalate(agent, ticket["id"])
    assert third["errors"] == []


async def test_escalation_deciding_twice_is_conflict(customer: Caller, admin: Caller) -> None:
    ticket = await create(customer)
    request = await escalate(customer, ticket["id"])
    escalation_id = request["escalation"]["id"]  # type: ignore[index]
    await admin.data(DECIDE_ESCALATION, {"id": escalation_id, "approve": True})
    again = await admin.data(DECIDE_ESCALATION, {"id": escalation_id, "approve": False})
    assert [e["code"] for e in again["decideEscalation"]["errors"]] == ["CONFLICT"]
    missing = await admin.data(DECIDE_ESCALATION, {"id": "00000000-0000-0000-0000-000000000000", "approve": True})
    assert [e["code"] for e in missing["decideEscalation"]["errors"]] == ["NOT_FOUND"]


async def test_escalation_stranger_gets_not_found(customer: Caller, other_customer: Caller) -> None:
    ticket = await create(customer)
    payload = await escalate(other_customer, ticket["id"])
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]  # type: ignore[union-attr]


async def test_feedback_once_on_resolved_ticket(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    early = await customer.data(SUBMIT_FEEDBACK, {"ticketId": ticket["id"], "rating": 5})
    assert [e["code"] for e in early["submitFeedback"]["errors"]] == ["INVALID_TRANSITION"]
    await walk(agent, ticket["id"], "RESOLVED")
    data = await customer.data(SUBMIT_FEEDBACK, {"ticketId": ticket["id"], "rating": 4, "comment": "Quick help"})
    assert data["submitFeedback"]["feedback"]["rating"] == 4
    assert data["submitFeedback"]["ticket"]["feedback"] == {"rating": 4}
    again = await customer.data(SUBMIT_FEEDBACK, {"ticketId": ticket["id"], "rating": 1})
    assert [e["code"] for e in again["submitFeedback"]["errors"]] == ["CONFLICT"]
    assert await event_types(customer, ticket["id"]) == ["CREATED", "STATUS_CHANGED", "FEEDBACK_SUBMITTED"]


async def test_feedback_on_closed_ticket_and_rating_range(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "CLOSED")
    for rating in (0, 6, -1):
        data = await customer.data(SUBMIT_FEEDBACK, {"ticketId": ticket["id"], "rating": rating})
        assert [(e["code"], e["field"]) for e in data["submitFeedback"]["errors"]] == [("VALIDATION", ["rating"])]
    data = await customer.data(SUBMIT_FEEDBACK, {"ticketId": ticket["id"], "rating": 1})
    assert data["submitFeedback"]["errors"] == []


async def test_feedback_stranger_gets_not_found(customer: Caller, other_customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    await walk(agent, ticket["id"], "RESOLVED")
    data = await other_customer.data(SUBMIT_FEEDBACK, {"ticketId": ticket["id"], "rating": 5})
    assert [e["code"] for e in data["submitFeedback"]["errors"]] == ["NOT_FOUND"]
