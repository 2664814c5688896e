"""Real server processes for tests: `ticketdesk serve` (or uvicorn) in a subprocess, on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A running server: its base URL and its process."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def ws_url(self) -> str:
        """The GraphQL WebSocket endpoint."""
        return self.url.replace("http://", "ws://", 1) + "/graphql"


@contextmanager
def running_server(
    env: dict[str, str], *, serve: bool = False, options: Sequence[str] = (), log: Path | None = None
) -> Iterator[ServerProcess]:
    """Start the app in its own process (`uvicorn ticketdesk.app:app`, or `ticketdesk serve [options]` when
    `serve`), its output going to `log` when given."""
    port = free_port()
    if serve:
        command = [sys.executable, "-m", "ticketdesk.cli", "serve", "--port", str(port), *options]
    else:
        command = [sys.executable, "-m", "uvicorn", "ticketdesk.app:app", "--port", str(port), "--log-level", "warning"]
    output = log.open("wb") if log is not None else None
    try:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=output, stderr=output)
    finally:
        if output is not None:
            output.close()  # the child has its own copy
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start (exit code {process.poll()})")
            time.sleep(0.1)
        yield ServerProcess(base, process)
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)
