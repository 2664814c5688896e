"""Introspection switched off (production's default): no `__schema`, and of `__type` only whether a type exists.

graphql-core's NoSchemaIntrospectionCustomRule refuses `__type` as well, which also breaks the GraphQL-over-HTTP
conformance checks that probe `__type(name:) { name }`. A type's name is no secret (clients generate code from
the published contract); its fields and arguments stay hidden: `__type` may select only `name`, `kind` and
`__typename`, written out, not through fragments.
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule

TYPE_EXISTENCE = frozenset({"name", "kind", "__typename"})


class NoIntrospectionRule(ValidationRule):
    """Refuses `__schema`, and any selection of `__type` beyond its name and kind."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        name = node.name.value
        if name == "__schema":
            self._refuse(node, "GraphQL introspection is off on this server: `__schema` is not answered.")
        elif name == "__type" and node.selection_set is not None:
            for selection in node.selection_set.selections:
                if not (isinstance(selection, FieldNode) and selection.name.value in TYPE_EXISTENCE):
                    self._refuse(
                        selection, "GraphQL introspection is off on this server: `__type` answers only name and kind."
                    )

    def _refuse(self, node: Any, message: str) -> None:
        self.report_error(GraphQLError(message, node))
