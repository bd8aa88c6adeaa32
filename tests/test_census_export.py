"""Issue 17, point 4: the CSV of the Entreprises / Personnels list a person sees: only the columns their role may
see (from access.visible_rows, never the raw snapshot), formulas kept as text, one journal entry per export."""

import pytest

from ecole_entreprise.services.census import exports
from ecole_entreprise.services.census import records as census
from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.services.kernel import access, journal
from ecole_entreprise.services.kernel.users import find_user
from tests.support.apptest import ADMIN, CPME, DIJON
from tests.support.memory_store import MemoryStore

CANARY = "canari.export@exemple-canari.fr"
FORMULA = '=HYPERLINK("http://exemple.invalid","clic")'


@pytest.fixture
def store():
    store = MemoryStore()
    store.init()
    load_demo(store)
    target = next(r for r in store.read().rows("Entreprises") if r["departement"] == "21")
    store.update("Entreprises", target.id, {"contact_email": CANARY, "notes": FORMULA}, target.fingerprint)
    return store


def export_of(store, email, tab="Entreprises"):
    snapshot = store.read()
    user = find_user(snapshot, email)
    return user, exports.list_export(user, tab, access.visible_rows(user, tab, snapshot))


def export_entries(store):
    return [e for e in store.read().rows(journal.TAB) if e["action"] == "export données personnelles"]


def test_a_role_that_may_not_see_contacts_gets_a_file_without_them(store):
    _, export = export_of(store, DIJON)  # the académie coordinator reads companies, not their contact details
    text = export.data.decode("utf-8-sig")
    assert CANARY.encode() not in export.data and CANARY not in text
    header = text.splitlines()[0].split(";")
    assert "Raison sociale" in header and "Email du contact" not in header and "Téléphone du contact" not in header
    assert "contact_email" not in export.columns and "notes" not in export.columns  # free text is the owner's
    assert len(export.row_ids) == len(store.read().rows("Entreprises"))


def test_the_owning_coordinator_gets_the_contacts_of_the_records_in_scope(store):
    _, export = export_of(store, CPME)
    text = export.data.decode("utf-8-sig")
    assert "Email du contact" in text.splitlines()[0] and CANARY in text
    assert {row.id for row in store.read().rows("Entreprises") if row["departement"] in ("21", "58", "71", "89")} \
        == set(export.row_ids)


def test_formula_looking_text_is_kept_as_text(store):
    _, export = export_of(store, ADMIN)
    text = export.data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text


def test_one_journal_entry_per_export_naming_records_and_personal_columns(store):
    user, export = export_of(store, CPME)
    exports.journal_list_export(store, user, export)
    [entry] = export_entries(store)
    assert journal.targets_of(entry) == set(export.row_ids) and entry["acteur"] == CPME
    assert "contact_email" in entry["champs"] and "raison_sociale" not in entry["champs"].split(", ")
    assert CANARY not in " ".join(entry.values.values())  # field names, never values
    user, export = export_of(store, DIJON)
    exports.journal_list_export(store, user, export)
    assert len(export_entries(store)) == 2 and "contact_email" not in export_entries(store)[1]["champs"]


def test_the_export_follows_the_search_and_filters_of_the_list(store):
    snapshot = store.read()
    user = find_user(snapshot, CPME)
    kept = census.filter_rows(access.visible_rows(user, "Entreprises", snapshot), "Entreprises",
                              filters={"departement": ["58"]})
    export = exports.list_export(user, "Entreprises", kept)
    assert set(export.row_ids) == {r.id for r in snapshot.rows("Entreprises") if r["departement"] == "58"}
