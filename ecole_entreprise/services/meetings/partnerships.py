"""Partnerships (born from a meeting or created directly) and the events partners invite each other to.

Every write validates every field first (nothing is written on any error) and is journaled; a client-made
`record_id` makes a retried submit return the row already written instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pandas as pd

from ecole_entreprise import errors

from ...domain.schema import default_schema
from ...domain.statuses import PartnershipStatus, meeting_statuses
from ...domain.validators import normalize_uai
from ...domain.values import format_date, format_multi, now_paris, parse_date, parse_multi, school_year_of
from ...store.base import Row, RowNotFound, Snapshot, StoreError, new_id
from ..kernel import access
from ..kernel.field_checks import day_check, run_checks, text_check
from . import lifecycle as meetings

TAB, EVENTS_TAB = "Partenariats", "Evenements"
PLANNED, ACTIVE, ENDED = PartnershipStatus.PLANNED, PartnershipStatus.ACTIVE, PartnershipStatus.ENDED
PERMISSION, EVENT_PERMISSION = access.EDIT_PARTENARIATS, access.EDIT_EVENEMENTS
FINALITE = "suivi des partenariats école-entreprise"
_YEAR = re.compile(r"^\d{4}-\d{4}$")


class PartnershipInvalid(StoreError, errors.Invalid):
    """Field-level validation errors (field name → French message); nothing was written."""

    def __init__(self, errors: dict[str, str], tab: str = TAB):
        self.errors, self.tab = dict(errors), tab
        super().__init__(" ".join(f"{_label(tab, name)} : {message}" for name, message in self.errors.items()))


def _label(tab: str, name: str) -> str:
    try:
        return default_schema().tab(tab).field(name).header
    except KeyError:
        return name or tab


# ---- validation: each check returns the cell text or raises ValueError with a French message ------------


def _validated(tab: str, checks: dict[str, Callable[[], str]]) -> dict[str, str]:
    values, errors = run_checks(checks)
    if errors:
        raise PartnershipInvalid(errors, tab)
    return values


_text = text_check


def _names(tab: str, name: str, value) -> Callable[[], str]:
    """Free list of names (invités, venus): a list or "a; b" text, stored as "a; b"."""
    items = parse_multi(value) if isinstance(value, str) else [str(v).strip() for v in value or () if str(v).strip()]
    return _text(tab, name, format_multi(items))


def _choices(tab: str, name: str, value, many: bool = False) -> Callable[[], str]:
    def check() -> str:
        chosen = (parse_multi(value) if isinstance(value, str) else [str(v).strip() for v in value or ()]) \
            if many else [str(value or "").strip()]
        allowed = default_schema().tab(tab).field(name).choices
        if not [c for c in chosen if c]:
            raise ValueError(f"Choisissez au moins une valeur parmi : {', '.join(allowed)}.")
        unknown = [c for c in chosen if c not in allowed]
        if unknown:
            raise ValueError(f"« {', '.join(unknown)} » n'est pas proposé. Choisissez parmi : {', '.join(allowed)}.")
        return format_multi([c for c in allowed if c in chosen])
    return check


_day = day_check


def _uai(value, required: bool) -> Callable[[], str]:
    def check() -> str:
        if not str(value or "").strip() and not required:
            return ""
        return normalize_uai(str(value or ""))
    return check


def _ref(snapshot: Snapshot, tab: str, value, required: bool) -> Callable[[], str]:
    def check() -> str:
        text = str(value or "").strip()
        if not text and not required:
            return ""
        if not text:
            raise ValueError("Ce champ est obligatoire.")
        if snapshot.get(tab, text) is None:
            raise ValueError(f"« {text} » est introuvable dans l'onglet « {tab} ».")
        return text
    return check


def _year(value) -> Callable[[], str]:
    def check() -> str:
        text = str(value or "").strip()
        if not _YEAR.match(text):
            raise ValueError(f"« {text} » n'est pas une année scolaire (par exemple 2025-2026).")
        return text
    return check


# ---- partnerships -----------------------------------------------------------------------------------------


def _append(store, user, tab: str, record: dict[str, str], action: str, details: str) -> Row:
    written = {r.id: r for r in store.append(tab, [record])}
    meetings.record_journal(store, user, action, tab, record["id"], sorted(k for k, v in record.items() if v),
                            FINALITE, details)
    return written.get(record["id"]) or store.read().get(tab, record["id"])


def create(store, snapshot: Snapshot, user, *, uai: str, entreprise_id: str, types, statut: str = PLANNED,
           date_debut=None, annee_scolaire: str = "", etablissement: str = "", description: str = "",
           rencontre_id: str = "", record_id: str = "") -> Row:
    """A partnership created directly (or from a meeting, see create_from_meeting)."""
    meetings.require_permission(user, PERMISSION)
    if record_id and (already := snapshot.get(TAB, record_id)):
        return already
    record = _validated(TAB, {
        "uai": _uai(uai, required=True), "etablissement": _text(TAB, "etablissement", etablissement),
        "entreprise_id": _ref(snapshot, "Entreprises", entreprise_id, required=True),
        "rencontre_id": _ref(snapshot, meetings.TAB, rencontre_id, required=False),
        "types": _choices(TAB, "types", types, many=True), "statut": _choices(TAB, "statut", statut),
        "date_debut": _day(date_debut, required=False), "description": _text(TAB, "description", description),
        "annee_scolaire": _year(annee_scolaire or _default_year(snapshot, date_debut)),
    })
    if record["statut"] == ACTIVE and not record["date_debut"]:
        record["date_debut"] = format_date(now_paris().date())
    record["id"] = record_id or new_id(default_schema().tab(TAB).id_prefix)
    meetings.require_scope(user, TAB, record, snapshot)
    return _append(store, user, TAB, record, "création partenariat", f"statut {record['statut']}")


def _default_year(snapshot: Snapshot, date_debut) -> str:
    """The school year of the start date, else the current one (Parametres)."""
    day = date_debut if isinstance(date_debut, dt.date) else _day_or_none(str(date_debut or ""))
    if day:
        return school_year_of(day)
    return meetings.parameter(snapshot, "annee_scolaire") or school_year_of(now_paris().date())


def create_from_meeting(store, snapshot: Snapshot, user, meeting_id: str, *, types, statut: str = PLANNED,
                        date_debut=None, description: str = "") -> Row:
    """A partnership born from a held meeting: school from the staff member, company and year from the meeting.

    A meeting has at most one partnership: asking again returns the existing one.
    """
    meetings.require_permission(user, PERMISSION)
    row = meetings.meeting(snapshot, meeting_id)
    existing = [p for p in snapshot.rows(TAB) if p["rencontre_id"] == meeting_id]
    if existing:
        return existing[0]
    if meetings.status_of(row) not in meeting_statuses("held"):
        raise PartnershipInvalid({"rencontre_id": f"La rencontre est au statut « {meetings.status_of(row)} » : un "
                                  "partenariat naît d'une rencontre réalisée."})
    staff = snapshot.get("Personnels", row["personnel_id"])
    if staff is None:
        raise RowNotFound("Personnels", row["personnel_id"])
    if not staff["uai"].strip():
        raise PartnershipInvalid({"uai": f"Le personnel {staff.id} n'a pas d'UAI d'établissement : complétez sa "
                                  "fiche avant de créer le partenariat."})
    return create(store, snapshot, user, uai=staff["uai"], etablissement=staff["etablissement"],
                  entreprise_id=row["entreprise_id"], rencontre_id=meeting_id, types=types, statut=statut,
                  date_debut=date_debut, annee_scolaire=row["annee_scolaire"], description=description)


def set_status(store, snapshot: Snapshot, user, partnership_id: str, statut: str) -> Row:
    """envisagé / actif / terminé; becoming active sets the start date when it is empty."""
    meetings.require_permission(user, PERMISSION)
    row = snapshot.get(TAB, partnership_id)
    if row is None:
        raise RowNotFound(TAB, partnership_id)
    meetings.require_scope(user, TAB, row, snapshot)
    changes = _validated(TAB, {"statut": _choices(TAB, "statut", statut)})
    if changes["statut"] == row["statut"]:
        return row
    if changes["statut"] == ACTIVE and not row["date_debut"].strip():
        changes["date_debut"] = format_date(now_paris().date())
    saved = store.update(TAB, row.id, changes, row.fingerprint)
    meetings.record_journal(store, user, "statut partenariat", TAB, row.id, sorted(changes), FINALITE,
                            f"{row['statut'] or '(vide)'} → {changes['statut']}")
    return saved


# ---- events -----------------------------------------------------------------------------------------------


def create_event(store, snapshot: Snapshot, user, *, titre: str, organisateur: str, date, lieu: str = "",
                 entreprise_id: str = "", uai: str = "", partenariat_id: str = "", invites=(), participants=(),
                 description: str = "", record_id: str = "") -> Row:
    """An event organised by a company or a school; a partnership fills the missing company and school."""
    meetings.require_permission(user, EVENT_PERMISSION)
    if record_id and (already := snapshot.get(EVENTS_TAB, record_id)):
        return already
    partner = snapshot.get(TAB, str(partenariat_id or "").strip())
    entreprise_id = entreprise_id or (partner["entreprise_id"] if partner else "")
    uai = uai or (partner["uai"] if partner else "")
    record = _validated(EVENTS_TAB, {
        "titre": _text(EVENTS_TAB, "titre", titre, required=True),
        "organisateur": _choices(EVENTS_TAB, "organisateur", organisateur),
        "entreprise_id": _ref(snapshot, "Entreprises", entreprise_id, required=organisateur == "entreprise"),
        "uai": _uai(uai, required=organisateur == "établissement"),
        "partenariat_id": _ref(snapshot, TAB, partenariat_id, required=False),
        "date": _day(date, required=True), "lieu": _text(EVENTS_TAB, "lieu", lieu),
        "invites": _names(EVENTS_TAB, "invites", invites),
        "participants": _names(EVENTS_TAB, "participants", participants),
        "description": _text(EVENTS_TAB, "description", description),
    })
    record["id"] = record_id or new_id(default_schema().tab(EVENTS_TAB).id_prefix)
    meetings.require_scope(user, EVENTS_TAB, record, snapshot)
    return _append(store, user, EVENTS_TAB, record, "création événement", record["titre"])


def record_attendance(store, snapshot: Snapshot, user, event_id: str, participants) -> Row:
    """Who came (« Venus »), after the event."""
    meetings.require_permission(user, EVENT_PERMISSION)
    row = snapshot.get(EVENTS_TAB, event_id)
    if row is None:
        raise RowNotFound(EVENTS_TAB, event_id)
    meetings.require_scope(user, EVENTS_TAB, row, snapshot)
    changes = _validated(EVENTS_TAB, {"participants": _names(EVENTS_TAB, "participants", participants)})
    if changes["participants"] == row["participants"]:
        return row
    saved = store.update(EVENTS_TAB, row.id, changes, row.fingerprint)
    meetings.record_journal(store, user, "présence événement", EVENTS_TAB, row.id, ["participants"], FINALITE,
                            f"{len(parse_multi(changes['participants']))} participant(s)")
    return saved


# ---- tables for the page ----------------------------------------------------------------------------------


def _school(snapshot: Snapshot, uai: str, name: str = "") -> str:
    """A school's name: the one given, else the one on a staff record with this UAI, else the UAI itself."""
    if name.strip():
        return name.strip()
    for staff in snapshot.rows("Personnels"):
        if staff["uai"].strip().upper() == uai.strip().upper() and staff["etablissement"].strip():
            return staff["etablissement"].strip()
    return uai


