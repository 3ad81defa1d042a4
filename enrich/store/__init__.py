"""Stores: one interface (:class:`Store`), an embedded and a remote implementation."""

from __future__ import annotations

from pathlib import Path

from enrich.settings import Settings
from enrich.store.base import QuerySyntaxError, Store, StoreError, StoreNotFound, Transaction

__all__ = ["QuerySyntaxError", "Store", "StoreError", "StoreNotFound", "Transaction", "open_store"]


def open_store(location: str | None = None, settings: Settings | None = None, create: bool = True) -> Store:
    """Open the store named by ``location`` (a directory, ``:memory:`` or an ``http(s)://`` URL).

    Without ``location`` the settings' ``store`` is used (the embedded default). With ``create`` false
    a missing embedded store is an error (``StoreNotFound``) instead of a new empty one, so a mistyped
    path is noticed.
    """
    settings = settings or Settings()
    location = location or settings.store
    if location.startswith(("http://", "https://")):
        from enrich.store.remote import RemoteStore

        return RemoteStore.from_base_url(location, settings)
    from enrich.store.embedded import EmbeddedStore

    if location == ":memory:":
        return EmbeddedStore(None)
    if not create and not Path(location).is_dir():
        raise StoreNotFound(f"no store at {location} (ingest something first, or check --store / ENRICH_STORE)")
    return EmbeddedStore(location)
