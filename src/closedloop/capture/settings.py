"""Capture limits, read once at the edge from CLOSEDLOOP_CAPTURE_* (the core receives them)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class CaptureSettings(BaseSettings):
    """Size limits, rate limits and form rules of the public capture endpoints."""

    model_config = SettingsConfigDict(env_prefix="CLOSEDLOOP_CAPTURE_", extra="ignore")

    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_batch: int = Field(default=100, ge=1, le=1000)
    # Events per second (a batch costs its length; a form or identify call costs 1).
    key_rate: float = Field(default=2000.0, gt=0)
    key_burst: float = Field(default=4000.0, gt=0)
    ip_rate: float = Field(default=20.0, gt=0)
    ip_burst: float = Field(default=200.0, gt=0)
    # Form fields a submission must carry besides one identity (email or phone), comma-separated.
    required_fields: str = "email"
    # Set the first-party `cl_vid` cookie from the server so the visitor id outlives script-set caps.
    set_cookie: bool = True
    site_cache_seconds: float = Field(default=30.0, ge=0)
    # Rate-limit buckets shared by every server process of the host (a memory-mapped file next
    # to a SQLite store, else in the temporary directory or `limits_dir`); False keeps them per process.
    shared_limits: bool = True
    limits_dir: str | None = None

    @model_validator(mode="after")
    def _bursts_hold_a_batch(self) -> CaptureSettings:
        if self.key_burst < self.max_batch or self.ip_burst < self.max_batch:
            raise ValueError("key_burst and ip_burst must be at least max_batch")
        return self

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.strip() for f in self.required_fields.split(",") if f.strip())


@lru_cache(maxsize=1)
def get_capture_settings() -> CaptureSettings:
    """The capture settings of this process, read from the environment once."""
    return CaptureSettings()
