"""The home page's to-do list: items per role and scope, each pointing to a page the role can open."""

from datetime import date, timedelta

import pytest

from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.services.home import todo
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.users import find_user
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.store.workbook import WorkbookStore


@pytest.fixture
def demo(tmp_path, schema):
    store = WorkbookStore(schema, tmp_path / "classeur.xlsx")
    store.init()
    load_demo(store)
    return store


def test_admin_sees_pending_acceptances_counted_from_the_meetings(demo):
    snapshot = demo.read()
    admin = find_user(snapshot, "admin@exemple.fr")
    items = {i.title: i for i in todo.todo_items(snapshot, admin, date.today())}
    pending = len(meetings.pending_acceptances(snapshot))
    assert pending > 0
    assert items["Acceptations en attente"].count == pending
    assert all(i.page_key in access.pages_for(admin) for i in items.values())


def test_a_coordinator_only_counts_rows_in_scope(demo):
    snapshot = demo.read()
    admin = find_user(snapshot, "admin@exemple.fr")
    dijon = find_user(snapshot, "coord.dijon@exemple.fr")
    mine = {i.title: i.count for i in todo.todo_items(snapshot, dijon, date.today())}
    everyone = {i.title: i.count for i in todo.todo_items(snapshot, admin, date.today())}
    in_scope = [p for p in meetings.pending_acceptances(snapshot)
                if access.row_in_scope(dijon, "Rencontres", p.row, snapshot)]
    assert mine.get("Acceptations en attente", 0) == len(in_scope) <= everyone["Acceptations en attente"]
    assert "Demandes RGPD à échéance proche" not in mine  # admin only


def test_comite_gets_no_personal_to_do(demo):
    snapshot = demo.read()
    assert todo.todo_items(snapshot, find_user(snapshot, "comite@exemple.fr"), date.today()) == []


def test_self_registrations_and_third_party_information_dates_appear(demo):
    snapshot = demo.read()
    admin = find_user(snapshot, "admin@exemple.fr")
    [person] = demo.append("Personnels", [{
        "nom": "Nouveau", "prenom": "Inscrit", "fonction": "CPE", "code_postal": "21000", "commune_insee": "21231",
        "departement": "21", "email": "inscrit@ac-dijon.fr", "canal": "CLEE", "statut": "à valider",
        "informer_avant": (date.today() + timedelta(days=3)).isoformat()}])
    titles = {i.title: i.count for i in todo.todo_items(demo.read(), admin, date.today())}
    before = {i.title: i.count for i in todo.todo_items(snapshot, admin, date.today())}
    assert titles["Personnels : inscriptions à valider"] == before.get("Personnels : inscriptions à valider", 0) + 1
    assert titles["Personnels : personnes à informer"] >= 1


def test_school_year_comes_from_parametres_or_today(demo):
    snapshot = demo.read()
    assert todo.current_school_year(snapshot, date(2026, 11, 28)) == meetings.parameter(snapshot, "annee_scolaire")
    from ecole_entreprise.store.base import Snapshot

    empty = Snapshot(tabs={}, read_at=snapshot.read_at)
    assert todo.current_school_year(empty, date(2026, 11, 28)) == "2026-2027"


def test_school_year_typed_below_an_empty_row_is_the_one_every_page_uses(demo):
    """`init` leaves « annee_scolaire » empty (derived from today); a person may add a filled row below it."""
    from ecole_entreprise.services.bilan import compute as bilan

    demo.append("Parametres", [{"cle": "annee_scolaire", "valeur": "2024-2025"}])
    snapshot = demo.read()
    assert todo.current_school_year(snapshot, date(2026, 11, 28)) == "2024-2025"
    assert bilan.prepare(snapshot).annee_courante == "2024-2025"


# ---- one item per kind of work, each counted from rows made here and opening the page on exactly those rows ----

TODAY = date(2026, 11, 28)
STAFF = {"nom": "Neuf", "prenom": "Agent", "fonction": "CPE", "code_postal": "21000", "commune_insee": "21231",
         "commune": "Dijon", "departement": "21", "academie": "Dijon", "email": "agent.neuf@ac-dijon.fr",
         "canal": "CLEE", "statut": "validé", "formats": "déjeuner"}


