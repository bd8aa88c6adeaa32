"""Partnerships from a meeting or direct, status changes, events and the overview table."""

from __future__ import annotations

import datetime as dt

import pytest

from ecole_entreprise.domain.roles import User
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.meetings import partnerships
from ecole_entreprise.services.meetings.partnerships import PartnershipInvalid
from ecole_entreprise.store.base import Conflict
from tests.test_meetings import PLANNED_VALUES, USER, SheetStore, add_company, add_meeting, add_staff


@pytest.fixture
def store():
    return SheetStore()


@pytest.fixture
def journal(monkeypatch):
    calls = []
    original = meetings.record_journal

    def spy(store, user, action, tab, row_id, champs, finalite, details):
        calls.append((action, tab, row_id, details))
        original(store, user, action, tab, row_id, champs, finalite, details)

    monkeypatch.setattr(meetings, "record_journal", spy)
    return calls


@pytest.fixture
def reviewed(store):
    company, staff = add_company(store), add_staff(store)
    return add_meeting(store, company, staff, **{**PLANNED_VALUES, "statut": "bilan saisi",
                                                 "annee_scolaire": "2025-2026"})


def data(store, tab):
    return store.records(tab)


# ---- partnerships ---------------------------------------------------------------------------------------


def test_from_meeting_takes_school_company_and_year_and_is_idempotent(store, reviewed, journal):
    made = partnerships.create_from_meeting(store, store.read(), USER, reviewed.id,
                                            types=["stages", "invitations mutuelles"])
    assert (made["uai"], made["etablissement"], made["entreprise_id"], made["rencontre_id"]) == (
        "0210015C", "Lycée Carnot", reviewed["entreprise_id"], reviewed.id)
    assert (made["types"], made["statut"], made["annee_scolaire"]) == (
        "invitations mutuelles; stages", "envisagé", "2025-2026")
    again = partnerships.create_from_meeting(store, store.read(), USER, reviewed.id, types=["visites"])
    assert again.id == made.id and len(store.records("Partenariats")) == 1
    assert journal == [("création partenariat", "Partenariats", made.id, "statut envisagé")]


def test_from_meeting_needs_a_held_meeting_and_a_school(store):
    company = add_company(store)
    planned = add_meeting(store, company, add_staff(store), **PLANNED_VALUES)
    with pytest.raises(PartnershipInvalid, match="au statut « planifiée »"):
        partnerships.create_from_meeting(store, store.read(), USER, planned.id, types=["visites"])
    no_school = add_meeting(store, company, add_staff(store, uai=""), **{**PLANNED_VALUES, "statut": "réalisée"})
    with pytest.raises(PartnershipInvalid) as invalid:
        partnerships.create_from_meeting(store, store.read(), USER, no_school.id, types=["visites"])
    assert "n'a pas d'UAI d'établissement" in invalid.value.errors["uai"]
    assert store.records("Partenariats") == []


def test_direct_creation_validates_every_field_and_writes_nothing(store):
    with pytest.raises(PartnershipInvalid) as invalid:
        partnerships.create(store, store.read(), USER, uai="0210015A", entreprise_id="ENT-NOPE0000",
                            types=["mécénat"], statut="en pause", date_debut="32/01/2026", annee_scolaire="2026")
    errors = invalid.value.errors
    assert set(errors) == {"uai", "entreprise_id", "types", "statut", "date_debut", "annee_scolaire"}
    assert "lettre de contrôle devrait être C" in errors["uai"]
    assert errors["entreprise_id"] == "« ENT-NOPE0000 » est introuvable dans l'onglet « Entreprises »."
    assert "« mécénat » n'est pas proposé" in errors["types"]
    assert str(invalid.value).startswith("UAI établissement : ")
    with pytest.raises(PartnershipInvalid) as empty:
        partnerships.create(store, store.read(), USER, uai="", entreprise_id="", types=[])
    assert set(empty.value.errors) == {"uai", "entreprise_id", "types"}
    assert store.records("Partenariats") == []


def test_direct_creation_normalises_and_uses_the_client_id(store):
    company = add_company(store)
    made = partnerships.create(store, store.read(), USER, uai=" 0710042k ", entreprise_id=company.id,
                               types="stages; visites", statut="actif", date_debut="15/03/2026",
                               record_id="PAR-CLIENT01")
    assert (made.id, made["uai"], made["types"], made["date_debut"], made["annee_scolaire"]) == (
        "PAR-CLIENT01", "0710042K", "visites; stages", "2026-03-15", "2025-2026")
    again = partnerships.create(store, store.read(), USER, uai="0710042K", entreprise_id=company.id,
                                types=["stages"], record_id="PAR-CLIENT01")
    assert again["types"] == "visites; stages" and len(store.records("Partenariats")) == 1


def test_school_year_defaults_to_the_programme_year(store):
    company = add_company(store)
    store.append("Parametres", [{"cle": "annee_scolaire", "valeur": "2026-2027"}])
    made = partnerships.create(store, store.read(), USER, uai="0210015C", entreprise_id=company.id,
                               types=["autre"])
    assert made["annee_scolaire"] == "2026-2027" and made["date_debut"] == ""


