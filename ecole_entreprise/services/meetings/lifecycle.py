"""Meeting lifecycle in the Rencontres tab: proposal, acceptance by each side, planning, outcome, refusal.

proposée → acceptée (both sides) → planifiée → réalisée → bilan saisi; refusée / annulée with a reason.
Every write checks the transition table and validates every field first (nothing is written on any error),
sends the fingerprint read with the snapshot (a Conflict propagates untouched) and is journaled.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ecole_entreprise import errors

from ...domain.schema import CREATED_FIELD, default_schema
from ...domain.statuses import MeetingStatus, meeting_statuses
from ...domain.values import (
    format_bool,
    format_datetime,
    format_multi,
    now_paris,
    parse_bool,
    parse_date,
    parse_int,
    parse_multi,
    parse_time,
    school_year_of,
)
from ...store.base import Row, RowNotFound, Snapshot, StoreError, new_id
from ..kernel import access, journal, parameters
from ..kernel.field_checks import day_check, run_checks, text_check

TAB = "Rencontres"
# The names callers use; what each status means and where it may go is in domain/statuses.py.
PROPOSED, ACCEPTED, PLANNED, DONE, REVIEWED = (MeetingStatus.PROPOSED, MeetingStatus.ACCEPTED, MeetingStatus.PLANNED,
                                               MeetingStatus.DONE, MeetingStatus.REVIEWED)
REFUSED, CANCELLED = MeetingStatus.REFUSED, MeetingStatus.CANCELLED
SIDES = ("entreprise", "personnel")
OPEN_STATES = meeting_statuses("open")
BEFORE_MEETING = meeting_statuses("ahead")
WITH_REASON = meeting_statuses("needs_reason")  # entered through `close`, with a motif
MILESTONES = meeting_statuses("milestone")
TRANSITIONS: dict[str, frozenset[str]] = {status: frozenset(status.means.next) for status in MeetingStatus}

FINALITE = "suivi des rencontres école-entreprise"
_YEAR = re.compile(r"^\d{4}-\d{4}$")


class MeetingError(StoreError, errors.Refused):
    """A refused meeting operation; `str(error)` is a French message to show as is."""


class TransitionRefused(MeetingError, errors.Refused):
    def __init__(self, current: str, target: str):
        self.current, self.target = current, target
        super().__init__(f"Impossible de passer de “{current}” à “{target}” : {_refusal_reason(current, target)}.")


class MeetingInvalid(MeetingError, errors.Invalid):
    """Field-level validation errors (field name → French message); nothing was written."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__(" ".join(f"{_label(name)} : {message}" for name, message in self.errors.items()))


# ---- wiring to services/access.py and services/journal.py: one helper each -------------------------------


def require_permission(user, permission: str = access.MANAGE_MEETINGS) -> None:
    access.require(user, permission)


def require_scope(user, tab: str, row, snapshot: Snapshot) -> None:
    """A coordinator writes only within their départements."""
    access.require_scope(user, tab, row, snapshot)


def record_journal(store, user, action: str, tab: str, row_id: str, champs, finalite: str, details: str) -> None:
    """Who and when are stamped by the journal; entries carry IDs and field names, never personal values."""
    journal.record(store, user, action, tab, row_id, list(champs), finalite, details)


# ---- reading ----------------------------------------------------------------------------------------------


def status_of(row: Row) -> str:
    """The meeting status; an empty cell is the schema default (a row typed in the sheet)."""
    return row["statut"].strip() or str(PROPOSED)


def meeting(snapshot: Snapshot, meeting_id: str) -> Row:
    row = snapshot.get(TAB, meeting_id)
    if row is None:
        raise RowNotFound(TAB, meeting_id)
    return row


def _editable(snapshot: Snapshot, user, meeting_id: str) -> Row:
    """The meeting a write is about, once the user's permission and scope are checked."""
    require_permission(user)
    row = meeting(snapshot, meeting_id)
    require_scope(user, TAB, row, snapshot)
    return row


def parameter(snapshot: Snapshot, key: str) -> str:
    """A value of the Parametres tab, or its documented default."""
    return parameters.parameter(snapshot, key)


def meeting_day(row: Row) -> dt.date | None:
    try:
        return parse_date(row["date"]) if row["date"].strip() else None
    except ValueError:
        return None


def allowed_targets(row: Row) -> list[str]:
    """Statuses reachable from this meeting, for the page's buttons."""
    return sorted(TRANSITIONS.get(status_of(row), ()), key=_status_rank)


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, ()):
        raise TransitionRefused(current, target)


def _status_rank(status: str) -> int:
    return list(TRANSITIONS).index(status) if status in TRANSITIONS else len(TRANSITIONS)


