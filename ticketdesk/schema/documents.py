"""GraphQL documents as ticketdesk reads them outside strawberry's own pipeline: parsed once, walked as nodes."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, Node, parse

# Documents kept parsed; subscriptions of one app build send the same few texts again and again.
PARSED_DOCUMENTS = 256


@lru_cache(maxsize=PARSED_DOCUMENTS)
def parsed(query: str) -> DocumentNode:
    """`query` parsed, for a document strawberry has already parsed and validated under the query limits."""
    return parse(query, no_location=True)


def all_nodes(document: DocumentNode) -> Iterator[Any]:
    """Every node of the document (iteratively: the parser has already bounded its nesting)."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        yield node
        for key in node.keys:
            child = getattr(node, key, None)
            if isinstance(child, Node):
                stack.append(child)
            elif isinstance(child, tuple | list):
                stack.extend(item for item in child if isinstance(item, Node))
