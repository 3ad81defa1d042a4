"""Service settings, read from ``ENRICH_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENRICH_", env_file=".env", extra="ignore")

    #: Embedded store directory, or the base URL of a remote SPARQL 1.1 server (``http(s)://…``).
    store: str = str(Path("data") / "store")
    #: Base IRI of our graphs and nodes (DESIGN §3).
    base_iri: str = "https://data.heritage-enrich.example/"
    #: Remote endpoints; by default Oxigraph server's layout under ``store`` (/query, /update, /store).
    remote_query_url: str | None = None
    remote_update_url: str | None = None
    remote_gsp_url: str | None = None
    remote_timeout_s: float = 60.0
    #: Where model work keeps its files: embedding caches, vector indexes, trained heads, generated images.
    data_dir: str = "data"
    #: Hosts record images may be fetched from (``example.org`` admits its subdomains; redirects are checked
    #: too); empty admits any. Image links come from ingested data: a public deployment should set this.
    image_hosts: list[str] = []
    #: Whether image links that are local paths or ``file:`` URLs are read.
    image_local_files: bool = True
    #: Records written per ingest batch (memory stays bounded by this).
    ingest_batch_records: int = 5000
    #: Largest single input (file, archive member, stdin) accepted, in bytes.
    max_input_bytes: int = 2 * 1024**3
    #: Largest archive expansion accepted (all members together), in bytes.
    max_archive_bytes: int = 8 * 1024**3

    #: The Ray cluster that ``--engine ray`` runs join (``auto``, ``ray://HOST:10001``); unset starts a Ray
    #: instance on this machine for each run. ``enrich run --address`` overrides it.
    ray_address: str | None = None

    # -- serving (api/) ------------------------------------------------------------------------------
    #: Bearer tokens as salted hashes, ``role:salt:sha256hex`` (roles reader, reviewer, admin); make one
    #: with ``python -m api.auth make-token ROLE``. From the environment: a JSON list.
    api_tokens: list[str] = []
    #: Whether reading (SPARQL queries, GET routes) needs no token.
    anonymous_read: bool = True
    #: Wall-clock limit of one SPARQL query through the endpoint, in seconds.
    sparql_timeout_s: float = 30.0
    #: Most result rows (solutions or triples) one SPARQL query through the endpoint may return.
    sparql_max_rows: int = 100_000
    #: Origins allowed by CORS (``["*"]`` for any); empty means no CORS headers.
    cors_origins: list[str] = []
    #: REST: default and largest page size of the list routes (/records, /suggestions).
    api_page_size: int = 50
    api_max_page_size: int = 1000
    #: Requests handled at once; more get 503 with Retry-After (a harvester backs off instead of timing out).
    max_concurrent_requests: int = 64
    #: Seconds a client told 503 is asked to wait (Retry-After).
    retry_after_s: int = 5
    #: Key that signs the reviewer page's session cookies; when unset, one is derived from the base IRI, the
    #: store and the token entries (so revoking a token ends its sessions).
    session_secret: str | None = None
    #: OAI-PMH: records per ListRecords/ListIdentifiers page.
    oai_page_size: int = 100
    #: Key that signs resumption tokens (so they stay valid across restarts and workers); when unset, one
    #: is derived from the base IRI and the store location.
    oai_token_secret: str | None = None
    #: OAI-PMH Identify: repository name and administrator e-mail.
    oai_repository_name: str = "heritage-enrich"
    oai_admin_email: str = "admin@heritage-enrich.example"


def get_settings() -> Settings:
    return Settings()
