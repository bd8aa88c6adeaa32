"""A Store wrapper that logs every read and write of the backend (tab, count, duration, outcome; conflicts apart).

`build_store` wraps every backend with it, so the CLI and the app log the same lines; the read cache sits above it,
so a view served from memory logs nothing. Only tab names, row IDs, counts and timings are logged (see logs.py).
"""

from __future__ import annotations

import logging

from .. import logs
from .base import Conflict, InitReport, Row, Snapshot


class LoggedStore:
    def __init__(self, inner):
        self.inner = inner
        self.schema = inner.schema

    def __getattr__(self, name):  # backend-specific helpers (describe, properties…) pass through
        return getattr(self.inner, name)

    def describe(self) -> dict[str, str]:
        return self.inner.describe()

    def read(self, *args, **kwargs) -> Snapshot:
        with logs.timed("lecture", "store", backend=self._kind()) as extra:
            snapshot = self.inner.read(*args, **kwargs)
            extra.update(tabs=len(snapshot.tabs), rows=sum(len(t.rows) for t in snapshot.tabs.values()),
                         requests=snapshot.requests)
        return snapshot

    def append(self, tab: str, records: list[dict[str, str]]) -> list[Row]:
        with logs.timed("ajout", "store", tab=tab, count=len(records)):
            return self.inner.append(tab, records)

    def update(self, tab: str, row_id: str, changes: dict[str, str], expected_fingerprint: str) -> Row:
        try:
            with logs.timed("modification", "store", tab=tab, id=row_id, fields=len(changes)):
                return self.inner.update(tab, row_id, changes, expected_fingerprint)
        except Conflict as conflict:
            logs.event("conflit", logging.WARNING, "store", tab=tab, id=row_id,
                       changed=len(conflict.changed_fields()))
            raise

    def delete(self, tab: str, row_ids: list[str]) -> int:
        with logs.timed("suppression", "store", tab=tab, count=len(row_ids)) as extra:
            removed = self.inner.delete(tab, row_ids)
            extra["removed"] = removed
        return removed

    def init(self) -> InitReport:
        with logs.timed("initialisation", "store", backend=self._kind()):
            return self.inner.init()

    def _kind(self) -> str:
        try:
            return self.inner.describe().get("kind", "")
        except Exception:  # noqa: BLE001 - a log field must never break the operation it describes
            return ""
