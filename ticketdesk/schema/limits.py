"""Query limits and rate limits, checked before anything runs: a document over a query limit gets
QUERY_TOO_COMPLEX with the limit and the actual value, a principal over a rate limit RATE_LIMITED (HTTP 429 with
Retry-After); neither is validated further nor executed. Within them, `extensions.rateLimit` tells an
authenticated caller where their budget stands.

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

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType as StrawberryOperationType

from ticketdesk.context import Context
from ticketdesk.errors import QueryTooComplex, RateLimited
from ticketdesk.internals.graphql import is_token_limit_error
from ticketdesk.internals.strawberry import graphql_schema_of
from ticketdesk.ratelimit import Budget, RateLimits
from ticketdesk.resolvers.timeline import TIMELINE_PAGE
from ticketdesk.schema.documents import all_nodes
from ticketdesk.settings import Settings

DEFAULT_LIST_SIZE = 20
# Paged fields whose page is not 20 when `first` is left out.
PAGE_DEFAULTS = {"timeline": TIMELINE_PAGE}
# More digits than any 32-bit Int: graphql-core's own Int check would fail with an internal error on a literal this
# long (Python refuses to read integers over 4,300 digits), so the walk refuses it first, as validation would.
INT_LITERAL_MAX = 11


@dataclass(frozen=True)
class Limits:
    """The query limits of ticketdesk.settings, by what they limit."""

    cost: int
    subscription_cost: int
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
            subscription_cost=settings.max_subscription_cost,
            depth=settings.max_query_depth,
            aliases=settings.max_query_aliases,
            tokens=settings.max_query_tokens,
            directives=settings.max_directives_per_field,
            selections=settings.max_selections_per_field,
            root_mutations=settings.max_root_mutations,
        )


@dataclass(frozen=True)
class Measures:
    """What a document within the limits asks for: what the rate limits charge."""

    cost: int
    root_mutations: int


class _Exceeded(Exception):
    def __init__(self, what: str, limit: int, actual: int) -> None:
        self.what, self.limit, self.actual = what, limit, actual


class _Walk:
    """One document's measures, raising _Exceeded at the first limit passed."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any], limits: Limits):
        self.schema = schema
        self.limits = limits
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.raw_variables = variables
        self.variables: dict[str, Any] = {}
        self.cost = 0
        self.cost_limit = limits.cost
        self.aliases = 0
        self.root_mutations = 0

    def operation(self, operation: OperationDefinitionNode) -> None:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return  # graphql-core's validation reports the missing root type
        # The variables as execution will coerce them (defaults included); if they do not coerce, nothing runs
        # and page sizes count as their defaults.
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), dict(self.raw_variables))
        self.variables = {} if isinstance(coerced, list) else coerced.coerced
        # A subscription's selection runs again for every event it delivers, on every subscriber: it may ask less.
        self.cost_limit = (
            self.limits.subscription_cost if operation.operation is OperationType.SUBSCRIPTION else self.limits.cost
        )
        if operation.operation is OperationType.MUTATION:
            for count, _ in enumerate(self._fields(operation.selection_set, frozenset()), start=1):
                _check("root mutation fields:", self.limits.root_mutations, count)
                self.root_mutations = count
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
            _check("cost (result nodes it may return):", self.cost_limit, self.cost)
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
                # As execution will read it: a variable's value or default, an Int given as 1.0, ...
                value = value_from_ast(argument.value, GraphQLInt, self.variables)
                if isinstance(value, int) and value > 0:
                    return value
        return PAGE_DEFAULTS.get(node.name.value, DEFAULT_LIST_SIZE)


def _check(what: str, limit: int, actual: int) -> None:
    if actual > limit:
        raise _Exceeded(what, limit, actual)


def _is_list(definition: GraphQLField) -> bool:
    field_type = definition.type
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


