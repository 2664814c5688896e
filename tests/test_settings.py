"""Settings: any environment but development behaves as production; limits have their documented defaults."""

from __future__ import annotations

import pydantic
import pytest

from ticketdesk.settings import DEV_JWT_SECRET, Settings

SECRET = "a-production-secret-of-at-least-32-bytes!"


@pytest.mark.parametrize("env", ["production", "staging", "test", "prod", "Development"])
def test_settings_any_env_but_development_refuses_the_development_secret(env: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="development default"):
        Settings(env=env, jwt_secret=DEV_JWT_SECRET, _env_file=None)


@pytest.mark.parametrize("env", ["production", "staging", "test"])
def test_settings_any_env_but_development_gets_production_behaviour(env: str) -> None:
    settings = Settings(env=env, jwt_secret=SECRET, _env_file=None)
    assert (settings.development, settings.graphiql_enabled, settings.introspection_enabled) == (False, False, False)


def test_settings_development_is_only_development() -> None:
    settings = Settings(env="development", _env_file=None)
    assert (settings.development, settings.graphiql_enabled, settings.introspection_enabled) == (True, True, True)


def test_settings_limits_have_the_documented_defaults() -> None:
    settings = Settings(_env_file=None)
    assert (settings.max_body_bytes, settings.max_token_hours, settings.max_attachment_urls) == (1_048_576, 24, 10)
    assert (settings.max_conversation_lines, settings.max_json_bytes, settings.max_search_chars) == (500, 16_384, 200)
    assert (settings.search_count_limit, settings.search_text_limit) == (1000, 100_000)
    assert (settings.attachment_store, settings.attachment_max_bytes, settings.attachment_link_seconds) == (
        "database",
        10 * 1024 * 1024,
        300,
    )
    assert (settings.attachment_max_per_ticket, settings.attachment_max_pending) == (50, 20)
    assert (settings.attachment_pending_hours, settings.attachment_sweep_seconds) == (24, 600)
    assert settings.attachment_types == [
        *("image/png", "image/jpeg", "image/gif", "image/webp", "image/heic", "application/pdf"),
        *("text/plain", "text/csv", "application/json"),
    ]


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("attachment_store", "ftp://files", "not an attachment store"),
        ("attachment_store", "file://relative/path", "not an attachment store"),
        ("attachment_types", "image/png,text/html", "attachment types must be some of"),
        ("public_url", "support.bank.example", "not an http(s) address"),
    ],
)
def test_settings_attachment_values_are_checked(name: str, value: str, words: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Settings(_env_file=None, **{name: value})  # type: ignore[arg-type]
