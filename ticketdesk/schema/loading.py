"""Relation fields that resolve at once when the request's DataLoaders already hold the rows.

An `async` resolver costs graphql-core a coroutine per field and a task per object of a list, even when its
DataLoader answers from cache: for a page of 50 tickets with customer, assignee and messages that is about
200 tasks. So a list resolver that knows what its items will ask for loads it for the whole page first
(`preload`), and the relation fields return `loaded(...)`: a plain value when the load is already done, an
awaitable only when it is not (a single ticket, a field the page did not preload).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypeVar

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from ticketdesk.context import Info

V = TypeVar("V")
R = TypeVar("R")
Loading: TypeAlias = R | Awaitable[R]


def loaded(pending: Awaitable[V], convert: Callable[[V], R]) -> Loading[R]:
    """`convert(value)` now if `pending` (a DataLoader's answer) is already done, else an awaitable of it."""
    if isinstance(pending, asyncio.Future) and pending.done():
        return convert(pending.result())

    async def later() -> R:
        return convert(await pending)

    return later()


def selected(info: Info, *path: str) -> set[str]:
    """Names of the fields the query selects at `path` below the current field, fragments included.

    `@skip`/`@include` are not evaluated: a field they leave out is merely loaded for nothing.
    """
    level: list[Selection] = list(info.selected_fields)
    for name in (info.field_name, *path):
        level = [child for field in _fields(level) if field.name == name for child in field.selections]
    return {field.name for field in _fields(level)}


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


async def preload(loads: Sequence[Awaitable[Any]]) -> None:
    """Wait for DataLoader loads started together (each loader batches its keys into one query)."""
    if loads:
        await asyncio.gather(*loads)
