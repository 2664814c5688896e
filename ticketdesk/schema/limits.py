"""Query limits, checked before anything runs: a document over any of them gets QUERY_TOO_COMPLEX with the limit
and the actual value, and is neither validated further nor executed.

- Tokens (and comments): graphql-core's parser stops at the limit, so a huge document is never built.
- Depth, aliases, directives per field, fields per selection set, root mutation fields and cost are measured in
  one walk of the document, each fragment spread counted every time it is used, stopping as soon as a limit is
  passed (so a fragment that spreads another twice, twenty times over, costs the walk nothing).
- Cost counts the result nodes a document may ask for: each field costs one for every time it can be
  returned; a field with `first`/`last` returns that many items (default 20) in the lists directly under it,
  and any other list returns 20. `tickets(first: 100) { nodes { messages { body } } }` costs
  1 (tickets) + 1 (nodes) + 100 (messages, one per ticket) + 2,000 (body, 20 per ticket) = 2,102.

strawberry's QueryDepthLimiter and MaxAliasesLimiter are not used: their errors carry neither a code nor the limit
and actual value the contract promises, and each would walk the document again. The walk runs before graphql-core's
own validation, whose overlapping-fields rule is quadratic in the fields of a selection set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from ticketdesk.errors import QueryTooComplex
from ticketdesk.internals.graphql import is_token_limit_error
from ticketdesk.internals.strawberry import graphql_schema_of
from ticketdesk.settings import Settings

DEFAULT_LIST_SIZE = 20


@dataclass(frozen=True)
class Limits:
    """The query limits of ticketdesk.settings, by what they limit."""

    cost: int
    depth: int
    aliases: int
    tokens: int
    directives: int
    selections: int
    root_mutations: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        """The limits an operator configured."""
        return cls(
            cost=settings.max_query_cost,
            depth=settings.max_query_depth,
            aliases=settings.max_query_aliases,
            tokens=settings.max_query_tokens,
            directives=settings.max_directives_per_field,
            selections=settings.max_selections_per_field,
            root_mutations=settings.max_root_mutations,
        )


class _Exceeded(Exception):
    def __init__(self, what: str, limit: int, actual: int) -> None:
        self.what, self.limit, self.actual = what, limit, actual


class _Walk:
    """One document's measures, raising _Exceeded at the first limit passed."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any], limits: Limits):
        self.schema = schema
        self.variables = variables
        self.limits = limits
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.cost = 0
        self.aliases = 0

    def operation(self, operation: OperationDefinitionNode) -> None:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return  # graphql-core's validation reports the missing root type
        if operation.operation is OperationType.MUTATION:
            for count, _ in enumerate(self._fields(operation.selection_set, frozenset()), start=1):
                _check("root mutation fields:", self.limits.root_mutations, count)
        self._selection_set(operation.selection_set, root, 1, None, 1, frozenset())

    def _selection_set(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType | None,
        multiplier: int,
        list_size: int | None,
        depth: int,
        spreading: frozenset[str],
    ) -> None:
        _check("nesting depth:", self.limits.depth, depth)
        fields: list[tuple[FieldNode, frozenset[str]]] = []
        # Counted as they come: a fragment that spreads another twice, over and over, never gets expanded whole.
        for field in self._fields(selection_set, spreading):
            fields.append(field)
            _check("fields in one selection set:", self.limits.selections, len(fields))
        for node, path in fields:
            _check("directives on one field:", self.limits.directives, len(node.directives or ()))
            if node.alias is not None:
                self.aliases += 1
                _check("aliases:", self.limits.aliases, self.aliases)
            self.cost += multiplier
            _check("cost (result nodes it may return):", self.limits.cost, self.cost)
            name = node.name.value
            if node.selection_set is None or name.startswith("__"):
                continue  # a leaf, or introspection (off in production; GraphiQL's own query is deep)
            definition = parent.fields.get(name) if parent is not None else None
            child = get_named_type(definition.type) if definition is not None else None
            child_type = child if isinstance(child, GraphQLObjectType) else None
            if definition is not None and ("first" in definition.args or "last" in definition.args):
                # A paged field: it is returned once, the lists right under it hold the page.
                size = self._page_size(node)
                self._selection_set(node.selection_set, child_type, multiplier, size, depth + 1, path)
            elif definition is not None and _is_list(definition):
                size = list_size or DEFAULT_LIST_SIZE
                self._selection_set(node.selection_set, child_type, multiplier * size, None, depth + 1, path)
            else:
                self._selection_set(node.selection_set, child_type, multiplier, None, depth + 1, path)

    def _fields(
        self, selection_set: SelectionSetNode, spreading: frozenset[str]
    ) -> Iterator[tuple[FieldNode, frozenset[str]]]:
        """The fields of a selection set with fragments expanded, each use counted; with the fragments on the way."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, spreading
                continue
            _check("directives on one field:", self.limits.directives, len(selection.directives or ()))
            if isinstance(selection, InlineFragmentNode):
                yield from self._fields(selection.selection_set, spreading)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in spreading:  # a cycle is reported by validation
                    yield from self._fields(fragment.selection_set, spreading | {name})

    def _page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value in ("first", "last"):
                value = argument.value
                if isinstance(value, IntValueNode):
                    return max(int(value.value), 1)
                if isinstance(value, VariableNode):
                    given = self.variables.get(value.name.value)
                    if isinstance(given, int) and not isinstance(given, bool):
                        return max(given, 1)
        return DEFAULT_LIST_SIZE


def _check(what: str, limit: int, actual: int) -> None:
    if actual > limit:
        raise _Exceeded(what, limit, actual)


def _is_list(definition: GraphQLField) -> bool:
    field_type = definition.type
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def check_document(
    schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any], limits: Limits
) -> QueryTooComplex | None:
    """The first limit `document` passes (every operation in it is measured), or None."""
    walk = _Walk(schema, document, variables, limits)
    try:
        # Aliases written anywhere count too: an unused fragment full of them still costs validation.
        written = sum(1 for node in _all_fields(document) if node.alias is not None)
        _check("aliases:", limits.aliases, written)
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                walk.operation(definition)
    except _Exceeded as exceeded:
        # The walk stops at the first value over a limit, so `actual` is how far it got: at least that much.
        return QueryTooComplex(
            f"The query is too complex: {exceeded.what} at least {exceeded.actual}, over the limit of "
            f"{exceeded.limit}. Ask for less at once (smaller pages, fewer nested lists, fewer aliases) or split it.",
            limit=exceeded.limit,
            actual=exceeded.actual,
        )
    return None


def _all_fields(document: DocumentNode) -> Iterator[FieldNode]:
    stack: list[Any] = list(document.definitions)
    while stack:
        node = stack.pop()
        selection_set = getattr(node, "selection_set", None)
        if isinstance(node, FieldNode):
            yield node
        if selection_set is not None:
            stack.extend(selection_set.selections)


class QueryLimits(SchemaExtension):
    """Applies the query limits to every operation, before validation and execution."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        options = cast("dict[str, Any]", self.execution_context.parse_options)
        options["max_lexical_tokens"] = self.limits.tokens
        options["max_comments"] = self.limits.tokens
        yield

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if is_token_limit_error(error):
                # Reworded in place: strawberry answers with this very error object.
                error.message = (
                    f"The query has more than {self.limits.tokens} tokens (or comments): send a shorter document."
                )
                error.extensions = QueryTooComplex.extensions_for(self.limits.tokens, self.limits.tokens + 1)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            schema = graphql_schema_of(context.schema)
            refusal = check_document(schema, context.graphql_document, context.variables or {}, self.limits)
            if refusal is not None:
                # Errors set before validation make strawberry skip it: the expensive part the limits protect.
                context.pre_execution_errors = [refusal]
        yield
