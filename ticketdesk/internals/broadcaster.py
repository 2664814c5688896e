"""broadcaster's in-memory backend, and the subscriber type and end-of-stream exception of Broadcast.subscribe()."""

from __future__ import annotations

from broadcaster._backends.memory import MemoryBackend as MemoryBackend
from broadcaster._base import Subscriber as Subscriber
from broadcaster._base import Unsubscribed as Unsubscribed

__all__ = ["MemoryBackend", "Subscriber", "Unsubscribed"]
