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
