"""Fan-out: one event to N `ticketEvents` subscribers (on one server process, or split over two sharing
PostgreSQL and Redis), against a plain Starlette WebSocket broadcast of an equally sized message.

Subscribers live in subscriber processes (bench.load.subscriber_process) on the load core. For each event
every process starts waiting on all its sockets, the event is triggered, and each process reports when its
last socket received it: latency is the last delivery minus the trigger's start.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import multiprocessing
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from bench.config import Sizes, Store, agent_token, token
from bench.load import BenchError, HttpClient, SubscriberPlan, graphql_call, p50, p99, subscriber_process
from bench.report import Row
from bench.servers import LOAD_CORE, Server, product_env, running
from ticketdesk.models.enums import Role

SUBSCRIBE = "subscription { ticketEvents { id type fromStatus toStatus ticket { id reference status } } }"
CREATE = """mutation { createTicket(input: {subject: "Fan-out", description: "One event to many.", category: OTHER}) {
  ticket { id } errors { code } } }"""
MOVE = "mutation($id: ID!, $s: TicketStatus!) { changeTicketStatus(id: $id, status: $s) { errors { code } } }"


async def _receive(pipe: Connection) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, pipe.recv)


@dataclass
class Delivery:
    """One event as the subscriber processes saw it."""

    latency: float
    received: int
    size: int


@dataclass
class Subscribers:
    """Subscriber processes and their pipes."""

    processes: list[tuple[BaseProcess, Connection]] = field(default_factory=list)

    async def start(self, plans: list[SubscriberPlan]) -> None:
        """Start one process per plan; returns once each has started (and connected nothing yet)."""
        context = multiprocessing.get_context("spawn")
        for plan in plans:
            ours, theirs = context.Pipe()
            process = context.Process(target=subscriber_process, args=(plan, theirs), daemon=True)
            process.start()
            self.processes.append((process, ours))
        for _, pipe in self.processes:
            await _receive(pipe)  # "up"

    async def connect(self) -> None:
        """Every process connects (and subscribes) all its sockets."""
        for _, pipe in self.processes:
            pipe.send("connect")
        for _, pipe in self.processes:
            if (reply := await _receive(pipe)) != "connected":
                raise BenchError(f"subscriber process: {reply!r}")

    async def deliver(self, trigger: Callable[[], Awaitable[None]]) -> Delivery:
        for _, pipe in self.processes:
            pipe.send("expect")
        for _, pipe in self.processes:
            await _receive(pipe)  # "ready": every socket is waiting
        start = time.monotonic()
        await trigger()
        replies = [await _receive(pipe) for _, pipe in self.processes]
        last = max(reply[1] for reply in replies)
        return Delivery(max(0.0, last - start), sum(reply[2] for reply in replies), max(r[3] for r in replies))

    def close(self) -> None:
        for process, pipe in self.processes:
            with contextlib.suppress(OSError, EOFError):
                pipe.send("close")
                pipe.recv()
            process.join(10)
            if process.is_alive():
                process.kill()


@contextlib.asynccontextmanager
async def subscribed(
    servers: list[Server], count: int, processes: int, query: str | None
) -> AsyncIterator[tuple[Subscribers, float]]:
    """`count` subscribers spread evenly over `servers` (and over `processes` per server); yields them and the
    seconds it took until every server counted all of its subscribers."""
    agent = agent_token()
    per_process = []
    for index, server in enumerate(servers):
        share = count // len(servers) + (1 if index < count % len(servers) else 0)
        path = "/graphql" if query else "/ws"
        for part in range(processes):
            n = share // processes + (1 if part < share % processes else 0)
            per_process.append(
                (server, SubscriberPlan(f"ws://127.0.0.1:{server.port}{path}", n, agent, query, LOAD_CORE))
            )
    subscribers = Subscribers()
    try:
        await subscribers.start([plan for _, plan in per_process])
        start = time.monotonic()
        await subscribers.connect()
        for server in servers:
            await server.wait_subscribers(sum(plan.count for s, plan in per_process if s is server))
        yield subscribers, time.monotonic() - start
    finally:
        subscribers.close()


@dataclass
class Run:
    latencies: list[float]
    lost: int
    cpu_per_event: float
    connect: float
    size: int
    statements: int | None = None  # SQL per event, summed over the server processes (ticketdesk only)


async def _events(
    servers: list[Server], subscribers: Subscribers, count: int, events: int, trigger: Callable[[int], Awaitable[None]]
) -> Run:
    first = await subscribers.deliver(lambda: trigger(-1))  # warm-up (for ticketdesk: the ticket's CREATED)
    lost = count - first.received
    cpu = sum(server.cpu_seconds() for server in servers)
    latencies = []
    for i in range(events):
        delivery = await subscribers.deliver(functools.partial(trigger, i))
        latencies.append(delivery.latency)
        lost += count - delivery.received
    cpu = sum(server.cpu_seconds() for server in servers) - cpu
    return Run(latencies, lost, cpu / events, 0.0, first.size)


async def ticketdesk_run(store: Store, count: int, sizes: Sizes, split: bool) -> Run:
    env = product_env(store.database_url, store.broadcast_url)
    async with contextlib.AsyncExitStack() as stack:
        servers = [await stack.enter_async_context(running("ticketdesk", env, "ticketdesk-A"))]
        if split:
            servers.append(await stack.enter_async_context(running("ticketdesk", env, "ticketdesk-B")))
        subscribers, connect = await stack.enter_async_context(
            subscribed(servers, count, sizes.subscriber_processes, SUBSCRIBE)
        )
        http = await stack.enter_async_context(HttpClient(servers[0].port))
        agent, customer = agent_token(), token(Role.CUSTOMER)
        ticket: list[str] = []

        async def trigger(i: int) -> None:
            if i < 0:
                call = graphql_call(CREATE, {}, customer, b'"errors":[]')
            else:
                call = graphql_call(
                    MOVE, {"id": ticket[0], "s": "IN_PROGRESS" if i % 2 == 0 else "OPEN"}, agent, b'"errors":[]'
                )
            status, body = await http.request(call.method, call.path, call.body, call.headers)
            call.check(status, body)
            if i < 0:
                ticket.append(json.loads(body)["data"]["createTicket"]["ticket"]["id"])

        run = await _events(servers, subscribers, count, sizes.fanout_events, trigger)
        run.connect = connect
        # One more event, untimed, with every SQL statement counted: the mutation's and the delivery's.
        for server in servers:
            await server.get_json("/__bench__/sql_on")
        delivery = await subscribers.deliver(lambda: trigger(sizes.fanout_events))
        run.lost += count - delivery.received
        run.statements = 0
        for server in servers:
            run.statements += len((await server.get_json("/__bench__/stats"))["sql"])
            await server.get_json("/__bench__/sql_off")
        return run
    raise AssertionError("unreachable")


async def baseline_run(store: Store, count: int, sizes: Sizes, size: int) -> Run:
    async with running("baseline", product_env(store.database_url, store.broadcast_url)) as server:
        async with subscribed([server], count, sizes.subscriber_processes, None) as (subscribers, connect):
            async with HttpClient(server.port) as http:

                async def trigger(i: int) -> None:
                    status, _ = await http.request("POST", f"/broadcast?size={size}")
                    if status != 200:
                        raise BenchError(f"baseline broadcast answered {status}")

                run = await _events([server], subscribers, count, sizes.fanout_events, trigger)
                run.connect = connect
                return run


def _rows(section: str, label: str, ours: Run, base: Run) -> list[Row]:
    return [
        Row(section, f"{label}: last delivery p50", p50(ours.latencies) * 1e3, p50(base.latencies) * 1e3, "ms"),
        Row(section, f"{label}: last delivery p99", p99(ours.latencies) * 1e3, p99(base.latencies) * 1e3, "ms"),
        Row(section, f"{label}: server CPU per event", ours.cpu_per_event * 1e3, base.cpu_per_event * 1e3, "ms"),
        Row(section, f"{label}: connect all", ours.connect, base.connect, "s"),
        Row(section, f"{label}: SQL statements per event", ours.statements, None, "statements", "mutation + delivery"),
        Row(section, f"{label}: lost deliveries", ours.lost, base.lost, "count", failed=ours.lost + base.lost > 0),
    ]


async def measure(store: Store, sizes: Sizes) -> list[Row]:
    rows = []
    section = f"fanout/{store.backend}"
    for count in sizes.fanout:
        ours = await ticketdesk_run(store, count, sizes, split=False)
        base = await baseline_run(store, count, sizes, ours.size)
        rows += _rows(section, f"N={count}, 1 process", ours, base)
    if store.backend == "postgres":
        count = sizes.fanout_split
        ours = await ticketdesk_run(store, count, sizes, split=True)
        base = await baseline_run(store, count, sizes, ours.size)
        rows += _rows(section, f"N={count}, 2 processes (baseline: 1)", ours, base)
    return rows
