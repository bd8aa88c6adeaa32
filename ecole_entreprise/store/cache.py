"""One read cache shared by every session of this process, kept per tab and refreshed per tab.

A write made through the cache marks only the tab it wrote stale: the next read fetches that tab alone (when the
store can read some tabs: `read(tabs=…)`) and serves the others from memory while their TTL runs. So a page view
after a save does not download the whole spreadsheet again.
"""

from __future__ import annotations

import inspect
import threading
import time

from ..domain.values import now_paris
from .base import InitReport, Row, Snapshot, Store


class CachedStore:
    """Wraps a Store: `read()` is served from memory for `ttl_s` seconds per tab; a write makes its tab stale.

    Writes by people in the sheet are seen at the latest after `ttl_s`; writes through the app immediately.
    `read(fresh=True)` bypasses the cache (used right before showing a form that will be saved).
    """

    def __init__(self, inner: Store, ttl_s: float, clock=time.monotonic):
        self.inner = inner
        self.schema = inner.schema
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._tabs: dict[str, object] = {}  # tab -> TabData (absent from a store's snapshot: None)
        self._loaded: dict[str, float] = {}  # tab -> when it was read
        self._generation: dict[str, int] = {}  # tab -> bumped by every write to it (and by invalidate)

    def describe(self) -> dict[str, str]:
        return self.inner.describe()

    def _names(self) -> list[str]:
        return list(self.schema.tab_names)

    def read(self, fresh: bool = False, tabs=None) -> Snapshot:
        names = list(tabs) if tabs else self._names()
        with self._lock:
            now = self._clock()
            stale = [n for n in names if fresh or n not in self._loaded or now - self._loaded[n] >= self.ttl_s]
            if not stale:
                return Snapshot(tabs=self._present(names, only=bool(tabs)), read_at=now_paris(), requests=0)
            generations = {n: self._generation.get(n, 0) for n in names}
        partial = len(stale) < len(self._names()) and "tabs" in inspect.signature(self.inner.read).parameters
        snapshot = self.inner.read(tabs=stale) if partial else self.inner.read()
        read_names = stale if partial else self._names() + [n for n in snapshot.tabs if n not in self._names()]
        with self._lock:
            loaded = self._clock()
            for name in read_names:
                if self._generation.get(name, 0) == generations.get(name, 0):  # no write to it ended meanwhile
                    self._tabs[name] = snapshot.tabs.get(name)
                    self._loaded[name] = loaded
            served = {**self._present(names), **{n: d for n, d in snapshot.tabs.items()}}
        if tabs:
            served = {n: d for n, d in served.items() if n in names}
        return Snapshot(tabs=served, read_at=snapshot.read_at, requests=snapshot.requests)

    def _present(self, names: list[str], only: bool = False) -> dict:
        extra = [] if only else [k for k in self._tabs if k not in names]
        return {n: self._tabs[n] for n in list(names) + extra if self._tabs.get(n) is not None}

    def invalidate(self, tab: str | None = None) -> None:
        """Forget one tab (or every tab): its next read goes to the store."""
        with self._lock:
            names = [tab] if tab in self._names() else list(set(self._names()) | set(self._tabs))
            for name in names:
                self._loaded.pop(name, None)
                self._tabs.pop(name, None)
                self._generation[name] = self._generation.get(name, 0) + 1

    def age_s(self) -> float | None:
        """Age of the oldest tab served from memory (None when nothing is cached)."""
        with self._lock:
            return self._clock() - min(self._loaded.values()) if self._loaded else None

    def _write(self, tab: str | None, call):
        try:
            return call()
        finally:
            self.invalidate(tab)  # also after a failed write: its outcome may be uncertain

    def append(self, tab: str, records: list[dict[str, str]]) -> list[Row]:
        return self._write(tab, lambda: self.inner.append(tab, records))

    def update(self, tab: str, row_id: str, changes: dict[str, str], expected_fingerprint: str) -> Row:
        return self._write(tab, lambda: self.inner.update(tab, row_id, changes, expected_fingerprint))

    def delete(self, tab: str, row_ids: list[str]) -> int:
        return self._write(tab, lambda: self.inner.delete(tab, row_ids))

    def init(self) -> InitReport:
        return self._write(None, self.inner.init)

    def sheet_locale(self) -> str | None:
        return self.inner.sheet_locale()

    def write_corrections(self, entries) -> int:
        return self.inner.write_corrections(entries)  # a tab the app never reads: nothing to forget

    def exclusive(self, name: str, ttl_s: float = 30.0):
        return self.inner.exclusive(name, ttl_s)

    def tail(self, tab: str, n: int = 1) -> list[Row]:
        return self.inner.tail(tab, n)  # always fresh: a tail is read to write right after it

    def erased_writes(self) -> list:
        """App writes a stale copy of the local workbook erased (a store without a write log has none)."""
        lister = getattr(self.inner, "erased_writes", None)
        return lister() if lister is not None else []

    def settle_erased(self, seq: int, outcome: str, actor: str) -> None:
        self.inner.settle_erased(seq, outcome, actor)
