"""Configuration from the environment (prefix ``LIENTHONG_``), via pydantic-settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIENTHONG_", env_file=".env", extra="ignore")

    # Storage. The embedded default is a SQLite file; production uses PostgreSQL
    # (postgresql+psycopg://user@host/db).
    database_url: str = "sqlite:///var/lienthong.sqlite3"
    # PostgreSQL connection pool, per process (see lienthong.db.make_engine). Requests that find
    # every connection busy wait at most db_pool_timeout_s, then get 503 (lienthong.web.unavailable).
    # Only db_pool_size requests are let in at a time (lienthong.web.admission), so under load they
    # queue fairly instead of timing out on the pool; the overflow is for the background jobs
    # (relay, sequencer), gateway uploads and event streams. A new connection gives up after
    # db_connect_timeout_s.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_s: float = Field(default=5.0, gt=0)
    db_connect_timeout_s: int = Field(default=3, ge=1)
    # Retry-After (seconds) of the 503 answered while the database is unreachable or the server
    # overloaded. At most db_pool_size requests per process are processed at a time
    # (lienthong.web.admission); one waiting longer than request_queue_timeout_s gets 503.
    unavailable_retry_after_s: int = Field(default=5, ge=1)
    request_queue_timeout_s: float = Field(default=30.0, gt=0)
    # Directory for keys and other local state of the embedded mode.
    state_dir: Path = Path("var")

    # Public base URL of this server (used in OIDC redirect URIs and links).
    base_url: str = "http://127.0.0.1:8000"

    # Citizen login (OpenID Connect, authorization code + PKCE). Empty issuer = the built-in
    # development IdP served by this process under /dev-idp.
    oidc_issuer: str = ""
    oidc_client_id: str = "lienthong-web"
    oidc_client_secret: str = ""
    dev_idp_enabled: bool = True

    # Secret used to sign session cookies and the platform's own access tokens (HS256). In the
    # embedded mode a random one is generated into state_dir on first use.
    secret_key: str = ""
    access_token_ttl_s: int = 3600
    session_ttl_s: int = 8 * 3600

    # Events: when set, the outbox relay publishes to this NATS JetStream server.
    nats_url: str = ""
    nats_stream: str = "LIENTHONG"
    # Subjects are <prefix>.<topic>; JetStream forbids two streams sharing subjects.
    nats_subject_prefix: str = "lienthong"

    # Audit log (lienthong.audit): the sequencer gives committed entries their position in the
    # Merkle tree and signs a checkpoint every interval. The checkpoint key is derived from the
    # secret key unless audit_signing_key is set (a Go-style PRIVATE+KEY+... signer key, or the
    # base64 of an Ed25519 seed); audit_verifier_keys lists further trusted verifier keys
    # (name+id+key, e.g. retired keys).
    audit_sequence_interval_s: float = Field(default=1.0, gt=0)
    audit_log_origin: str = "lienthong/audit"
    audit_signing_key: str = ""
    audit_verifier_keys: list[str] = []

    # Run the outbox relay and periodic jobs in a thread of the server process (the demo and small
    # deployments); larger ones run `lienthong worker` processes instead and set this to false.
    background_jobs: bool = True

    # Request limits (see lienthong.limits): JSON/form bodies above this are refused with 413 (the
    # gateway's XML/FHIR uploads have their own caps); longer query strings with 414.
    request_max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    request_max_query_bytes: int = Field(default=16 * 1024, ge=1)
    request_max_query_params: int = Field(default=200, ge=1)

    # Demo data.
    demo_citizens: int = Field(default=2000, ge=0)
    demo_province_code: int = 1  # current (34-unit) province code of the synthetic demo province

    # Country codes accepted in the PPP part of personal IDs for births registered abroad
    # (the 63-province table is fixed; abroad codes are not published: configurable [?]).
    abroad_id_prefixes: list[str] = []

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
