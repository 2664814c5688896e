"""Who may call what: the policy's table applied to every operation, and tokens that are missing, bad or expired.

The matrix reads ticketdesk.policy.PERMISSIONS, the table the schema's gate applies; a sample call per
operation lives here, so an operation added without a policy line or a sample fails a test. The contract's
own role table is pinned separately, so the policy cannot drift from it unnoticed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import graphql
import jwt
import pytest
import strawberry

from tests.conftest import Caller, Clients
from tests.subscriptions.wsclient import SUBSCRIPTIONS
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role
from ticketdesk.policy import PERMISSIONS
from ticketdesk.schema import export_sdl
from ticketdesk.schema.gate import gated, ungated_fields

# Each query and mutation with variables that are valid for any caller (a missing ticket at worst);
# subscriptions are tried over WebSocket in tests/subscriptions/test_connection.py.
MISSING = str(uuid.uuid4())
OPERATIONS: dict[str, tuple[str, dict[str, object]]] = {
    "viewer": ("{ viewer { id } }", {}),
    "ticket": ("query($id: ID!) { ticket(id: $id) { id } }", {"id": MISSING}),
    "tickets": ("{ tickets { totalCount } }", {}),
    "ticketCounts": ("{ ticketCounts { total } }", {}),
    "analyzeConversation": (
        '{ analyzeConversation(messages: [{role: CUSTOMER, content: "hi"}]) { shouldEscalate } }',
        {},
    ),
    "agents": ("{ agents { id } }", {}),
    "events": ("{ events(first: 1) { edges { cursor } } }", {}),
    "createInboundSource": ('mutation { createInboundSource(name: "Not A Name!") { errors { code } } }', {}),
    "webhooks": ("{ webhooks { id } }", {}),
    "webhookDeliveries": (
        "query($id: ID!) { webhookDeliveries(webhookId: $id) { nodes { id } } }",
        {"id": MISSING},
    ),
    "createWebhook": ('mutation { createWebhook(input: {url: "ftp://nowhere"}) { errors { code } } }', {}),
    "updateWebhook": (
        "mutation($id: ID!) { updateWebhook(id: $id, input: {enabled: false}) { errors { code } } }",
        {"id": MISSING},
    ),
    "deleteWebhook": ("mutation($id: ID!) { deleteWebhook(id: $id) { errors { code } } }", {"id": MISSING}),
    "rotateWebhookSecret": (
        "mutation($id: ID!) { rotateWebhookSecret(id: $id) { errors { code } } }",
        {"id": MISSING},
    ),
    "redeliverWebhook": (
        "mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { errors { code } } }",
        {"id": MISSING},
    ),
    "createTicket": (
        'mutation($c: ID) { createTicket(input: {subject: "s", description: "d", category: OTHER, '
        "customerId: $c}) { errors { code } } }",
        {},
    ),
    "createFromAITransfer": (
        'mutation($c: ID) { createFromAITransfer(input: {conversationId: "c", summaryOfIssue: "s", '
        "customerId: $c}) { errors { code } } }",
        {},
    ),
    "updateTicket": (
        'mutation($id: ID!) { updateTicket(id: $id, input: {subject: "x"}) { errors { code } } }',
        {"id": MISSING},
    ),
    "changeTicketStatus": (
        "mutation($id: ID!) { changeTicketStatus(id: $id, status: CLOSED) { errors { code } } }",
        {"id": MISSING},
    ),
    "assignTicket": ("mutation($id: ID!) { assignTicket(id: $id) { errors { code } } }", {"id": MISSING}),
    "addMessage": ('mutation($id: ID!) { addMessage(ticketId: $id, body: "b") { errors { code } } }', {"id": MISSING}),
    "addInternalNote": (
        'mutation($id: ID!) { addInternalNote(ticketId: $id, body: "b") { errors { code } } }',
        {"id": MISSING},
    ),
    "requestEscalation": (
        'mutation($id: ID!) { requestEscalation(ticketId: $id, reason: "r", targetPriority: HIGH) '
        "{ errors { code } } }",
        {"id": MISSING},
    ),
    "decideEscalation": (
        "mutation($id: ID!) { decideEscalation(id: $id, approve: true) { errors { code } } }",
        {"id": MISSING},
    ),
    "submitFeedback": (
        "mutation($id: ID!) { submitFeedback(ticketId: $id, rating: 5) { errors { code } } }",
        {"id": MISSING},
    ),
    # Sent as JSON, which carries no file: refused in the payload (the multipart upload is in test_attachments).
    "uploadAttachment": (
        "mutation($file: Upload!) { uploadAttachment(file: $file) { errors { code } } }",
        {"file": "not a file"},
    ),
}
PEOPLE = {Role.CUSTOMER, Role.AGENT, Role.ADMIN}
# API.md's "Who is calling" table, operation by operation.
CONTRACT: dict[str, set[Role]] = {
    "viewer": set(Role),
    "ticket": PEOPLE,
    "tickets": PEOPLE,
    "ticketCounts": PEOPLE,
    "analyzeConversation": set(Role),
    "agents": {Role.AGENT, Role.ADMIN},
    "events": {Role.AGENT, Role.ADMIN, Role.SERVICE},
    "createInboundSource": {Role.ADMIN},
    "webhooks": {Role.ADMIN},
    "webhookDeliveries": {Role.ADMIN},
    "createWebhook": {Role.ADMIN},
    "updateWebhook": {Role.ADMIN},
    "deleteWebhook": {Role.ADMIN},
    "rotateWebhookSecret": {Role.ADMIN},
    "redeliverWebhook": {Role.ADMIN},  # "events is the paged event log for staff and services"
    "createTicket": set(Role),
    "createFromAITransfer": {Role.CUSTOMER, Role.SERVICE},
    "updateTicket": {Role.AGENT, Role.ADMIN},
    "changeTicketStatus": PEOPLE,
    "assignTicket": {Role.AGENT, Role.ADMIN},
    "addMessage": PEOPLE,
    "addInternalNote": {Role.AGENT, Role.ADMIN},
    "requestEscalation": PEOPLE,
    "decideEscalation": {Role.ADMIN},
    "submitFeedback": {Role.CUSTOMER},
    "uploadAttachment": PEOPLE,
    "ticketEvents": PEOPLE,
    "ticketStatusChanged": PEOPLE,
}


def test_authorization_policy_names_every_operation_and_only_those() -> None:
    schema = graphql.build_schema(export_sdl())
    roots = [schema.query_type, schema.mutation_type, schema.subscription_type]
    operations = {name for root in roots if root is not None for name in root.fields}
    assert set(PERMISSIONS) == operations
    assert set(OPERATIONS) | set(SUBSCRIPTIONS) == operations, "add a sample call for each new operation"


def test_authorization_operation_without_a_policy_line_is_refused_where_it_is_declared() -> None:
    with pytest.raises(LookupError, match=r"Query\.backDoor has no entry in ticketdesk\.policy\.PERMISSIONS"):

        @gated
        @strawberry.type(description="A root with an operation the policy does not know.")
        class Query:
            @strawberry.field(description="Unlisted.")
            def back_door(self) -> int:
                return 1


def test_authorization_root_type_without_the_gate_is_found() -> None:
    @strawberry.type(description="A root type someone forgot to gate.")
    class Query:
        @strawberry.field(description="Listed, but ungated here.")
        def viewer(self) -> int:
            return 1

    assert ungated_fields(Query) == ["Query.viewer"]


def test_authorization_policy_grants_what_the_contract_says() -> None:
    assert {operation: set(roles) for operation, roles in PERMISSIONS.items()} == CONTRACT


MATRIX = [(op, role) for op in OPERATIONS for role in Role]


@pytest.mark.parametrize(("operation", "role"), MATRIX, ids=[f"{o}-{r.value}" for o, r in MATRIX])
async def test_authorization_matrix(app_clients: Clients, operation: str, role: Role) -> None:
    caller = app_clients.as_role(role)
    query, variables = OPERATIONS[operation]
    if role is not Role.CUSTOMER and "$c" in query:
        variables = {"c": str(uuid.uuid4())}
    body = await caller.post(query, variables)
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    if role in PERMISSIONS[operation]:
        assert codes == [], body
        assert body["data"][operation] is not None or operation == "ticket"
    else:
        assert codes == ["FORBIDDEN"], body


@pytest.mark.parametrize("operation", list(OPERATIONS))
async def test_authorization_without_token_is_unauthenticated(app_clients: Clients, operation: str) -> None:
    query, variables = OPERATIONS[operation]
    body = await app_clients.anonymous().post(query, variables)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


def _raw(settings_secret: str, **claims: object) -> str:
    return jwt.encode(claims, settings_secret, algorithm="HS256")


@pytest.mark.parametrize(
    "kind", ["expired", "bad-signature", "garbage", "no-exp", "bad-role", "bad-sub", "basic-scheme"]
)
async def test_authorization_bad_tokens_are_unauthenticated(app_clients: Clients, kind: str) -> None:
    secret = app_clients.settings.jwt_secret
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    sub = str(uuid.uuid4())
    tokens = {
        "expired": mint_token(app_clients.settings, Role.AGENT, uuid.uuid4(), lifetime=dt.timedelta(seconds=-5)),
        "bad-signature": _raw("another-secret-that-is-long-enough-for-hs256", sub=sub, role="agent", exp=later),
        "garbage": "not.a.jwt",
        "no-exp": _raw(secret, sub=sub, role="agent"),
        "bad-role": _raw(secret, sub=sub, role="superuser", exp=later),
        "bad-sub": _raw(secret, sub="alice", role="agent", exp=later),
    }
    if kind == "basic-scheme":
        response = await app_clients.http.post(
            "/graphql", json={"query": "{ viewer { id } }"}, headers={"Authorization": "Basic abc"}
        )
        body = response.json()
    else:
        body = await app_clients.anonymous(tokens[kind]).post("{ viewer { id } }")
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"]


async def test_authorization_role_claim_is_case_insensitive(app_clients: Clients) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    token = _raw(app_clients.settings.jwt_secret, sub=str(uuid.uuid4()), role="Agent", exp=later)
    body = await Caller(app_clients.http, uuid.uuid4(), None, token).data("{ viewer { role } }")
    assert body["viewer"]["role"] == "AGENT"


async def test_authorization_a_token_accepted_before_is_refused_once_it_expires(app_clients: Clients) -> None:
    # Verified tokens are remembered between requests; expiry must still end them.
    token = mint_token(app_clients.settings, Role.AGENT, uuid.uuid4(), lifetime=dt.timedelta(seconds=2))
    caller = app_clients.anonymous(token)
    assert (await caller.data("{ viewer { role } }"))["viewer"]["role"] == "AGENT"
    await asyncio.sleep(2.1)
    body = await caller.post("{ viewer { role } }")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert "expired" in body["errors"][0]["message"]
