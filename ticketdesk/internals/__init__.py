"""Every reach into a library's private or undocumented internals, in this package, each with why and its canary.

One module per library, so a layer takes in only the library it already depends on. Nothing else in ticketdesk
imports a library's private module or leans on an undocumented member (tests/test_layers.py checks), and a
library upgrade that moves one of these fails its canary in tests/test_internals.py, which names what to fix.

broadcaster 0.3.1 (internals.broadcaster)
    Exports `Broadcast` and `BroadcastBackend`, but not its in-memory backend, nor the subscriber type and
    end-of-stream exception that `Broadcast.subscribe()` hands out (ticketdesk.subscriptions.broker).
tortoise-orm 1.1 (internals.tortoise)
    `TortoiseContext.init(_enable_global_fallback=True)`: Tortoise 1.x keeps its connections in a context
    variable; a store opened in the ASGI lifespan task must also be found by request tasks that uvicorn starts
    from other contexts. `EXECUTOR_CACHE`: per-model INSERT/UPDATE/DELETE SQL, cached process-wide by
    connection name and table but not by dialect, so it is cleared whenever a store is opened
    (ticketdesk.models.store).
strawberry-graphql 0.341 (internals.strawberry)
    The graphql-transport-ws handler class a view uses (`graphql_transport_ws_handler_class`), subclassed to
    send server pings, and the legacy graphql-ws one (`graphql_ws_handler_class`, its `handle`), subclassed to
    close sockets that never initialise (ticketdesk.websocket); `execute_single` and its `request_data`
    keyword, overridden to refuse subscriptions over HTTP, and `cross_web.HTTPException` (strawberry's own HTTP
    error, from its dependency cross-web), raised there (ticketdesk.view); `StrawberryField.extensions`,
    appended to after declaration so every root field gets the policy's gate (ticketdesk.schema.gate);
    `Schema._schema`, the graphql-core schema the query limits measure against (ticketdesk.schema.limits).
graphql-core 3.3 (internals.graphql)
    The text of the parser's error when it stops at its token limit, reworded into QUERY_TOO_COMPLEX.
"""