def check_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Mapping[str, Any],
    limits: Limits,
    operation_name: str | None = None,
) -> Measures | GraphQLError:
    """The operation that will run (named, or the document's only one) measured against `limits`: its measures,
    or the first limit it passes (QUERY_TOO_COMPLEX; an Int literal no Int can hold is refused as validation
    would refuse it)."""
    # One pass over everything written, used or not (an unused fragment full of aliases still costs validation).
    written = 0
    for node in all_nodes(document):
        if isinstance(node, IntValueNode) and len(node.value.lstrip("-")) > INT_LITERAL_MAX:
            return GraphQLError(f"Int cannot represent non 32-bit signed integer value: {node.value[:20]}...", node)
        if isinstance(node, FieldNode) and node.alias is not None:
            written += 1
    walk = _Walk(schema, document, variables, limits)
    try:
        _check("aliases:", limits.aliases, written)
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
        if len(chosen) == 1:  # otherwise nothing runs: strawberry says which operation is missing
            walk.operation(chosen[0])
    except _Exceeded as exceeded:
        # The walk stops at the first value over a limit, so `actual` is how far it got: at least that much.
        return QueryTooComplex(
            f"The query is too complex: {exceeded.what} at least {exceeded.actual}, over the limit of "
            f"{exceeded.limit}. Ask for less at once (smaller pages, fewer nested lists, fewer aliases) or split it.",
            limit=exceeded.limit,
            actual=exceeded.actual,
        )
    return Measures(cost=walk.cost, root_mutations=walk.root_mutations)


class QueryLimits(SchemaExtension):
    """Applies the query limits, then charges the rate limits, before each operation is validated or run."""

    def __init__(self, limits: Limits, rates: RateLimits | None = None) -> None:
        self.limits = limits
        self.rates = rates
        self.budget: Budget | None = None

    def on_parse(self) -> Iterator[None]:
        # Set here, not in on_operation: a hook of that one stays open for as long as a subscription lives.
        options = cast("dict[str, Any]", self.execution_context.parse_options)
        options["max_lexical_tokens"] = self.limits.tokens
        options["max_comments"] = self.limits.tokens
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if is_token_limit_error(error):
                # Reworded in place: strawberry answers with this very error object.
                error.message = (
                    f"The query has more than {self.limits.tokens} tokens (or comments): send a shorter document."
                )
                error.extensions = QueryTooComplex.extensions_for(self.limits.tokens, self.limits.tokens + 1)

    async def on_validate(self) -> AsyncIterator[None]:
        execution = self.execution_context
        if execution.graphql_document is not None and execution.pre_execution_errors is None:
            measured = check_document(
                graphql_schema_of(execution.schema),
                execution.graphql_document,
                execution.variables or {},
                self.limits,
                execution.operation_name,
            )
            # Errors set before validation make strawberry skip it: the expensive part the limits protect.
            if isinstance(measured, GraphQLError):
                execution.pre_execution_errors = [measured]
            elif self.rates is not None:
                await self._charge(measured)
        yield

    async def _charge(self, measured: Measures) -> None:
        context: Context = self.execution_context.context
        rates = cast("RateLimits", self.rates)
        principal, role = context.principal
        try:
            if self.execution_context.operation_type is StrawberryOperationType.SUBSCRIPTION and context.viewer:
                context.feeds.check_room(context.viewer.id)
            self.budget = await rates.charge(principal, role, cost=measured.cost, mutations=measured.root_mutations)
        except RateLimited as refusal:
            self.execution_context.pre_execution_errors = [refusal]
            if refusal.retry_after is not None:
                context.refuse_request(429, {"Retry-After": str(refusal.retry_after)})

    async def get_results(self) -> dict[str, Any]:
        context: Context = self.execution_context.context
        # HTTP answers to a token only: on a subscription every event would repeat the subscribe's stale figures.
        if self.rates is None or context.viewer is None or context.response is None:
            return {}
        # A refused request (over a limit, not valid) was charged nothing: it shows the budget as it stands.
        budget = self.budget or await self.rates.budget(context.principal[0])
        return {"rateLimit": budget.report()}
