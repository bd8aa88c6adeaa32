"""The Journal tab: an append-only audit trail chained by SHA-256.

Each entry stores `hash = sha256(hash_precedent + canonical JSON of its fields)` where `hash_precedent` is the
hash of the entry that was last in the tab when it was written. Editing, deleting or moving a line in the
middle breaks the chain at a nameable line. Deleting the oldest lines (retention purge) does not: checking
starts at the first remaining entry. Removing the newest lines cannot be detected from the tab alone.
Entries carry IDs, field names and purposes, never the personal values themselves.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ...domain.values import format_datetime, now_paris
from ...store.base import Row, Snapshot, new_id

TAB = "Journal"
HASHED_FIELDS = ("id", "horodatage", "acteur", "action", "cible_tab", "cible_id", "champs", "finalite", "details")
DETAILS_MAX = 4000

# Serialises read-last-hash + append within this process (all Streamlit sessions share it). Two processes
# (e.g. the app and a CLI purge, or two app servers) can still both read the same last hash and append
# entries with the same `hash_precedent`: verify_chain then reports the second one as broken.
_APPEND_LOCK = threading.Lock()


def entry_hash(previous: str, values: dict[str, str]) -> str:
    canonical = json.dumps({name: values.get(name, "") for name in HASHED_FIELDS}, ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


def fresh_snapshot(store) -> Snapshot:
    """Bypass a read cache when the store has one: the last hash must be the one in the sheet now."""
    if "fresh" in inspect.signature(store.read).parameters:
        return store.read(fresh=True)
    return store.read()


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
    with _APPEND_LOCK:
        rows = fresh_snapshot(store).rows(TAB)
        previous = rows[-1]["hash"] if rows else ""
        entry["hash_precedent"] = previous
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


@dataclass(frozen=True)
class BrokenEntry:
    row_number: int
    id: str
    reason: str


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int  # entries verified intact before the first break (all of them when ok)
    first_broken: BrokenEntry | None
    message_fr: str


def _link_problem(rows: list[Row], index: int, known_hashes: set[str]) -> str:
    """Why entry `index` does not follow entry `index - 1`, or "" when it does."""
    expected = rows[index - 1]["hash"]
    if rows[index]["hash_precedent"] == expected:
        return ""
    if rows[index]["hash_precedent"] in known_hashes:
        return "l'ordre des lignes a été modifié (cette entrée ne suit pas la précédente)"
    return "une entrée a été supprimée juste avant celle-ci"


def verify_chain(rows: list[Row]) -> ChainReport:
    """Check the Journal rows in sheet order, starting at the first remaining entry."""
    if not rows:
        return ChainReport(True, 0, None, "journal vide, rien à vérifier.")
    known_hashes = {r["hash"] for r in rows}
    for index, row in enumerate(rows):
        reason = ""
        if entry_hash(row["hash_precedent"], row.values) != row["hash"]:
            reason = "le contenu ne correspond plus à son empreinte (ligne modifiée ou ajoutée à la main)"
        elif index > 0:
            reason = _link_problem(rows, index, known_hashes)
        if reason:
            broken = BrokenEntry(row.row_number, row.id, reason)
            return ChainReport(False, index, broken, f"chaîne de hachage rompue à la ligne {row.row_number} "
                                                     f"(entrée {row.id}) : {reason}.")
    return ChainReport(True, len(rows), None, f"chaîne de hachage intègre ({len(rows)} entrée(s) vérifiée(s)).")
