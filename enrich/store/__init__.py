"""Stores: one interface (:class:`Store`), an embedded and a remote implementation."""

from __future__ import annotations

from enrich.settings import Settings
from enrich.store.base import QuerySyntaxError, Store, StoreError, Transaction

__all__ = ["QuerySyntaxError", "Store", "StoreError", "Transaction", "open_store"]


def open_store(location: str | None = None, settings: Settings | None = None) -> Store:
    """Open the store named by ``location`` (a directory, ``:memory:`` or an ``http(s)://`` URL).

    Without ``location`` the settings' ``store`` is used (the embedded default).
    """
    settings = settings or Settings()
    location = location or settings.store
    if location.startswith(("http://", "https://")):
        from enrich.store.remote import RemoteStore

        return RemoteStore.from_base_url(location, settings)
    from enrich.store.embedded import EmbeddedStore

    return EmbeddedStore(None if location == ":memory:" else location)
