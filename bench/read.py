"""Read path: a page of tickets with customer, assignee and messages, against the hand-written baseline."""

from __future__ import annotations

from collections.abc import Callable

from bench.config import Sizes, Store, agent_token
from bench.load import Call, HttpClient, closed_loop, graphql_call, latencies, p50
from bench.report import Row
from bench.seed import seed_read_set
from bench.servers import Server, product_env, running

PAGE = """query Page($n: Int!) { tickets(first: $n) { edges { node {
  id reference number subject status priority category createdAt updatedAt
  customer { id name email }
  assignee { id name email }
  messages { id senderType body internal createdAt }
} } } }"""
SQL_PAGES = (1, 5, 50, 100)


def _calls(size: int) -> tuple[Call, Call]:
    ours = graphql_call(PAGE, {"n": size}, agent_token(), b'"edges"')
    return ours, Call("GET", f"/tickets?first={size}", must_contain=b'"edges"')


def _always(call: Call) -> Callable[[int], Call]:
    return lambda client: call


async def _statements(server: Server, call: Call) -> int:
    await server.get_json("/__bench__/sql_on")
    async with HttpClient(server.port) as http:
        call.check(*await http.request(call.method, call.path, call.body, call.headers))
    count = len((await server.get_json("/__bench__/stats"))["sql"])
    await server.get_json("/__bench__/sql_off")
    return count


async def _gc(server: Server) -> tuple[int, float]:
    stats = await server.get_json("/__bench__/stats")
    return int(stats["collections"][2]), float(stats["pauses"][2])


async def measure(store: Store, sizes: Sizes) -> list[Row]:
    section = f"read/{store.backend}"
    await seed_read_set(store.database_url, sizes.read_tickets)
    env = product_env(store.database_url, "memory://")
    rows = []
    async with running("ticketdesk", env) as ours, running("baseline", env) as base:
        servers = (ours, base)
        for server, call in zip(servers, _calls(50), strict=True):  # warm-up; ticketdesk stores the agent here
            await latencies(server.port, call, 3)
        for size in SQL_PAGES:
            counts = [await _statements(server, call) for server, call in zip(servers, _calls(size), strict=True)]
            rows.append(Row(section, f"SQL statements, page of {size}", counts[0], counts[1], "statements"))
        gc_before = [await _gc(server) for server in servers]
        for clients in (1, 32):
            rates: list[list[float]] = [[], []]
            for _ in range(sizes.rounds):  # ABAB: machine noise falls on both
                for i, call in enumerate(_calls(50)):
                    rates[i].append(await closed_loop(servers[i].port, _always(call), clients, sizes.seconds))
            rows.append(Row(section, f"page of 50, {clients} client(s)", p50(rates[0]), p50(rates[1]), "req/s"))
        gc_after = [await _gc(server) for server in servers]
        times: list[list[float]] = [[], []]
        for _ in range(sizes.rounds):
            for i, call in enumerate(_calls(1)):
                times[i] += await latencies(servers[i].port, call, sizes.overhead_requests)
        rows.append(Row(section, "tickets(first: 1), 1 client, p50", p50(times[0]) * 1e3, p50(times[1]) * 1e3, "ms"))
        collections = [after[0] - before[0] for before, after in zip(gc_before, gc_after, strict=True)]
        pauses = [(after[1] - before[1]) * 1e3 for before, after in zip(gc_before, gc_after, strict=True)]
        rows.append(Row(section, "gen-2 collections during page runs", collections[0], collections[1], "count"))
        rows.append(Row(section, "gen-2 pause total during page runs", pauses[0], pauses[1], "ms"))
    return rows
