"""The load side: a small keep-alive HTTP/1.1 client, closed-loop and timed request runs, and the processes
that hold WebSocket subscribers."""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

GRAPHQL_WS = "graphql-transport-ws"


class BenchError(Exception):
    """A failed request, a lost event or a server that would not start: the run fails."""


class HttpClient:
    """One keep-alive HTTP/1.1 connection; lighter on the load core than a general client."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> HttpClient:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.writer is not None:
            self.writer.close()

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"host: 127.0.0.1:{self.port}", f"content-length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        await self.reader.readexactly(2)
        return status, b"".join(parts)


@dataclass(frozen=True)
class Call:
    """One request of a benchmark and how to tell that it succeeded."""

    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] | None = None
    must_contain: bytes = b""

    def check(self, status: int, body: bytes) -> None:
        flat = body.replace(b" ", b"")
        if status != 200 or b'"errors":[{' in flat or self.must_contain not in flat:
            raise BenchError(f"{self.method} {self.path} answered {status}: {body[:300]!r}")


def graphql_call(query: str, variables: dict[str, Any], token: str, must_contain: bytes = b'"data"') -> Call:
    body = json.dumps({"query": query, "variables": variables}).encode()
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    return Call("POST", "/graphql", body, headers, must_contain)


async def closed_loop(port: int, calls: Callable[[int], Call], clients: int, seconds: float) -> float:
    """Requests per second with `clients` connections each sending its next request on the last answer."""
    deadline = time.monotonic() + seconds
    done = [0] * clients

    async def client(index: int) -> None:
        call = calls(index)
        async with HttpClient(port) as http:
            while time.monotonic() < deadline:
                call.check(*await http.request(call.method, call.path, call.body, call.headers))
                done[index] += 1

    start = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return sum(done) / (time.monotonic() - start)


async def latencies(port: int, call: Call, count: int) -> list[float]:
    """Seconds per request, one at a time on one connection."""
    times = []
    async with HttpClient(port) as http:
        for _ in range(count):
            start = time.perf_counter()
            call.check(*await http.request(call.method, call.path, call.body, call.headers))
            times.append(time.perf_counter() - start)
    return times


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


@dataclass(frozen=True)
class SubscriberPlan:
    """What one subscriber process connects: `count` sockets to `url`, with a GraphQL subscription when
    `query` is set (graphql-transport-ws) or as plain WebSockets (the baseline)."""

    url: str
    count: int
    token: str | None = None
    query: str | None = None
    core: int = 0
    timeout: float = 30.0


def raise_fd_limit() -> None:
    """Allow as many open sockets as the hard limit does."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def subscriber_process(plan: SubscriberPlan, pipe: Connection) -> None:
    """Entry point of a subscriber process: obeys "expect" / "close" from `pipe` (see bench.fanout)."""
    from bench.servers import pin  # not at import time: bench.servers imports this module

    pin(plan.core)
    raise_fd_limit()
    asyncio.run(_subscribers(plan, pipe))


async def _subscribe(plan: SubscriberPlan) -> Any:
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    if plan.query is None:
        return await connect(plan.url, compression=None, max_queue=None, open_timeout=plan.timeout)
    ws = await connect(
        plan.url,
        subprotocols=[Subprotocol(GRAPHQL_WS)],
        compression=None,
        max_queue=None,
        open_timeout=plan.timeout,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {plan.token}"}}))
    if json.loads(await ws.recv())["type"] != "connection_ack":
        raise BenchError("no connection_ack")
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": plan.query}}))
    return ws


async def _next(ws: Any) -> tuple[float, int]:
    """Arrival time and size of the socket's next "next" message (pings are skipped)."""
    while True:
        message = await ws.recv()
        if '"next"' in message:
            return time.monotonic(), len(message)


async def _subscribers(plan: SubscriberPlan, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    limit = asyncio.Semaphore(64)

    async def one() -> Any:
        async with limit:
            return await _subscribe(plan)

    pipe.send("up")
    await loop.run_in_executor(None, pipe.recv)  # "connect"
    sockets = await asyncio.gather(*(one() for _ in range(plan.count)))
    pipe.send("connected")
    while await loop.run_in_executor(None, pipe.recv) != "close":
        waits = [asyncio.create_task(_next(ws)) for ws in sockets]
        pipe.send("ready")
        done, pending = await asyncio.wait(waits, timeout=plan.timeout)
        for task in pending:
            task.cancel()
        got = [task.result() for task in done if task.exception() is None]
        last = max((arrival for arrival, _ in got), default=0.0)
        size = max((length for _, length in got), default=0)
        pipe.send(("got", last, len(got), size))
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    pipe.send("closed")
