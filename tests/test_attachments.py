"""Uploaded files: the mobile flow (upload, then createTicket / addMessage with attachmentIds), files joining a
ticket at once, internal files, private download links, and every refusal as VALIDATION on `file`."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import Caller, Clients, make_settings, running_app
from tests.helpers import create
from tests.uploads import PNG, UPLOAD, upload, upload_response
from ticketdesk import links
from ticketdesk.models.enums import Role

LOG = b"2026-12-01 09:14:03 ERROR TransferService: timeout after 30s (ref 7731)\n"
TICKET_FILES = """query($id: ID!) { ticket(id: $id) {
  updatedAt attachments { id ticketId messageId kind filename contentType size internal url }
  messages { body attachments { id filename } }
  timeline { edges { node { type attachment { id filename internal } } } } } }"""
CREATE_WITH_FILES = """mutation($input: CreateTicketInput!) {
  createTicket(input: $input) { ticket { id attachments { id filename url } } errors { code message field } } }"""
MESSAGE_WITH_FILES = """mutation($ticketId: ID!, $ids: [ID!]) {
  addMessage(ticketId: $ticketId, body: "Here is the screenshot", attachmentIds: $ids) {
    message { attachments { id filename } } errors { code message field } } }"""


async def _ticket(caller: Caller, ticket_id: str) -> dict[str, Any]:
    ticket: dict[str, Any] = (await caller.data(TICKET_FILES, {"id": ticket_id}))["ticket"]
    return ticket


async def test_mobile_flow_upload_then_create_ticket_with_the_file(customer: Caller) -> None:
    pending = await upload(customer, LOG, "error_log.txt", claimed_type="application/x-msdownload")
    file = pending["attachment"]
    assert pending["errors"] == [] and pending["ticket"] is None
    assert file["ticketId"] is None and file["kind"] == "FILE" and file["internal"] is False
    assert (file["filename"], file["contentType"], file["size"]) == ("error_log.txt", "text/plain", len(LOG))
    assert file["sha256"] == hashlib.sha256(LOG).hexdigest()

    data = await customer.data(
        CREATE_WITH_FILES,
        {
            "input": {
                "subject": "Transfer fails",
                "description": "Log attached",
                "category": "TRANSACTION_ERROR",
                "attachmentIds": [file["id"]],
            }
        },
    )
    assert data["createTicket"]["errors"] == []
    ticket = await _ticket(customer, data["createTicket"]["ticket"]["id"])
    [attached] = ticket["attachments"]
    assert attached["id"] == file["id"] and attached["ticketId"] == data["createTicket"]["ticket"]["id"]
    # Files given at creation are part of the ticket: no separate event.
    assert [edge["node"]["type"] for edge in ticket["timeline"]["edges"]] == ["CREATED"]

    response = await customer.http.get(attached["url"])
    assert response.status_code == 200 and response.content == LOG
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="error_log.txt"')
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"
    resumed = await customer.http.get(attached["url"], headers={"Range": "bytes=20-"})
    assert resumed.status_code == 206 and resumed.content == LOG[20:]
    assert resumed.headers["content-range"] == f"bytes 20-{len(LOG) - 1}/{len(LOG)}"
    tail = await customer.http.get(attached["url"], headers={"Range": "bytes=-5", "If-Range": f'"{file["sha256"]}"'})
    assert tail.status_code == 206 and tail.content == LOG[-5:]
    beyond = await customer.http.get(attached["url"], headers={"Range": f"bytes={len(LOG)}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(LOG)}"


async def test_a_message_carries_pending_uploads_and_a_failed_one_attaches_nothing(
    customer: Caller, other_customer: Caller
) -> None:
    ticket = await create(customer)
    mine = (await upload(customer, PNG, "screen.png"))["attachment"]["id"]
    theirs = (await upload(other_customer, PNG, "theirs.png"))["attachment"]["id"]

    refused = await customer.data(MESSAGE_WITH_FILES, {"ticketId": ticket["id"], "ids": [mine, theirs]})
    assert refused["addMessage"]["errors"][0]["code"] == "VALIDATION"
    assert refused["addMessage"]["errors"][0]["field"] == ["attachmentIds"]
    after_refusal = await _ticket(customer, ticket["id"])
    assert after_refusal["attachments"] == [] and after_refusal["messages"] == []

    sent = await customer.data(MESSAGE_WITH_FILES, {"ticketId": ticket["id"], "ids": [mine]})
    assert sent["addMessage"]["message"]["attachments"] == [{"id": mine, "filename": "screen.png"}]
    again = await customer.data(MESSAGE_WITH_FILES, {"ticketId": ticket["id"], "ids": [mine]})
    assert again["addMessage"]["errors"][0]["field"] == ["attachmentIds"]  # attached once, not twice


async def test_an_upload_to_a_ticket_joins_it_at_once_with_an_event(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    payload = await upload(customer, PNG, "card.png", ticket_id=ticket["id"])
    assert payload["attachment"]["ticketId"] == ticket["id"] and payload["ticket"]["id"] == ticket["id"]
    assert payload["ticket"]["updatedAt"] > ticket["updatedAt"]
    seen = await _ticket(agent, ticket["id"])
    assert [edge["node"]["type"] for edge in seen["timeline"]["edges"]] == ["CREATED", "ATTACHMENT_ADDED"]
    assert seen["timeline"]["edges"][1]["node"]["attachment"]["id"] == payload["attachment"]["id"]
    downloaded = await agent.http.get(seen["attachments"][0]["url"])
    assert downloaded.content == PNG and downloaded.headers["content-type"] == "image/png"


async def test_internal_files_are_never_seen_by_customers(customer: Caller, agent: Caller) -> None:
    ticket = await create(customer)
    refused = await upload(customer, PNG, "x.png", ticket_id=ticket["id"], internal=True)
    assert refused["errors"][0]["code"] == "FORBIDDEN" and refused["errors"][0]["field"] == ["internal"]

    before = (await _ticket(customer, ticket["id"]))["updatedAt"]
    internal = await upload(agent, LOG, "fraud-check.txt", ticket_id=ticket["id"], internal=True)
    assert internal["attachment"]["internal"] is True
    for_customer = await _ticket(customer, ticket["id"])
    assert for_customer["attachments"] == []
    assert [edge["node"]["type"] for edge in for_customer["timeline"]["edges"]] == ["CREATED"]
    assert for_customer["updatedAt"] == before
    for_agent = await _ticket(agent, ticket["id"])
    assert [attachment["internal"] for attachment in for_agent["attachments"]] == [True]
    # The agent's link in a customer's hands: refused, as any link not theirs.
    stolen = await customer.http.get(
        for_agent["attachments"][0]["url"], headers={"Authorization": f"Bearer {customer.token}"}
    )
    assert stolen.status_code == 403


async def test_download_links_are_refused_when_altered_expired_or_foreign(
    app_clients: Clients, customer: Caller, other_customer: Caller
) -> None:
    ticket = await create(customer)
    file = (await upload(customer, PNG, "statement.png", ticket_id=ticket["id"]))["attachment"]
    url: str = file["url"]
    assert (await customer.http.get(url)).status_code == 200
    altered = url[:-2] + ("AA" if not url.endswith("AA") else "BB")
    other_file = url.replace(file["id"], str(uuid.uuid4()))
    secret = app_clients.settings.jwt_secret
    expired = links.download_link(secret, "", uuid.UUID(file["id"]), customer.id, Role.CUSTOMER, -1)
    foreign = links.download_link(secret, "", uuid.UUID(file["id"]), other_customer.id, Role.CUSTOMER, 300)
    answers = [
        await customer.http.get(altered),
        await customer.http.get(other_file),
        await customer.http.get(expired),
        await customer.http.get(foreign),  # signed for someone who may not see the file
        await customer.http.get(url, headers={"Authorization": f"Bearer {other_customer.token}"}),
        await customer.http.get(url.split("?")[0]),
    ]
    assert [answer.status_code for answer in answers] == [403] * 6
    assert len({answer.text for answer in answers}) == 1  # the same answer whatever the reason


async def test_a_pending_upload_is_its_uploaders_alone(customer: Caller, other_customer: Caller) -> None:
    file = (await upload(customer, LOG))["attachment"]
    assert (await customer.http.get(file["url"])).content == LOG
    taken = await other_customer.data(
        CREATE_WITH_FILES,
        {"input": {"subject": "s", "description": "d", "category": "OTHER", "attachmentIds": [file["id"]]}},
    )
    assert taken["createTicket"]["errors"][0]["field"] == ["attachmentIds"]


@pytest.mark.parametrize(
    ("content", "filename", "words"),
    [
        (
            b"MZ\x90\x00" + bytes(5000),
            "invoice.pdf",
            "Allowed: PNG, JPEG, GIF, WebP, HEIC, PDF, plain text, CSV or JSON",
        ),
        (b"<html><script>alert(1)</script></html>", "notes.txt", "HTML, XML and SVG"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "logo.png", "HTML, XML and SVG"),
        (b"PK\x03\x04" + bytes(100), "logs.zip", "Allowed:"),
        (b"\xff\xfe\x00\x00binary", "dump.txt", "Allowed:"),
        (b"", "empty.txt", "empty"),
    ],
)
async def test_files_are_judged_by_their_content(customer: Caller, content: bytes, filename: str, words: str) -> None:
    payload = (await upload_response(customer, content, filename, claimed_type="image/png"))["data"]["uploadAttachment"]
    assert payload["attachment"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("VALIDATION", ["file"]) and words in error["message"], error


async def test_names_are_made_safe_and_match_the_content(customer: Caller) -> None:
    cases = {
        "../../etc/passwd": "passwd.png",
        "C:\\Users\\ann\\screen.png": "screen.png",
        "invoice\u202egnp.exe": "invoicegnp.exe.png",
        ".hidden.png": "hidden.png",
        "report.html": "report.html.png",
        "": "attachment.png",
        "a" * 300 + ".png": "a" * 96 + ".png",
    }
    for raw, safe in cases.items():
        file = (await upload(customer, PNG, raw))["attachment"]
        assert (file["filename"], file["contentType"]) == (safe, "image/png"), raw


@pytest.fixture
async def strict_app(database_url: str) -> AsyncIterator[Clients]:
    settings = make_settings(
        database_url, attachment_max_bytes=1024, attachment_max_per_ticket=2, attachment_max_pending=2
    )
    async with running_app(settings) as clients:
        yield clients


async def test_size_count_and_pending_limits(strict_app: Clients) -> None:
    customer = strict_app.as_role(Role.CUSTOMER)
    too_large = await upload(customer, PNG + bytes(2000), "big.png")
    assert too_large["errors"][0]["field"] == ["file"]
    assert "larger than the limit of 1 KiB" in too_large["errors"][0]["message"]
    assert (await upload(customer, b"x" * 1024, "exactly.txt"))["errors"] == []  # at the limit is allowed

    assert (await upload(customer, LOG, "second.txt"))["errors"] == []
    third = await upload(customer, LOG, "third.txt")
    assert third["errors"][0]["code"] == "VALIDATION" and "2 uploads not attached" in third["errors"][0]["message"]

    ticket = await create(customer)
    assert (await upload(customer, PNG, "1.png", ticket_id=ticket["id"]))["errors"] == []
    assert (await upload(customer, PNG, "2.png", ticket_id=ticket["id"]))["errors"] == []
    full = await upload(customer, PNG, "3.png", ticket_id=ticket["id"])
    assert full["errors"][0]["field"] == ["file"] and "at most 2 attachments" in full["errors"][0]["message"]


async def test_uploads_count_against_the_mutation_rate_limit(database_url: str) -> None:
    async with running_app(make_settings(database_url, rate_limit_mutations="2/minute")) as clients:
        customer = clients.as_role(Role.CUSTOMER)
        for _ in range(2):
            assert (await upload(customer, LOG))["errors"] == []
        refused = await upload_response(customer, LOG, status=429)  # refused whole, before the file is read
        assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_an_upload_without_a_valid_token_is_refused_unread(app_clients: Clients) -> None:
    for caller in (app_clients.anonymous(), app_clients.anonymous("not-a-token")):
        body = await upload_response(caller, LOG)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    service = app_clients.as_role(Role.SERVICE)
    assert (await upload_response(service, LOG))["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_multipart_is_for_uploads_only(customer: Caller) -> None:
    headers = {"Authorization": f"Bearer {customer.token}"}
    create = 'mutation { createTicket(input: {subject: "s", description: "d", category: OTHER}) { errors { code } } }'
    other = json.dumps({"query": create})
    response = await customer.http.post(
        "/graphql", data={"operations": other, "map": "{}"}, files={"x": ("a.txt", b"a")}, headers=headers
    )
    assert response.status_code == 400 and "only for uploadAttachment" in response.text
    without_files = await customer.http.post(
        "/graphql", files={"operations": (None, other), "map": (None, "{}")}, headers=headers
    )
    assert without_files.status_code == 400 and "only for uploadAttachment" in without_files.text
    malformed = [
        {"operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}), "map": "[1]"},
        {"operations": "not json", "map": json.dumps({"0": ["variables.file"]})},
        {"operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}), "map": json.dumps({"0": ["query"]})},
        {
            "operations": json.dumps({"query": UPLOAD, "variables": {"file": None}}),
            "map": json.dumps({"1": ["variables.file"]}),
        },
    ]
    for fields in malformed:
        answer = await customer.http.post("/graphql", data=fields, files={"0": ("a.txt", b"a")}, headers=headers)
        assert answer.status_code == 400, (fields, answer.text)
    as_json = await customer.post(UPLOAD, {"file": "a file, as text"})
    assert as_json["data"]["uploadAttachment"]["errors"][0]["field"] == ["file"]
    assert "multipart/form-data" in as_json["data"]["uploadAttachment"]["errors"][0]["message"]
