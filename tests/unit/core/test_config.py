"""Settings: the secret key is required outside demo mode and placeholders are refused."""

from __future__ import annotations

import pytest

from closedloop.config import DEMO_SECRET_KEY, Settings
from closedloop.errors import ConfigurationError


def test_missing_secret_is_refused_outside_demo() -> None:
    with pytest.raises(ConfigurationError, match="CLOSEDLOOP_SECRET_KEY"):
        Settings(secret_key=None).require_secret()
    assert Settings(secret_key=None).require_secret(demo=True) == DEMO_SECRET_KEY


@pytest.mark.parametrize("key", ["short", "x" * 32, "changeme" * 4, DEMO_SECRET_KEY, "ab" * 20])
def test_weak_or_documented_secrets_are_refused(key: str) -> None:
    with pytest.raises(ConfigurationError):
        Settings(secret_key=key).require_secret()


def test_a_real_secret_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "k3Jq9-wZ_pL2vN8rT5yB1mC4xF7hD0sG6aE"
    assert Settings(secret_key=key).require_secret() == key
    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", "sqlite:///elsewhere.db")
    assert Settings().database_url == "sqlite:///elsewhere.db"