def _company(snapshot: Snapshot, entreprise_id: str) -> str:
    company = snapshot.get("Entreprises", entreprise_id)
    return company["raison_sociale"] if company else entreprise_id


def _day_or_none(text: str) -> dt.date | None:
    try:
        return parse_date(text) if text.strip() else None
    except ValueError:
        return None


def events(snapshot: Snapshot, *, partenariat_id: str = "", start: dt.date | None = None,
           end: dt.date | None = None) -> pd.DataFrame:
    """Events by date (optionally one partnership's, or between start and end included), French headers."""
    lines = []
    for row in snapshot.rows(EVENTS_TAB):
        day = _day_or_none(row["date"])
        if (partenariat_id and row["partenariat_id"] != partenariat_id) or (start and (day is None or day < start)) \
                or (end and (day is None or day > end)):
            continue
        host = _company(snapshot, row["entreprise_id"]) if row["organisateur"] == "entreprise" \
            else _school(snapshot, row["uai"])
        lines.append({"ID": row.id, "Date": day, "Titre": row["titre"], "Organisateur": row["organisateur"],
                      "Organisé par": host, "Lieu": row["lieu"], "Partenaires invités": row["invites"],
                      "Venus": row["participants"], "Partenariat": row["partenariat_id"]})
    columns = ["ID", "Date", "Titre", "Organisateur", "Organisé par", "Lieu", "Partenaires invités", "Venus",
               "Partenariat"]
    frame = pd.DataFrame(lines, columns=columns)
    return frame.sort_values("Date", key=lambda s: s.map(lambda d: d or dt.date.max), kind="stable",
                             ignore_index=True)


