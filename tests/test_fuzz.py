"""Generated queries and mutations (hypothesis-graphql) against a production-mode app: whatever they hold, no
answer is an internal error, a 5xx, or a logged exception.

IDs are drawn from the real ones (tickets by UUID and reference, escalations, principals) and from hostile
shapes; datetimes and JSON likewise. Each run sends 600 queries and 600 mutations, as a customer or an agent.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, queries

from tests.conftest import TEST_RATES, Caller, running_app
from ticketdesk.models.enums import Role
from ticketdesk.schema import export_sdl
from ticketdesk.settings import Settings

SCHEMA = graphql.build_schema(export_sdl())
HOSTILE_IDS = [
    "",
    " ",
    "TCK-",
    "TCK-0",
    "TCK-000001",
    "tck-1",
    "TCK-99999999999999999999",
    "TCK-\u00b2",
    "TCK-\u2460",
    "TCK-" + "9" * 5000,
    "00000000-0000-0000-0000-000000000000",
    "{12345678-1234-5678-1234-567812345678}",
    "urn:uuid:12345678-1234-5678-1234-567812345678",
    "\u0663" * 32,
    "' OR 1=1 --",
    "x" * 10_000,
    "\ud800",
    "a\x00b",
]
HOSTILE_DATETIMES = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-14:00",
    "2026-02-30T00:00:00Z",
    "2026-01-01",
    "2026-01-01T00:00:00",
    "not a date",
    "",
]


@dataclass
class World:
    """A production-mode app with a few real objects, and who calls it."""

    callers: list[Caller]
    ids: list[str]
    errors: list[logging.LogRecord]


class _Errors(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    config = Settings(
        database_url=database_url,
        env="production",
        jwt_secret="a-production-secret-of-at-least-32-bytes!",
        _env_file=None,
        **TEST_RATES,  # type: ignore[arg-type]
    )
    records: list[logging.LogRecord] = []
    handler = _Errors(records)
    logging.getLogger().addHandler(handler)
    try:
        async with running_app(config) as clients:
            customer, agent = clients.as_role(Role.CUSTOMER), clients.as_role(Role.AGENT)
            ids = [str(customer.id), str(agent.id), str(uuid.uuid4())]
            for n in range(2):
                created = await customer.data(
                    'mutation { createTicket(input: {subject: "s", description: "d", category: OTHER}) '
                    "{ ticket { id reference } } }"
                )
                ticket = created["createTicket"]["ticket"]
                ids += [ticket["id"], ticket["reference"]]
                requested = await customer.data(
                    'mutation($t: ID!) { requestEscalation(ticketId: $t, reason: "r", targetPriority: HIGH) '
                    "{ escalation { id } } }",
                    {"t": ticket["id"]},
                )
                if n == 0:
                    ids.append(requested["requestEscalation"]["escalation"]["id"])
            yield World([customer, agent], ids, records)
    finally:
        logging.getLogger().removeHandler(handler)


def _string(values: st.SearchStrategy[str]) -> st.SearchStrategy[graphql.ValueNode]:
    return values.map(lambda text: graphql.StringValueNode(value=text))


def _scalars(world: World) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    now = dt.datetime.now(dt.UTC)
    return {
        "ID": _string(st.sampled_from(world.ids) | st.sampled_from(HOSTILE_IDS) | st.uuids().map(str) | st.text()),
        "DateTime": _string(
            st.sampled_from(HOSTILE_DATETIMES)
            | st.datetimes(timezones=st.timezones()).map(lambda value: value.isoformat())
            | st.just(now.isoformat())
        ),
        # A file cannot travel inside a JSON request: whatever stands in for one must be refused cleanly.
        "Upload": _string(st.text(max_size=20)) | st.integers().map(lambda n: graphql.IntValueNode(value=str(n))),
        "JSON": st.recursive(
            _string(st.text(max_size=20)) | st.integers().map(lambda n: graphql.IntValueNode(value=str(n))),
            lambda children: st.lists(children, max_size=3).map(lambda items: graphql.ListValueNode(values=items)),
            max_leaves=8,
        ),
    }


async def _send(world: World, document: Any, who: int) -> None:
    caller = world.callers[who]
    # ASCII-escaped JSON, so that a generated lone surrogate reaches the server.
    response = await caller.http.post(
        "/graphql",
        content=json.dumps({"query": str(document)}),
        headers={"Authorization": f"Bearer {caller.token}", "Content-Type": "application/json"},
    )
    assert response.status_code < 500, (response.status_code, response.text, document)
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        internal = [e for e in body.get("errors") or [] if e.get("message") == "Internal server error."]
        assert internal == [], document
    assert world.errors == [], [record.getMessage() for record in world.errors]


FUZZ = settings(
    max_examples=600,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(data=st.data())
async def test_fuzz_queries_never_fail_inside(world: World, data: st.DataObject) -> None:
    document = data.draw(queries(SCHEMA, custom_scalars=_scalars(world)))
    await _send(world, document, data.draw(st.integers(0, 1)))


@FUZZ
@given(data=st.data())
async def test_fuzz_mutations_never_fail_inside(world: World, data: st.DataObject) -> None:
    document = data.draw(mutations(SCHEMA, custom_scalars=_scalars(world)))
    await _send(world, document, data.draw(st.integers(0, 1)))
