"""Retention: anonymise people inactive for too long, delete old journal entries (Parametres drive both).

A person is inactive when neither their row nor any meeting involving them changed or took place for
`retention_mois` months. Rows without any readable date are never anonymised: no proof of inactivity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from ...domain.roles import User
from ...domain.values import parse_date, parse_datetime
from ...store.base import Row, Snapshot, StoreError
from ..kernel import access, journal
from ..kernel.parameters import int_parameter
from .rights import PERSON_TABS, add_months, apply_anonymisation, is_anonymised

RETENTION = "durée de conservation"


@dataclass(frozen=True)
class InactivePerson:
    tab: str
    id: str
    last_activity: date


def _day(text: str) -> date | None:
    """The day of a date or a timestamp ("Créé le" holds both forms); None when unreadable."""
    text = (text or "").strip()
    for parse in (parse_date, lambda t: parse_datetime(t).date()):
        try:
            return parse(text) if text else None
        except ValueError:
            continue
    return None


def _last_activity(row: Row, meetings: list[Row]) -> date | None:
    days = [_day(row["updated_at"]), _day(row["created_at"])]
    for meeting in meetings:
        days += [_day(meeting["updated_at"]), _day(meeting["created_at"]), _day(meeting["date"])]
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _inactive(snapshot: Snapshot, tab: str, cutoff: date) -> list[InactivePerson]:
    side = access.TAB_SIDES[tab]
    by_person: dict[str, list[Row]] = {}
    for meeting in snapshot.rows("Rencontres"):
        by_person.setdefault(meeting[f"{side}_id"], []).append(meeting)
    found: dict[str, InactivePerson] = {}  # by ID: a row copied by hand appears twice
    for row in snapshot.rows(tab):
        last = _last_activity(row, by_person.get(row.id, []))
        if last is not None and last < cutoff and not is_anonymised(tab, row):
            found.setdefault(row.id, InactivePerson(tab, row.id, last))
    return list(found.values())


def inactive_people(snapshot: Snapshot, today: date, months: int | None = None) -> list[InactivePerson]:
    """People with no update and no meeting activity for `months` (default: Parametres retention_mois)."""
    months = int_parameter(snapshot, "retention_mois") if months is None else months
    cutoff = add_months(today, -months)
    return [person for tab in PERSON_TABS for person in _inactive(snapshot, tab, cutoff)]


def _changed_since(before: Snapshot, current: Snapshot, person: InactivePerson,
                   ours: dict[tuple[str, str], str] | None = None) -> str:
    """Why a selected person must be left alone now ("" when nothing happened since the selection).

    `ours`: fingerprints this purge wrote (an earlier person's name redacted from this row's notes is no reason)."""
    then, now = before.get(person.tab, person.id), current.get(person.tab, person.id)
    if now is None:
        return "fiche supprimée depuis la sélection"
    ours = ours or {}
    if then is None or now.fingerprint not in (then.fingerprint, ours.get((person.tab, person.id))):
        return "fiche modifiée depuis la sélection, ignorée cette fois"
    key = f"{access.TAB_SIDES[person.tab]}_id"
    if any(m[key] == person.id and before.get("Rencontres", m.id) is None for m in current.rows("Rencontres")):
        return "nouvelle rencontre depuis la sélection, ignorée cette fois"
    return ""


def anonymise_inactive(store, snapshot: Snapshot, user: User, today: date, confirm: bool,
                       months: int | None = None, on_progress=None) -> tuple[list[InactivePerson], list[str]]:
    """Anonymise every person inactive in `snapshot`, once the user confirmed.

    Returns (done, French notes on people left alone). Each person is written against a fresh read, since
    anonymising one person changes shared meeting rows; anyone touched since `snapshot` is left alone.
    `on_progress(handled, total)` is called after each person (a page's progress bar).
    """
    access.require(user, access.RUN_PURGE)
    if not confirm:
        raise StoreError("Confirmez l'anonymisation des fiches inactives : elle est définitive.")
    done, notes, ours = [], [], {}
    selected = inactive_people(snapshot, today, months)
    for handled, person in enumerate(selected, start=1):
        current = journal.fresh_snapshot(store)
        reason = _changed_since(snapshot, current, person, ours)
        if reason:
            notes.append(f"{person.id} : {reason}")
        else:
            try:
                result = apply_anonymisation(store, current, user, person.tab, person.id, RETENTION)
                ours.update(result.written)
                done.append(person)
                if result.warning_fr():  # values left where the app does not write: a person must look
                    notes.append(f"{person.id} : {result.warning_fr()}")
            except StoreError as error:  # a Conflict or a duplicated ID on one row must not stop the others
                notes.append(f"{person.id} : {error}")
        if on_progress is not None:
            on_progress(handled, len(selected))
    return done, notes


def _entry_time(row: Row) -> datetime | None:
    try:
        return parse_datetime(row["horodatage"])
    except ValueError:
        return None


def journal_cutoff(snapshot: Snapshot, today: date, months: int | None = None) -> date:
    months = int_parameter(snapshot, "journal_retention_mois") if months is None else months
    return add_months(today, -months)


def old_journal_entries(snapshot: Snapshot, today: date, months: int | None = None) -> list[Row]:
    """The leading run of entries older than the retention: deleting only a prefix keeps the chain checkable."""
    cutoff = journal_cutoff(snapshot, today, months)
    prefix = []
    for row in snapshot.rows(journal.TAB):
        stamp = _entry_time(row)
        if stamp is None or stamp.date() >= cutoff:
            break
        prefix.append(row)
    return prefix


def purge_journal(store, snapshot: Snapshot, today: date, months: int | None = None,
                  user: User = access.SYSTEM_USER) -> int:
    """Delete journal entries past their retention; the purge itself is journaled. Returns how many."""
    access.require(user, access.RUN_PURGE)
    old = old_journal_entries(snapshot, today, months)
    if not old:
        return 0
    deleted = store.delete(journal.TAB, [row.id for row in old])
    journal.record_purge(store, user, old, RETENTION,
                         f"antérieures au {journal_cutoff(snapshot, today, months):%d/%m/%Y}")
    return deleted


@dataclass
class PurgeReport:
    dry_run: bool
    inactive: list[InactivePerson] = field(default_factory=list)
    anonymised: list[InactivePerson] = field(default_factory=list)
    journal_old: int = 0
    journal_deleted: int = 0
    errors: list[str] = field(default_factory=list)

    def summary_fr(self) -> str:
        lines = [("Simulation (rien n'a été modifié)." if self.dry_run else "Purge effectuée.")]
        lines.append(f"Fiches inactives : {len(self.inactive)}"
                     + (f" — {', '.join(p.id for p in self.inactive)}" if self.inactive else ""))
        if not self.dry_run:
            lines.append(f"Fiches anonymisées : {len(self.anonymised)}")
        lines.append(f"Entrées du journal hors durée de conservation : {self.journal_old}")
        if not self.dry_run:
            lines.append(f"Entrées du journal supprimées : {self.journal_deleted}")
        lines += [f"À revoir : {note}" for note in self.errors]
        return "\n".join(lines)


def purge(store, today: date, dry_run: bool, user: User = access.SYSTEM_USER) -> PurgeReport:
    """What `python -m ecole_entreprise purge [--dry-run]` runs: anonymise the inactive, then trim the journal."""
    access.require(user, access.RUN_PURGE)
    snapshot = journal.fresh_snapshot(store)
    report = PurgeReport(dry_run, inactive_people(snapshot, today),
                         journal_old=len(old_journal_entries(snapshot, today)))
    if dry_run:
        return report
    report.anonymised, report.errors = anonymise_inactive(store, snapshot, user, today, confirm=True)
    report.journal_deleted = purge_journal(store, journal.fresh_snapshot(store), today, user=user)
    return report
