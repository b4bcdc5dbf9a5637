"""Service settings: one pydantic-settings class, env prefix ``IOCMAP_``, built by the factory."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the API reads from the environment (see ``.env.example``)."""

    model_config = SettingsConfigDict(env_prefix="IOCMAP_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="PostGIS URL; unset = the project-local cluster"
    )
    pool_size: int = 10
    cache_entries: int = Field(default=256, description="responses kept per data version")
    gzip_min_bytes: int = 1024
    max_limit: int = 5000
    wall_refresh_seconds: int = 60
    log_level: str = "INFO"
    title: str = "iocmap — Giám sát Nghị quyết 57"
