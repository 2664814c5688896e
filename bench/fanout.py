"""Fan-out benchmark: how delivery latency and event-log reads grow with the number of subscribers.

Runs the app under uvicorn in this process (SQLite file + memory:// unless TICKETDESK_DATABASE_URL /
TICKETDESK_BROADCAST_URL say otherwise), opens N WebSocket subscribers, makes status changes over HTTP
and measures, per event, the time from the mutation's response to the last subscriber's receipt.
Figures are printed as ratios against the 1-subscriber baseline measured in the same run.

    .venv/bin/python bench/fanout.py [--events 30] [--subscribers 1 10 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from ticketdesk.app import create_app
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role
from ticketdesk.settings import Settings
from ticketdesk.subscriptions.hub import TASK_PREFIX

SUBSCRIBE = "subscription { ticketEvents { id type ticket { status } } }"
CREATE = 'mutation { createTicket(input: {subject: "s", description: "d", category: OTHER}) { ticket { id } } }'
MOVE = "mutation($id: ID!, $s: TicketStatus!) { changeTicketStatus(id: $id, status: $s) { errors { code } } }"


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[str]:
    listener = socket.socket()
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(create_app(settings), log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


async def subscriber(address: str, token: str) -> ClientConnection:
    ws = await connect(f"ws://{address}/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    await ws.recv()
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return ws


async def next_event(ws: ClientConnection) -> None:
    while json.loads(await ws.recv())["type"] != "next":
        pass


class _Reads(logging.Handler):
    """Counts SQL statements the event hub runs (its tasks are named ticketdesk-hub-*)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        task = asyncio.current_task()
        if task is not None and task.get_name().startswith(TASK_PREFIX):
            self.count += 1


async def measure(settings: Settings, subscribers: int, events: int) -> tuple[list[float], float]:
    """Per-event latencies (s) to the last of `subscribers`, and hub SQL statements per event."""
    async with serve(settings) as address, httpx.AsyncClient(base_url=f"http://{address}") as http:
        agent = mint_token(settings, Role.AGENT, uuid.uuid4())
        customer = mint_token(settings, Role.CUSTOMER, uuid.uuid4())
        sockets = [await subscriber(address, agent) for _ in range(subscribers)]
        while (await http.get("/readyz")).json()["subscriptions"] < subscribers:
            await asyncio.sleep(0.01)
        created = await http.post("/graphql", json={"query": CREATE}, headers={"Authorization": f"Bearer {customer}"})
        ticket_id = created.json()["data"]["createTicket"]["ticket"]["id"]
        await asyncio.gather(*(next_event(ws) for ws in sockets))
        reads = _Reads()
        logging.getLogger("tortoise.db_client").addHandler(reads)
        logging.getLogger("tortoise.db_client").setLevel(logging.DEBUG)
        latencies = []
        for i in range(events):
            status = "IN_PROGRESS" if i % 2 == 0 else "OPEN"
            variables = {"id": ticket_id, "s": status}
            await http.post(
                "/graphql", json={"query": MOVE, "variables": variables}, headers={"Authorization": f"Bearer {agent}"}
            )
            answered = time.perf_counter()
            await asyncio.gather(*(next_event(ws) for ws in sockets))
            latencies.append(time.perf_counter() - answered)
        logging.getLogger("tortoise.db_client").removeHandler(reads)
        for ws in sockets:
            await ws.close()
        return latencies, reads.count / events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    results = {}
    for count in args.subscribers:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                database_url=f"sqlite://{Path(folder) / 'bench.db'}",
                env="development",
                # One agent holds every subscription and makes every change: fan-out is measured, not limits.
                max_subscriptions_per_principal=1_000_000,
                rate_limit_mutations="1000000/minute",
                rate_limit_query_cost="1000000000/minute",
            )
            results[count] = asyncio.run(measure(settings, count, args.events))
    base = statistics.median(results[args.subscribers[0]][0])
    print(f"{'subscribers':>11} {'p50 ms':>8} {'p95 ms':>8} {'p50 vs base':>12} {'hub SQL/event':>14}")
    for count, (latencies, reads) in results.items():
        p50 = statistics.median(latencies)
        p95 = statistics.quantiles(latencies, n=20)[18]
        print(f"{count:>11} {p50 * 1000:>8.2f} {p95 * 1000:>8.2f} {p50 / base:>11.1f}x {reads:>14.1f}")


if __name__ == "__main__":
    main()