def test_status_change_sets_start_date_and_journals(store, reviewed, journal):
    made = partnerships.create_from_meeting(store, store.read(), USER, reviewed.id, types=["visites"])
    with pytest.raises(PartnershipInvalid, match="Choisissez parmi : envisagé, actif, terminé"):
        partnerships.set_status(store, store.read(), USER, made.id, "suspendu")
    active = partnerships.set_status(store, store.read(), USER, made.id, "actif")
    assert active["statut"] == "actif"
    assert dt.date.fromisoformat(active["date_debut"]) >= dt.date(2025, 1, 1)
    writes = store.writes
    assert partnerships.set_status(store, store.read(), USER, made.id, "actif").id == made.id
    assert store.writes == writes
    assert journal[-1] == ("statut partenariat", "Partenariats", made.id, "envisagé → actif")
    snapshot = store.read()
    store.human_edit("Partenariats", made.id, description="précisé dans la feuille")
    with pytest.raises(Conflict):
        partnerships.set_status(store, snapshot, USER, made.id, "terminé")
    assert store.read().get("Partenariats", made.id)["statut"] == "actif"


# ---- events ---------------------------------------------------------------------------------------------


def test_event_from_a_partnership_fills_company_and_school(store, reviewed, journal):
    partner = partnerships.create_from_meeting(store, store.read(), USER, reviewed.id, types=["visites"])
    event = partnerships.create_event(store, store.read(), USER, titre="Forum des métiers",
                                      organisateur="établissement", date="12/03/2026", lieu="Lycée Carnot",
                                      partenariat_id=partner.id, invites=["Menuiserie Alpha", "Boulangerie Roy"])
    assert (event["entreprise_id"], event["uai"], event["date"], event["invites"]) == (
        partner["entreprise_id"], "0210015C", "2026-03-12", "Menuiserie Alpha; Boulangerie Roy")
    venus = partnerships.record_attendance(store, store.read(), USER, event.id, "Menuiserie Alpha")
    assert venus["participants"] == "Menuiserie Alpha"
    assert [j[0] for j in journal[-2:]] == ["création événement", "présence événement"]


def test_event_validation(store):
    before = data(store, "Evenements")
    with pytest.raises(PartnershipInvalid) as invalid:
        partnerships.create_event(store, store.read(), USER, titre=" ", organisateur="entreprise", date="")
    assert invalid.value.errors == {"titre": "Ce champ est obligatoire.", "entreprise_id": "Ce champ est obligatoire.",
                                    "date": "La date est obligatoire."}
    with pytest.raises(PartnershipInvalid) as school:
        partnerships.create_event(store, store.read(), USER, titre="Portes ouvertes", organisateur="établissement",
                                  date="2026-02-01", invites="x" * 1001)
    assert set(school.value.errors) == {"uai", "invites"}
    with pytest.raises(PartnershipInvalid) as who:
        partnerships.create_event(store, store.read(), USER, titre="Visite", organisateur="mairie", date="2026-02-01")
    assert "Choisissez parmi : entreprise, établissement" in who.value.errors["organisateur"]
    assert data(store, "Evenements") == before


def test_events_table_filters_and_sorts(store, reviewed):
    partner = partnerships.create_from_meeting(store, store.read(), USER, reviewed.id, types=["visites"])
    company_id = reviewed["entreprise_id"]
    partnerships.create_event(store, store.read(), USER, titre="Visite atelier", organisateur="entreprise",
                              entreprise_id=company_id, date="2026-04-02", partenariat_id=partner.id)
    partnerships.create_event(store, store.read(), USER, titre="Forum", organisateur="établissement",
                              uai="0210015C", date="2026-02-10")
    partnerships.create_event(store, store.read(), USER, titre="Salon", organisateur="établissement",
                              uai="0250010A", date="2025-11-20")
    table = partnerships.events(store.read())
    assert list(table["Titre"]) == ["Salon", "Forum", "Visite atelier"]
    assert list(table["Organisé par"]) == ["0250010A", "Lycée Carnot", "Menuiserie Alpha"]
    assert list(partnerships.events(store.read(), partenariat_id=partner.id)["Titre"]) == ["Visite atelier"]
    window = partnerships.events(store.read(), start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31))
    assert list(window["Titre"]) == ["Forum"]
    assert partnerships.events(SheetStore().read()).empty


def test_overview_lists_active_first_with_names_and_event_counts(store, reviewed):
    first = partnerships.create_from_meeting(store, store.read(), USER, reviewed.id, types=["visites"])
    other = add_company(store, raison_sociale="Boulangerie Roy")
    second = partnerships.create(store, store.read(), USER, uai="0250010A", entreprise_id=other.id,
                                 types=["stages"], statut="actif", date_debut="2026-02-01")
    partnerships.create_event(store, store.read(), USER, titre="Forum", organisateur="établissement",
                              uai="0210015C", date="2026-02-10", partenariat_id=first.id)
    partnerships.create_event(store, store.read(), USER, titre="Visite", organisateur="entreprise",
                              date="2026-02-11", partenariat_id=first.id)
    table = partnerships.partnership_overview(store.read())
    assert list(table.columns) == ["ID", "Entreprise", "Établissement", "UAI", "Types", "Statut", "Début",
                                   "Année scolaire", "Rencontre", "Événements"]
    assert list(table["ID"]) == [second.id, first.id]
    assert table.iloc[0]["Début"] == dt.date(2026, 2, 1) and table.iloc[0]["Établissement"] == "0250010A"
    assert (table.iloc[1]["Entreprise"], table.iloc[1]["Établissement"], table.iloc[1]["Événements"]) == (
        "Menuiserie Alpha", "Lycée Carnot", 2)
    assert table.iloc[0]["Événements"] == 0


def test_partnership_writes_stay_in_scope(store, reviewed):
    elsewhere = User(email="cpme@besancon.fr", role="coordinateur CPME", departements=frozenset({"25"}))
    with pytest.raises(AccessDenied, match="hors de votre périmètre"):
        partnerships.create_from_meeting(store, store.read(), elsewhere, reviewed.id, types=["visites"])
    assert store.records("Partenariats") == []
