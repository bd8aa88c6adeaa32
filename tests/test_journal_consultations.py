"""Issue 13, point 1: consultations of personal lists and records are journaled (who saw which records, when),
once per user, page of records and day — a rerun of the same view adds nothing."""

from ecole_entreprise.domain.roles import ADMIN as ADMIN_ROLE
from ecole_entreprise.domain.roles import User
from ecole_entreprise.services.kernel import journal
from tests.support.apptest import ADMIN, DIJON, app_store, open_page
from tests.support.memory_store import MemoryStore


def consultations(email):
    return [r for r in app_store().read(fresh=True).rows(journal.TAB)
            if r["action"].startswith(journal.CONSULTATION) and r["acteur"] == email]


def test_a_page_of_the_list_is_journaled_once_with_the_ids_shown(app_workbook, monkeypatch):
    at = open_page(monkeypatch, DIJON, "pages/personnels.py")
    assert not at.exception
    [entry] = consultations(DIJON)
    shown = set(at.dataframe[0].value["ID"])
    assert entry["action"] == "consultation liste" and entry["cible_tab"] == "Personnels"
    assert journal.targets_of(entry) == shown and f"{len(shown)} fiche(s) affichée(s)" == entry["details"]
    at.run()  # the same page again: nothing new
    assert len(consultations(DIJON)) == 1


def test_opening_a_record_is_journaled_with_the_personal_fields_shown(app_workbook, monkeypatch):
    person = app_store().read().rows("Entreprises")[0]
    at = open_page(monkeypatch, ADMIN, "pages/entreprises.py", query={"id": person.id})
    assert not at.exception
    [entry] = [e for e in consultations(ADMIN) if e["action"] == "consultation fiche"]
    assert entry["cible_id"] == person.id and "contact_email" in entry["champs"]
    assert "raison_sociale" not in entry["champs"].split(", ")  # a company's name is no personal field
    assert person["contact_email"] not in " ".join(entry.values.values())  # field names, never values


def test_a_journal_that_cannot_be_written_does_not_block_the_view():
    class Failing(MemoryStore):
        def append(self, tab, records):
            from ecole_entreprise.store.base import StoreError

            raise StoreError("feuille indisponible")

    store = Failing()
    store.init()
    assert journal.record_consultation(store, User("a@b.fr", ADMIN_ROLE), "Personnels", ["PER-1"]) is False
