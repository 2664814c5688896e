"""What customers see of staff's side: no e-mail addresses, decision notes, others' reasons, or notes' traces."""

from __future__ import annotations

import datetime as dt

from tests.conftest import Caller
from tests.helpers import create
from tests.operations import ADD_NOTE, ASSIGN, DECIDE_ESCALATION, REQUEST_ESCALATION

ESCALATIONS = """query($id: ID!) { ticket(id: $id) {
  updatedAt assignee { email } escalations { reason decisionNote requestedBy decidedBy { name email } } } }"""


async def _escalation(caller: Caller, ticket_id: str, reason: str) -> str:
    data = await caller.data(REQUEST_ESCALATION, {"ticketId": ticket_id, "reason": reason, "target": "HIGH"})
    assert data["requestEscalation"]["errors"] == [], data
    escalation_id: str = data["requestEscalation"]["escalation"]["id"]
    return escalation_id


async def test_privacy_customer_sees_no_staff_detail(customer: Caller, agent: Caller, admin: Caller) -> None:
    ticket = await create(customer, category="APP_ERROR")
    await agent.data(ASSIGN, {"id": ticket["id"], "agentId": str(agent.id)})
    mine = await _escalation(customer, ticket["id"], "Money is missing since Monday")
    await admin.data(DECIDE_ESCALATION, {"id": mine, "approve": False, "note": "Customer is a known chargeback abuser"})
    await _escalation(agent, ticket["id"], "VIP customer, legal is watching")

    seen = (await customer.data(ESCALATIONS, {"id": ticket["id"]}))["ticket"]
    assert seen["assignee"] == {"email": None}
    assert seen["escalations"] == [
        {
            "reason": "Money is missing since Monday",
            "decisionNote": None,
            "requestedBy": str(customer.id),
            "decidedBy": {"name": "Ada Admin", "email": None},
        },
        {"reason": "", "decisionNote": None, "requestedBy": str(agent.id), "decidedBy": None},
    ]

    staff = (await agent.data(ESCALATIONS, {"id": ticket["id"]}))["ticket"]
    assert staff["assignee"] == {"email": "bob@bank.example"}
    assert [e["reason"] for e in staff["escalations"]] == [
        "Money is missing since Monday",
        "VIP customer, legal is watching",
    ]
    assert staff["escalations"][0]["decisionNote"] == "Customer is a known chargeback abuser"
    assert staff["escalations"][0]["decidedBy"]["email"] == "ada@bank.example"


async def test_privacy_an_internal_note_leaves_updated_at_alone(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    before = (await customer.data(ESCALATIONS, {"id": ticket["id"]}))["ticket"]["updatedAt"]
    data = await agent.data(ADD_NOTE, {"ticketId": ticket["id"], "body": "Looks like fraud to me"})
    assert data["addInternalNote"]["errors"] == []
    after = (await customer.data(ESCALATIONS, {"id": ticket["id"]}))["ticket"]["updatedAt"]
    assert dt.datetime.fromisoformat(after) == dt.datetime.fromisoformat(before)
