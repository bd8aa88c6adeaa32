"""The Journal tab: an append-only audit trail, each entry signed and chained to the one before it.

Each entry stores `hash = signature(hash_precedent, its fields)` where `hash_precedent` is the hash of the entry that
was last in the tab when it was written. With a key in the secrets (`[journal] key`, never in the sheet) the
signature is HMAC-SHA256 ("hmac:…"): whoever edits the sheet cannot recompute it, so a rewritten, forged or edited
entry (its `created_at` included) is named. Without a key, entries are chained by plain SHA-256 as before
(tampering that recomputes the hashes then goes unseen; `check` says the journal is not signed).
The head of the chain is anchored outside the sheet after every append (anchor.py): deleting the last entries,
emptying the tab or rewriting it whole is told by comparing the two. Deleting the oldest entries is allowed only as
a retention purge, journaled with what it removed (`record_purge`): any other missing beginning is named.
Entries carry IDs, field names and purposes, never the personal values themselves.

Appends are serialized across processes (two app servers, the app and a CLI purge) by the store's
`exclusive(LEASE)`: reading the last hash and appending after it happen under it, and the read is `tail`, which
reads nothing but the Journal's last row. Should two writers still both follow the same entry (a process without
the lease, a lease that expired), verify_chain reports « écritures concurrentes » with both branches, not a
deletion.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ...config import load_settings
from ...domain.values import format_datetime, now_paris
from ...store.base import Row, Snapshot, new_id
from ...store.cache import CachedStore
from . import anchor as anchors

TAB = "Journal"
LEASE = "journal"
HASHED_FIELDS = ("id", "horodatage", "acteur", "action", "cible_tab", "cible_id", "champs", "finalite", "details")
SIGNED_FIELDS = HASHED_FIELDS + ("created_at",)  # the write time too: editing « Créé le » breaks the signature
SIGNED_PREFIX = "hmac:"
DETAILS_MAX = 4000
PURGE_ACTION = "purge journal"


def entry_hash(previous: str, values: dict[str, str]) -> str:
    """The unsigned (legacy) hash: SHA-256 of the previous hash and the entry's fields."""
    canonical = json.dumps({name: values.get(name, "") for name in HASHED_FIELDS}, ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


def entry_signature(key: bytes, previous: str, values: dict[str, str]) -> str:
    """HMAC-SHA256 under the journal key of the previous hash and every signed field."""
    canonical = json.dumps({name: values.get(name, "") for name in SIGNED_FIELDS}, ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    digest = hmac.new(key, (previous + canonical).encode("utf-8"), hashlib.sha256).hexdigest()
    return SIGNED_PREFIX + digest


def parse_key(text: str) -> bytes | None:
    """The key as configured: 64 hex characters (journal-key makes them); any other text is used as is."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode("utf-8")


def configured_key() -> bytes | None:
    """The journal key from the secrets (or ECOLE_ENTREPRISE_JOURNAL_KEY); None when none is configured."""
    try:
        return parse_key(load_settings().journal_key)
    except (OSError, ValueError):
        return None


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
    return _append_chained(store, {name: values.get(name, "") for name in SIGNED_FIELDS})


def _append_chained(store, entry: dict[str, str]) -> Row:
    key, anchor = configured_key(), anchors.for_store(store)
    with store.exclusive(LEASE):
        last = store.tail(TAB, 1)
        previous = last[-1]["hash"] if last else ""
        entry = {**entry, "hash_precedent": previous}
        if key is not None:
            entry["created_at"] = entry.get("created_at") or format_datetime(now_paris())
            entry["hash"] = entry_signature(key, previous, entry)
        else:
            entry["hash"] = entry_hash(previous, entry)
        [written] = store.append(TAB, [entry])
        if anchor is not None:  # under the lease: the anchor's heads follow the chain's order
            anchor.append(last[-1].row_number if last else 1, written.id, written["hash"])
    return written


def record_purge(store, actor, removed: list[Row], finalite: str, note: str = "") -> Row:
    """Journal a retention purge with what it removed (how many, first and last ID, and the hash the first entry
    left follows), so that `verify_chain` tells this purge apart from a deletion made by hand."""
    first, last = removed[0], removed[-1]
    details = (f"{note + ' ; ' if note else ''}{len(removed)} entrée(s) supprimée(s), de {first.id} à {last.id} ; "
               f"empreinte de la dernière : {last['hash']}")
    return record(store, actor, PURGE_ACTION, TAB, finalite=finalite, details=details)


_PURGE_BOUNDARY = re.compile(r"empreinte de la dernière : (\S+)")


def purge_boundary(entry: Row) -> str | None:
    """The hash a purge left as the journal's start ("" for an old purge entry that did not say)."""
    found = _PURGE_BOUNDARY.search(entry["details"])
    return found.group(1) if found else ""


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
REWRITTEN, UNSIGNED, EMPTIED, ADDED = "réécrite", "non signée", "vidé", "ajoutée"
_CONFIGURED = object()  # verify_chain's default: the key from the secrets


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
    signed: bool = False  # a key was there to check signatures
    notes: tuple[str, ...] = ()  # what could not be checked (no key, no anchor…): warnings, not breaks

    @property
    def only_concurrent(self) -> bool:
        """Every break is two writers following the same entry: nothing was changed or removed by hand."""
        return bool(self.breaks) and all(b.kind == CONCURRENT for b in self.breaks)


def verify_chain(rows: list[Row], key=_CONFIGURED, intact=None) -> ChainReport:
    """Check the Journal rows in sheet order (signatures, links, a beginning only a journaled purge explains);
    every break is listed, a run of rewritten entries as one. `intact(row)`: why an entry's content does not hold
    its hash (None when it does), from a caller that checked it already — `check` reads the Journal in pieces and
    keeps of each entry only its place, ID, action and hashes (see content_problem)."""
    key = configured_key() if key is _CONFIGURED else key
    notes = () if key is not None else ("journal non signé : aucune clé [journal] key n'est configurée "
                                        "(python -m ecole_entreprise journal-key)",)
    if not rows:
        return ChainReport(True, 0, None, "journal vide, rien à vérifier.", signed=key is not None, notes=notes)
    chain = _Chain(rows, key, intact)
    breaks = _merge_rewrites(rows, [found for index in range(len(rows)) if (found := chain.problem(index))])
    return _report(rows, breaks, key is not None, notes)


def _report(rows: list[Row], breaks: list[BrokenEntry], signed: bool, notes=()) -> ChainReport:
    if not breaks:
        what = "chaîne signée intègre" if signed else "chaîne de hachage intègre"
        return ChainReport(True, len(rows), None, f"{what} ({len(rows)} entrée(s) vérifiée(s)).", (), signed, notes)
    breaks = sorted(breaks, key=lambda b: b.row_number)
    first = breaks[0]
    checked = next((i for i, row in enumerate(rows) if row.row_number >= first.row_number), len(rows))
    return ChainReport(False, checked, first, _message(breaks), tuple(breaks), signed, notes)


def _where(row: Row) -> str:
    return f"ligne {row.row_number} (entrée {row.id})"


def _message(breaks: list[BrokenEntry]) -> str:
    if len(breaks) == 1:
        return f"chaîne de hachage rompue à la ligne {breaks[0].row_number} (entrée {breaks[0].id}) : " \
               f"{breaks[0].reason}."
    listed = " ; ".join(f"ligne {b.row_number} (entrée {b.id}) : {b.reason}" for b in breaks)
    return f"chaîne de hachage rompue en {len(breaks)} endroits : {listed}."


def _merge_rewrites(rows: list[Row], breaks: list[BrokenEntry]) -> list[BrokenEntry]:
    """Consecutive entries whose signatures fail although each follows the previous one were rewritten together
    (an entry deleted or edited, then every hash after it recomputed without the key): one break, the first."""
    index_of = {(row.row_number, row.id): i for i, row in enumerate(rows)}
    merged: list[BrokenEntry] = []
    runs: list[list[int]] = []  # for each merged break: the indices of its run (rewrite candidates only)
    for broken in breaks:
        i = index_of[(broken.row_number, broken.id)]
        if broken.kind == REWRITTEN and runs and runs[-1] and runs[-1][-1] == i - 1:
            runs[-1].append(i)
            continue
        merged.append(broken)
        runs.append([i] if broken.kind == REWRITTEN else [])
    out = []
    for broken, run in zip(merged, runs, strict=True):
        if broken.kind != REWRITTEN:
            out.append(broken)
        elif len(run) == 1:  # one entry alone: edited (or added) in place
            out.append(BrokenEntry(broken.row_number, broken.id, broken.reason, MODIFIED))
        else:
            whole = run[0] == 0 and run[-1] == len(rows) - 1
            out.append(BrokenEntry(broken.row_number, broken.id, _rewritten_reason(len(run), whole), REWRITTEN))
    return out


_SIGNATURE_FAILS = "la signature ne correspond plus au contenu (ligne modifiée, ou ajoutée sans la clé)"


def _rewritten_reason(count: int, whole: bool) -> str:
    if whole:
        return (f"journal entièrement réécrit : aucune des {count} signatures n'est valide (empreintes recalculées "
                "sans la clé, ou clé changée)")
    return (f"{count} entrées réécrites à partir d'ici : signatures invalides bien que chacune suive la précédente "
            "(une entrée supprimée ou modifiée puis les empreintes suivantes recalculées sans la clé)")


def content_problem(row: Row, key: bytes | None) -> str | None:
    """Why this entry's own hash does not hold (None when it does)."""
    stored = row["hash"]
    if stored.startswith(SIGNED_PREFIX):
        if key is None:
            return "entrée signée mais aucune clé n'est configurée : signature invérifiable"
        expected = entry_signature(key, row["hash_precedent"], row.values)
        return None if hmac.compare_digest(expected, stored) else _SIGNATURE_FAILS
    if entry_hash(row["hash_precedent"], row.values) != stored:
        return _SIGNATURE_FAILS if key is not None else \
            "le contenu ne correspond plus à son empreinte (ligne modifiée ou ajoutée à la main)"
    return None


class _Chain:
    """The entries as a tree: each entry points at the hash it followed (`hash_precedent`)."""

    def __init__(self, rows: list[Row], key: bytes | None, intact=None):
        self.rows, self.key = rows, key
        self._checked = intact  # content already checked by the caller (a lean row holds no values)
        self.at: dict[str, int] = {}
        # The entries that followed each hash: the first one alone in `_first` (a chain has one each), a list only
        # for a fork, so a long intact journal costs one int per entry, not one list (`check` at 16×).
        self._first: dict[str, int] = {}
        self._more: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            self.at.setdefault(row["hash"], index)
            if self._first.setdefault(row["hash_precedent"], index) != index:
                self._more.setdefault(row["hash_precedent"], []).append(index)
        self.reported_forks: set[str] = set()
        self.first_signed = next((i for i, row in enumerate(rows) if row["hash"].startswith(SIGNED_PREFIX)),
                                 len(rows))
        purges = [row for row in rows if row["action"] == PURGE_ACTION and self._intact(row) is None]
        self.purge_start = purge_boundary(purges[-1]) if purges else None

    def _intact(self, row: Row) -> str | None:
        return self._checked(row) if self._checked is not None else content_problem(row, self.key)

    def problem(self, index: int) -> BrokenEntry | None:
        row = self.rows[index]
        reason = self._intact(row)
        if reason is None and self.key is not None and index > self.first_signed \
                and not row["hash"].startswith(SIGNED_PREFIX):
            reason = "entrée non signée après des entrées signées (ajoutée ou réécrite sans la clé)"
        if reason is not None:
            linked = index == 0 or row["hash_precedent"] == self.rows[index - 1]["hash"]
            return BrokenEntry(row.row_number, row.id, reason, REWRITTEN if linked and self.key else MODIFIED)
        if index == 0:
            return self._start(row)
        if row["hash_precedent"] == self.rows[index - 1]["hash"]:
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

    def _start(self, row: Row) -> BrokenEntry | None:
        """The first entry follows nothing, or the last entry a journaled purge removed."""
        previous = row["hash_precedent"]
        if not previous:
            return None
        if self.at.get(previous) is not None:
            return self._reordered(row)
        if self.purge_start == "" or self.purge_start == previous:
            return None  # "" : an old purge entry that did not record where it stopped
        return BrokenEntry(row.row_number, row.id, "les entrées les plus anciennes ont été supprimées hors d'une "
                                                   "purge journalisée (aucune purge n'explique ce début)", DELETED)

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

    def children(self, key: str) -> list[int]:
        """The entries that followed hash `key`, in sheet order."""
        first = self._first.get(key)
        return [] if first is None else [first, *self._more.get(key, ())]

    def _fork_between(self, before: int, index: int) -> str | None:
        """The entry both rows descend from when it was followed by two writers (two branches), else None."""
        theirs = set(self._ancestry(before))
        common = next((key for key in self._ancestry(index) if key in theirs), None)
        return common if common is not None and common in self._more else None

    def _concurrent(self, row: Row, fork: str) -> BrokenEntry | None:
        if fork in self.reported_forks:
            return None  # a later entry of a fork already reported: the same event
        self.reported_forks.add(fork)
        heads = tuple(_where(self.rows[i]) for i in self.children(fork))
        start = self.at.get(fork)
        after = f"la {_where(self.rows[start])}" if start is not None else "le début du journal"
        reason = (f"écritures concurrentes : deux écritures ont suivi {after} en même temps (branches : "
                  f"{' et '.join(heads)}) ; aucune entrée n'a été supprimée")
        return BrokenEntry(row.row_number, row.id, reason, CONCURRENT, heads)


# ---- the anchor: the chain's head kept outside the sheet ----------------------------------------------------


def verify_anchor(rows: list[Row], anchor: anchors.Anchor | None) -> tuple[list[BrokenEntry], list[str]]:
    """What the anchor's heads say the tab lost: (breaks, notes). The newest head must be in the tab unchanged;
    when it is not, the heads are walked back to the last one still there, naming the first entry missing."""
    if anchor is None:
        return [], []
    if not anchor.exists():
        if any(row["hash"].startswith(SIGNED_PREFIX) for row in rows):
            return [BrokenEntry(rows[0].row_number, rows[0].id, f"l'ancre {anchor.path} est absente alors que le "
                                "journal contient des entrées signées : rien ne prouve qu'il est complet", DELETED)], []
        return [], [f"pas encore d'ancre ({anchor.path}) : elle sera écrite avec la prochaine entrée"]
    by_hash = {row["hash"]: row for row in rows}
    by_id = {row.id: row for row in rows}
    missing, changed, present = [], [], None
    for head in anchor.latest():  # newest first, back to the last head still in the tab unchanged
        if head.hash in by_hash:
            present = by_hash[head.hash]
            break
        (changed if head.id in by_id else missing).append(head)
    breaks = []
    if changed:
        first = by_id[changed[-1].id]
        reason = (f"journal entièrement réécrit : aucune des {len(rows)} entrées n'a plus l'empreinte que l'ancre "
                  "a gardée" if len(changed) >= len(rows) else
                  f"{len(changed)} entrée(s) modifiée(s) puis empreinte(s) recalculée(s) : l'ancre garde celles "
                  f"écrites par l'application (le {changed[-1].at} pour celle-ci)")
        breaks.append(BrokenEntry(first.row_number, first.id, reason, MODIFIED))
    if missing and present is not None:
        breaks += _missing_after(present, missing)
    elif missing and not rows:
        oldest, newest = missing[-1], missing[0]
        breaks.append(BrokenEntry(2, oldest.id, f"journal vidé : l'ancre attend au moins {newest.count} "
                                  f"entrée(s), la dernière {newest.id} écrite le {newest.at}", EMPTIED))
    elif missing and not changed:
        breaks.append(BrokenEntry(rows[0].row_number, rows[0].id, "aucune entrée connue de l'ancre n'est dans le "
                                  "journal (journal remplacé ou réécrit en entier) ; la dernière attendue est "
                                  f"{missing[0].id}, écrite le {missing[0].at}", REWRITTEN))
    return breaks, []


def _missing_after(present: Row, missing: list) -> list[BrokenEntry]:
    first, newest = missing[-1], missing[0]
    return [BrokenEntry(present.row_number + 1, first.id,
                        f"{len(missing)} entrée(s) supprimée(s) en fin de journal après la {_where(present)} : "
                        f"première manquante {first.id}, dernière {newest.id} (écrite le {newest.at})", DELETED)]


def audit(store, rows: list[Row] | None = None, intact=None) -> ChainReport:
    """The chain and the anchor together, as `check` and the admin home page show them (`intact`: see
    verify_chain)."""
    rows = fresh_snapshot(store).rows(TAB) if rows is None else rows
    chain = verify_chain(rows, intact=intact)
    anchor_breaks, anchor_notes = verify_anchor(rows, anchors.for_store(store))
    if not anchor_breaks:
        return ChainReport(chain.ok, chain.checked, chain.first_broken, chain.message_fr, chain.breaks,
                           chain.signed, chain.notes + tuple(anchor_notes))
    return _report(rows, list(chain.breaks) + anchor_breaks, chain.signed, chain.notes + tuple(anchor_notes))


def alert(store, snapshot: Snapshot) -> str | None:
    """The admin home page's alert: None when the chain and the anchor agree, else what `check` would say.
    Kept until the Journal tab or the anchor file changes (verifying every signature costs)."""
    from . import memo

    found = anchors.for_store(store)
    if TAB not in snapshot.tabs:  # the home page does not download the Journal (it grows with the years)
        if _head_matches(store, found):
            return None
        snapshot = store.read(tabs=[TAB])  # the heads disagree: the whole chain says what happened
    stamp = found.path.stat() if found is not None and found.path.exists() else None
    key = ("journal-alert", (stamp.st_size, stamp.st_mtime_ns) if stamp else None)
    report = memo.per_tabs(snapshot, (TAB,), key, lambda: audit(store, snapshot.rows(TAB)))
    if report.ok:
        return None
    return ("Journal d'audit altéré — " + report.message_fr + " Rétablissez les lignes depuis l'historique des "
            "versions de la feuille, puis vérifiez avec `python -m ecole_entreprise check`.")


def _head_matches(store, found: anchors.Anchor | None) -> bool:
    """The cheap check of a view that has not read the Journal: its last entry is the anchor's last head (one
    short read). Edits further up are for the full check (`check`, the Qualité and Journal pages)."""
    head = next(found.latest(), None) if found is not None else None
    if head is None:
        return True  # no anchor yet: nothing to compare (the full check says whether one is missing)
    last = store.tail(TAB, 1)
    return bool(last) and last[0].id == head.id and last[0]["hash"] == head.hash


# ---- consultations of personal data (CNIL, délibération 2021-122) --------------------------------------------

CONSULTATION = "consultation"
_consulted: dict[tuple, None] = {}  # what was already journaled today in this process (insertion-ordered)
_CONSULTED_MAX = 20_000


def record_consultation(store, user, tab: str, ids: Iterable[str], what: str = "liste", champs=(),
                        today: datetime | None = None) -> bool:
    """Journal that `user` was shown these records of a personal tab (a page of a list, or one record), once per
    user, records and day: a rerun showing the same page again adds nothing. Never blocks the view: a journal
    that cannot be written is logged. Returns whether an entry was written."""
    from ... import logs
    from ...store.base import StoreError

    shown = tuple(sorted({row_id for row_id in ids if row_id}))
    day = (today or now_paris()).date()
    key = (anchors.location(store) or id(store), actor_name(user), tab, what, shown, day)
    if not shown or key in _consulted:
        return False
    schema = store.schema.tab(tab)
    champs = [name for name in champs if name in schema.field_names and schema.field(name).is_personal]
    try:
        record_many(store, user, f"{CONSULTATION} {what}", [(tab, row_id) for row_id in shown], champs,
                    "suivi du programme", f"{len(shown)} fiche(s) affichée(s)")
    except Exception as error:  # noqa: BLE001 - whatever the store raised, the view goes on (the log says it)
        logs.event("consultation non journalisée", logging.WARNING, "journal", tab=tab, error=type(error).__name__,
                   expected=isinstance(error, StoreError))
        return False
    _consulted[key] = None
    while len(_consulted) > _CONSULTED_MAX:
        _consulted.pop(next(iter(_consulted)))
    return True
