"""Sizes of a run (full or --smoke) and the stores a backend means."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.seed import REDIS, ensure_database
from bench.servers import BENCH_SECRET
from ticketdesk.auth import mint_token
from ticketdesk.models.enums import Role
from ticketdesk.settings import Settings


@dataclass(frozen=True)
class Sizes:
    """How much each measurement does; the defaults are the full run's."""

    seconds: float = 5.0  # one closed-loop round (read, writes)
    rounds: int = 3  # ABAB rounds
    read_tickets: int = 200
    overhead_requests: int = 500
    fanout: tuple[int, ...] = (1000, 5000)
    fanout_split: int = 1000
    fanout_events: int = 20
    idle_subscribers: int = 1000
    search_tickets: int = 100_000
    search_repeats: int = 40
    analyzer_messages: int = 3000
    startups: int = 5
    subscriber_processes: int = 1


FULL = Sizes()
SMOKE = Sizes(
    seconds=0.4,
    rounds=1,
    read_tickets=120,
    overhead_requests=20,
    fanout=(50,),
    fanout_split=40,
    fanout_events=3,
    idle_subscribers=50,
    search_tickets=2000,
    search_repeats=3,
    analyzer_messages=200,
    startups=1,
)


@dataclass(frozen=True)
class Store:
    """Where a server keeps its data and publishes its events."""

    backend: str
    database_url: str
    broadcast_url: str


async def store_for(backend: str, folder: Path) -> Store:
    """SQLite file + memory:// broadcast, or the bench PostgreSQL database + Redis db 5."""
    if backend == "sqlite":
        return Store(backend, f"sqlite://{folder / 'bench.db'}", "memory://")
    return Store(backend, await ensure_database("ticketdesk_bench"), REDIS)


def temp_folder() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="ticketdesk-bench-")


SETTINGS = Settings(_env_file=None, env="development", jwt_secret=BENCH_SECRET)  # type: ignore[call-arg]


def token(role: Role, subject: uuid.UUID | None = None, name: str | None = None) -> str:
    """A token the bench servers accept."""
    return mint_token(SETTINGS, role, subject or uuid.uuid4(), name=name, email=None)


AGENT = uuid.uuid4()


def agent_token() -> str:
    """The one agent of a run (a server stores a principal on first sight and remembers it)."""
    return token(Role.AGENT, AGENT, "Bench agent")
