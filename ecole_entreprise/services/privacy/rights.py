"""Data-subject rights: the Demandes RGPD tab (deadlines), access exports and anonymisation.

Deadline: one month after receipt, extendable to three months only if the person was told within the first month
(GDPR art. 12(3)). Anonymisation keeps IDs and every category used by the bilan, so counts do not move.
"""

from __future__ import annotations

import calendar
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from ecole_entreprise import errors

from ...domain.roles import User
from ...domain.schema import default_schema
from ...domain.statuses import RequestStatus
from ...domain.validation import fold
from ...domain.values import format_date, parse_date
from ...store.base import Row, RowNotFound, Snapshot, StoreError
from ..kernel import access, journal
from ..kernel.exports import csv_bytes
from . import redaction
from .consent import CONSENT_FIELDS

TAB = "Demandes RGPD"
OPEN_STATES = tuple(str(s) for s in RequestStatus if s.open)
CLOSED_STATES = tuple(str(s) for s in RequestStatus if not s.open)
PERSON_TABS = ("Entreprises", "Personnels")
ERASURE = "droit à l'effacement"
ANONYMOUS_PREFIX = "Anonyme-"
NAME_FIELDS = {"Entreprises": "contact_nom", "Personnels": "nom"}


def find_people(snapshot: Snapshot, query: str) -> dict[str, tuple[str, Row]]:
    """Every record of Entreprises and Personnels holding each word of `query` (case, accents and apostrophes
    ignored), as "tab|ID" → (tab, row): the admin's search for the person a request is about."""
    words = fold(query).split()
    return {f"{tab}|{row.id}": (tab, row) for tab in PERSON_TABS for row in snapshot.rows(tab)
            if all(w in fold(" ".join([row.id, *row.values.values()])) for w in words)}


class RightsError(StoreError, errors.Refused):
    """A refused rights operation; the message is French."""


def add_months(day: date, months: int) -> date:
    """Same day `months` later (or earlier), clamped to the month's last day: 31 Jan + 1 → 28/29 Feb."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _request(snapshot: Snapshot, request_id: str) -> Row:
    row = snapshot.get(TAB, request_id)
    if row is None:
        raise RowNotFound(TAB, request_id)
    return row


def _person(snapshot: Snapshot, tab: str, person_id: str) -> Row:
    if tab not in PERSON_TABS:
        raise RightsError(f"Les demandes RGPD portent sur les onglets Entreprises ou Personnels, pas « {tab} ».")
    row = snapshot.get(tab, person_id)
    if row is None:
        raise RowNotFound(tab, person_id)
    return row


# ---- requests and deadlines -------------------------------------------------------------------------------


def open_request(store, snapshot: Snapshot, user: User, tab: str, person_id: str, kind: str,
                 received: date, notes: str = "") -> Row:
    """Register a request; the deadline is one month after receipt."""
    access.require(user, access.MANAGE_RGPD)
    _person(snapshot, tab, person_id)
    kinds = default_schema().lists["types_demande"]
    if kind not in kinds:
        raise RightsError(f"Type de demande inconnu « {kind} » (attendu : {', '.join(kinds)}).")
    record = {"personne_tab": tab, "personne_id": person_id, "type": kind, "recue_le": format_date(received),
              "echeance": format_date(add_months(received, 1)), "statut": str(RequestStatus.RECEIVED), "notes": notes}
    [row] = store.append(TAB, [record])
    journal.record(store, user, "demande RGPD", TAB, row.id, ["type", "echeance"], "exercice des droits",
                   f"{kind} ; personne {tab} {person_id}")
    return row


def _received(row: Row) -> date:
    try:
        return parse_date(row["recue_le"])
    except ValueError:
        raise RightsError(f"La demande {row.id} n'a pas de date de réception valide (« {row['recue_le']} »).") from None


def extend(store, snapshot: Snapshot, user: User, request_id: str, informed_on: date) -> Row:
    """Push the deadline to three months after receipt, if the person was told within the first month."""
    access.require(user, access.MANAGE_RGPD)
    row = _request(snapshot, request_id)
    received = _received(row)
    limit = add_months(received, 1)
    if informed_on < received:
        raise RightsError("La date d'information ne peut pas précéder la réception de la demande.")
    if informed_on > limit:
        raise RightsError(f"Prolongation impossible : la personne doit être informée dans le mois suivant la "
                          f"réception, soit au plus tard le {limit:%d/%m/%Y} (information du {informed_on:%d/%m/%Y}).")
    changes = {"echeance": format_date(add_months(received, 3)), "prolongation_informee_le": format_date(informed_on)}
    updated = store.update(TAB, request_id, changes, row.fingerprint)
    journal.record(store, user, "prolongation demande RGPD", TAB, request_id, list(changes), "exercice des droits",
                   f"nouvelle échéance {changes['echeance']}")
    return updated


def request_status(row: Row) -> str:
    """The request's status; an empty cell (a row typed in the sheet) is the schema default, « reçue »."""
    return row["statut"].strip() or str(RequestStatus.RECEIVED)