def _path(current: str, target: str) -> list[str]:
    """Shortest chain of statuses from current to target (breadth first), [] when unreachable."""
    previous: dict[str, str] = {current: ""}
    queue = deque([current])
    while queue:
        status = queue.popleft()
        if status == target and status != current:
            break
        for following in sorted(TRANSITIONS.get(status, ())):
            if following not in previous:
                previous[following] = status
                queue.append(following)
    if target not in previous or target == current:
        return []
    chain = [target]
    while chain[-1] != current:
        chain.append(previous[chain[-1]])
    return chain[::-1]


def _join_steps(steps: list[str]) -> str:
    return steps[0] if len(steps) == 1 else ", ".join(steps[:-1]) + " puis " + steps[-1]


def _refusal_reason(current: str, target: str) -> str:
    if current not in TRANSITIONS:
        return f"le statut “{current}” est inconnu, corrigez-le dans la feuille"
    if target not in TRANSITIONS:
        return f"le statut “{target}” n'existe pas"
    if not TRANSITIONS[current]:
        return "la rencontre est close"
    if target == current:
        return "la rencontre est déjà à ce statut"
    if target == REFUSED:
        return "une rencontre acceptée ne se refuse plus, elle s'annule avec un motif"
    if target == CANCELLED:
        return "la rencontre a déjà eu lieu"
    path = _path(current, target)
    if len(path) > 2:
        return "la rencontre doit d'abord être " + _join_steps(path[1:-1])
    return "la rencontre a déjà dépassé cette étape"


def _label(name: str) -> str:
    try:
        return default_schema().tab(TAB).field(name).header
    except KeyError:
        return name or "Rencontre"


# ---- validation: each check returns the cell text or raises ValueError with a French message ------------


def _validated(checks: dict[str, Callable[[], str]]) -> dict[str, str]:
    changes, errors = run_checks(checks)
    if errors:
        raise MeetingInvalid(errors)
    return changes


def _text(value, name: str, required: bool = True) -> Callable[[], str]:
    return text_check(TAB, name, value, required)


def _day(value) -> Callable[[], str]:
    return day_check(value, required=True)


def _hour(value) -> Callable[[], str]:
    def check() -> str:
        if isinstance(value, dt.time):
            return value.strftime("%H:%M")
        if not str(value or "").strip():
            raise ValueError("L'heure est obligatoire.")
        return parse_time(str(value)).strftime("%H:%M")
    return check


def _choice(value, name: str) -> Callable[[], str]:
    def check() -> str:
        text = str(value or "").strip()
        choices = default_schema().tab(TAB).field(name).choices
        if text not in choices:
            raise ValueError(f"Choisissez parmi : {', '.join(choices)}.")
        return text
    return check


def _score(value) -> Callable[[], str]:
    def check() -> str:
        if value is None or str(value).strip() == "":
            raise ValueError("Donnez une note de 1 à 5.")
        number = parse_int(str(value))
        if not 1 <= number <= 5:
            raise ValueError(f"La note doit être comprise entre 1 et 5 (reçu {number}).")
        return str(number)
    return check


def _yes_no(value) -> Callable[[], str]:
    def check() -> str:
        if isinstance(value, bool):
            return format_bool(value)
        if value is None or not str(value).strip():
            raise ValueError("Répondez oui ou non.")
        return format_bool(parse_bool(str(value)))
    return check


def _suites(value, existing: str) -> Callable[[], str]:
    def check() -> str:
        chosen = parse_multi(value) if isinstance(value, str) else [str(v).strip() for v in value or () if v]
        choices = default_schema().tab(TAB).field("suite_envisagee").choices
        if not chosen:
            raise ValueError("Indiquez la suite envisagée (ou « aucune »).")
        unknown = [c for c in chosen if c not in choices]
        if unknown:
            raise ValueError(f"Suite inconnue : {', '.join(unknown)}. Choisissez parmi : {', '.join(choices)}.")
        if "aucune" in chosen and len(set(chosen)) > 1:
            raise ValueError("« aucune » ne se combine pas avec une autre suite.")
        # Both sides share the column: keep what the other side said, "aucune" gives way to a real follow-up.
        merged = [c for c in choices if c in set(parse_multi(existing)) | set(chosen)]
        return format_multi([c for c in merged if c != "aucune"] or merged)
    return check


def _side(side: str) -> str:
    if side not in SIDES:
        raise MeetingError(f"Côté inconnu « {side} » : « entreprise » ou « personnel ».")
    return side


# ---- writes -----------------------------------------------------------------------------------------------


def _save(store, user, row: Row, changes: dict[str, str], action: str, details: str) -> Row:
    saved = store.update(TAB, row.id, changes, row.fingerprint)
    record_journal(store, user, action, TAB, row.id, sorted(changes), FINALITE, details)
    return saved


