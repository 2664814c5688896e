"""Background tasks that keep running: one that fails (or returns) is logged and restarted with backoff.

Each supervised task has a state that /readyz reports: `running`, `restarting` (after a failure, waiting
out its backoff) or `stopped`, with how often it restarted and its last error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("ticketdesk.supervisor")

# The supervised task this code runs in, inherited by the tasks it starts; None while serving a request.
_background: ContextVar[str | None] = ContextVar("ticketdesk_background_task", default=None)


def background_task() -> str | None:
    """The name of the supervised background task (or one of its subtasks) running this code; None elsewhere."""
    return _background.get()


@dataclass
class TaskState:
    """What a supervised task is doing, for operators."""

    state: str = "running"
    restarts: int = 0
    last_error: str | None = None

    def report(self) -> dict[str, Any]:
        """The JSON form /readyz shows."""
        return {"state": self.state, "restarts": self.restarts, "lastError": self.last_error}


class Supervisor:
    """Runs named coroutines for as long as it runs, restarting each one that ends, with backoff."""

    def __init__(self, *, first_delay: float = 0.1, max_delay: float = 30.0, healthy_after: float = 60.0) -> None:
        self._first_delay = first_delay
        self._max_delay = max_delay
        # A task that ran this long before failing starts its backoff afresh: its failure is a new one.
        self._healthy_after = healthy_after
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        self.states: dict[str, TaskState] = {}

    def start(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work()` under `name` until `stop`, restarting it whenever it fails or returns."""
        self.states[name] = TaskState()
        self._tasks[name] = asyncio.create_task(self._supervise(name, work), name=name)

    async def stop(self) -> None:
        """Cancel every task and wait until each has ended."""
        self._stopping = True
        await cancel_and_wait(list(self._tasks.values()))
        self._tasks.clear()
        for state in self.states.values():
            state.state = "stopped"

    def report(self) -> dict[str, dict[str, Any]]:
        """Each task's state, by name."""
        return {name: state.report() for name, state in self.states.items()}

    async def _supervise(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        _background.set(name)  # this task's own context: seen by it and the tasks it starts
        loop = asyncio.get_running_loop()
        state = self.states[name]
        delay = self._first_delay
        while True:
            state.state = "running"
            started = loop.time()
            failure: Exception | None = None
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = exc
            except BaseException as exc:  # SystemExit, KeyboardInterrupt: not ours to restart
                state.state, state.last_error = "stopped", f"{type(exc).__name__}: {exc}"
                raise
            if self._stopping:
                return  # the work swallowed stop()'s cancel (see cancel_and_wait); it is not a failure
            if loop.time() - started > self._healthy_after:
                delay = self._first_delay
            state.last_error = f"{type(failure).__name__}: {failure}" if failure is not None else "ended on its own"
            log.error("background task %s: %s; restarting it in %gs", name, state.last_error, delay, exc_info=failure)
            state.state = "restarting"
            state.restarts += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)


async def cancel_and_wait(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait for them, cancelling again while any is still running.

    Python 3.11's asyncio.wait_for (used inside redis-py) can swallow a cancellation that races the
    operation it guards, so one cancel() does not always stop a task that is talking to Redis.
    """
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.1)
