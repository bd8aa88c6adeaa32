"""The Journal tab: an append-only audit trail chained by SHA-256.

Each entry stores `hash = entry_hash(hash_precedent, its fields)` where `hash_precedent` is the hash of the entry
that was last in the tab when it was written. Editing, deleting or moving a line in the middle breaks the chain
at a nameable line. Deleting the oldest lines (retention purge) does not: checking starts at the first remaining
entry. Removing the newest lines cannot be detected from the tab alone.
Entries carry IDs, field names and purposes, never the personal values themselves.

Appends are serialized across processes (two app servers, the app and a CLI purge) by the store's
`exclusive(LEASE)`: reading the last hash and appending after it happen under it, and the read is `tail`, which
reads nothing but the Journal's last row. Should two writers still both follow the same entry (a process without
the lease, a lease that expired), verify_chain reports « écritures concurrentes » with both branches, not a
deletion.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ...domain.values import format_datetime, now_paris
from ...store.base import Row, Snapshot, new_id
from ...store.cache import CachedStore

TAB = "Journal"
LEASE = "journal"
HASHED_FIELDS = ("id", "horodatage", "acteur", "action", "cible_tab", "cible_id", "champs", "finalite", "details")
DETAILS_MAX = 4000


def entry_hash(previous: str, values: dict[str, str]) -> str:
    """The one place an entry's hash is computed (a signed variant would replace this function)."""
    canonical = json.dumps({name: values.get(name, "") for name in HASHED_FIELDS}, ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


def fresh_snapshot(store) -> Snapshot:
    """Past the read cache when there is one: what the sheet holds now."""
    return store.read(fresh=True) if isinstance(store, CachedStore) else store.read()


def actor_name(user) -> str:
    return getattr(user, "email", "") or str(user or "")


def record(store, actor, action: str, cible_tab: str = "", cible_id: str = "", champs: Iterable[str] | str = (),
           finalite: str = "", details: str = "", *, when: datetime | None = None) -> Row:
    """Append one chained entry; `actor` is a User or an email. Returns the written row."""
    fields = champs if isinstance(champs, str) else ", ".join(champs)
    entry = {
        "id": new_id(store.schema.tab(TAB).id_prefix), "horodatage": format_datetime(when or now_paris()),
        "acteur": actor_name(actor), "action": action, "cible_tab": cible_tab, "cible_id": cible_id,
        "champs": fields, "finalite": finalite, "details": (details or "")[:DETAILS_MAX],
    }
    return _append_chained(store, entry)


def rechain(store, values: dict[str, str]) -> Row:
    """Append again an entry that was lost (a stale copy of the workbook saved over it): its own fields (ID,
    time, actor…) chained after the current last entry. An entry whose ID is still there is not doubled."""
    return _append_chained(store, {name: values.get(name, "") for name in HASHED_FIELDS})


def _append_chained(store, entry: dict[str, str]) -> Row:
    with store.exclusive(LEASE):
        last = store.tail(TAB, 1)
        previous = last[-1]["hash"] if last else ""
        entry = {**entry, "hash_precedent": previous}
        entry["hash"] = entry_hash(previous, entry)
        [written] = store.append(TAB, [entry])
    return written


# A Google Sheets cell holds at most 50,000 characters: a long list of targets is spread over several entries.
TARGET_IDS_MAX_CHARS = 40_000


def record_many(store, actor, action: str, targets: Iterable[tuple[str, str]], champs: Iterable[str] | str = (),
                finalite: str = "", details: str = "") -> list[Row]:
    """One action about many records (an export, an import): entries naming every (tab, ID) target, so that a
    person's right of access finds it. Returns the entries written (at least one)."""
    return [record(store, actor, action, tabs, ids, champs, finalite, details) for tabs, ids in _chunks(targets)]


def _chunks(targets: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """("Entreprises, Personnels", "ENT-…, PER-…") pairs, each ID list short enough for one cell."""
    unique = list(dict.fromkeys((tab, row_id) for tab, row_id in targets if row_id))
    chunks, current, size = [], [], 0
    for tab, row_id in unique:
        if current and size + len(row_id) + 2 > TARGET_IDS_MAX_CHARS:
            chunks.append(current)
            current, size = [], 0
        current.append((tab, row_id))
        size += len(row_id) + 2
    chunks.append(current)
    return [(", ".join(dict.fromkeys(tab for tab, _ in chunk)), ", ".join(row_id for _, row_id in chunk))
            for chunk in chunks]


def targets_of(entry: Row) -> set[str]:
    """The IDs an entry is about: one record, or several (exports, imports) separated by commas."""
    return {part.strip() for part in entry["cible_id"].split(",") if part.strip()}


# ---- verification -----------------------------------------------------------------------------------------

MODIFIED, DELETED, REORDERED, CONCURRENT = "modifiée", "supprimée", "ordre", "concurrentes"


@dataclass(frozen=True)
class BrokenEntry:
    row_number: int
    id: str
    reason: str
    kind: str = MODIFIED
    branches: tuple[str, ...] = ()  # concurrent writes: the first entry of each branch, « ligne n (entrée ID) »


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int  # entries verified intact before the first break (all of them when ok)
    first_broken: BrokenEntry | None
    message_fr: str
    breaks: tuple[BrokenEntry, ...] = ()  # every break, in sheet order

    @property
    def only_concurrent(self) -> bool:
        """Every break is two writers following the same entry: nothing was changed or removed by hand."""
        return bool(self.breaks) and all(b.kind == CONCURRENT for b in self.breaks)


def verify_chain(rows: list[Row], intact=None) -> ChainReport:
    """Check the Journal rows in sheet order, starting at the first remaining entry; every break is listed.
    `intact(row)`: whether an entry's content matches its hash, from a caller that checked it already (`check`
    reads the Journal in pieces and keeps of each entry only its place, ID and two hashes)."""
    if not rows:
        return ChainReport(True, 0, None, "journal vide, rien à vérifier.")
    chain = _Chain(rows, intact)
    breaks = [found for index in range(len(rows)) if (found := chain.problem(index)) is not None]
    if not breaks:
        return ChainReport(True, len(rows), None,
                           f"chaîne de hachage intègre ({len(rows)} entrée(s) vérifiée(s)).")
    first = breaks[0]
    checked = next(i for i, row in enumerate(rows) if row.row_number == first.row_number and row.id == first.id)
    return ChainReport(False, checked, first, _message(breaks), tuple(breaks))


def _where(row: Row) -> str:
    return f"ligne {row.row_number} (entrée {row.id})"


def _message(breaks: list[BrokenEntry]) -> str:
    if len(breaks) == 1:
        return f"chaîne de hachage rompue à la ligne {breaks[0].row_number} (entrée {breaks[0].id}) : " \
               f"{breaks[0].reason}."
    listed = " ; ".join(f"ligne {b.row_number} (entrée {b.id}) : {b.reason}" for b in breaks)
    return f"chaîne de hachage rompue en {len(breaks)} endroits : {listed}."


class _Chain:
    """The entries as a tree: each entry points at the hash it followed (`hash_precedent`)."""

    def __init__(self, rows: list[Row], intact=None):
        self.rows = rows
        self.intact = intact or (lambda row: entry_hash(row["hash_precedent"], row.values) == row["hash"])
        self.at: dict[str, int] = {}
        self.children: dict[str, list[int]] = defaultdict(list)
        for index, row in enumerate(rows):
            self.at.setdefault(row["hash"], index)
            self.children[row["hash_precedent"]].append(index)
        self.reported_forks: set[str] = set()

    def problem(self, index: int) -> BrokenEntry | None:
        row = self.rows[index]
        if not self.intact(row):
            return BrokenEntry(row.row_number, row.id, "le contenu ne correspond plus à son empreinte (ligne "
                                                       "modifiée ou ajoutée à la main)", MODIFIED)
        if index == 0 or row["hash_precedent"] == self.rows[index - 1]["hash"]:
            return None
        parent = self.at.get(row["hash_precedent"])
        if parent is not None and parent > index:
            return self._reordered(row)
        fork = self._fork_between(index - 1, index)
        if fork is not None:
            return self._concurrent(row, fork)
        if parent is None:
            return BrokenEntry(row.row_number, row.id, "une entrée a été supprimée juste avant celle-ci", DELETED)
        return self._reordered(row)

    @staticmethod
    def _reordered(row: Row) -> BrokenEntry:
        return BrokenEntry(row.row_number, row.id,
                           "l'ordre des lignes a été modifié (cette entrée ne suit pas la précédente)", REORDERED)

    def _ancestry(self, index: int) -> list[str]:
        """The entry's hash, then the hashes it descends from, up to one that is not (or no longer) in the tab."""
        keys, seen = [self.rows[index]["hash"]], set()
        while index is not None and index not in seen:
            seen.add(index)
            key = self.rows[index]["hash_precedent"]
            keys.append(key)
            index = self.at.get(key)
        return keys

    def _fork_between(self, before: int, index: int) -> str | None:
        """The entry both rows descend from when it was followed by two writers (two branches), else None."""
        theirs = set(self._ancestry(before))
        common = next((key for key in self._ancestry(index) if key in theirs), None)
        return common if common is not None and len(self.children[common]) >= 2 else None

    def _concurrent(self, row: Row, fork: str) -> BrokenEntry | None:
        if fork in self.reported_forks:
            return None  # a later entry of a fork already reported: the same event
        self.reported_forks.add(fork)
        heads = tuple(_where(self.rows[i]) for i in self.children[fork])
        start = self.at.get(fork)
        after = f"la {_where(self.rows[start])}" if start is not None else "le début du journal"
        reason = (f"écritures concurrentes : deux écritures ont suivi {after} en même temps (branches : "
                  f"{' et '.join(heads)}) ; aucune entrée n'a été supprimée")
        return BrokenEntry(row.row_number, row.id, reason, CONCURRENT, heads)