def _transition(store, user, row: Row, target: str, changes: dict[str, str], note: str = "") -> Row:
    current = status_of(row)
    check_transition(current, target)
    return _save(store, user, row, {**changes, "statut": str(target)}, "transition rencontre",
                 f"{current} → {target}{note}")


def propose(store, snapshot: Snapshot, user, pairs_records: list[dict], today: dt.date | None = None) -> list[Row]:
    """Append proposed meetings from the pairing service; pairs already open this school year are skipped.

    A record carries entreprise_id, personnel_id and optionally score, annee_scolaire and a client-made id
    (a retried submit then never writes twice). Returns the rows written (empty when nothing was new).
    """
    require_permission(user)
    default_year = parameter(snapshot, "annee_scolaire") or school_year_of(today or now_paris().date())
    taken = {(r["entreprise_id"], r["personnel_id"], r["annee_scolaire"]) for r in snapshot.rows(TAB)
             if status_of(r) in OPEN_STATES}
    known_ids = {r.id for r in snapshot.rows(TAB)}
    records, errors = [], {}
    for raw in pairs_records:
        record = _proposal(raw, default_year)
        key = (record["entreprise_id"], record["personnel_id"], record["annee_scolaire"])
        problem = _proposal_problem(snapshot, record)
        if problem:
            errors[f"{key[0]} / {key[1]}"] = problem
            continue
        require_scope(user, TAB, record, snapshot)
        if key not in taken and record["id"] not in known_ids:
            taken.add(key)
            records.append(record)
    if errors:
        raise MeetingInvalid(errors)
    if not records:
        return []
    written = store.append(TAB, records)
    ids = [r["id"] for r in records]
    record_journal(store, user, "proposition rencontre", TAB, ", ".join(ids), ["entreprise_id", "personnel_id"],
                   FINALITE, f"{len(ids)} rencontre(s) proposée(s)")
    return [r for r in written if r.id in ids]


def _proposal(raw: dict, default_year: str) -> dict[str, str]:
    return {
        "id": str(raw.get("id") or new_id(default_schema().tab(TAB).id_prefix)),
        "entreprise_id": str(raw.get("entreprise_id", "")).strip(),
        "personnel_id": str(raw.get("personnel_id", "")).strip(),
        "annee_scolaire": str(raw.get("annee_scolaire") or default_year).strip(),
        "score": "" if raw.get("score") is None else str(raw.get("score")),
        "statut": str(PROPOSED),
    }


def _proposal_problem(snapshot: Snapshot, record: dict[str, str]) -> str:
    if snapshot.get("Entreprises", record["entreprise_id"]) is None:
        return f"Entreprise « {record['entreprise_id']} » introuvable."
    if snapshot.get("Personnels", record["personnel_id"]) is None:
        return f"Personnel « {record['personnel_id']} » introuvable."
    if not _YEAR.match(record["annee_scolaire"]):
        return f"Année scolaire « {record['annee_scolaire']} » invalide (attendu par exemple 2025-2026)."
    return ""


def accept(store, snapshot: Snapshot, user, meeting_id: str, side: str) -> Row:
    """Record one side's acceptance (now); the meeting becomes “acceptée” once both sides accepted.

    Accepting again for a side that already accepted writes nothing (a double click).
    """
    row = _editable(snapshot, user, meeting_id)
    field, other = f"acceptation_{_side(side)}", f"acceptation_{SIDES[1 - SIDES.index(side)]}"
    require_acceptance_right(user, side)
    current = status_of(row)
    if current not in (PROPOSED, ACCEPTED):
        raise TransitionRefused(current, ACCEPTED)
    if row[field].strip():
        return row
    changes = {field: format_datetime(now_paris())}
    # An admin records it on the party's behalf: the journal says so (a coordinator records their own side).
    what = f"acceptation côté {side}" + (" enregistrée par l'administrateur" if user.rights.unrestricted else "")
    if current == PROPOSED and row[other].strip():
        return _transition(store, user, row, ACCEPTED, changes, f" ; {what}" if user.rights.unrestricted else "")
    return _save(store, user, row, changes, "acceptation rencontre", what)


SIDE_COORDINATORS = {"entreprise": "le coordinateur CPME", "personnel": "le coordinateur académique"}


def may_accept(user, side: str) -> bool:
    """Each side's acceptance is recorded by that side's coordinator, or by an admin (journaled as such)."""
    return user is not None and (user.rights.unrestricted or user.side == side)


def require_acceptance_right(user, side: str) -> None:
    if not may_accept(user, side):
        raise access.AccessDenied(f"Accès refusé : l'acceptation côté {side} ne s'enregistre que par "
                                  f"{SIDE_COORDINATORS[side]} (ou un administrateur), jamais par l'autre partie.")


