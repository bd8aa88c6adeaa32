"""One read cache shared by every session of this process, cleared by every write made through it."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from .base import InitReport, Row, Snapshot, Store


class CachedStore:
    """Wraps a Store: `read()` is served from memory for `ttl_s` seconds; any write invalidates it.

    Writes by people in the sheet are seen at the latest after `ttl_s`; writes through the app immediately.
    `read(fresh=True)` bypasses the cache (used right before showing a form that will be saved).
    """

    def __init__(self, inner: Store, ttl_s: float, clock=time.monotonic):
        self.inner = inner
        self.schema = inner.schema
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._loaded_at = 0.0
        self._generation = 0  # bumped by every write: a read that started before it must not be kept

    def describe(self) -> dict[str, str]:
        return self.inner.describe()

    def read(self, fresh: bool = False) -> Snapshot:
        with self._lock:
            if not fresh and self._snapshot is not None and self._clock() - self._loaded_at < self.ttl_s:
                return replace(self._snapshot, requests=0)
            generation = self._generation
        snapshot = self.inner.read()
        with self._lock:
            if generation == self._generation:  # no write ended during the read: it is current, keep it
                self._snapshot, self._loaded_at = snapshot, self._clock()
        return snapshot

    def invalidate(self) -> None:
        with self._lock:
            self._snapshot = None
            self._generation += 1

    def age_s(self) -> float | None:
        with self._lock:
            return None if self._snapshot is None else self._clock() - self._loaded_at

    def _write(self, call):
        try:
            return call()
        finally:
            self.invalidate()  # also after a failed write: its outcome may be uncertain

    def append(self, tab: str, records: list[dict[str, str]]) -> list[Row]:
        return self._write(lambda: self.inner.append(tab, records))

    def update(self, tab: str, row_id: str, changes: dict[str, str], expected_fingerprint: str) -> Row:
        return self._write(lambda: self.inner.update(tab, row_id, changes, expected_fingerprint))

    def delete(self, tab: str, row_ids: list[str]) -> int:
        return self._write(lambda: self.inner.delete(tab, row_ids))

    def init(self) -> InitReport:
        return self._write(self.inner.init)

    def sheet_locale(self) -> str | None:
        return self.inner.sheet_locale()

    def write_corrections(self, entries) -> int:
        return self._write(lambda: self.inner.write_corrections(entries))

    def exclusive(self, name: str, ttl_s: float = 30.0):
        return self.inner.exclusive(name, ttl_s)

    def tail(self, tab: str, n: int = 1) -> list[Row]:
        return self.inner.tail(tab, n)  # always fresh: a tail is read to write right after it
