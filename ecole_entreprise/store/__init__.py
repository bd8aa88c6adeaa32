"""Storage: the only package that knows gspread and openpyxl. `open_store` picks the backend from settings."""

from __future__ import annotations

import threading

from ..config import Settings
from ..domain.schema import Schema, default_schema
from .cache import CachedStore

_shared: dict[tuple, CachedStore] = {}
_shared_lock = threading.Lock()


def build_store(settings: Settings, schema: Schema | None = None):
    """A fresh, uncached store for the configured backend, every read and write logged (store/logged.py)."""
    from .logged import LoggedStore

    schema = schema or default_schema()
    if settings.backend == "google":
        from .gsheets import GoogleSheetsStore

        return LoggedStore(GoogleSheetsStore.from_settings(schema, settings))
    from .workbook import WorkbookStore

    return LoggedStore(WorkbookStore(schema, settings.workbook_path))


def shared_store(settings: Settings) -> CachedStore:
    """The process-wide cached store: every Streamlit session of this server shares it (and its cache)."""
    key = (settings.backend, str(settings.workbook_path), settings.spreadsheet)
    with _shared_lock:
        if key not in _shared:
            from .. import logs

            logs.configure(settings)  # once per server process (later calls do nothing)
            _shared[key] = CachedStore(build_store(settings), settings.cache_ttl_s)
        return _shared[key]
