"""The escalation analyzer's time per message against a plain keyword scan, in this process."""

from __future__ import annotations

import time

from bench.config import Sizes
from bench.load import p50, p99
from bench.report import Row
from bench.seed import Text
from ticketdesk.models.analysis import analyze

KEYWORDS = (
    "fraud", "stolen", "hacked", "unauthorized", "declined", "blocked", "locked out", "cannot log in", "failed",
    "not received", "missing", "urgent", "asap", "immediately", "crash", "error", "charged twice", "duplicate",
)  # fmt: skip


def keyword_scan(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in KEYWORDS)


def _messages(count: int) -> list[str]:
    text = Text(seed=3, rare=0.01)
    makers = (text.description, text.message, text.subject)
    return [makers[i % len(makers)]() for i in range(count)]


async def measure(sizes: Sizes) -> list[Row]:
    times: list[list[float]] = [[], []]
    for message in _messages(20):  # warm-up: compiled patterns, caches
        analyze([message])
    for message in _messages(sizes.analyzer_messages):  # alternately, message by message
        start = time.perf_counter()
        analyze([message])
        middle = time.perf_counter()
        keyword_scan(message)
        times[0].append(middle - start)
        times[1].append(time.perf_counter() - middle)
    return [
        Row(
            "analyzer",
            f"per message {stat} ({sizes.analyzer_messages} messages)",
            fn(times[0]) * 1e6,
            fn(times[1]) * 1e6,
            "us",
        )
        for stat, fn in (("p50", p50), ("p99", p99))
    ]