def item(snapshot, email, title):
    user = find_user(snapshot, email)
    return {i.title: i for i in todo.todo_items(snapshot, user, TODAY)}.get(title)


def test_past_meetings_without_outcome_link_to_those_meetings(demo):
    snapshot = demo.read()
    before = item(snapshot, "admin@exemple.fr", "Rencontres passées sans bilan")
    before_ids = todo.filtered_ids(snapshot, find_user(snapshot, "admin@exemple.fr"), "Rencontres", "sans_bilan",
                                   TODAY)
    [company] = [r for r in snapshot.rows("Entreprises") if r["statut"] == "validé"][:1]
    [staff] = [r for r in snapshot.rows("Personnels") if r["statut"] == "validé"][:1]
    [late] = demo.append("Rencontres", [{"entreprise_id": company.id, "personnel_id": staff.id, "statut": "planifiée",
                                         "date": "2026-11-20", "annee_scolaire": "2026-2027"}])
    demo.append("Rencontres", [{"entreprise_id": company.id, "personnel_id": staff.id, "statut": "planifiée",
                                "date": "2026-12-20", "annee_scolaire": "2026-2027"}])  # still ahead: not late
    after = demo.read()
    admin = find_user(after, "admin@exemple.fr")
    found = item(after, "admin@exemple.fr", "Rencontres passées sans bilan")
    assert found.count == (before.count if before else 0) + 1
    assert (found.page_key, found.filter_key) == ("rencontres", "sans_bilan")
    assert todo.filtered_ids(after, admin, "Rencontres", "sans_bilan", TODAY) == (before_ids or set()) | {late.id}


def test_missing_consents_are_listed_per_side(demo):
    [person] = demo.append("Personnels", [STAFF])  # validated, no consent to take part
    snapshot = demo.read()
    admin = find_user(snapshot, "admin@exemple.fr")
    expected = {r.id for r in snapshot.rows("Personnels")
                if r["statut"] == "validé" and not r["consentement_participation"].strip()}
    found = item(snapshot, "admin@exemple.fr", "Personnels : consentement à recueillir")
    assert person.id in expected and found.count == len(expected)
    assert (found.page_key, found.filter_key) == ("personnels", "consentement")
    assert todo.filtered_ids(snapshot, admin, "Personnels", "consentement", TODAY) == expected
    # the CPME coordinator reads Personnels but cannot complete them: no such item for them
    assert item(snapshot, "coord.cpme21@exemple.fr", "Personnels : consentement à recueillir") is None


def test_rights_requests_due_within_a_week(demo):
    from ecole_entreprise.services.privacy import rights

    snapshot = demo.read()
    admin = find_user(snapshot, "admin@exemple.fr")
    [person] = demo.append("Personnels", [STAFF])
    rights.open_request(demo, demo.read(), admin, "Personnels", person.id, "accès", TODAY - timedelta(days=25))
    rights.open_request(demo, demo.read(), admin, "Personnels", person.id, "accès", TODAY)  # due in a month
    found = item(demo.read(), "admin@exemple.fr", "Demandes RGPD à échéance proche")
    assert (found.count, found.page_key) == (1, "rgpd")
    assert item(demo.read(), "coord.dijon@exemple.fr", "Demandes RGPD à échéance proche") is None


def test_sheet_errors_point_to_the_quality_page(demo):
    before = item(demo.read(), "admin@exemple.fr", "Anomalies dans les feuilles")
    demo.append("Personnels", [{**STAFF, "email": "pas-une-adresse"}])
    found = item(demo.read(), "admin@exemple.fr", "Anomalies dans les feuilles")
    assert found.count == (before.count if before else 0) + 1 and found.page_key == "qualite"


def test_unknown_filter_shows_the_whole_list(demo):
    snapshot = demo.read()
    admin = find_user(snapshot, "admin@exemple.fr")
    assert todo.filtered_ids(snapshot, admin, "Rencontres", "a_valider", TODAY) is None
    assert todo.filtered_ids(snapshot, admin, "Entreprises", "n'importe quoi", TODAY) is None
