"""Service settings: one pydantic-settings class, env prefix ``IOCMAP_``, built by the factory.

Why one module: every setting of every process (server, importers, worker, reply links) is
one ``Settings`` class, because the configuration page and ``.env.example`` are generated
from it (``scripts/docs_hooks.py``); splitting it would split that page.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CONTROL_SLOTS = 2  # version check + readiness: their own lane, never behind the builds


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
    db_concurrency: int = Field(
        default=16,
        ge=1,
        le=1000,
        description="database jobs the server (all workers together) runs at once; the "
        "worker count, each worker's pool and its thread lanes derive from it",
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        validation_alias=AliasChoices("IOCMAP_WORKERS", "WEB_CONCURRENCY", "workers"),
        description="uvicorn worker processes (default: min(cores, db_concurrency // 4))",
    )
    db_wait_seconds: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description="longest a request waits for a database slot or connection (then 503)",
    )
    cache_entries: int = Field(default=256, description="responses kept per data version")
    gzip_min_bytes: int = Field(default=1024, description="smallest body that is gzipped")
    cache_max_bytes: int = Field(
        default=64 << 20,
        description="response cache per worker: bodies and their gzip copies, in bytes",
    )
    memory_budget_mb: int = Field(
        default=900,
        ge=200,
        description="the whole server's memory (MB, all workers): a worker over 80 % of its"
        " share empties its cache and trims its heap; over its share it is recycled"
        " gracefully (under `iocmap serve` with 2+ workers)",
    )
    heavy_slots: int = Field(
        default=2,
        ge=1,
        le=64,
        description="requests with a CQL2 filter at most this many at once per worker; more"
        " wait up to db_wait_seconds, then 503 + Retry-After (downloads: download_slots)",
    )
    download_slots: int = Field(
        default=1,
        ge=1,
        le=16,
        description="download files written at once per worker, each by a child process"
        " (130-250 MB while it runs); more wait up to 60 s, then 503 + Retry-After",
    )
    version_ttl: float = Field(
        default=0.5,
        description="seconds a worker trusts the data version it read (0 = read per request)",
    )
    max_limit: int = Field(default=5000, description="largest page size (limit=)")
    wall_refresh_seconds: int = Field(default=60, description="how often the wall refreshes")
    warm_pages: bool = Field(
        default=True,
        description="after an import, build the new data version's map pages before anyone"
        " asks for them",
    )
    stale_report_days: int = Field(
        default=7,
        ge=0,
        le=365,
        description="a unit that has not reported (imported a sheet) for more days than this"
        " is listed as stale by /api/v1/data-health and on the wall",
    )
    log_level: str = Field(default="INFO", description="log level of the server")
    read_requires_token: bool = Field(
        default=False, description="reading the API and maps needs a token of any role"
    )
    cors_public: bool = Field(
        default=True,
        description="Access-Control-Allow-Origin: * on public reads (GET/HEAD without a"
        " token), never on writes",
    )
    cors_origins: list[str] = Field(
        default_factory=list, description='origins allowed by CORS, e.g. ["https://ioc.example"]'
    )
    admin_token: str | None = Field(
        default=None, description="bearer token allowed to import; unset = imports refused (403)"
    )
    remind_min_days: int = Field(
        default=3,
        ge=0,
        le=365,
        description="a unit reminded fewer days ago than this is skipped unless forced",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        max_length=500,
        description="the address people open the service at (no trailing slash): links"
        " printed in notices (the reply link) start with it",
    )
    reply_secret: str | None = Field(
        default=None,
        min_length=32,
        description="HMAC key of the reply links printed in notices (at least 32 characters);"
        " unset = a random key generated once per database and kept in the instance's"
        " private directory (var/instances/…/reply-secret). Changing it voids issued links",
    )
    reply_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="a notice's reply link works until this many days after its reply-by date",
    )
    delivery_channels: list[Literal["email", "webhook"]] = Field(
        default=["email", "webhook"],
        description='channels an issued notice is queued on (subset of ["email", "webhook"]);'
        " a worker sends only the channels it has configured, the rest wait for one that has",
    )
    smtp_url: str | None = Field(
        default=None,
        description="mail server of `iocmap worker`: smtp://host:port (plain),"
        " smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465; unset = the"
        " worker leaves e-mail deliveries queued",
    )
    smtp_ca_file: str | None = Field(
        default=None,
        description="CA bundle (PEM) the worker verifies the mail server's TLS certificate"
        " with; unset = the system's CAs",
    )
    mail_from: str = Field(
        default="iocmap@localhost",
        max_length=254,
        description="From: of the notices' e-mails (its domain also names the Message-IDs)",
    )
    webhook_url: str | None = Field(
        default=None,
        description="URL the worker POSTs each notice to as signed JSON (a messaging gateway);"
        " unset = webhook deliveries stay queued",
    )
    webhook_secret: str | None = Field(
        default=None,
        description="HMAC-SHA256 key of the webhook's X-IOCMAP-Signature (needed with the URL)",
    )
    delivery_max_attempts: int = Field(
        default=8, ge=1, le=50, description="attempts of one delivery before it is dead"
    )
    delivery_backoff_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="wait after a failed attempt, doubled after each (at most 6 h)",
    )
    delivery_timeout_seconds: float = Field(
        default=20.0, gt=0, le=300, description="timeout of one SMTP or webhook call"
    )
    worker_poll_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="how often `iocmap worker` looks for due work"
    )
    escalate_at: str = Field(
        default="08:00",
        pattern=r"^(([01]\d|2[0-3]):[0-5]\d)?$",
        description="time of day (HH:MM, Vietnam time) the worker escalates silent holders;"
        " empty = never",
    )
    escalate_reply_days: int = Field(
        default=7, ge=1, le=90, description="reply-by of an escalated notice: days after it"
    )
    escalate_max: int = Field(
        default=5,
        ge=1,
        le=50,
        description="escalations of one holder and programme after which it is only listed",
    )
    token_lifetime_days: float = Field(
        default=180.0,
        gt=0,
        le=3660,
        description="days a new API token is valid (`iocmap token create|rotate --days`"
        " overrides); an expired token is answered 401",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="`iocmap serve`: seconds a client has to send a request's head (line and"
        " headers); then 408 and the connection closes (api/slow_clients.py)",
    )
    body_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="`iocmap serve`: longest pause allowed inside a request body (an upload)",
    )
    import_max_bytes: int = Field(default=200 << 20, description="upload size cap for imports")
    import_sheet_max_bytes: int = Field(
        default=20 << 20, description="upload size cap for task and indicator sheets"
    )
    import_files_keep_days: int = Field(
        default=0,
        ge=0,
        description="days the original bytes of each import are kept in the database"
        " (``iocmap imports prune-files`` deletes older ones; 0 = keep for ever)",
    )
    import_lock_timeout_s: float = Field(
        default=10.0, description="seconds an import waits for another of its kind (then 409)"
    )
    import_processes: int | None = Field(
        default=None,
        ge=0,
        le=4,
        description="helper processes of a big boundary import (0 = none); unset = one per"
        " core beyond the first, at most 4",
    )
    # untrusted files are parsed in a limited child process (docs/untrusted-files.md)
    sandbox_memory_mb: int = Field(
        default=1024,
        ge=128,
        le=65536,
        description="address space (RLIMIT_AS) of the child"
        " that parses one uploaded file; past it the upload is refused (413)",
    )
    sandbox_cpu_seconds: int = Field(
        default=120, ge=1, le=3600, description="CPU seconds (RLIMIT_CPU) of that child"
    )
    sandbox_wall_seconds: float = Field(
        default=180.0, gt=0, le=3600, description="the child is killed after this long"
    )
    sandbox_open_files: int = Field(default=64, ge=16, le=4096, description="RLIMIT_NOFILE")
    sandbox_output_mb: int = Field(
        default=512, ge=1, le=65536, description="largest result the child may write"
    )
    sandbox_concurrent: int = Field(
        default=1, ge=1, le=16, description="files parsed at once per worker (others wait)"
    )
    sandbox_zygote: bool = Field(
        default=True,
        description="fork those children from a clean process that has already imported"
        " the parsers (geo/ingest/zygote.py); false = a fresh interpreter per file",
    )
    xlsx_max_styles: int = Field(default=100_000, ge=1, description="style records of an XLSX")
    xlsx_max_shared_strings: int = Field(default=1_000_000, ge=1)
    xlsx_max_runs_per_string: int = Field(default=4_096, ge=1)
    xlsx_max_runs: int = Field(default=1_000_000, ge=1)
    xlsx_max_defined_names: int = Field(default=10_000, ge=0)
    geojson_max_properties: int = Field(
        default=1_000, ge=1, description="attributes of one feature of a boundary file"
    )
    geojson_max_vertices_per_ring: int = Field(default=500_000, ge=4)
    geojson_max_depth: int = Field(default=32, ge=8, le=1000)
    var_dir: str | None = Field(
        default=None,
        description="private working directory (download cache, uploads), created 0700;"
        " unset = var/ in the project (or ~/.cache/iocmap when that is not writable)",
    )
    reports_dir: str | None = Field(
        default=None,
        description="where `iocmap report scheduled` stores reports and GET /api/v1/reports"
        " lists them; unset = var/reports under the working directory",
    )
    title: str = Field(
        default="iocmap — Giám sát Nghị quyết 57", description="the API's title in /docs"
    )

    def sheet_counts(self) -> dict[str, int]:
        """The XLSX part counts, as ``SheetLimits`` fields."""
        return {
            "max_styles": self.xlsx_max_styles,
            "max_shared_strings": self.xlsx_max_shared_strings,
            "max_runs_per_string": self.xlsx_max_runs_per_string,
            "max_runs": self.xlsx_max_runs,
            "max_defined_names": self.xlsx_max_defined_names,
        }

    def configure_reply_links(self) -> None:
        """Give this process the key, base URL and validity of the notices' reply links
        (``geo/remind/reply.py``): the key is ``reply_secret``, else the one generated once
        in this database's private instance directory, shared by every process."""
        from api.instance import instance_dir
        from geo.remind import reply

        reply.configure(
            self.reply_secret,
            self.public_url,
            self.reply_days,
            None if self.reply_secret else instance_dir(self.app_url(), self.var_dir),
        )

    def configure_readers(self) -> None:
        """Give this process's file readers their limits: the sandbox's and the boundary
        files' (the sheets' come with each import's ``SheetLimits``)."""
        from geo.ingest import sandbox, vector_files

        sandbox.configure(
            sandbox.SandboxLimits(
                memory_mb=self.sandbox_memory_mb,
                cpu_seconds=self.sandbox_cpu_seconds,
                wall_seconds=self.sandbox_wall_seconds,
                open_files=self.sandbox_open_files,
                output_mb=self.sandbox_output_mb,
                concurrent=self.sandbox_concurrent,
            ),
            use_zygote=self.sandbox_zygote,
        )
        vector_files.configure(
            replace(
                vector_files.VectorLimits(),
                max_properties=self.geojson_max_properties,
                max_vertices_per_ring=self.geojson_max_vertices_per_ring,
                max_depth=self.geojson_max_depth,
            )
        )

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

    def delivery_config(self):
        """What ``iocmap worker`` sends with (``geo/remind/deliver.py``)."""
        from geo.remind.deliver import DeliveryConfig

        return DeliveryConfig(
            smtp_url=self.smtp_url or None,
            smtp_ca_file=self.smtp_ca_file or None,
            mail_from=self.mail_from,
            webhook_url=self.webhook_url or None,
            webhook_secret=self.webhook_secret or None,
            max_attempts=self.delivery_max_attempts,
            backoff_seconds=self.delivery_backoff_seconds,
            timeout_seconds=self.delivery_timeout_seconds,
        )

    def worker_count(self) -> int:
        """Workers: as configured, else one per core but none with fewer than 4 slots
        (a worker that can run only one or two builds at once stalls on one slow page)."""
        if self.workers:
            return self.workers
        return max(1, min(os.cpu_count() or 1, self.db_concurrency // 4))

    def db_slots(self) -> int:
        """Data builds one worker runs at once (its share of ``db_concurrency``)."""
        return max(1, self.db_concurrency // self.worker_count())

    def other_threads(self) -> int:
        """anyio's default thread limit per worker: gzip, files, imports, sync routes."""
        return max(4, self.db_slots())

    def pool_kwargs(self) -> dict[str, float | int]:
        """One pool per database per worker, large enough for every thread that may hold
        a connection (build lane + control lane + other threads), so no thread ever waits
        on the pool; the timeout only bounds the unexpected."""
        return {
            "pool_size": self.db_slots() + CONTROL_SLOTS,
            "max_overflow": self.other_threads(),
            "pool_timeout": self.db_wait_seconds,
        }
