"""Search on PostgreSQL over the seeded set: the GraphQL `search` filter against the same SQL run directly."""

from __future__ import annotations

import json
import time
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench.baselines import CUSTOM_PLANS, search_sql
from bench.config import Sizes, agent_token
from bench.load import BenchError, HttpClient, graphql_call, p50, p99
from bench.report import Row
from bench.seed import COMMON_TERM, RARE_TERM, TWO_TERMS, seed_search_set
from bench.servers import product_env, running

PAGE_SIZE = 20
FIELDS = "edges { node { id reference subject status createdAt } }"
TERMS = (("rare term", RARE_TERM), ("common term", COMMON_TERM), ("two terms", TWO_TERMS))
GOALS = {"p50": "goal < 50 ms", "p99": "goal < 150 ms"}


def _query(counted: bool) -> str:
    total = " totalCount" if counted else ""
    return f"query S($s: String!) {{ tickets(first: {PAGE_SIZE}, filter: {{search: $s}}) {{ {FIELDS}{total} }} }}"


def _same(answer: dict[str, Any], rows: list[Any], total: int | None) -> None:
    """The baseline SQL finds what ticketdesk answers (so the two time the same search)."""
    ids = [edge["node"]["id"] for edge in answer["edges"]]
    if ids != [str(row["id"]) for row in rows[:PAGE_SIZE]] or answer.get("totalCount", total) != total:
        raise BenchError(f"baseline search SQL disagrees with ticketdesk: {len(ids)} vs {len(rows)} rows")


async def measure(sizes: Sizes) -> list[Row]:
    url = await seed_search_set(sizes.search_tickets)
    agent = agent_token()
    rows = []
    connection = await asyncpg.connect(url)
    try:
        async with running("ticketdesk", product_env(url, "memory://")) as ours, HttpClient(ours.port) as http:
            for label, term in TERMS:
                page_sql, count_sql, params = search_sql(term.split(), PAGE_SIZE)
                for counted in (False, True):
                    call = graphql_call(_query(counted), {"s": term}, agent, b'"edges"')
                    times: list[list[float]] = [[], []]
                    for repeat in range(sizes.search_repeats + 1):  # the first of each is a warm-up
                        start = time.perf_counter()
                        status, body = await http.request(call.method, call.path, call.body, call.headers)
                        ours_s = time.perf_counter() - start
                        call.check(status, body)
                        start = time.perf_counter()
                        async with connection.transaction():
                            await connection.execute(CUSTOM_PLANS)
                            found = await connection.fetch(page_sql, *params)
                        total = None
                        if counted:
                            async with connection.transaction():
                                await connection.execute(CUSTOM_PLANS)
                                total = await connection.fetchval(count_sql, *params)
                        base_s = time.perf_counter() - start
                        if not repeat:
                            _same(json.loads(body)["data"]["tickets"], found, total)
                        else:
                            times[0].append(ours_s)
                            times[1].append(base_s)
                    name = f"{label} '{term}'{' + totalCount' if counted else ''}"
                    for stat, fn in (("p50", p50), ("p99", p99)):
                        ours_ms, base_ms = fn(times[0]) * 1e3, fn(times[1]) * 1e3
                        rows.append(
                            Row(
                                f"search/postgres {sizes.search_tickets:,}",
                                f"{name} {stat}",
                                ours_ms,
                                base_ms,
                                "ms",
                                GOALS[stat],
                            )
                        )
    finally:
        await connection.close()
    return rows