def start_request(store, snapshot: Snapshot, user: User, request_id: str) -> Row:
    """Mark a received request "en cours" (being handled); its deadline is unchanged."""
    access.require(user, access.MANAGE_RGPD)
    row = _request(snapshot, request_id)
    if request_status(row) != RequestStatus.RECEIVED:
        raise RightsError(f"La demande {request_id} est « {row['statut']} » : seule une demande « reçue » passe "
                          "« en cours ».")
    updated = store.update(TAB, request_id, {"statut": str(RequestStatus.IN_PROGRESS)}, row.fingerprint)
    journal.record(store, user, "prise en charge demande RGPD", TAB, request_id, ["statut"], "exercice des droits",
                   "en cours")
    return updated


def close_request(store, snapshot: Snapshot, user: User, request_id: str, status: str, on: date) -> Row:
    access.require(user, access.MANAGE_RGPD)
    if status not in CLOSED_STATES:
        raise RightsError(f"Statut de clôture inconnu « {status} » (attendu : {', '.join(CLOSED_STATES)}).")
    row = _request(snapshot, request_id)
    updated = store.update(TAB, request_id, {"statut": status, "traitee_le": format_date(on)}, row.fingerprint)
    journal.record(store, user, "clôture demande RGPD", TAB, request_id, ["statut", "traitee_le"],
                   "exercice des droits", status)
    return updated


def due_soon(snapshot: Snapshot, today: date, days: int = 7) -> list[Row]:
    """Open requests due within `days` (overdue ones included), earliest first."""
    found = []
    for row in snapshot.rows(TAB):
        due = deadline(row)
        if request_status(row) in OPEN_STATES and due is not None and (due - today).days <= days:
            found.append((due, row))
    return [row for _, row in sorted(found, key=lambda pair: pair[0])]


def deadline(row: Row) -> date | None:
    """The recorded deadline, or one month after receipt when a person left it empty."""
    try:
        if row["echeance"].strip():
            return parse_date(row["echeance"])
        return add_months(parse_date(row["recue_le"]), 1) if row["recue_le"].strip() else None
    except ValueError:
        return None


# ---- access export ----------------------------------------------------------------------------------------


def _labelled(tab: str, row: Row, hidden: set[str] = frozenset()) -> dict[str, str]:
    """A row with French headers, including columns a person added (they may hold data about the person)."""
    schema_tab = default_schema().tab(tab)
    out = {f.header: row[f.name] for f in schema_tab.fields if f.name not in hidden}
    out.update(row.extra)
    return out


