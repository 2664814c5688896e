"""The bench's server launcher: `python -m bench.serve ticketdesk|baseline|bare --port P`.

Serves the app under uvicorn as `ticketdesk serve` does (no permessage-deflate), wrapped in a probe that
answers /__bench__/... and passes everything else through; so nothing bench-specific enters the product:
- /__bench__/stats: garbage-collector figures (collections and pause time per generation, via
  gc.callbacks) and the SQL statements (their first 160 characters) since /__bench__/sql_on;
- /__bench__/sql_on: count every SQL statement Tortoise runs from now on (its DEBUG log, on only then);
- /__bench__/collect: a full collection, then the process's VmRSS in KiB.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/__bench__/"


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection", "Closed connection")):
            self.seen.append(message[:160])


class Probe:
    """ASGI wrapper answering /__bench__/* for the harness."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.collections = [0, 0, 0]
        self.pauses = [0.0, 0.0, 0.0]
        self._started = 0.0
        self.statements = _Statements()
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.collections[info["generation"]] += 1
            self.pauses[info["generation"]] += time.perf_counter() - self._started

    def answer(self, name: str) -> dict[str, Any]:
        sql_log = logging.getLogger("tortoise.db_client")
        if name == "sql_on":
            self.statements.seen = []
            sql_log.addHandler(self.statements)
            sql_log.setLevel(logging.DEBUG)
        elif name == "sql_off":
            sql_log.removeHandler(self.statements)
            sql_log.setLevel(logging.WARNING)
        elif name == "collect":
            gc.collect()
            rss = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS"))
            return {"rss_kib": int(rss.split()[1])}
        return {"collections": self.collections, "pauses": self.pauses, "sql": self.statements.seen}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            body = json.dumps(self.answer(scope["path"][len(PREFIX) :])).encode()
            await send(
                {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["ticketdesk", "baseline", "bare"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app: ASGIApp
    if args.kind == "ticketdesk":
        from ticketdesk.app import create_app

        app = create_app()
    elif args.kind == "baseline":
        from bench.baselines import baseline_app

        app = baseline_app()
    else:
        from bench.baselines import bare_app

        app = bare_app()
    uvicorn.run(
        Probe(app),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
