"""The Journal hash chain: appends link to the last entry; tampering, gaps and reordering are named."""

import threading
from datetime import datetime

import pytest

from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.store.base import ReadOnlyTab
from ecole_entreprise.store.cache import CachedStore
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support.memory_store import MemoryStore

ADMIN_USER = User("admin@region.fr", ADMIN)


@pytest.fixture
def store():
    store = MemoryStore()
    store.init()
    return store


def fill(store, count=4):
    return [journal.record(store, ADMIN_USER, f"action {i}", "Personnels", f"PER-{i}", ["email", "telephone"],
                           "test", f"détail {i}") for i in range(count)]


def entries(store):
    return store.read().rows(journal.TAB)


def test_entries_are_chained(store):
    written = fill(store)
    rows = entries(store)
    assert [r.id for r in rows] == [w.id for w in written]
    assert rows[0]["hash_precedent"] == ""
    assert all(b["hash_precedent"] == a["hash"] for a, b in zip(rows, rows[1:], strict=False))
    assert rows[1]["acteur"] == "admin@region.fr" and rows[1]["champs"] == "email, telephone"
    report = journal.verify_chain(rows)
    assert (report.ok, report.checked, report.first_broken) == (True, 4, None)
    assert "intègre" in report.message_fr


def test_tampered_line_is_detected_and_named(store):
    written = fill(store)
    store.set_cell(journal.TAB, written[2].id, "Détails", "détail falsifié")
    report = journal.verify_chain(entries(store))
    assert not report.ok and report.checked == 2
    assert report.first_broken.id == written[2].id and report.first_broken.row_number == 4
    assert f"ligne 4 (entrée {written[2].id})" in report.message_fr and "modifiée" in report.message_fr


def test_missing_middle_entry_is_detected(store):
    written = fill(store)
    grid = store.grids[journal.TAB]
    del grid[2]  # the second entry (row 3) disappears
    report = journal.verify_chain(entries(store))
    assert report.first_broken.id == written[2].id and "supprimée" in report.first_broken.reason


def test_reordered_lines_are_detected(store):
    written = fill(store)
    grid = store.grids[journal.TAB]
    grid[2], grid[3] = grid[3], grid[2]
    report = journal.verify_chain(entries(store))
    assert report.first_broken.id == written[2].id and "ordre" in report.first_broken.reason


def test_line_typed_by_hand_is_detected(store):
    fill(store, 2)
    store.append(journal.TAB, [{"id": "JRN-HUMAN001", "horodatage": "2026-01-01 10:00:00", "acteur": "x",
                                "action": "ajout manuel", "hash_precedent": entries(store)[-1]["hash"]}])
    report = journal.verify_chain(entries(store))
    assert report.first_broken.id == "JRN-HUMAN001"


def test_purged_prefix_keeps_chain_valid_and_later_appends_continue(store):
    written = fill(store)
    store.delete(journal.TAB, [written[0].id, written[1].id])
    fill(store, 1)
    report = journal.verify_chain(entries(store))
    assert report.ok and report.checked == 3
    assert journal.verify_chain([]).ok


def test_journal_lines_cannot_be_updated(store):
    [entry] = fill(store, 1)
    with pytest.raises(ReadOnlyTab):
        store.update(journal.TAB, entry.id, {"details": "x"}, entry.fingerprint)


def test_concurrent_records_in_one_process_form_a_single_chain():
    store = MemoryStore(read_delay_s=0.02)  # a slow read: without the lock, appends would share a predecessor
    store.init()
    threads = [threading.Thread(target=journal.record, args=(store, ADMIN_USER, f"parallèle {i}")) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = entries(store)
    assert len(rows) == 6 and journal.verify_chain(rows).ok


def test_record_reads_past_a_stale_cache(store):
    cached = CachedStore(store, ttl_s=3600)
    journal.record(cached, ADMIN_USER, "première")
    cached.read()  # cache filled
    journal.record(store, ADMIN_USER, "écrite par un autre processus")  # not through the cache
    journal.record(cached, ADMIN_USER, "troisième")
    assert journal.verify_chain(entries(store)).ok


def test_chain_survives_the_workbook_round_trip(tmp_path, schema):
    workbook = WorkbookStore(schema, tmp_path / "journal.xlsx")
    workbook.init()
    for details in ("=SUM(A1:A3)", "accents éèà « guillemets »\nsur deux lignes", "+33 6 12", "0042"):
        journal.record(workbook, ADMIN_USER, "test", "Entreprises", "ENT-1", ["notes"], "test", details,
                       when=datetime(2026, 1, 5, 9, 30))
    rows = WorkbookStore(schema, tmp_path / "journal.xlsx").read().rows(journal.TAB)
    report = journal.verify_chain(rows)
    assert report.ok and report.checked == 4, report.message_fr
