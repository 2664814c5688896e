"""Start-up: from spawning `ticketdesk serve` until /readyz answers 200, against a bare Starlette app."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.config import Sizes, Store
from bench.load import p50
from bench.report import Row
from bench.servers import free_port, product_env, spawn, stop, wait_ready

TICKETDESK = str(Path(sys.executable).parent / "ticketdesk")


async def _start(command: list[str], env: dict[str, str]) -> float:
    port = free_port()
    start = time.monotonic()
    process = spawn([*command, "--port", str(port)], env)
    try:
        await wait_ready(process, port, "/readyz", 120, command[0])
        return time.monotonic() - start
    finally:
        stop(process)


async def measure(store: Store, sizes: Sizes) -> list[Row]:
    env = product_env(store.database_url, store.broadcast_url)
    ours_cmd = [TICKETDESK, "serve"]
    bare_cmd = [sys.executable, "-m", "bench.serve", "bare"]
    await _start(ours_cmd, env)  # warm-up: applies any pending migration, fills the OS file cache
    times: list[list[float]] = [[], []]
    for _ in range(sizes.startups):
        times[0].append(await _start(ours_cmd, env))
        times[1].append(await _start(bare_cmd, env))
    return [Row(f"startup/{store.backend}", "spawn to /readyz 200, p50", p50(times[0]), p50(times[1]), "s")]
