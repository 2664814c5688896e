"""`ticketdesk serve | migrate | token | export-schema | fetch-graphiql`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import uuid
from collections.abc import Sequence

from ticketdesk.models.enums import Role
from ticketdesk.settings import Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    if args.workers > 1 and (settings.is_sqlite or settings.broadcast_url.startswith("memory")):
        print(
            "ticketdesk: --workers > 1 needs a shared store and broker: set TICKETDESK_DATABASE_URL to "
            "postgres://... and TICKETDESK_BROADCAST_URL to redis://... (an SQLite file and memory:// "
            "broadcast live inside one process, so workers would not see each other's events).",
            file=sys.stderr,
        )
        return 2
    if settings.graphiql_enabled:
        _prefetch_graphiql(settings)
    if settings.migrate_on_start:
        # Here first, so a store that cannot be reached or migrated stops `serve` before any worker starts;
        # each worker's start then finds nothing to do (migrations take a lock, so workers never race).
        asyncio.run(_migrate(settings))
    uvicorn.run(
        "ticketdesk.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        timeout_graceful_shutdown=5,
        ws_per_message_deflate=settings.ws_compression,
    )
    return 0


def _prefetch_graphiql(settings: Settings) -> None:
    from ticketdesk.graphiql import AssetError, cache_dir, fetch_assets

    # A no-op once cached; without a registry the server still starts and the page falls back to unpkg.
    try:
        fetch_assets(cache_dir(settings), registry=settings.npm_registry, timeout=10)
    except (OSError, AssetError) as exc:
        print(f"ticketdesk: GraphiQL assets not fetched, the page will use unpkg.com: {exc}", file=sys.stderr)


def _fetch_graphiql(args: argparse.Namespace) -> int:
    from ticketdesk.graphiql import AssetError, cache_dir, fetch_assets

    settings = Settings()
    target = cache_dir(settings)
    try:
        fetch_assets(target, registry=settings.npm_registry)
    except (OSError, AssetError) as exc:
        print(f"ticketdesk: could not fetch the GraphiQL assets into {target}: {exc}", file=sys.stderr)
        return 1
    print(target)
    return 0


async def _migrate(settings: Settings) -> None:
    from ticketdesk.models.store import open_store

    ctx = await open_store(settings.database_url, migrate=True)
    await ctx.close_connections()


def _token(args: argparse.Namespace) -> int:
    from ticketdesk.auth import mint_token
    from ticketdesk.errors import BadUserInput
    from ticketdesk.parsing import parse_uuid

    settings = Settings()
    try:
        subject = parse_uuid(args.sub, "--sub") if args.sub else uuid.uuid4()
    except BadUserInput as exc:
        print(f"ticketdesk token: {exc.message}", file=sys.stderr)
        return 2
    if not 0 < args.hours <= settings.max_token_hours:
        print(
            f"ticketdesk token: --hours must be more than 0 and at most {settings.max_token_hours:g} "
            "(TICKETDESK_MAX_TOKEN_HOURS): the server refuses longer-lived tokens.",
            file=sys.stderr,
        )
        return 2
    print(
        mint_token(
            settings,
            Role(args.role.upper()),
            subject,
            name=args.name,
            email=args.email,
            lifetime=dt.timedelta(hours=args.hours),
        )
    )
    return 0


def _export_schema(args: argparse.Namespace) -> int:
    from ticketdesk.schema import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ticketdesk` command."""
    parser = argparse.ArgumentParser(prog="ticketdesk", description="The ticketdesk support-ticket service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply migrations and start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true")
    serve.set_defaults(run=_serve)

    migrate = commands.add_parser("migrate", help="apply the store's pending migrations")
    migrate.set_defaults(run=lambda args: asyncio.run(_migrate(Settings())) or 0)

    token = commands.add_parser("token", help="print a signed development token")
    token.add_argument("--role", required=True, choices=[role.value.lower() for role in Role])
    token.add_argument("--sub", help="the principal's UUID (random when omitted)")
    token.add_argument("--name")
    token.add_argument("--email")
    token.add_argument("--hours", type=float, default=12.0, help="lifetime (default 12)")
    token.set_defaults(run=_token)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.set_defaults(run=_export_schema)

    graphiql = commands.add_parser(
        "fetch-graphiql", help="download GraphiQL's pinned npm assets so the app serves them itself"
    )
    graphiql.set_defaults(run=_fetch_graphiql)

    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
