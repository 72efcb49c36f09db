"""Settings read once, at the edge, from the environment (CLOSEDLOOP_*)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from closedloop.errors import ConfigurationError

# Values that appear in docs and examples: refused as real secrets.
PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "your-secret-key",
        "please-change-me-to-a-long-random-string",
        "0123456789abcdef0123456789abcdef",
        "x" * 32,
    }
)
DEMO_SECRET_KEY = "closedloop-demo-only-secret-key-not-for-production"
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Process settings. The core never reads the environment; it receives these."""

    model_config = SettingsConfigDict(env_prefix="CLOSEDLOOP_", extra="ignore")

    database_url: str = Field(default="sqlite:///closedloop.db")
    secret_key: str | None = None
    # Where DuckDB keeps the extensions loaded from their PyPI packages (never the user's home).
    extension_dir: str | None = None
    log_level: str = "INFO"
    # Monitoring (docs/DEPLOYMENT.md): a bearer token Prometheus may scrape /metrics with (besides an
    # admin API key), JSON or text log lines, and the one-line-per-request log.
    metrics_token: str | None = None
    log_format: str = "json"
    log_requests: bool = True
    # Bounded-staleness analytics on PostgreSQL (docs/DEPLOYMENT.md): after a write, numbers may come
    # from the latest snapshot whose copy started at most this many seconds ago; 0 = always fresh.
    analytics_max_staleness: float = Field(default=0.0, ge=0)
    # Upgrades on a live PostgreSQL store (docs/DEPLOYMENT.md): seconds a migration statement may wait
    # for a table lock before it gives up and is retried, instead of queueing the application behind it.
    migration_lock_timeout: float = Field(default=5.0, gt=0)

    def require_secret(self, *, demo: bool = False) -> str:
        """The secret key, validated; demo mode may fall back to a fixed local-only key."""
        key = self.secret_key
        if not key:
            if demo:
                return DEMO_SECRET_KEY
            raise ConfigurationError(
                "CLOSEDLOOP_SECRET_KEY is not set: set it to a random string of at least "
                f"{MIN_SECRET_LENGTH} characters (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        if len(key) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                f"CLOSEDLOOP_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters (it has {len(key)})"
            )
        if _looks_like_placeholder(key):
            raise ConfigurationError("CLOSEDLOOP_SECRET_KEY is a documented example value: choose your own")
        return key

    def scrape_token(self) -> str | None:
        """The metrics scrape token, refused when short or a documented example (like the secret key)."""
        token = self.metrics_token
        if token and (len(token) < MIN_SECRET_LENGTH or _looks_like_placeholder(token)):
            raise ConfigurationError(
                f"CLOSEDLOOP_METRICS_TOKEN must be a random string of at least {MIN_SECRET_LENGTH} characters"
            )
        return token or None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


PLACEHOLDER_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "example",
    "placeholder",
    "your-secret",
    "closedloop-demo",
)


def _looks_like_placeholder(key: str) -> bool:
    """A documented value, a word from the docs, or a short pattern repeated ("abab...")."""
    lowered = key.lower()
    if lowered in PLACEHOLDER_SECRETS or any(word in lowered for word in PLACEHOLDER_WORDS):
        return True
    return len(set(key)) < 6 or any(
        key == key[:n] * (len(key) // n) + key[: len(key) % n] for n in range(1, 9)
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from the environment once."""
    return Settings()
