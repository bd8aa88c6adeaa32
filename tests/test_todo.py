"""The home page's to-do list: items per role and scope, each pointing to a page the role can open."""

from datetime import date, timedelta

import pytest

from ecole_entreprise.services import access, meetings, todo
from ecole_entreprise.services.demo import load_demo
from ecole_entreprise.services.users import find_user
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
    from ecole_entreprise.services import bilan

    demo.append("Parametres", [{"cle": "annee_scolaire", "valeur": "2024-2025"}])
    snapshot = demo.read()
    assert todo.current_school_year(snapshot, date(2026, 11, 28)) == "2024-2025"
    assert bilan.prepare(snapshot).annee_courante == "2024-2025"