def plan(store, snapshot: Snapshot, user, meeting_id: str, *, date, heure, lieu: str, format: str,
         visite: str = "aucune") -> Row:
    """Set date, time, place and format (a planned meeting can be planned again: new date)."""
    row = _editable(snapshot, user, meeting_id)
    check_transition(status_of(row), PLANNED)
    changes = _validated({"date": _day(date), "heure": _hour(heure), "lieu": _text(lieu, "lieu"),
                          "format": _choice(format, "format"), "visite": _choice(visite or "aucune", "visite")})
    return _transition(store, user, row, PLANNED, changes)


def mark_done(store, snapshot: Snapshot, user, meeting_id: str, today: dt.date | None = None) -> Row:
    row = _editable(snapshot, user, meeting_id)
    check_transition(status_of(row), DONE)
    day, today = meeting_day(row), today or now_paris().date()
    if day is None or day > today:
        when = f"le {day:%d/%m/%Y}" if day else "sans date valide"
        raise MeetingError(f"La rencontre est prévue {when} : elle ne peut pas être marquée réalisée avant d'avoir "
                           "eu lieu. Replanifiez-la si la date a changé.")
    return _transition(store, user, row, DONE, {})


def record_outcome(store, snapshot: Snapshot, user, meeting_id: str, side: str, *, conclusions: str,
                   satisfaction, comprehension, recommande, suites) -> Row:
    """One side's conclusions and questionnaire; the first complete one moves the meeting to “bilan saisi”."""
    row = _editable(snapshot, user, meeting_id)
    _side(side)
    check_transition(status_of(row), REVIEWED)
    changes = _validated({
        f"conclusions_{side}": _text(conclusions, f"conclusions_{side}"),
        f"satisfaction_{side}": _score(satisfaction),
        f"comprehension_{side}": _score(comprehension),
        f"recommande_{side}": _yes_no(recommande),
        "suite_envisagee": _suites(suites, row["suite_envisagee"]),
    })
    return _transition(store, user, row, REVIEWED, changes)


def set_expectations(store, snapshot: Snapshot, user, meeting_id: str, *, entreprise: str | None = None,
                     personnel: str | None = None) -> Row:
    """Expectations of either side before the meeting (None leaves a side unchanged)."""
    row = _editable(snapshot, user, meeting_id)
    if status_of(row) not in BEFORE_MEETING:
        raise MeetingError(f"Les attendus se saisissent avant la rencontre (statut actuel « {status_of(row)} »).")
    given = {"attendus_entreprise": entreprise, "attendus_personnel": personnel}
    changes = _validated({name: _text(value, name, required=False) for name, value in given.items()
                          if value is not None})
    changes = {k: v for k, v in changes.items() if row[k] != v}
    if not changes:
        return row
    return _save(store, user, row, changes, "attendus rencontre", ", ".join(_label(k) for k in sorted(changes)))


def refuse(store, snapshot: Snapshot, user, meeting_id: str, motif: str) -> Row:
    return close(store, snapshot, user, meeting_id, REFUSED, motif)


def cancel(store, snapshot: Snapshot, user, meeting_id: str, motif: str) -> Row:
    return close(store, snapshot, user, meeting_id, CANCELLED, motif)


def close(store, snapshot: Snapshot, user, meeting_id: str, target: str, motif: str) -> Row:
    """Move to a status entered with a motif (WITH_REASON: refusée, annulée…)."""
    row = _editable(snapshot, user, meeting_id)
    if target not in WITH_REASON:
        raise TransitionRefused(status_of(row), target)
    check_transition(status_of(row), target)
    changes = _validated({"motif": _text(motif, "motif")})
    return _transition(store, user, row, target, changes)


# ---- home to-do list --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingAcceptance:
    row: Row
    missing: tuple[str, ...]  # sides that have not accepted yet: "entreprise", "personnel"


def pending_acceptances(snapshot: Snapshot) -> list[PendingAcceptance]:
    """Proposed meetings still waiting for one or both sides, oldest first."""
    pending = []
    for row in snapshot.rows(TAB):
        missing = tuple(s for s in SIDES if not row[f"acceptation_{s}"].strip())
        if status_of(row) in (PROPOSED, ACCEPTED) and missing:
            pending.append(PendingAcceptance(row, missing))
    return sorted(pending, key=lambda p: p.row[CREATED_FIELD])


def past_without_outcome(snapshot: Snapshot, today: dt.date) -> list[Row]:
    """Planned meetings whose date has passed, and held meetings still without a bilan, by date."""
    found = []
    for row in snapshot.rows(TAB):
        day = meeting_day(row)
        if status_of(row) == DONE or (status_of(row) == PLANNED and day is not None and day < today):
            found.append(row)
    return sorted(found, key=lambda r: (meeting_day(r) or dt.date.min, r.id))
