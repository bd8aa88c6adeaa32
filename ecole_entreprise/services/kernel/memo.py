"""Results kept until the tabs they were computed from change, so that cost stays flat as history piles up.

A page reruns on every click and the shared cache re-reads the sheet every `cache_ttl_s`: most re-reads find most
tabs unchanged. `signature(tab)` is a digest of what a tab holds (headers, structural issues, each row's number
and fingerprint, which covers its ID), computed once per TabData object (adapters build a new one for every read
of a tab that changed and never change one in place); `per_tabs` keeps a result under the signatures of the tabs it
depends on plus the caller's own key (user, date…), so a view after a re-read costs a few digests, not a
recomputation. Only the last MAX_ENTRIES results are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import TypeVar

from ...store.base import Snapshot, TabData

T = TypeVar("T")
MAX_ENTRIES = 64
# What the home page's tiles are computed from (bilan.prepare and the school year of Parametres).
HOME_KPI_TABS = ("Entreprises", "Personnels", "Rencontres", "Partenariats", "Parametres")
_ABSENT = "absent"
_FINGERPRINT, _NUMBER = attrgetter("fingerprint"), attrgetter("row_number")  # a row's ID is in its fingerprint


def signature(data: TabData | None) -> str:
    """A digest of a tab's content as the app sees it; the same content gives the same digest on every read of
    this process (the memo lives in the process). Python's hash of the tuple of row fingerprints and numbers: its
    loop runs in C over strings whose hash is cached, several times cheaper per row than a cryptographic digest,
    which matters for the first view after every re-read of a Google sheet (new tab objects); two versions of a tab
    collide with probability about 2⁻⁶⁴."""
    if data is None:
        return _ABSENT
    shape = (id(data.rows), len(data.rows), len(data.rows_without_id), len(data.issues))
    cached = getattr(data, "_memo_signature", None)
    if cached is not None and cached[0] == shape:
        return cached[1]
    rows = data.rows + data.rows_without_id
    issues = tuple((i.row_number, i.column, i.message) for i in data.issues)
    content = (tuple(data.headers), issues, tuple(map(_FINGERPRINT, rows)), tuple(map(_NUMBER, rows)))
    value = f"{hash(content) & (2**64 - 1):016x}"
    data._memo_signature = (shape, value)  # TabData is not frozen: the digest travels with the object
    return value


def signatures(snapshot, tabs: Iterable[str]) -> tuple[str, ...]:
    return tuple(signature(snapshot.tabs.get(name)) for name in tabs)


class Kept:
    """The last `size` results by key, shared by threads: `get(key, compute)` is compute(), or what it gave for an
    equal key (two sessions asking at once may both compute; either result is kept)."""

    def __init__(self, size: int):
        self.size, self._results, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = compute()
        with self._lock:
            self._results[key] = value
            while len(self._results) > self.size:
                self._results.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._results)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()


_results = Kept(MAX_ENTRIES)


def per_tabs(snapshot: Snapshot, tabs: Iterable[str], key: tuple, compute: Callable[[], T]) -> T:
    """`compute()`, or the result it gave for the same `key` while `tabs` held the same content.

    The result is shared between callers: treat it as read-only."""
    tabs = tuple(tabs)
    return _results.get((key, tabs, signatures(snapshot, tabs)), compute)


def clear() -> None:
    _results.clear()
