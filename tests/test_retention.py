"""Retention: inactive people are anonymised after confirmation, old journal entries are purged."""

from datetime import date, datetime

import pytest

from ecole_entreprise.domain.roles import ADMIN, COORD_CPME, User, parse_scope
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.kernel.access import AccessDenied
from ecole_entreprise.services.privacy import retention
from ecole_entreprise.store.base import StoreError
from tests.support.memory_store import MemoryStore, seed_programme

ADMIN_USER = User("admin@region.fr", ADMIN)
CPME_DOUBS = User("coord@cpme-25.fr", COORD_CPME, departements=parse_scope("25, 39"))
TODAY = date(2026, 9, 1)


def age_everything(store, stamp="2024-01-10 10:00:00"):
    """Make every row look last touched on `stamp`, as if the data had been typed long ago."""
    for tab in ("Entreprises", "Personnels", "Rencontres"):
        for row in store.read().rows(tab):
            store.set_cell(tab, row.id, "Créé le", stamp)
            store.set_cell(tab, row.id, "Modifié le", stamp)
    store.set_cell("Rencontres", "REN-M3", "Date", "2024-02-01")


@pytest.fixture
def store():
    store = seed_programme(MemoryStore())
    age_everything(store)
    store.set_cell("Rencontres", "REN-M1", "Date", "2026-06-01")  # keeps ENT-E25 and PER-P21 active
    return store


def inactive_ids(snapshot, **kwargs):
    return sorted(p.id for p in retention.inactive_people(snapshot, TODAY, **kwargs))


def test_inactive_people_follow_rows_and_meetings(store):
    assert inactive_ids(store.read()) == ["ENT-E21", "PER-P25", "PER-P58"]
    store.set_cell("Personnels", "PER-P58", "Modifié le", "2025-06-01 08:00:00")  # recently edited
    assert inactive_ids(store.read()) == ["ENT-E21", "PER-P25"]
    assert inactive_ids(store.read(), months=40) == []


def test_retention_months_come_from_parametres(store):
    store.append("Parametres", [{"cle": "retention_mois", "valeur": "36"}])
    assert inactive_ids(store.read()) == []


def test_rows_without_any_date_are_not_presumed_inactive(store):
    for header in ("Créé le", "Modifié le"):
        store.set_cell("Personnels", "PER-P25", header, "")
    assert "PER-P25" in inactive_ids(store.read())  # its meeting REN-M2 still dates its last activity
    for header in ("Créé le", "Modifié le"):
        store.set_cell("Rencontres", "REN-M2", header, "")
    assert "PER-P25" not in inactive_ids(store.read())


def test_anonymise_inactive_needs_confirmation_and_permission(store):
    with pytest.raises(StoreError, match="Confirmez"):
        retention.anonymise_inactive(store, store.read(), ADMIN_USER, TODAY, confirm=False)
    with pytest.raises(AccessDenied):
        retention.anonymise_inactive(store, store.read(), CPME_DOUBS, TODAY, confirm=True)
    assert store.read().rows(journal.TAB) == []
    done, errors = retention.anonymise_inactive(store, store.read(), ADMIN_USER, TODAY, confirm=True)
    assert sorted(p.id for p in done) == ["ENT-E21", "PER-P25", "PER-P58"] and errors == []
    snapshot = store.read()
    assert snapshot.get("Entreprises", "ENT-E21")["contact_nom"] == "Anonyme-ENT-E21"
    assert snapshot.get("Personnels", "PER-P21")["nom"] == "Nom-per-p21"
    assert inactive_ids(store.read()) == []  # anonymised rows are not picked again


def test_person_active_since_the_snapshot_is_skipped(store):
    stale = store.read()
    store.set_cell("Personnels", "PER-P25", "Modifié le", "2026-08-20 11:00:00")
    progress = []
    done, errors = retention.anonymise_inactive(store, stale, ADMIN_USER, TODAY, confirm=True,
                                                on_progress=lambda n, total: progress.append((n, total)))
    assert sorted(p.id for p in done) == ["ENT-E21", "PER-P58"]
    assert errors == ["PER-P25 : fiche modifiée depuis la sélection, ignorée cette fois"]
    assert progress == [(1, 3), (2, 3), (3, 3)]  # the person left alone counts as handled too
    assert store.read().get("Personnels", "PER-P25")["nom"] == "Nom-per-p25"


def test_error_on_one_person_does_not_stop_the_others(store):
    grid = store.grids["Personnels"]
    grid.append(list(next(line for line in grid if "PER-P25" in line)))  # a person copied the row: ID twice
    done, errors = retention.anonymise_inactive(store, store.read(), ADMIN_USER, TODAY, confirm=True)
    assert sorted(p.id for p in done) == ["ENT-E21", "PER-P58"]
    assert len(errors) == 1 and errors[0].startswith("PER-P25 : ") and "plusieurs fois" in errors[0]


def old_and_new_journal(store):
    for month in (1, 3, 6):
        journal.record(store, ADMIN_USER, f"ancien {month}", when=datetime(2025, month, 2, 10, 0))
    journal.record(store, ADMIN_USER, "récent", when=datetime(2026, 8, 1, 10, 0))
    journal.record(store, ADMIN_USER, "ancien mais après un récent", when=datetime(2025, 2, 1, 10, 0))


def test_purge_journal_deletes_the_old_prefix_and_keeps_the_chain(store):
    old_and_new_journal(store)
    with pytest.raises(AccessDenied):
        retention.purge_journal(store, store.read(), TODAY, user=CPME_DOUBS)
    assert retention.purge_journal(store, store.read(), TODAY) == 3  # cutoff 1 Sept 2025 (12 months)
    rows = store.read().rows(journal.TAB)
    assert [r["action"] for r in rows] == ["récent", "ancien mais après un récent", "purge journal"]
    assert journal.verify_chain(rows).ok
    assert retention.purge_journal(store, store.read(), TODAY) == 0


def test_purge_command_dry_run_then_real(store):
    old_and_new_journal(store)
    grids_before = {tab: [list(r) for r in grid] for tab, grid in store.grids.items()}
    report = retention.purge(store, TODAY, dry_run=True)
    assert store.grids == grids_before
    assert sorted(p.id for p in report.inactive) == ["ENT-E21", "PER-P25", "PER-P58"] and report.journal_old == 3
    assert "Simulation" in report.summary_fr() and "Fiches inactives : 3" in report.summary_fr()
    done = retention.purge(store, TODAY, dry_run=False)
    assert len(done.anonymised) == 3 and done.journal_deleted == 3 and not done.errors
    assert "Fiches anonymisées : 3" in done.summary_fr()
    assert journal.verify_chain(store.read().rows(journal.TAB)).ok
    with pytest.raises(AccessDenied):
        retention.purge(store, TODAY, dry_run=True, user=CPME_DOUBS)
