"""Revealing a counterpart's contact details: rule, role, scope, and a journal entry for every reveal."""

import pytest

from ecole_entreprise.domain.roles import ADMIN, COMITE, COORD_ACADEMIE, COORD_CPME, User, parse_scope
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.privacy.contacts import journal_export, reveal_contacts
from ecole_entreprise.store.base import RowNotFound, StoreError
from tests.support.memory_store import MemoryStore, seed_programme

ADMIN_USER = User("admin@region.fr", ADMIN)
ACAD_DIJON = User("coord@ac-dijon.fr", COORD_ACADEMIE, departements=parse_scope("Dijon"))
ACAD_BESANCON = User("coord@ac-besancon.fr", COORD_ACADEMIE, departements=parse_scope("Besançon"))
CPME_DOUBS = User("coord@cpme-25.fr", COORD_CPME, departements=parse_scope("25, 39"))
COMITE_USER = User("comite@region.fr", COMITE)
PURPOSE = "organiser la rencontre"


@pytest.fixture
def store():
    return seed_programme(MemoryStore())


def journal_rows(store):
    return store.read().rows(journal.TAB)


def test_cpme_coordinator_gets_staff_contacts_and_a_journal_entry(store):
    shown = reveal_contacts(store, CPME_DOUBS, "REN-M1", PURPOSE)
    assert shown["onglet"] == "Personnels" and shown["id"] == "PER-P21"
    assert shown["email"] == "canari.per-p21@ac-exemple.fr" and shown["telephone"] == "07 00 00 00 21"
    assert "notes" not in shown and "attendus" not in shown  # contacts only, never free texts
    [entry] = journal_rows(store)
    assert (entry["acteur"], entry["action"]) == (CPME_DOUBS.email, "divulgation coordonnées")
    assert (entry["cible_tab"], entry["cible_id"], entry["finalite"]) == ("Personnels", "PER-P21", PURPOSE)
    assert {"email", "telephone", "nom"} <= {c.strip() for c in entry["champs"].split(",")}
    assert "REN-M1" in entry["details"] and entry["horodatage"]
    assert "canari" not in repr(entry.values)  # the journal names fields, never the values


def test_academie_coordinator_gets_company_contacts(store):
    shown = reveal_contacts(store, ACAD_DIJON, "REN-M1", PURPOSE)
    assert shown["id"] == "ENT-E25" and shown["contact_email"] == "canari.ent-e25@exemple.fr"


def test_one_journal_entry_per_reveal(store):
    for _ in range(3):
        reveal_contacts(store, ACAD_DIJON, "REN-M1", PURPOSE)
    reveal_contacts(store, ADMIN_USER, "REN-M3", "vérification", side="personnel")
    rows = journal_rows(store)
    assert [r["cible_id"] for r in rows] == ["ENT-E25"] * 3 + ["PER-P21"]
    assert journal.verify_chain(rows).ok


@pytest.mark.parametrize("user, meeting, reason", [
    (ACAD_BESANCON, "REN-M1", "ne concerne pas une fiche de votre périmètre"),
    (CPME_DOUBS, "REN-M2", "pas encore été acceptée"),
    (ACAD_DIJON, "REN-M4", "Le personnel n'a pas consenti au partage"),
])
def test_refusals_carry_french_reasons_and_leave_no_trace(store, user, meeting, reason):
    with pytest.raises(AccessDenied) as caught:
        reveal_contacts(store, user, meeting, PURPOSE)
    assert reason in str(caught.value)
    assert journal_rows(store) == []


def test_forbidden_role_and_bad_requests(store):
    with pytest.raises(AccessDenied):
        reveal_contacts(store, COMITE_USER, "REN-M1", PURPOSE)
    with pytest.raises(AccessDenied, match="propre côté"):
        reveal_contacts(store, ACAD_DIJON, "REN-M1", PURPOSE, side="personnel")
    with pytest.raises(StoreError, match="finalité"):
        reveal_contacts(store, ACAD_DIJON, "REN-M1", "  ")
    with pytest.raises(StoreError, match="Précisez"):
        reveal_contacts(store, ADMIN_USER, "REN-M1", PURPOSE)
    with pytest.raises(RowNotFound):
        reveal_contacts(store, ACAD_DIJON, "REN-NOPE", PURPOSE)
    assert journal_rows(store) == []


def test_archived_record_blocks_disclosure(store):
    store.set_cell("Entreprises", "ENT-E25", "Statut", "archivé")
    with pytest.raises(AccessDenied, match="archivé"):
        reveal_contacts(store, ACAD_DIJON, "REN-M1", PURPOSE)


def test_a_consent_typed_without_notice_version_blocks_disclosure(store):
    """A sharing consent dated by hand in the sheet, without the notice version, proves nothing yet."""
    store.set_cell("Entreprises", "ENT-E25", "Version notice consentement", "")
    with pytest.raises(AccessDenied, match="n'indique pas la version de la notice"):
        reveal_contacts(store, ACAD_DIJON, "REN-M1", PURPOSE)
    assert journal_rows(store) == []


def test_exports_with_personal_data_are_journaled(store):
    [entry] = journal_export(store, ACAD_DIJON, "liste des personnels de Côte-d'Or (CSV)", ["nom", "email"],
                             targets=[("Personnels", "PER-P21"), ("Personnels", "PER-P21"), ("Personnels", "PER-P25")])
    assert (entry["action"], entry["champs"], entry["acteur"]) == ("export données personnelles", "nom, email",
                                                                   ACAD_DIJON.email)
    assert (entry["cible_tab"], entry["cible_id"]) == ("Personnels", "PER-P21, PER-P25")
    with pytest.raises(AccessDenied):
        journal_export(store, COMITE_USER, "bilan", ["nom"])
    with pytest.raises(StoreError, match="champs personnels"):
        journal_export(store, ACAD_DIJON, "liste", [])
    assert len(journal_rows(store)) == 1


def test_an_export_of_many_records_is_journaled_in_cell_sized_chunks(store, monkeypatch):
    """Every exported record is named, and no journal cell outgrows the Sheets limit (50,000 characters)."""
    monkeypatch.setattr(journal, "TARGET_IDS_MAX_CHARS", 44)
    ids = [f"PER-{n:08d}" for n in range(7)]  # 12 characters each: three per chunk
    targets = [("Personnels", i) for i in ids[:4]] + [("Entreprises", "ENT-00000001")] + \
        [("Personnels", i) for i in ids[4:]]
    entries = journal_export(store, ACAD_DIJON, "export", ["nom"], targets=targets)
    assert [len(e["cible_id"]) <= 44 for e in entries] == [True] * len(entries) and len(entries) == 3
    named = [i.strip() for e in entries for i in e["cible_id"].split(",")]
    assert named == [i for _, i in targets]
    assert entries[1]["cible_tab"] == "Personnels, Entreprises"


def test_a_consent_withdrawn_in_the_sheet_counts_even_if_the_app_cache_is_older(store):
    from ecole_entreprise.store.cache import CachedStore

    app_store = CachedStore(store, ttl_s=600)
    assert app_store.read().get("Personnels", "PER-P21")["consentement_partage"]  # cached with the consent
    store.set_cell("Personnels", "PER-P21", "Consentement partage coordonnées", "")  # by hand, just now
    with pytest.raises(AccessDenied, match="n'a pas consenti au partage"):
        reveal_contacts(app_store, CPME_DOUBS, "REN-M1", PURPOSE)
    assert journal_rows(store) == []