_STATUS_ORDER = {str(s): s.rank for s in PartnershipStatus}


def partnership_overview(snapshot: Snapshot) -> pd.DataFrame:
    """One line per partnership with company and school names and its number of events; active ones first."""
    event_counts: dict[str, int] = {}
    for event in snapshot.rows(EVENTS_TAB):
        event_counts[event["partenariat_id"]] = event_counts.get(event["partenariat_id"], 0) + 1
    lines = [{"ID": row.id, "Entreprise": _company(snapshot, row["entreprise_id"]),
              "Établissement": _school(snapshot, row["uai"], row["etablissement"]), "UAI": row["uai"],
              "Types": row["types"], "Statut": row["statut"], "Début": _day_or_none(row["date_debut"]),
              "Année scolaire": row["annee_scolaire"], "Rencontre": row["rencontre_id"],
              "Événements": event_counts.get(row.id, 0)}
             for row in snapshot.rows(TAB)]
    columns = ["ID", "Entreprise", "Établissement", "UAI", "Types", "Statut", "Début", "Année scolaire",
               "Rencontre", "Événements"]
    frame = pd.DataFrame(lines, columns=columns)
    order = frame["Statut"].map(lambda s: _STATUS_ORDER.get(s, 3))
    return frame.assign(_order=order).sort_values(["_order", "Entreprise"], kind="stable") \
        .drop(columns="_order").reset_index(drop=True)