def person_data(snapshot: Snapshot, tab: str, person_id: str) -> dict[str, list[dict[str, str]]]:
    """Everything held about one person, by section; the other side's free texts are left out (third party)."""
    person = _person(snapshot, tab, person_id)
    side = access.TAB_SIDES[tab]
    other_texts = {f.name for f in default_schema().tab("Rencontres").fields
                   if f.sensitivity == "free_text" and access.field_side("Rencontres", f.name) not in ("", side)}
    meetings = [m for m in snapshot.rows("Rencontres") if m[f"{side}_id"] == person_id]
    meeting_ids = {m.id for m in meetings}
    partnerships = [p for p in snapshot.rows("Partenariats")
                    if (side == "entreprise" and p["entreprise_id"] == person_id) or p["rencontre_id"] in meeting_ids]
    partnership_ids = {p.id for p in partnerships}
    events = [e for e in snapshot.rows("Evenements")
              if (side == "entreprise" and e["entreprise_id"] == person_id) or e["partenariat_id"] in partnership_ids]
    requests = [r for r in snapshot.rows(TAB) if r["personne_id"] == person_id]
    # Entries about the person, their meetings, partnerships, events and their own rights requests.
    about = {person_id} | meeting_ids | partnership_ids | {e.id for e in events} | {r.id for r in requests}
    return {
        "personne": [_labelled(tab, person)],
        "rencontres": [_labelled("Rencontres", m, other_texts) for m in meetings],
        "partenariats": [_labelled("Partenariats", p) for p in partnerships],
        "evenements": [_labelled("Evenements", e) for e in events],
        "demandes_rgpd": [_labelled(TAB, r) for r in requests],
        "journal": [_labelled("Journal", j) for j in snapshot.rows("Journal") if _concerns(j, about)],
    }


_ID_TOKEN = re.compile(r"\b[A-Z]{3}-[A-Za-z0-9]+\b")


def _concerns(entry: Row, about: set[str]) -> bool:
    """An entry targets one of these IDs, or names one in its details (a request handled for the person, a
    meeting in a disclosure, a row redacted by someone else's erasure)."""
    return bool(journal.targets_of(entry) & about or set(_ID_TOKEN.findall(entry["details"])) & about)


def _readme(tab: str, person_id: str, sections: dict) -> str:
    counts = "\n".join(f"- {name} : {len(rows)} ligne(s)" for name, rows in sections.items())
    return (f"Données détenues sur la fiche {person_id} (onglet {tab}) — programme Rencontres École–Entreprise BFC.\n"
            f"donnees.json contient tout ; un fichier CSV par rubrique (séparateur point-virgule).\n\n{counts}\n")


