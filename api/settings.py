"""Service settings: one pydantic-settings class, env prefix ``IOCMAP_``, built by the factory."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the API reads from the environment (see ``.env.example``)."""

    model_config = SettingsConfigDict(env_prefix="IOCMAP_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostGIS URL of the schema owner (migrations, demo reset); unset = the"
        " project-local cluster. The service itself connects as the app role (below)",
    )
    app_database_url: str | None = Field(
        default=None,
        description="URL the service, importers and token commands connect with; unset ="
        " the owner's URL with the user swapped for app_role",
    )
    app_role: str = Field(
        default="iocmap_app",
        description="least-privileged role created by `iocmap db migrate`; empty = connect"
        " as the owner (the audit trail is then not protected)",
    )
    app_database_password: str | None = Field(
        default=None, description="the app role's password when the server asks for one"
    )
    read_database_url: str | None = Field(
        default=None,
        description="streaming replica for GET traffic; unset/empty = reads on the primary",
    )
    read_max_lag_seconds: float = Field(
        default=30.0, description="replica lag above which /readyz says 'degraded'"
    )
    pool_size: int = 10
    cache_entries: int = Field(default=256, description="responses kept per data version")
    gzip_min_bytes: int = 1024
    cache_max_bytes: int = Field(default=512 << 20, description="response cache size per worker")
    version_ttl: float = Field(
        default=1.0,
        description="seconds a worker trusts the data version it read (0 = read per request)",
    )
    max_limit: int = 5000
    wall_refresh_seconds: int = 60
    log_level: str = "INFO"
    read_requires_token: bool = Field(
        default=False, description="reading the API and maps needs a token of any role"
    )
    cors_origins: list[str] = Field(
        default_factory=list, description='origins allowed by CORS, e.g. ["https://ioc.example"]'
    )
    admin_token: str | None = Field(
        default=None, description="bearer token allowed to import; unset = imports refused (403)"
    )
    import_max_bytes: int = Field(default=200 << 20, description="upload size cap for imports")
    import_sheet_max_bytes: int = Field(
        default=20 << 20, description="upload size cap for task and indicator sheets"
    )
    import_lock_timeout_s: float = Field(
        default=10.0, description="seconds an import waits for another of its kind (then 409)"
    )
    var_dir: str | None = Field(
        default=None,
        description="private working directory (download cache, uploads), created 0700;"
        " unset = var/ in the project (or ~/.cache/iocmap when that is not writable)",
    )
    title: str = "iocmap — Giám sát Nghị quyết 57"

    def app_url(self) -> str:
        """Where the service connects: the app role on the owner's database."""
        from geo.db import app_database_url, normalise_url

        owner = normalise_url(self.database_url) if self.database_url else None
        return app_database_url(
            owner, self.app_database_url or "", self.app_role, self.app_database_password or None
        )

    def app_read_url(self) -> str | None:
        """The replica's URL as the app role (a URL naming another user is kept)."""
        if not self.read_database_url:
            return None
        if self.app_database_url:
            return self.read_database_url
        from geo.db import as_app_role, normalise_url

        owner = normalise_url(self.database_url) if self.database_url else None
        return as_app_role(self.read_database_url, owner, self.app_role, self.app_database_password)
