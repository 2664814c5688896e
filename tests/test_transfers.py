"""createFromAITransfer and analyzeConversation over the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Caller
from tests.helpers import event_types
from tests.operations import AI_TRANSFER


def transfer(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "conversationId": "conv-1",
        "summaryOfIssue": "Customer reports the account was hacked",
        "conversationHistory": [
            {"role": "CUSTOMER", "content": "My account was hacked!", "timestamp": "2026-11-28T09:00:00+00:00"},
            {
                "role": "AI",
                "content": "I understand this is critical. Let me escalate.",
                "timestamp": "2026-11-28T09:00:05+00:00",
            },
        ],
        "suggestedResolution": "Freeze the card and verify identity",
        "customerContext": {"accountStatus": "active", "recentTransactions": 12, "accountAge": "3 years"},
    }
    values.update(overrides)
    return values


async def test_ai_transfer_seed_flow_security(customer: Caller) -> None:
    data = await customer.data(AI_TRANSFER, {"input": transfer()})
    ticket = data["createFromAITransfer"]["ticket"]
    assert (ticket["subject"], ticket["category"], ticket["priority"], ticket["status"], ticket["source"]) == (
        "Account security issue - hacked",
        "SECURITY_CONCERN",
        "CRITICAL",
        "OPEN",
        "AI_TRANSFER",
    )
    assert ticket["description"] == "Customer reports the account was hacked"
    assert ticket["messages"] == [
        {"senderType": "CUSTOMER", "senderId": str(customer.id), "body": "My account was hacked!"},
        {"senderType": "AI", "senderId": None, "body": "I understand this is critical. Let me escalate."},
    ]
    assert ticket["aiTransfer"] == {
        "conversationId": "conv-1",
        "summaryOfIssue": "Customer reports the account was hacked",
        "suggestedResolution": "Freeze the card and verify identity",
        "customerContext": {"accountStatus": "active", "recentTransactions": 12, "accountAge": "3 years"},
    }
    assert await event_types(customer, ticket["id"]) == ["CREATED"]


async def test_ai_transfer_ignores_ai_lines_for_analysis(customer: Caller) -> None:
    history = [
        {"role": "CUSTOMER", "content": "How do I set up direct deposit?"},
        {"role": "AI", "content": "If you suspect fraud or your account was hacked, tell me."},
    ]
    data = await customer.data(
        AI_TRANSFER, {"input": transfer(summaryOfIssue="How do I set up direct deposit?", conversationHistory=history)}
    )
    ticket = data["createFromAITransfer"]["ticket"]
    assert (ticket["category"], ticket["priority"]) == ("FEATURE_QUESTION", "LOW")


async def test_ai_transfer_given_category_and_priority_win(customer: Caller) -> None:
    data = await customer.data(AI_TRANSFER, {"input": transfer(category="OTHER", priority="MEDIUM")})
    ticket = data["createFromAITransfer"]["ticket"]
    assert (ticket["category"], ticket["priority"]) == ("OTHER", "MEDIUM")


async def test_ai_transfer_retry_returns_same_ticket(customer: Caller, other_customer: Caller) -> None:
    first = (await customer.data(AI_TRANSFER, {"input": transfer()}))["createFromAITransfer"]["ticket"]
    again = (await customer.data(AI_TRANSFER, {"input": transfer()}))["createFromAITransfer"]["ticket"]
    theirs = (await other_customer.data(AI_TRANSFER, {"input": transfer()}))["createFromAITransfer"]["ticket"]
    assert again["id"] == first["id"]
    assert theirs["id"] != first["id"]
    assert len(again["messages"]) == 2
    assert await event_types(customer, first["id"]) == ["CREATED"]


async def test_ai_transfer_service_names_customer(service: Caller, customer: Caller) -> None:
    data = await service.data(AI_TRANSFER, {"input": transfer(customerId=str(customer.id))})
    ticket = data["createFromAITransfer"]["ticket"]
    assert ticket["customerId"] == str(customer.id)
    mine = await customer.data("{ tickets { nodes { id source } } }")
    assert mine["tickets"]["nodes"] == [{"id": ticket["id"], "source": "AI_TRANSFER"}]
    missing = await service.data(AI_TRANSFER, {"input": transfer(conversationId="conv-2")})
    assert [(e["code"], e["field"]) for e in missing["createFromAITransfer"]["errors"]] == [
        ("VALIDATION", ["customerId"])
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"conversationId": " "}, ["conversationId"]),
        ({"conversationId": "c" * 256}, ["conversationId"]),
        ({"summaryOfIssue": ""}, ["summaryOfIssue"]),
        ({"summaryOfIssue": "s" * 10_001}, ["summaryOfIssue"]),
        ({"conversationHistory": [{"role": "CUSTOMER", "content": "x" * 10_001}]}, ["conversationHistory.0.content"]),
    ],
)
async def test_ai_transfer_bad_input_is_validation(
    customer: Caller, overrides: dict[str, Any], field: list[str]
) -> None:
    data = await customer.data(AI_TRANSFER, {"input": transfer(**overrides)})
    assert [(e["code"], e["field"]) for e in data["createFromAITransfer"]["errors"]] == [("VALIDATION", field)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My account was hacked!", (True, "SECURITY_CONCERN", "CRITICAL")),
        ("My transfer didn't go through", (True, "BANKING_ISSUE", "HIGH")),
        ("I'm locked out of my account", (True, "ACCOUNT_ACCESS", "HIGH")),
        ("The app keeps crashing", (True, "APP_ERROR", "MEDIUM")),
        ("This is urgent!", (True, "OTHER", "HIGH")),
        ("How do I set up direct deposit?", (False, "FEATURE_QUESTION", "LOW")),
    ],
)
async def test_analyze_conversation_seed_examples(customer: Caller, text: str, expected: tuple[str, str, str]) -> None:
    data = await customer.data(
        "query($m: [ConversationMessageInput!]!) { analyzeConversation(messages: $m) "
        "{ shouldEscalate category priority matchedKeywords suggestedSubject } }",
        {"m": [{"role": "CUSTOMER", "content": text}, {"role": "AI", "content": "fraud hacked urgent"}]},
    )
    result = data["analyzeConversation"]
    assert (result["shouldEscalate"], result["category"], result["priority"]) == expected
    assert result["suggestedSubject"]
