"""GraphQL documents, parsed and validated once per text: clients send the same few texts again and again, and
parsing and validating them cost more than running a small query.

`CachedDocuments` puts both caches into strawberry's pipeline: it parses through `parse_document` and, after
the query limits have passed a document, reuses the validation result of the same document. Both caches are
bounded, and only texts of up to `CACHED_QUERY_CHARS` are kept, so unique or huge texts cannot fill memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import fields
from functools import lru_cache
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, Node, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from ticketdesk.internals.strawberry import graphql_schema_of

# Longer texts are parsed and validated afresh each time (real clients' documents are a few hundred characters).
CACHED_QUERY_CHARS = 4096
CACHED_DOCUMENTS = 256


def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """`query` parsed with at most `max_tokens` tokens and comments each; raises GraphQLError. Callers must not
    change the document: the same text gives the same object while it stays in the cache."""
    if len(query) > CACHED_QUERY_CHARS:
        return _parse(query, max_tokens)
    return _cached_parse(query, max_tokens)


def is_cached(query: str) -> bool:
    """Whether `parse_document` keeps documents of this text."""
    return len(query) <= CACHED_QUERY_CHARS


def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_lexical_tokens=max_tokens, max_comments=max_tokens)


_cached_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(_parse)


class ValidationResults:
    """One schema's validation errors by document, for documents from `parse_document` (the same text gives the
    same object); the least recently used are forgotten past `size`."""

    def __init__(self, size: int = CACHED_DOCUMENTS) -> None:
        self._size = size
        # Keyed by id(): the value holds the document itself, so its id cannot be reused while the entry lives.
        self._results: OrderedDict[int, tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()

    def errors(
        self, schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        """The document's validation errors under `rules` (one schema's rules never change)."""
        key = id(document)
        found = self._results.get(key)
        if found is None:
            found = self._results[key] = (document, validate_document(schema, document, rules))
            if len(self._results) > self._size:
                self._results.popitem(last=False)
        else:
            self._results.move_to_end(key)
        return list(found[1])


class CachedDocuments(SchemaExtension):
    """Parses through the shared cache and reuses validation results; place it after QueryLimits, whose checks
    must run on every request (they depend on its variables), cached document or not."""

    def __init__(self, results: ValidationResults, max_tokens: int) -> None:
        self.results = results
        self.max_tokens = max_tokens
        self.cached: DocumentNode | None = None

    @classmethod
    def factory(cls, max_tokens: int) -> Callable[[], CachedDocuments]:
        """One extension per operation, sharing one schema's validation results."""
        results = ValidationResults()
        return lambda: cls(results, max_tokens)

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.query is not None and is_cached(execution.query):
            try:
                execution.graphql_document = self.cached = parse_document(execution.query, self.max_tokens)
            except GraphQLError:
                pass  # strawberry parses it again and reports the error as usual
        yield

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        # Only documents from the cache: a fresh parse is a new object every time, and may be huge.
        if execution.pre_execution_errors is None and self.cached is not None and execution.validation_rules:
            schema = graphql_schema_of(execution.schema)
            execution.pre_execution_errors = self.results.errors(schema, self.cached, execution.validation_rules)
        yield


def all_nodes(document: DocumentNode) -> Iterator[Any]:
    """Every node of the document (iteratively: the parser has already bounded its nesting)."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        yield node
        for key in _keys(type(node)):
            child = getattr(node, key, None)
            if isinstance(child, Node):
                stack.append(child)
            elif isinstance(child, tuple | list):
                stack.extend(item for item in child if isinstance(item, Node))


# Each node class's fields: graphql-core 3.3 computes `node.keys` from the dataclass fields on every access.
_KEYS: dict[type, tuple[str, ...]] = {}


def _keys(node_class: type) -> tuple[str, ...]:
    keys = _KEYS.get(node_class)
    if keys is None:
        keys = _KEYS[node_class] = tuple(field.name for field in fields(node_class))
    return keys
