"""One Settings object, read from the `TICKETDESK_*` environment variables (and an optional `.env`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from limits import parse as parse_rate
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ticketdesk.filetypes import KNOWN_TYPES

DEV_JWT_SECRET = "ticketdesk-development-secret-change-me"


class Settings(BaseSettings):
    """Everything an operator can configure; defaults run with nothing installed but the package."""

    model_config = SettingsConfigDict(env_prefix="TICKETDESK_", env_file=".env", extra="ignore")

    # Anything but "development" (production, staging, test, ...) gets production behaviour: a mistyped or
    # unknown name must never open up a deployed service.
    env: str = "development"
    database_url: str = "sqlite://ticketdesk.db"
    broadcast_url: str = "memory://"
    jwt_secret: str = DEV_JWT_SECRET
    jwt_algorithm: str = "HS256"
    cors_origins: Annotated[list[str], NoDecode] = []
    # None follows the environment: on in development, off in production.
    graphiql: bool | None = None
    introspection: bool | None = None
    allow_get_queries: bool | None = None  # GET /graphql?query=... (never mutations)
    # GraphiQL's page assets (see ticketdesk.graphiql): where they are cached (default: under the user's
    # cache folder, XDG_CACHE_HOME or ~/.cache), which npm registry they are fetched from (every tarball
    # is checked against its pin, so any mirror will do), and whether falling back to the unpkg CDN when
    # they are missing is intended (no warning then).
    graphiql_assets: Path | None = None
    xdg_cache_home: Path | None = Field(default=None, validation_alias="XDG_CACHE_HOME")
    npm_registry: str = Field(default="https://registry.npmjs.org", min_length=1)
    graphiql_cdn: bool = False
    attachment_hosts: Annotated[list[str], NoDecode] = []  # hosts attachmentUrls may name (empty: any https host)
    # Uploaded files (see ticketdesk.uploads, ticketdesk.downloads): where their bytes live (database,
    # file:///path or s3://bucket/prefix), how large one may be, which types are accepted (decided from the
    # content), how many a ticket may have and how many a person may hold unattached, for how long.
    attachment_store: str = "database"
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    attachment_types: Annotated[list[str], NoDecode] = list(KNOWN_TYPES)
    attachment_max_per_ticket: int = Field(default=50, gt=0)
    attachment_max_pending: int = Field(default=20, gt=0)  # per uploader, unattached at once
    attachment_pending_hours: float = Field(default=24.0, gt=0)  # unattached uploads are removed after this
    attachment_sweep_seconds: float = Field(default=600.0, gt=0)  # how often each process sweeps
    attachment_link_seconds: int = Field(default=300, gt=0)  # how long a download link stays valid
    # Where uploads are spooled while they arrive (default: the system's temporary folder).
    attachment_spool_dir: Path | None = None
    # Outbound webhooks (see ticketdesk.outbound): the first retry's delay (doubling, with jitter, up to an hour),
    # how long a webhook may fail before it is disabled, how long a receiver has to answer, how often each process
    # looks for events to deliver, how many deliveries per webhook are kept for the admin's view, and whether
    # receivers on private, loopback or link-local addresses are allowed outside development.
    webhook_retry_seconds: float = Field(default=5.0, gt=0)
    webhook_disable_hours: float = Field(default=24.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_delivery_retention: int = Field(default=1000, gt=0)
    webhook_allow_private: bool = False
    # The address clients reach this service at (https://support.bank.example): download links are built on
    # it. Empty: on the address each request came to.
    public_url: str = ""
    migrate_on_start: bool = True
    max_page_size: int = 100
    # Realtime. The event log is kept for good (it is each ticket's timeline); `since` may resume
    # from events up to this many hours old, older cursors get CURSOR_EXPIRED.
    resume_window_hours: float = Field(default=24.0, gt=0)
    # How often each process re-reads the event log even without a broker announcement.
    event_poll_seconds: float = Field(default=5.0, gt=0)
    # Server keep-alive on both WebSocket protocols, and the connection_init deadline (close 4408).
    keepalive_seconds: float = Field(default=15.0, gt=0)
    connection_init_timeout_seconds: float = Field(default=5.0, gt=0)
    max_subscriptions_per_connection: int = Field(default=20, gt=0)
    # Events one subscriber may lag behind before it catches up from the log instead.
    subscriber_buffer: int = Field(default=1000, gt=0)
    # permessage-deflate on WebSockets (`serve` only): about 40 KB of zlib state per connection for messages of
    # a few hundred bytes, so off unless bandwidth costs more than memory.
    ws_compression: bool = False
    # Allocations between collections of the garbage collector's young generation (CPython's default is 700);
    # see ticketdesk.app.settle_garbage_collector.
    gc_young_threshold: int = Field(default=10_000, gt=0)
    # Limits on what one request may send (each refusal is a clear error and changes nothing).
    max_body_bytes: int = Field(default=1_048_576, gt=0)  # a larger JSON body gets HTTP 413
    max_token_hours: float = Field(default=24.0, gt=0)  # a token whose `exp` is further ahead is refused
    max_attachment_urls: int = Field(default=10, ge=0)  # per createTicket / addMessage
    max_conversation_lines: int = Field(default=500, gt=0)  # AI transfer history, analyzeConversation
    max_json_bytes: int = Field(default=16_384, gt=0)  # errorDetails, customerContext
    max_search_chars: int = Field(default=200, gt=0)  # the tickets filter's `search`
    # tickets' totalCount with a `search` term counts at most this many matches (answering this many when
    # there are more): an exact count of a common word's matches reads them all.
    search_count_limit: int = Field(default=1000, gt=0)
    # Characters of message text (public and internal each) a ticket's search document keeps: search looks no further.
    search_text_limit: int = Field(default=100_000, gt=0)
    # Query limits, checked before a document is validated or run (QUERY_TOO_COMPLEX): see ticketdesk.schema.limits.
    max_query_cost: int = Field(default=10_000, gt=0)  # result nodes a document may ask for
    max_subscription_cost: int = Field(default=1_000, gt=0)  # the same per event a subscription delivers
    max_query_depth: int = Field(default=12, gt=0)  # nested selection sets
    max_query_aliases: int = Field(default=30, ge=0)
    max_query_tokens: int = Field(default=5_000, gt=0)  # lexical tokens (and, separately, comments)
    max_directives_per_field: int = Field(default=5, ge=0)
    max_selections_per_field: int = Field(default=100, gt=0)  # fields in one selection set, fragments expanded
    max_root_mutations: int = Field(default=10, gt=0)  # root fields of one mutation document
    # Rate limits per principal (the token's `sub`, else the client address), in the `limits` notation
    # ("N/second|minute|hour"); shared between processes through Redis when the broadcast URL is redis://.
    rate_limit_query_cost: str = "100000/minute"  # summed query cost (see max_query_cost)
    rate_limit_mutations: str = "120/minute"  # root mutation fields, for people
    rate_limit_service_mutations: str = "1200/minute"  # root mutation fields, for a service (it acts for many)
    max_subscriptions_per_principal: int = Field(default=100, gt=0)  # concurrent, per process

    @field_validator("rate_limit_query_cost", "rate_limit_mutations", "rate_limit_service_mutations")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse_rate(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a rate such as 120/minute: {exc}") from None
        return value

    @field_validator("attachment_store")
    @classmethod
    def _store(cls, value: str) -> str:
        if value == "database" or (value.startswith("s3://") and len(value) > len("s3://")):
            return value
        if value.startswith("file:///"):
            return value
        raise ValueError(
            f"{value!r} is not an attachment store: use database, file:///absolute/path or s3://bucket/prefix"
        )

    @field_validator("attachment_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        unknown = [media for media in value if media not in KNOWN_TYPES]
        if unknown or not value:
            raise ValueError(f"attachment types must be some of {', '.join(KNOWN_TYPES)} (got {', '.join(value)})")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"{value!r} is not an http(s) address such as https://support.bank.example")
        return value.rstrip("/")

    @field_validator("cors_origins", "attachment_hosts", "attachment_types", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _refuse_dev_secret(self) -> Self:
        if not self.development and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError(
                "TICKETDESK_JWT_SECRET is the development default; set a real secret before running "
                f"with TICKETDESK_ENV={self.env}"
            )
        if not self.development and len(self.jwt_secret.encode()) < 32:
            raise ValueError(
                f"TICKETDESK_JWT_SECRET must be at least 32 bytes long outside development (HS256); "
                f"TICKETDESK_ENV is {self.env}."
            )
        return self

    @property
    def development(self) -> bool:
        """Only with TICKETDESK_ENV=development: errors unmasked, GraphiQL and introspection on by default."""
        return self.env == "development"

    @property
    def graphiql_enabled(self) -> bool:
        """Whether GET /graphql from a browser serves GraphiQL."""
        return self.development if self.graphiql is None else self.graphiql

    @property
    def get_queries_enabled(self) -> bool:
        """Whether queries may come as GET /graphql?query=... (a CSRF-prone form, so off in production)."""
        return self.development if self.allow_get_queries is None else self.allow_get_queries

    @property
    def introspection_enabled(self) -> bool:
        """Whether introspection queries and field suggestions are answered."""
        return self.development if self.introspection is None else self.introspection

    @property
    def is_sqlite(self) -> bool:
        """Whether the store is an SQLite file (one process only)."""
        return self.database_url.startswith("sqlite")
