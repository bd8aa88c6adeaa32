"""Disclosure of a meeting counterpart's contact details, and journaling of exports with personal data.

The only path by which a coordinator sees the other side's contact details: the disclosure rule must hold,
the viewer must coordinate the other side of that meeting (in scope) or be admin, and every reveal is journaled
before the values are returned (no journal entry, no data).
"""

from __future__ import annotations

from collections.abc import Iterable

from ...domain.roles import User
from ...domain.schema import default_schema
from ...store.base import Row, RowNotFound, Snapshot, StoreError
from ..kernel import access, journal
from .disclosure import fresh_rule_snapshot, snapshot_blockers

MEETINGS = "Rencontres"


def _meeting_rows(snapshot: Snapshot, meeting_id: str) -> tuple[Row, Row, Row]:
    meeting = snapshot.get(MEETINGS, meeting_id)
    if meeting is None:
        raise RowNotFound(MEETINGS, meeting_id)
    entreprise = snapshot.get("Entreprises", meeting["entreprise_id"])
    personnel = snapshot.get("Personnels", meeting["personnel_id"])
    if entreprise is None or personnel is None:
        raise StoreError(f"La rencontre {meeting_id} désigne une fiche introuvable "
                         f"({meeting['entreprise_id'] or '?'} / {meeting['personnel_id'] or '?'}).")
    return meeting, entreprise, personnel


def _target_side(user: User, side: str) -> str:
    if user.rights.unrestricted:
        if side not in access.SIDE_TABS:
            raise StoreError("Précisez de quelle partie (entreprise ou personnel) afficher les coordonnées.")
        return side
    wanted = access.counterpart(user.side)
    if side and side != wanted:
        raise access.AccessDenied("Accès refusé : les coordonnées de votre propre côté se consultent dans la "
                                  "fiche ; la divulgation ne concerne que la partie rencontrée.")
    return wanted


def reveal_blockers(snapshot: Snapshot, user: User, meeting_id: str, side: str = "") -> list[str]:
    """French reasons why `user` may not see the other side's contacts for this meeting (empty: allowed)."""
    meeting, entreprise, personnel = _meeting_rows(snapshot, meeting_id)
    reasons = snapshot_blockers(snapshot, meeting, entreprise, personnel)
    target = _target_side(user, side)
    viewer_side = access.counterpart(target)
    if not user.rights.unrestricted and not user.covers(access.side_departement(snapshot, meeting, viewer_side)):
        reasons.append("Cette rencontre ne concerne pas une fiche de votre périmètre.")
    return reasons


def reveal_contacts(store, user: User, meeting_id: str, purpose: str, side: str = "") -> dict:
    """The counterpart's identity and contact fields for this meeting, journaled; AccessDenied otherwise.

    `side` ("entreprise" / "personnel") is whose details to show: implied for coordinators, required for admin.
    Returns {"onglet", "id", <identity and contact field names>: value}.
    """
    access.require(user, access.REVEAL_CONTACTS)
    if not (purpose or "").strip():
        raise StoreError("Indiquez la finalité de la consultation des coordonnées (elle est journalisée).")
    # Read here, not taken from the caller: a consent withdrawn by hand a minute ago must count.
    snapshot = fresh_rule_snapshot(store)
    reasons = reveal_blockers(snapshot, user, meeting_id, side)
    if reasons:
        raise access.AccessDenied("Coordonnées non communicables : " + " ".join(reasons), reasons)
    target = _target_side(user, side)
    tab = access.SIDE_TABS[target]
    meeting = snapshot.get(MEETINGS, meeting_id)
    person = snapshot.get(tab, meeting[f"{target}_id"])
    fields = default_schema().tab(tab).fields_with("identity", "contact")
    journal.record(store, user, "divulgation coordonnées", tab, person.id, fields, purpose.strip(),
                   f"rencontre {meeting_id} ; consultée par {user.role}")
    return {"onglet": tab, "id": person.id, **{name: person[name] for name in fields}}


def journal_export(store, user: User, description: str, personal_fields: Iterable[str], finalite: str = "",
                   targets: Iterable[tuple[str, str]] = ()) -> list[Row]:
    """Record an export (CSV, xlsx, PDF…) that contains personal data, before the file is handed over.

    `targets`: the (tab, ID) of every record whose data the file holds, so that a person's right of access
    finds the exports of their data. Returns the journal entries written (one per chunk of targets)."""
    access.require(user, access.EXPORT_PERSONAL_DATA)
    fields = list(personal_fields)
    if not fields:
        raise StoreError("Un export journalisé doit préciser les champs personnels qu'il contient.")
    return journal.record_many(store, user, "export données personnelles", targets, fields,
                               finalite or "export de données personnelles", description)