def access_export(snapshot: Snapshot, tab: str, person_id: str, *, store, user: User) -> bytes:
    """A zip (JSON + one CSV per section) of everything about the person, for a right-of-access request.

    `store` and `user` are required so that the export is permission-checked and journaled.
    """
    access.require(user, access.MANAGE_RGPD)
    sections = person_data(snapshot, tab, person_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("LISEZMOI.txt", _readme(tab, person_id, sections))
        archive.writestr("donnees.json", json.dumps(sections, ensure_ascii=False, indent=2))
        for name, rows in sections.items():
            archive.writestr(f"{name}.csv", csv_bytes(pd.DataFrame(rows, dtype=str)))
    journal.record(store, user, "export droit d'accès", tab, person_id, list(sections), "droit d'accès",
                   ", ".join(f"{name} {len(rows)}" for name, rows in sections.items()))
    return buffer.getvalue()


# ---- anonymisation ----------------------------------------------------------------------------------------


@dataclass
class AnonymisationResult:
    row: Row
    meetings: list[str] = field(default_factory=list)  # meeting IDs whose free texts were cleared
    extra_columns: list[str] = field(default_factory=list)  # filled columns added by hand: to clear by hand
    redacted: list[str] = field(default_factory=list)  # « onglet ID » of other rows whose free text named them
    to_check: list[str] = field(default_factory=list)  # cells still holding a value of theirs, not free text
    written: dict[tuple[str, str], str] = field(default_factory=dict)  # (tab, ID) → fingerprint after the write

    def warning_fr(self) -> str:
        notes = []
        if self.extra_columns:
            notes.append("Colonnes ajoutées à la main non modifiées par l'application, à vider dans la feuille si "
                         "elles contiennent des données personnelles : " + ", ".join(self.extra_columns) + ".")
        if self.to_check:
            notes.append("Valeurs de la personne trouvées hors des textes libres, non modifiées (nom d'établissement, "
                         "de commune, raison sociale, colonne ajoutée, journal) : à vérifier dans la feuille — "
                         + ", ".join(self.to_check) + ".")
        return " ".join(notes)


def is_anonymised(tab: str, row: Row) -> bool:
    return row[NAME_FIELDS[tab]].startswith(ANONYMOUS_PREFIX)


def anonymised_values(tab: str, row: Row) -> dict[str, str]:
    """Identity → pseudonym, contacts, free texts and consents cleared; IDs and categories untouched."""
    changes: dict[str, str] = {}
    for f in default_schema().tab(tab).fields:
        if f.sensitivity == "identity":
            changes[f.name] = "" if f.type == "choice" else ANONYMOUS_PREFIX + row.id
        elif f.sensitivity in ("contact", "free_text") or f.name in CONSENT_FIELDS:
            changes[f.name] = ""
    return changes


def apply_anonymisation(store, snapshot: Snapshot, actor: User, tab: str, person_id: str,
                        finalite: str) -> AnonymisationResult:
    """Anonymise without a permission check (callers check theirs). Safe to run again after a Conflict: the
    person's own row is written last, so a second run still knows the values to look for."""
    person = _person(snapshot, tab, person_id)
    side = access.TAB_SIDES[tab]
    # The person's own texts, and the shared ones (a refusal reason may name them), are cleared; elsewhere (the
    # other side's words, events, partnerships, requests…) only their name, email and phone are redacted.
    texts = [f.name for f in default_schema().tab("Rencontres").fields
             if f.sensitivity == "free_text" and access.field_side("Rencontres", f.name) in (side, "")]
    needles = redaction.needles_for(tab, person)
    found = redaction.sweep(snapshot, needles, skip=(tab, person_id))
    # Their own row keeps its non-personal columns (a raison sociale may still carry their name: reported).
    kept = [f for f in default_schema().tab(tab).fields if f.name not in anonymised_values(tab, person)]
    found.to_check += [f"{tab} {person_id} « {f.header} »" for f in kept if needles.spans(person[f.name])]
    writes = dict(found.changes)
    cleaned = []
    for meeting in snapshot.rows("Rencontres"):
        if meeting[f"{side}_id"] == person_id and any(meeting[name] for name in texts):
            _, redacted = writes.get(("Rencontres", meeting.id), (meeting, {}))
            writes[("Rencontres", meeting.id)] = (meeting, {**redacted, **dict.fromkeys(texts, "")})
            cleaned.append(meeting.id)
    written = {}
    for (other_tab, row_id), (row, changes) in writes.items():
        written[(other_tab, row_id)] = store.update(other_tab, row_id, changes, row.fingerprint).fingerprint
    updated = store.update(tab, person_id, anonymised_values(tab, person), person.fingerprint)
    written[(tab, person_id)] = updated.fingerprint
    extra = [header for header, value in person.extra.items() if value.strip()]
    others = [f"{t} {i}" for (t, i) in found.changes]
    journal.record(store, actor, "anonymisation", tab, person_id, list(anonymised_values(tab, person)), finalite,
                   f"{len(cleaned)} rencontre(s) nettoyée(s)" + (f" : {', '.join(cleaned)}" if cleaned else "")
                   + f" ; {len(others)} ligne(s) où leur nom, courriel ou téléphone a été effacé"
                   + (f" : {', '.join(others)}" if others else "")
                   + (f" ; {len(found.to_check)} case(s) à vérifier à la main" if found.to_check else ""))
    return AnonymisationResult(updated, cleaned, extra, others, found.to_check, written)


def anonymise(store, snapshot: Snapshot, user: User, tab: str, person_id: str) -> AnonymisationResult:
    """Erasure request: the person can no longer be identified, while every bilan count stays the same."""
    access.require(user, access.MANAGE_RGPD)
    return apply_anonymisation(store, snapshot, user, tab, person_id, ERASURE)
