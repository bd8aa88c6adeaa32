"""The home page's to-do list: what needs doing today, within the user's scope, each item pointing to a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ..domain.schema import default_schema
from ..domain.values import parse_date
from ..store.base import Snapshot
from . import access, meetings
from .parameters import current_school_year  # noqa: F401  (used by the home page)


@dataclass(frozen=True)
class TodoItem:
    title: str
    count: int
    detail: str
    page_key: str  # a key of access.pages_for()
    action: str


def _scoped(user, snapshot: Snapshot, tab: str, rows) -> list:
    return [r for r in rows if access.row_in_scope(user, tab, r, snapshot)]


def _people_items(user, snapshot: Snapshot, today: date) -> list[TodoItem]:
    items = []
    for tab, key in (("Entreprises", "entreprises"), ("Personnels", "personnels")):
        rows = _scoped(user, snapshot, tab, snapshot.rows(tab))
        pending = [r for r in rows if r["statut"] == "à valider"]
        no_consent = [r for r in rows if r["statut"] == "validé" and not r["consentement_participation"].strip()]
        to_inform = [r for r in rows if _due(r["informer_avant"], today + timedelta(days=7))]
        if pending:
            items.append(TodoItem(f"{tab} : inscriptions à valider", len(pending),
                                  "Fiches reçues par l'auto-inscription, statut « à valider ».", key, "Valider"))
        if no_consent:
            items.append(TodoItem(f"{tab} : consentement à recueillir", len(no_consent),
                                  "Fiches validées sans consentement à participer : elles n'entrent pas dans les "
                                  "suggestions.", key, "Compléter"))
        if to_inform:
            items.append(TodoItem(f"{tab} : personnes à informer", len(to_inform),
                                  "Personnes reprises d'une liste tierce à informer sous un mois (RGPD art. 14).",
                                  key, "Voir"))
    return items


def _due(text: str, limit: date) -> bool:
    try:
        return bool(text.strip()) and parse_date(text) <= limit
    except ValueError:
        return False


def _meeting_items(user, snapshot: Snapshot, today: date) -> list[TodoItem]:
    pending = _scoped(user, snapshot, "Rencontres", [p.row for p in meetings.pending_acceptances(snapshot)])
    late = _scoped(user, snapshot, "Rencontres", meetings.past_without_outcome(snapshot, today))
    items = []
    if pending:
        items.append(TodoItem("Acceptations en attente", len(pending),
                              "Rencontres proposées qu'une des deux parties n'a pas encore acceptées.",
                              "rencontres", "Relancer"))
    if late:
        items.append(TodoItem("Rencontres passées sans bilan", len(late),
                              "Date dépassée sans issue enregistrée, ou rencontre réalisée sans bilan saisi.",
                              "rencontres", "Saisir"))
    return items


def _admin_items(user, snapshot: Snapshot, today: date) -> list[TodoItem]:
    items = []
    if access.allowed(user, access.MANAGE_RGPD):
        from .rights import due_soon

        due = due_soon(snapshot, today)
        if due:
            items.append(TodoItem("Demandes RGPD à échéance proche", len(due),
                                  "Réponse due sous 7 jours (un mois après réception, trois si prolongée).",
                                  "rgpd", "Traiter"))
    if access.allowed(user, access.VIEW_QUALITY):
        from .quality import check_snapshot, visible_anomalies

        schema = default_schema()
        anomalies = [a for a in visible_anomalies(user, check_snapshot(snapshot, schema), snapshot, schema)
                     if a.severity == "erreur"]
        if anomalies:
            items.append(TodoItem("Anomalies dans les feuilles", len(anomalies),
                                  "Valeurs invalides, champs obligatoires vides ou références cassées.",
                                  "qualite", "Corriger"))
    return items


def todo_items(snapshot: Snapshot, user, today: date) -> list[TodoItem]:
    if not access.allowed(user, access.VIEW_PERSON_LISTS):
        return []
    items = _meeting_items(user, snapshot, today) + _people_items(user, snapshot, today) + \
        _admin_items(user, snapshot, today)
    reachable = set(access.pages_for(user))
    return [item for item in items if item.page_key in reachable]