# ---- what one user's page shows: clipped to their scope ---------------------------------------------------


def overview_for(user, snapshot: Snapshot) -> pd.DataFrame:
    """`partnership_overview` limited to the partnerships in the user's scope."""
    in_scope = {r.id for r in snapshot.rows(TAB) if access.row_in_scope(user, TAB, r, snapshot)}
    frame = partnership_overview(snapshot)
    return frame[frame["ID"].isin(in_scope)].reset_index(drop=True)


def events_for(user, snapshot: Snapshot, *, partenariat_id: str = "") -> pd.DataFrame:
    """`events` limited to what the user may see (nothing without the events permission)."""
    visible = {r["id"] for r in access.visible_rows(user, EVENTS_TAB, snapshot)} \
        if access.allowed(user, EVENT_PERMISSION) else set()
    frame = events(snapshot, partenariat_id=partenariat_id)
    return frame[frame["ID"].isin(visible)].reset_index(drop=True)


def held_meetings_for(user, snapshot: Snapshot, keep: str = "") -> tuple[list[Row], set[str]]:
    """The held meetings in the user's scope a partnership can be born from (those without one, and `keep`),
    and the IDs of the meetings that already gave one."""
    linked = {p["rencontre_id"] for p in snapshot.rows(TAB)}
    held = [r for r in snapshot.rows(meetings.TAB) if meetings.status_of(r) in meeting_statuses("held")
            and access.row_in_scope(user, meetings.TAB, r, snapshot) and (r.id not in linked or r.id == keep)]
    return held, linked


def partnership(snapshot: Snapshot, partnership_id: str) -> Row | None:
    return snapshot.get(TAB, partnership_id)


def event(snapshot: Snapshot, event_id: str) -> Row | None:
    return snapshot.get(EVENTS_TAB, event_id)
