"""The home page's to-do list: what needs doing today, within the user's scope, each item pointing to a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from ...domain.schema import default_schema
from ...domain.statuses import RecordStatus
from ...domain.values import parse_date
from ...store.base import Snapshot
from ..kernel import access, navigation
from ..kernel.parameters import current_school_year  # noqa: F401  (used by the home page)
from ..meetings import lifecycle as meetings


@dataclass(frozen=True)
class TodoItem:
    title: str
    count: int
    detail: str
    page_key: str  # a key of access.pages_for()
    action: str
    filter_key: str = ""  # the page opens on exactly these rows (query parameter FILTER_PARAM)


FILTER_PARAM = "a_faire"
# filter key -> (what the filtered list shows, in French)
FILTER_LABELS = {
    "a_valider": "inscriptions à valider",
    "consentement": "fiches validées sans consentement à participer",
    "informer": "personnes à informer sous 7 jours",
    "acceptation": "rencontres en attente d'acceptation",
    "sans_bilan": "rencontres passées sans bilan",
}
PEOPLE_FILTERS = ("a_valider", "consentement", "informer")
MEETING_FILTERS = ("acceptation", "sans_bilan")


def _scoped(user, snapshot: Snapshot, tab: str, rows) -> list:
    return [r for r in rows if access.row_in_scope(user, tab, r, snapshot)]


def _people_rows(user, snapshot: Snapshot, tab: str, key: str, today: date) -> list:
    rows = _scoped(user, snapshot, tab, snapshot.rows(tab))
    if key == "a_valider":
        return [r for r in rows if r["statut"] == RecordStatus.PENDING]
    if key == "consentement":
        return [r for r in rows
                if r["statut"] == RecordStatus.VALIDATED and not r["consentement_participation"].strip()]
    return [r for r in rows if _due(r["informer_avant"], today + timedelta(days=7))]


def _meeting_rows(user, snapshot: Snapshot, key: str, today: date) -> list:
    if key == "acceptation":
        rows = [p.row for p in meetings.pending_acceptances(snapshot)]
    else:
        rows = meetings.past_without_outcome(snapshot, today)
    return _scoped(user, snapshot, "Rencontres", rows)


def filtered_ids(snapshot: Snapshot, user, tab: str, key: str, today: date) -> set[str] | None:
    """The IDs a to-do link opens `tab` on; None when `key` is no filter of that tab (the page shows all)."""
    if tab in ("Entreprises", "Personnels") and key in PEOPLE_FILTERS:
        return {r.id for r in _people_rows(user, snapshot, tab, key, today)}
    if tab == "Rencontres" and key in MEETING_FILTERS:
        return {r.id for r in _meeting_rows(user, snapshot, key, today)}
    return None


PEOPLE_ITEMS = (
    ("a_valider", "inscriptions à valider", "Fiches reçues par l'auto-inscription, statut « à valider ».", "Valider"),
    ("consentement", "consentement à recueillir",
     "Fiches validées sans consentement à participer : elles n'entrent pas dans les suggestions.", "Compléter"),
    ("informer", "personnes à informer",
     "Personnes reprises d'une liste tierce à informer sous un mois (RGPD art. 14).", "Voir"),
)


def _people_items(user, snapshot: Snapshot, today: date) -> list[TodoItem]:
    items = []
    sides = (("Entreprises", "entreprises", access.EDIT_ENTREPRISES), ("Personnels", "personnels",
                                                                       access.EDIT_PERSONNELS))
    for tab, page, permission in sides:
        if not access.allowed(user, permission):  # only the side's own coordinators can act on its records
            continue
        for key, title, detail, action in PEOPLE_ITEMS:
            rows = _people_rows(user, snapshot, tab, key, today)
            if rows:
                items.append(TodoItem(f"{tab} : {title}", len(rows), detail, page, action, key))
    return items


def _due(text: str, limit: date) -> bool:
    try:
        return bool(text.strip()) and parse_date(text) <= limit
    except ValueError:
        return False


def _meeting_items(user, snapshot: Snapshot, today: date) -> list[TodoItem]:
    pending = _meeting_rows(user, snapshot, "acceptation", today)
    late = _meeting_rows(user, snapshot, "sans_bilan", today)
    items = []
    if pending:
        items.append(TodoItem("Acceptations en attente", len(pending),
                              "Rencontres proposées qu'une des deux parties n'a pas encore acceptées.",
                              "rencontres", "Relancer", "acceptation"))
    if late:
        items.append(TodoItem("Rencontres passées sans bilan", len(late),
                              "Date dépassée sans issue enregistrée, ou rencontre réalisée sans bilan saisi.",
                              "rencontres", "Saisir", "sans_bilan"))
    return items


def _admin_items(user, snapshot: Snapshot, today: date) -> list[TodoItem]:
    items = []
    if access.allowed(user, access.MANAGE_RGPD):
        from ..privacy.rights import due_soon

        due = due_soon(snapshot, today)
        if due:
            items.append(TodoItem("Demandes RGPD à échéance proche", len(due),
                                  "Réponse due sous 7 jours (un mois après réception, trois si prolongée).",
                                  "rgpd", "Traiter"))
    if access.allowed(user, access.VIEW_QUALITY):
        from ..census.quality import check_snapshot, visible_anomalies

        schema = default_schema()
        # The home page reads no history tab (navigation.page_tabs): the Journal is checked on the quality page.
        found = check_snapshot(snapshot, schema, tabs=navigation.page_tabs(navigation.HOME))
        anomalies = [a for a in visible_anomalies(user, found, snapshot, schema) if a.severity == "erreur"]
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
