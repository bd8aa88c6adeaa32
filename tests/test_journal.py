"""The Journal hash chain: appends link to the last entry; tampering, gaps and reordering are named."""

import threading
from datetime import datetime

import pytest

from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.store.base import ReadOnlyTab
from ecole_entreprise.store.cache import CachedStore
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support import shared_journal
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
    journal.record_purge(store, ADMIN_USER, written[:2], "durée de conservation")
    fill(store, 1)
    report = journal.verify_chain(entries(store))
    assert report.ok and report.checked == 4
    assert journal.verify_chain([]).ok


def test_oldest_entries_deleted_without_a_journaled_purge_are_named(store):
    written = fill(store)
    store.delete(journal.TAB, [written[0].id, written[1].id])
    report = journal.verify_chain(entries(store))
    assert not report.ok and report.first_broken.id == written[2].id
    assert "les plus anciennes ont été supprimées hors d'une purge" in report.message_fr


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


# ---- across processes, forks, every break -------------------------------------------------------------------------


def test_two_processes_appending_form_one_chain_without_false_deletion(tmp_path):
    run = shared_journal.run(tmp_path, count=12, with_lease=True)
    assert run["entries"] == 24
    assert (run["breaks"], run["deletions_reported"]) == (0, 0)
    assert run["report"].ok and run["report"].checked == 24


def test_a_real_fork_is_reported_as_concurrent_writes_naming_both_branches(tmp_path):
    """Two processes without the lease (an old version still running) follow the same entry three times."""
    run = shared_journal.run(tmp_path, count=3, with_lease=False)
    report = run["report"]
    assert run["entries"] == 6 and run["deletions_reported"] == 0
    assert run["concurrent_reported"] == 3 and report.only_concurrent and not report.ok
    rows = run["rows"]
    for broken in report.breaks:
        assert len(broken.branches) == 2 and "aucune entrée n'a été supprimée" in broken.reason
    first = report.breaks[0]  # both started an empty journal
    assert first.branches == (f"ligne 2 (entrée {rows[0].id})", f"ligne 3 (entrée {rows[1].id})")
    assert "suivi le début du journal" in first.reason
    assert f"suivi la ligne 3 (entrée {rows[1].id})" in report.breaks[1].reason
    assert "écritures concurrentes" in report.message_fr and "supprimée juste avant" not in report.message_fr


def forked(store, previous_row, label):
    """An entry appended after `previous_row` whatever the last entry is now (a writer without the lease)."""
    previous = previous_row["hash"] if previous_row is not None else ""
    entry = {"id": f"JRN-{label}", "horodatage": "2026-01-01 10:00:00", "acteur": "x", "action": label,
             "hash_precedent": previous}
    entry["hash"] = journal.entry_hash(previous, entry)
    [row] = store.append(journal.TAB, [entry])
    return row


def test_a_fork_and_its_continuations_are_one_event_not_deletions(store):
    [x] = fill(store, 1)
    a1 = forked(store, x, "A1")
    b1 = forked(store, x, "B1")
    forked(store, a1, "A2")  # each branch went on from its own last entry
    forked(store, b1, "B2")
    journal.record(store, ADMIN_USER, "après")  # with the lease: after the real last entry
    report = journal.verify_chain(entries(store))
    [broken] = report.breaks
    assert (broken.kind, broken.id, report.checked) == (journal.CONCURRENT, "JRN-B1", 2)
    assert broken.branches == ("ligne 3 (entrée JRN-A1)", "ligne 4 (entrée JRN-B1)")
    assert f"suivi la ligne 2 (entrée {x.id})" in broken.reason


def test_every_break_is_listed_not_only_the_first(store):
    written = fill(store, 9)
    grid = store.grids[journal.TAB]
    store.set_cell(journal.TAB, written[1].id, "Détails", "falsifié")  # line 3: edited
    grid[5], grid[6] = grid[6], grid[5]  # lines 6 and 7: swapped
    del grid[8]  # the entry of line 9 removed: the next one follows a missing hash
    report = journal.verify_chain(entries(store))
    kinds = [(b.row_number, b.kind) for b in report.breaks]
    # a swap misaligns three links: each line that no longer follows the one above it is named
    assert kinds == [(3, journal.MODIFIED), (6, journal.REORDERED), (7, journal.REORDERED), (8, journal.REORDERED),
                     (9, journal.DELETED)]
    assert report.first_broken.row_number == 3 and report.checked == 1
    assert report.message_fr.startswith("chaîne de hachage rompue en 5 endroits : ligne 3 (entrée ")
    assert not report.only_concurrent


def test_check_lists_every_break(tmp_path, schema, monkeypatch, capsys):
    from ecole_entreprise import cli
    from tests.support.workbook_env import WorkbookHuman

    path = tmp_path / "classeur.xlsx"
    workbook = WorkbookStore(schema, path)
    written = [journal.record(workbook, ADMIN_USER, f"action {i}") for i in range(6)]
    human = WorkbookHuman(path, schema)
    human.set_cell(journal.TAB, written[1].row_number, "Détails", "retouché")
    human.set_cell(journal.TAB, written[4].row_number, "Action", "retouchée aussi")
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    assert cli.main(["check"]) == 3
    out = capsys.readouterr().out
    assert "rompue en 2 endroits" in out
    assert f"ligne 3 (entrée {written[1].id})" in out and f"ligne 6 (entrée {written[4].id})" in out


class TailOnly(MemoryStore):
    """A store whose full read fails: the journal must do with the last row of its own tab."""

    def read(self):
        raise AssertionError("journal.record read every tab")


def test_record_reads_only_the_last_journal_row_under_the_lease():
    store = TailOnly()
    store.init()
    held = []
    original = store.exclusive

    def exclusive(name, ttl_s=30.0):
        held.append(name)
        return original(name, ttl_s)

    store.exclusive = exclusive
    first = journal.record(store, ADMIN_USER, "un")
    second = journal.record(store, ADMIN_USER, "deux")
    assert second["hash_precedent"] == first["hash"] and held == [journal.LEASE, journal.LEASE]


def test_a_lost_entry_is_chained_again_with_its_own_fields(store):
    written = fill(store, 3)
    lost = written[2]
    del store.grids[journal.TAB][3]  # a stale copy of the workbook did not have it
    journal.record(store, ADMIN_USER, "écrite entre-temps")
    again = journal.rechain(store, lost.values)
    assert (again.id, again["action"], again["horodatage"]) == (lost.id, lost["action"], lost["horodatage"])
    assert again["hash_precedent"] == entries(store)[-2]["hash"]
    assert journal.verify_chain(entries(store)).ok
    journal.rechain(store, lost.values)  # not doubled
    assert [r.id for r in entries(store)].count(lost.id) == 1
