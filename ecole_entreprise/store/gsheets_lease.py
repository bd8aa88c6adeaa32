"""`exclusive(name)` on Google Sheets: a lease that every process of the app sees, kept in the spreadsheet's own
developer metadata (invisible in the Google UI, untouched by sorts and edits: it sits on the spreadsheet, not on
a row).

One entry per lease name, with a fixed `metadataId` (Google documents the ID as unique in the spreadsheet and
settable at creation). Its value is "libre" or "<token>|<expiry>". Every change is one atomic batchUpdate made
of a delete filtered on the exact value expected plus a create of the same ID: if someone else changed the
entry in between, the delete matches nothing, the create meets the existing ID and is refused, and Google
applies nothing. That gives compare-and-set without any conditional write:
- take:    delete(value "libre") + create(mine)      (also works on first use, when there is no entry yet)
- take over an expired lease: delete(its exact value) + create(mine)
- give back: delete(mine) + create("libre"), sent inside the section's first write when there is one, so a
  chained append costs no extra request and is refused whole if the lease was lost meanwhile.
A lost answer is harmless: re-sending is refused, and reading the entry shows whether it is ours.
The lease's answer also brings the last rows of the append-only tabs (the Journal), so that `tail()` inside the
section costs nothing: the journal chain is read and extended with two requests in all.
"""

from __future__ import annotations

import secrets
import threading
import zlib
from dataclasses import dataclass, field

from gspread.exceptions import APIError

from .base import Busy
from .gsheets_index import answer_grids, header_range, rows_range, texts

KEY = "ecole_entreprise.verrou"
FREE = "libre"
POLL_S = 0.25
PREFETCH_ROWS = 5


def lease_id(name: str) -> int:
    return (zlib.crc32(f"ecole-entreprise/verrou/{name}".encode()) & 0x7FFFFFFF) or 1


@dataclass
class Held:
    name: str
    metadata_id: int
    value: str
    ttl_s: float
    released: bool = False
    prefetch: dict[str, tuple[list[str], dict[int, list[str]], int]] = field(default_factory=dict)


def _swap(metadata_id: int, old: str | None, new: str) -> list[dict]:
    requests = []
    if old is not None:
        requests.append({"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {
            "metadataId": metadata_id, "metadataValue": old}}}})
    requests.append({"createDeveloperMetadata": {"developerMetadata": {
        "metadataId": metadata_id, "metadataKey": KEY, "metadataValue": new,
        "location": {"spreadsheet": True}, "visibility": "DOCUMENT"}}})
    return requests


class Leases:
    def __init__(self, store, clock):
        self.store, self.clock = store, clock
        self._local = threading.local()

    def held(self) -> list[Held]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        return self._local.stack

    # ---- taking ----------------------------------------------------------------------------------------------

    def _prefetch_ranges(self) -> list[tuple[str, int, int]]:
        out = []
        for tab in self.store.schema.tabs.values():
            if tab.append_only and self.store.has_tab(tab.name):
                index = self.store.memory.get(tab.name)
                first = max(2, (index.end if index and index.end else 2) - PREFETCH_ROWS + 1)
                width = max(len(tab.headers), index.width if index else 0)
                out.append((tab.name, first, width))
        return out

    def acquire(self, name: str, ttl_s: float) -> Held:
        metadata_id = lease_id(name)
        token = f"{secrets.token_hex(6)}"
        deadline = self.clock() + ttl_s
        expected: str | None = FREE
        refused = 0
        while True:
            mine = f"{token}|{self.clock() + ttl_s:.3f}"
            fetch = self._prefetch_ranges()
            ranges = [r for tab, first, width in fetch for r in (header_range(tab),
                                                                 rows_range(tab, first, None, width))]
            try:
                answer = self.store.batch(_swap(metadata_id, expected, mine), ranges, retry=True)
                return self._held(name, metadata_id, mine, ttl_s, answer, fetch)
            except APIError as error:
                if error.code != 400:
                    raise
                last_error = error
            current = self.store.lease_value(metadata_id)
            if current is not None and current.startswith(token + "|"):  # our earlier try landed
                return self._held(name, metadata_id, current, ttl_s, None, fetch)
            if current is None or current == FREE:
                refused += 1
                if refused > 3:  # free, yet refused: the refusal is about something else; say so
                    raise last_error
                expected = None if current is None else FREE
                continue
            expires = _expiry(current)
            now = self.clock()
            if expires <= now:
                expected = current  # a crashed holder: take it over, exactly that value
                continue
            if now >= deadline:
                raise Busy(name, ttl_s)
            self.store.retry.sleep(max(0.01, min(POLL_S, deadline - now, expires - now)))
            expected = FREE

    def _held(self, name, metadata_id, value, ttl_s, answer, fetch) -> Held:
        held = Held(name, metadata_id, value, ttl_s)
        if answer is not None:
            grids = answer_grids(answer)
            for tab, first, _ in fetch:
                header = texts(grids.get((tab, 1), {}).get(1, []))
                lines = {line: texts(cells) for line, cells in grids.get((tab, first), {}).items()}
                if header:
                    held.prefetch[tab] = ([h.strip() for h in header], lines, first)
        return held

    # ---- giving back -----------------------------------------------------------------------------------------

    def guard(self) -> tuple[list[dict], list[Held]]:
        """Requests that release every lease this thread holds, to ride in the section's first write."""
        pending = [h for h in self.held() if not h.released]
        return [r for h in pending for r in _swap(h.metadata_id, h.value, FREE)], pending

    def release(self, held: Held) -> None:
        if held.released:
            return
        held.released = True
        try:
            self.store.batch(_swap(held.metadata_id, held.value, FREE), [], retry=True)
        except APIError as error:
            if error.code != 400:  # 400: no longer ours (expired and taken over): nothing to give back
                raise

    def still_mine(self, held: Held) -> bool:
        return self.store.lease_value(held.metadata_id) == held.value


def _expiry(value: str) -> float:
    try:
        return float(value.rsplit("|", 1)[1])
    except (IndexError, ValueError):
        return 0.0  # unreadable: treat as expired rather than block forever
