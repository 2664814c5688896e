"""Server subprocesses pinned to the server core: start, wait until ready, read CPU time and RSS, stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bench.load import BenchError, HttpClient

ROOT = Path(__file__).resolve().parent.parent
TWO_CORES = (os.cpu_count() or 1) >= 2
SERVER_CORE = 0
LOAD_CORE = 1 if TWO_CORES else 0
BENCH_SECRET = "ticketdesk-bench-secret-0123456789abcdef"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def pin(core: int, pid: int = 0) -> None:
    """Keep `pid` (0: this process) on one core, where the machine has two."""
    if TWO_CORES:
        os.sched_setaffinity(pid, {core})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def product_env(database_url: str, broadcast_url: str) -> dict[str, str]:
    """Settings for a ticketdesk server under load: limits that would refuse the load raised, nothing else."""
    return {
        "TICKETDESK_ENV": "development",
        "TICKETDESK_JWT_SECRET": BENCH_SECRET,
        "TICKETDESK_DATABASE_URL": database_url,
        "TICKETDESK_BROADCAST_URL": broadcast_url,
        "TICKETDESK_GRAPHIQL": "false",
        "TICKETDESK_RATE_LIMIT_QUERY_COST": "1000000000/second",
        "TICKETDESK_RATE_LIMIT_MUTATIONS": "1000000000/second",
        "TICKETDESK_RATE_LIMIT_SERVICE_MUTATIONS": "1000000000/second",
        "TICKETDESK_MAX_SUBSCRIPTIONS_PER_PRINCIPAL": "1000000",
        # A page of 100 tickets with their messages is costed at about 24,000 result nodes (default limit 10,000).
        "TICKETDESK_MAX_QUERY_COST": "100000",
    }


@dataclass
class Server:
    """A running server process."""

    name: str
    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_kib(self) -> int:
        """Resident set size (VmRSS) in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise BenchError(f"{self.name}: no VmRSS")

    async def get_json(self, path: str) -> Any:
        """GET `path` and decode its JSON; any status but 200 is an error."""
        async with HttpClient(self.port) as client:
            status, body = await client.request("GET", path)
        if status != 200:
            raise BenchError(f"{self.name}: GET {path} answered {status}: {body[:200]!r}")
        return json.loads(body)

    async def wait_subscribers(self, count: int, timeout: float = 120) -> None:
        """Until /readyz reports `count` subscriptions."""
        deadline = time.monotonic() + timeout
        while (seen := (await self.get_json("/readyz"))["subscriptions"]) != count:
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name}: {seen} subscriptions after {timeout}s, expected {count}")
            await asyncio.sleep(0.05)


async def wait_ready(process: subprocess.Popen[bytes], port: int, path: str, timeout: float, name: str) -> None:
    """Until GET `path` answers 200; fails early if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise BenchError(f"{name} exited with {process.returncode} before it was ready:\n{output(process)}")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            async with HttpClient(port) as client:
                if (await client.request("GET", path))[0] == 200:
                    return
        if time.monotonic() > deadline:
            raise BenchError(f"{name} not ready after {timeout}s:\n{output(process)}")
        await asyncio.sleep(0.01)


def spawn(command: Sequence[str], env: dict[str, str], core: int = SERVER_CORE) -> subprocess.Popen[bytes]:
    """Start `command` on `core` with `env` added to this environment; its output goes to a temporary file,
    shown if it fails to start."""
    preexec: Callable[[], None] | None = (lambda: os.sched_setaffinity(0, {core})) if TWO_CORES else None
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        list(command), env={**os.environ, **env}, cwd=ROOT, preexec_fn=preexec, stdout=log, stderr=subprocess.STDOUT
    )
    LOGS[process.pid] = log
    return process


LOGS: dict[int, IO[bytes]] = {}


def output(process: subprocess.Popen[bytes]) -> str:
    """The last lines the process printed."""
    log = LOGS[process.pid]
    log.seek(0)
    return "\n".join(log.read().decode(errors="replace").splitlines()[-30:])


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn's graceful stop), then SIGKILL after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if (log := LOGS.pop(process.pid, None)) is not None:
        log.close()


@contextlib.asynccontextmanager
async def running(kind: str, env: dict[str, str], name: str | None = None) -> AsyncIterator[Server]:
    """`python -m bench.serve KIND` (ticketdesk, baseline or bare) on the server core, until the block ends."""
    port = free_port()
    process = spawn([sys.executable, "-m", "bench.serve", kind, "--port", str(port)], env)
    try:
        await wait_ready(process, port, "/readyz", 120, name or kind)
        yield Server(name or kind, process, port)
    finally:
        stop(process)
