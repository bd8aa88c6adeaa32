"""App writes that a copy of the local workbook, saved over it, erased: the admins' notice, re-applying them.

The workbook store records such writes when it reads the file (store/applog.py); this module words them for
people and re-applies them through the store's ordinary rules: an update is sent with the fingerprint of the row
it was first made against, so a row someone changed since is a Conflict shown, never overwritten; an append is
idempotent on its ID; a lost journal entry is chained again after the current last one. Stores without such a
log (Google Sheets) simply report nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from ...domain.schema import UPDATED_FIELD
from ...domain.values import now_paris, parse_datetime
from ...store.base import Conflict, DuplicateId, ReadOnlyTab, RowNotFound, SchemaMismatch, StoreError
from . import access, journal

OPERATIONS_FR = {"append": "ajout", "update": "modification", "delete": "suppression"}


def erased(store) -> list:
    """The erased writes still missing from the file (store/applog.Erasure), oldest first."""
    lister = getattr(store, "erased_writes", None)  # only the local workbook keeps a log of its writes
    return lister() if lister is not None else []


def _when(saved_at: str, today: date) -> str:
    moment = parse_datetime(saved_at)
    return f"{moment:%H:%M}" if moment.date() == today else f"{moment:%H:%M} le {moment:%d/%m/%Y}"


def notice_lines(erasures: list, today: date | None = None) -> list[str]:
    """« N modifications de l'application ont été effacées par l'enregistrement du classeur à HH:MM », one line
    per save that erased some, with what they were (tabs and IDs, never values)."""
    today = today or now_paris().date()
    by_save: dict[str, list] = defaultdict(list)
    for erasure in erasures:
        by_save[erasure.saved_at].append(erasure)
    lines = []
    for saved_at, group in sorted(by_save.items()):
        count = len(group)
        verb = "a été effacée" if count == 1 else "ont été effacées"
        what = ", ".join(f"{OPERATIONS_FR[e.write.op]} {e.write.row_id} ({e.write.tab})" for e in group[:8])
        more = f" et {count - 8} autre(s)" if count > 8 else ""
        lines.append(f"{count} modification{'s' if count > 1 else ''} de l'application {verb} par "
                     f"l'enregistrement du classeur à {_when(saved_at, today)} : {what}{more}.")
    return lines


@dataclass
class ReapplyResult:
    applied: list[str] = field(default_factory=list)  # "modification ENT-… (Entreprises)"
    already: list[str] = field(default_factory=list)  # present again without us
    conflicts: list[Conflict] = field(default_factory=list)  # rows changed since: shown, nothing written
    failed: list[str] = field(default_factory=list)  # French reasons (row gone, column renamed…)
    stopped: str = ""  # why it stopped before the end (workbook open in Excel, busy…): the rest stays listed

    def summary_fr(self) -> str:
        parts = [f"{len(self.applied)} modification(s) réappliquée(s)"]
        if self.already:
            parts.append(f"{len(self.already)} déjà présente(s)")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} en conflit (fiche modifiée depuis : rien n'a été écrit, "
                         "comparez les versions)")
        if self.failed:
            parts.append(f"{len(self.failed)} impossible(s) : " + " ; ".join(self.failed))
        text = ", ".join(parts) + "."
        return f"{text} Interrompu : {self.stopped}" if self.stopped else text


def reapply(store, user) -> ReapplyResult:
    """Re-apply every erased write, oldest first; each one is then settled (no longer listed), whatever came of it.
    A failure of the store itself (workbook open, busy) stops there, the rest staying listed. Journaled."""
    access.require(user, access.RECOVER_WRITES)
    result, renewed = ReapplyResult(), {}  # renewed: fingerprint a write left -> the one its re-application left
    try:
        for erasure in erased(store):
            _settle(store, user, erasure, result, renewed)
    except StoreError as error:
        result.stopped = str(error)
    if result.applied or result.conflicts or result.failed:
        try:
            journal.record(store, user, "réapplication d'écritures effacées", details=result.summary_fr())
        except StoreError as error:
            result.stopped = result.stopped or str(error)
    return result


def _settle(store, user, erasure, result: ReapplyResult, renewed: dict[str, str]) -> None:
    write = erasure.write
    label = f"{OPERATIONS_FR[write.op]} {write.row_id} ({write.tab})"
    try:
        outcome = _reapply_one(store, erasure, renewed)
    except Conflict as conflict:
        result.conflicts.append(conflict)
        outcome = "conflit"
    except (RowNotFound, DuplicateId, SchemaMismatch, ReadOnlyTab) as error:
        result.failed.append(f"{label} : {error}")
        outcome = "impossible"
    else:
        (result.applied if outcome == "réappliquée" else result.already).append(label)
    store.settle_erased(write.seq, outcome, journal.actor_name(user))


def dismiss(store, user) -> str:
    """Leave the erased writes as they are (the admin decided): no longer listed. Returns a French message."""
    access.require(user, access.RECOVER_WRITES)
    try:
        pending = erased(store)
        for erasure in pending:
            store.settle_erased(erasure.write.seq, "ignorée", journal.actor_name(user))
        if pending:
            journal.record(store, user, "écritures effacées laissées telles quelles",
                           details=f"{len(pending)} écriture(s) effacée(s) non réappliquée(s)")
    except StoreError as error:
        return str(error)
    return f"{len(pending)} modification(s) laissée(s) effacée(s)."


def _reapply_one(store, erasure, renewed: dict[str, str]) -> str:
    """Listed writes are missing from the file now, so "déjà présente" only comes from a race with a person."""
    write = erasure.write
    base = renewed.get(write.base, write.base)
    if write.op == "append" and write.tab == journal.TAB:
        journal.rechain(store, write.values)  # its own fields, a new link: the chain stays verifiable
    elif write.op == "append":
        [row] = store.append(write.tab, [write.values])
        renewed[write.result] = row.fingerprint
    elif write.op == "delete":
        current = store.read().get(write.tab, write.row_id)
        if current is None:
            return "déjà présente"
        if current.fingerprint != base:
            raise Conflict(write.tab, write.row_id, None, current)
        store.delete(write.tab, [write.row_id])
    else:
        renewed[write.result] = _update_on_a_known_version(store, erasure, renewed).fingerprint
    return "réappliquée"


def _update_on_a_known_version(store, erasure, renewed: dict[str, str]):
    """The update, sent against each version of the row it may follow (see applog.Erasure.bases): only the one
    the row has now can succeed; a row changed otherwise since is the Conflict of the first try."""
    write = erasure.write
    changes = {name: value for name, value in write.values.items() if name != UPDATED_FIELD}
    first = None
    for base in dict.fromkeys(renewed.get(b, b) for b in erasure.bases or (write.base,)):
        try:
            return store.update(write.tab, write.row_id, changes, base)
        except Conflict as conflict:
            first = first or conflict
    raise first


def check_lines(store) -> list[str]:
    """What `check` prints about erased writes (nothing when there are none)."""
    lines = notice_lines(erased(store))
    if lines:
        lines.append("Un administrateur peut les réappliquer depuis l'accueil (les fiches modifiées depuis sont "
                     "signalées en conflit, jamais écrasées).")
    return lines

