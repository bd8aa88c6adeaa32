"""Giving and withdrawing consents: dated, versioned, journaled, scoped, and read by the disclosure rule."""

import pytest

from ecole_entreprise.domain.roles import ADMIN, COMITE, COORD_ACADEMIE, COORD_CPME, User, parse_scope
from ecole_entreprise.domain.values import parse_datetime
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.privacy.consent import give_consent, withdraw_consent
from ecole_entreprise.services.privacy.contacts import reveal_contacts
from ecole_entreprise.store.base import Conflict, StoreError
from tests.support.memory_store import MemoryStore, seed_programme

ADMIN_USER = User("admin@region.fr", ADMIN)
ACAD_DIJON = User("coord@ac-dijon.fr", COORD_ACADEMIE, departements=parse_scope("Dijon"))
ACAD_BESANCON = User("coord@ac-besancon.fr", COORD_ACADEMIE, departements=parse_scope("Besançon"))
CPME_DOUBS = User("coord@cpme-25.fr", COORD_CPME, departements=parse_scope("25, 39"))


@pytest.fixture
def store():
    return seed_programme(MemoryStore())


def journal_rows(store):
    return store.read().rows(journal.TAB)


def test_give_consent_dates_versions_and_journals(store):
    store.append("Parametres", [{"cle": "version_notice", "valeur": "2026-03"}])
    row = give_consent(store, store.read(), ACAD_DIJON, "Personnels", "PER-P58", "partage", "coordinateur")
    assert parse_datetime(row["consentement_partage"])  # a real timestamp
    assert (row["consentement_version"], row["consentement_source"]) == ("2026-03", "coordinateur")
    [entry] = journal_rows(store)
    assert (entry["action"], entry["cible_tab"], entry["cible_id"]) == ("consentement", "Personnels", "PER-P58")
    assert entry["champs"] == "consentement_partage" and entry["acteur"] == ACAD_DIJON.email
    explicit = give_consent(store, store.read(), ACAD_DIJON, "Personnels", "PER-P58", "participation",
                            "import", notice_version="2025-09")
    assert explicit["consentement_version"] == "2025-09"


def test_withdrawal_stops_disclosure_at_once(store):
    assert reveal_contacts(store, CPME_DOUBS, "REN-M1", "organiser la rencontre")["email"]
    row = withdraw_consent(store, store.read(), ACAD_DIJON, "Personnels", "PER-P21", "partage")
    assert row["consentement_partage"] == "" and row["consentement_version"] == "2025-09"
    with pytest.raises(AccessDenied) as caught:
        reveal_contacts(store, CPME_DOUBS, "REN-M1", "organiser la rencontre")
    assert "Le personnel n'a pas consenti au partage de ses coordonnées." in caught.value.reasons
    assert [e["action"] for e in journal_rows(store)] == ["divulgation coordonnées", "retrait consentement"]


@pytest.mark.parametrize("user, tab, person", [
    (CPME_DOUBS, "Personnels", "PER-P21"),  # not their side
    (ACAD_BESANCON, "Personnels", "PER-P21"),  # their side, out of scope
    (ACAD_DIJON, "Entreprises", "ENT-E21"),  # not their side
    (User("comite@region.fr", COMITE), "Personnels", "PER-P21"),
])
def test_forbidden_roles_and_scopes_write_nothing(store, user, tab, person):
    before = store.writes
    with pytest.raises(AccessDenied):
        withdraw_consent(store, store.read(), user, tab, person, "participation")
    with pytest.raises(AccessDenied):
        give_consent(store, store.read(), user, tab, person, "partage", "coordinateur")
    assert store.writes == before


def test_admin_may_record_for_any_side(store):
    row = withdraw_consent(store, store.read(), ADMIN_USER, "Entreprises", "ENT-E25", "participation")
    assert row["consentement_participation"] == ""


def test_stale_fingerprint_is_a_conflict_and_is_not_journaled(store):
    stale = store.read()
    store.set_cell("Personnels", "PER-P21", "Notes", "modifié dans la feuille")
    with pytest.raises(Conflict):
        withdraw_consent(store, stale, ACAD_DIJON, "Personnels", "PER-P21", "partage")
    assert journal_rows(store) == []
    assert store.read().get("Personnels", "PER-P21")["consentement_partage"]


def test_bad_arguments_get_french_errors(store):
    snapshot = store.read()
    with pytest.raises(StoreError, match="Finalité de consentement inconnue"):
        give_consent(store, snapshot, ACAD_DIJON, "Personnels", "PER-P21", "marketing", "coordinateur")
    with pytest.raises(StoreError, match="Source de consentement inconnue"):
        give_consent(store, snapshot, ACAD_DIJON, "Personnels", "PER-P21", "partage", "téléphone")
    with pytest.raises(StoreError, match="PER-NOPE"):
        withdraw_consent(store, snapshot, ACAD_DIJON, "Personnels", "PER-NOPE", "partage")
