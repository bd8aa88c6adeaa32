"""Permissions per role, scopes, and server-side masking of personal fields."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecole_entreprise.domain.roles import ADMIN, ALL_DEPARTEMENTS, COMITE, COORD_ACADEMIE, COORD_CPME, User, parse_scope
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.store.base import StoreError
from tests.support.memory_store import MemoryStore, seed_programme

ADMIN_USER = User("admin@region.fr", ADMIN)
ACAD_DIJON = User("coord@ac-dijon.fr", COORD_ACADEMIE, departements=parse_scope("Dijon"))
ACAD_BESANCON = User("coord@ac-besancon.fr", COORD_ACADEMIE, departements=parse_scope("Besançon"))
CPME_DOUBS = User("coord@cpme-25.fr", COORD_CPME, departements=parse_scope("25, 39"))
COMITE_USER = User("comite@region.fr", COMITE)
PERSON_TABS = ("Entreprises", "Personnels", "Rencontres", "Partenariats", "Evenements", "Journal", "Utilisateurs",
               "Demandes RGPD")


@pytest.fixture(scope="module")
def snapshot():
    return seed_programme(MemoryStore()).read()


def ids(rows):
    return sorted(r["id"] for r in rows)


def test_role_table_and_pages():
    assert access.pages_for(ADMIN_USER) == list(access.PAGE_PERMISSIONS)
    assert access.pages_for(COMITE_USER) == ["accueil", "bilan", "confidentialite", "registre"]
    academie = access.pages_for(ACAD_DIJON)
    assert {"personnels", "entreprises", "appariement", "rencontres"} <= set(academie)
    assert not {"rgpd", "journal", "utilisateurs"} & set(academie)
    assert access.allowed(ACAD_DIJON, access.EDIT_PERSONNELS)
    assert not access.allowed(ACAD_DIJON, access.EDIT_ENTREPRISES)
    assert access.allowed(CPME_DOUBS, access.EDIT_ENTREPRISES)
    assert not access.allowed(CPME_DOUBS, access.EDIT_PERSONNELS)
    assert access.pages_for(None) == []


def test_require_raises_french_access_denied():
    with pytest.raises(AccessDenied) as caught:
        access.require(COMITE_USER, access.EDIT_PERSONNELS)
    assert isinstance(caught.value, StoreError)
    assert "comité de pilotage" in str(caught.value) and "modifier les personnels" in str(caught.value)
    with pytest.raises(AccessDenied, match="pas connecté"):
        access.require(None, access.VIEW_HOME)


@pytest.mark.parametrize("tab", PERSON_TABS)
def test_comite_gets_no_row_of_any_tab_with_personal_data(snapshot, tab):
    with pytest.raises(AccessDenied):
        access.visible_rows(COMITE_USER, tab, snapshot)


def test_academie_coordinator_lists(snapshot):
    staff = access.visible_rows(ACAD_DIJON, "Personnels", snapshot)
    assert ids(staff) == ["PER-P21", "PER-P58"]  # PER-P25 is in Besançon: removed, not masked
    p21 = next(r for r in staff if r["id"] == "PER-P21")
    assert p21["email"] == "canari.per-p21@ac-exemple.fr" and p21["notes"] == "canari notes per-p21"
    companies = access.visible_rows(ACAD_DIJON, "Entreprises", snapshot)
    assert ids(companies) == ["ENT-E21", "ENT-E25"]  # the counterpart tab is visible whole…
    assert all(r["contact_nom"].startswith("Nom-") for r in companies)  # …with identity…
    assert "canari" not in repr(companies)  # …but never contacts nor free texts
    assert all("contact_email" not in r and "attendus" not in r for r in companies)


def test_meeting_free_texts_follow_the_side(snapshot):
    dijon = access.visible_rows(ACAD_DIJON, "Rencontres", snapshot)
    assert ids(dijon) == ["REN-M1", "REN-M3", "REN-M4"]
    assert all(r["conclusions_personnel"].startswith("canari") for r in dijon)
    assert "entreprise ren-" not in repr(dijon)
    doubs = access.visible_rows(CPME_DOUBS, "Rencontres", snapshot)
    assert ids(doubs) == ["REN-M1"]
    assert doubs[0]["attendus_entreprise"] == "canari attendus entreprise ren-m1"
    assert "personnel ren-" not in repr(doubs)


def test_disclosable_meeting_still_hides_counterpart_contacts_in_lists(snapshot):
    # REN-M1 (ENT-E25 × PER-P21) passes the disclosure rule: lists still never show the other side's contacts.
    for tab in ("Entreprises", "Rencontres", "Partenariats"):
        assert "canari.ent-e25" not in repr(access.visible_rows(ACAD_DIJON, tab, snapshot))
    assert "canari.per-p21" not in repr(access.visible_rows(CPME_DOUBS, "Personnels", snapshot))


def test_cpme_coordinator_scope(snapshot):
    assert ids(access.visible_rows(CPME_DOUBS, "Entreprises", snapshot)) == ["ENT-E25"]
    staff = access.visible_rows(CPME_DOUBS, "Personnels", snapshot)
    assert ids(staff) == ["PER-P21", "PER-P25", "PER-P58"] and "canari" not in repr(staff)
    assert access.visible_rows(CPME_DOUBS, "Partenariats", snapshot) == []  # PAR-A1 is a Dijon partnership


def test_partnership_free_text_in_scope_only(snapshot):
    [partnership] = access.visible_rows(ACAD_DIJON, "Partenariats", snapshot)
    assert partnership["description"] == "canari description partenariat"
    assert access.visible_rows(ACAD_BESANCON, "Partenariats", snapshot) == []


def test_admin_sees_everything(snapshot):
    staff = access.visible_rows(ADMIN_USER, "Personnels", snapshot)
    assert ids(staff) == ["PER-P21", "PER-P25", "PER-P58"]
    assert all(r["email"].startswith("canari") and r["attendus"].startswith("canari") for r in staff)


def test_mask_record(snapshot):
    with pytest.raises(AccessDenied, match="hors de votre périmètre"):
        access.mask_record(ACAD_DIJON, "Personnels", snapshot.get("Personnels", "PER-P25"), snapshot)
    company = access.mask_record(ACAD_DIJON, "Entreprises", snapshot.get("Entreprises", "ENT-E21"), snapshot)
    assert company["contact_nom"] == "Nom-ent-e21" and "canari" not in repr(company)
    with pytest.raises(AccessDenied):
        access.mask_record(COMITE_USER, "Entreprises", snapshot.get("Entreprises", "ENT-E21"), snapshot)


def test_hand_added_columns_and_postcode_fallback():
    store = seed_programme(MemoryStore())
    grid = store.grids["Personnels"]
    grid[0].append("Remarques perso")
    for line in grid[1:]:
        line.append("canari colonne ajoutée")
    store.set_cell("Personnels", "PER-P58", "Département", "")  # a person cleared it; postcode 58000 remains
    snapshot = store.read()
    staff = access.visible_rows(ACAD_DIJON, "Personnels", snapshot)
    assert ids(staff) == ["PER-P21", "PER-P58"]
    assert "colonne ajoutée" not in repr(staff)
    assert ids(access.visible_rows(ACAD_BESANCON, "Personnels", snapshot)) == ["PER-P25"]


def test_require_scope_for_new_records(snapshot):
    access.require_scope(ACAD_DIJON, "Personnels", {"departement": "71"}, snapshot)
    with pytest.raises(AccessDenied):
        access.require_scope(ACAD_DIJON, "Personnels", {"departement": "25"}, snapshot)


SEEDED = seed_programme(MemoryStore()).read()
CONTACT_CANARIES = {  # canary text → (side, département) of the person it belongs to
    **{f"canari.per-p{d}": ("personnel", d) for d in ("21", "25", "58")},
    **{f"canari notes per-p{d}": ("personnel", d) for d in ("21", "25", "58")},
    **{f"canari.ent-e{d}": ("entreprise", d) for d in ("21", "25")},
    **{f"canari attendus ent-e{d}": ("entreprise", d) for d in ("21", "25")},
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from([COORD_ACADEMIE, COORD_CPME]),
       scope=st.sets(st.sampled_from(sorted(ALL_DEPARTEMENTS)), min_size=1),
       tab=st.sampled_from(["Entreprises", "Personnels", "Rencontres", "Partenariats"]))
def test_canaries_only_reach_own_side_coordinators_in_scope(role, scope, tab):
    user = User("x@exemple.fr", role, departements=frozenset(scope))
    text = repr(access.visible_rows(user, tab, SEEDED))
    for canary, (side, dep) in CONTACT_CANARIES.items():
        if canary in text:
            assert side == user.side and dep in scope, (canary, user)


def test_a_coordinator_row_without_scope_opens_nothing():
    from ecole_entreprise.services.kernel import users
    from ecole_entreprise.store.base import StoreError

    store = seed_programme(MemoryStore())
    store.append("Utilisateurs", [{"email": "oubli@ac-dijon.fr", "role": COORD_ACADEMIE, "perimetre": "",
                                   "actif": "oui"},
                                  {"email": "comite2@region.fr", "role": COMITE, "perimetre": "", "actif": "oui"}])
    snapshot = store.read()
    forgotten = users.find_user(snapshot, "oubli@ac-dijon.fr")
    assert forgotten.departements == frozenset()
    assert access.visible_rows(forgotten, "Personnels", snapshot) == []
    assert users.find_user(snapshot, "comite2@region.fr").departements == ALL_DEPARTEMENTS
    with pytest.raises(StoreError, match="besoin d'un périmètre"):
        users.add_user(store, "autre@ac-dijon.fr", COORD_ACADEMIE, "")
    with pytest.raises(StoreError, match="besoin d'un périmètre"):
        users.add_user(store, "autre@cpme.fr", COORD_CPME, "Paris")
    assert users.add_user(store, "autre@cpme.fr", COORD_CPME, "21, 58")["perimetre"] == "21, 58"
