"""graphql-core: telling its parser's limit errors from other syntax errors (they are GraphQLSyntaxErrors alike)."""

from __future__ import annotations

from graphql import GraphQLError

# What graphql-core 3.3's lexer says when it stops at max_lexical_tokens or max_comments.
TOKEN_LIMIT_MESSAGE = "Document contains more than"


def is_token_limit_error(error: GraphQLError) -> bool:
    """Whether a parse error is the parser stopping at its token or comment limit."""
    return TOKEN_LIMIT_MESSAGE in error.message
