"""The signed journal against an insider who edits the sheet: every tampering of issue 13 is named, with the first
entry concerned, by the chain's HMAC signatures or by the anchor kept outside the sheet; `check` exits 3."""

import hashlib
import hmac
import json

import pytest

from ecole_entreprise.cli import main
from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.services.kernel import anchor as anchors
from ecole_entreprise.services.kernel import journal
from tests.support.memory_store import MemoryStore

ADMIN_USER = User("admin@region.fr", ADMIN)
KEY = "4f" * 32


class ServerStore(MemoryStore):
    """The app's configured data (its path is the configured workbook), kept in memory so tampering is one line."""

    def __init__(self, path):
        super().__init__()
        self.path = path


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "classeur.xlsx"
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    monkeypatch.setenv("ECOLE_ENTREPRISE_JOURNAL_KEY", KEY)
    store = ServerStore(path)
    store.init()
    return store


def fill(store, count=5):
    return [journal.record(store, ADMIN_USER, f"action {i}", "Personnels", f"PER-{i}", ["email"], "test", f"d {i}")
            for i in range(count)]


def grid(store):
    return store.grids[journal.TAB]


def column(store, name):
    return grid(store)[0].index(store.schema.tab(journal.TAB).field(name).header)


def set_cell(store, line, name, value):
    grid(store)[line][column(store, name)] = value


def values(store, line):
    header = store.schema.tab(journal.TAB)
    return {f.name: grid(store)[line][column(store, f.name)] for f in header.fields}


def recompute(store, start, sign=None):
    """What an insider without the key does after a change: every hash from line `start` recomputed with the
    code's own unsigned function (or a signature under a key of their own), each following the previous line."""
    for line in range(max(start, 1), len(grid(store))):
        previous = grid(store)[line - 1][column(store, "hash")] if line > 1 else ""
        set_cell(store, line, "hash_precedent", previous)
        entry = values(store, line)
        set_cell(store, line, "hash", sign(previous, entry) if sign else journal.entry_hash(previous, entry))


def audit(store):
    return journal.audit(store, store.read().rows(journal.TAB))


def test_entries_are_hmac_sha256_signatures_under_the_key_from_the_secrets(store):
    written = fill(store, 2)
    row = store.read().rows(journal.TAB)[1]
    canonical = json.dumps({name: row[name] for name in journal.SIGNED_FIELDS}, ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    expected = hmac.new(bytes.fromhex(KEY), (written[0]["hash"] + canonical).encode(), hashlib.sha256).hexdigest()
    assert row["hash"] == "hmac:" + expected
    report = audit(store)
    assert report.ok and report.signed and "chaîne signée intègre (2 entrée(s)" in report.message_fr
    assert not journal.verify_chain(store.read().rows(journal.TAB), key=b"une autre clef").ok


def test_the_key_is_never_written_in_the_sheet(store):
    fill(store, 3)
    cells = [cell for line in grid(store) for cell in line]
    assert not any(KEY in cell or bytes.fromhex(KEY).hex() in cell for cell in cells)


def test_every_append_writes_one_head_to_the_anchor_file(store, tmp_path):
    written = fill(store, 3)
    path = tmp_path / "classeur.xlsx.ancre-journal.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(h["count"], h["id"], h["hash"]) for h in lines] == [(i + 1, w.id, w["hash"]) for i, w in
                                                                   enumerate(written)]
    assert all(h["at"].endswith("Z") for h in lines)


def test_deleting_the_last_entries_is_named_with_the_first_missing(store):
    written = fill(store)
    del grid(store)[4:]  # the last two entries
    report = audit(store)
    assert not report.ok and report.first_broken.id == written[3].id
    assert "2 entrée(s) supprimée(s) en fin de journal après la ligne 4" in report.message_fr


@pytest.mark.parametrize("sign", [None, lambda previous, entry: journal.entry_signature(b"pas la cle", previous,
                                                                                        entry)],
                         ids=["sha256", "autre-cle"])
def test_a_full_rewrite_with_recomputed_hashes_is_named(store, sign):
    written = fill(store)
    set_cell(store, 3, "details", "réécrit")
    recompute(store, 1, sign)
    report = audit(store)
    assert not report.ok and report.first_broken.id == written[0].id
    assert "journal entièrement réécrit" in report.message_fr


def test_editing_the_last_entry_and_recomputing_its_hash_is_named(store):
    written = fill(store)
    set_cell(store, 5, "acteur", "quelqu.un@ailleurs.fr")
    recompute(store, 5)
    report = audit(store)
    assert not report.ok and report.first_broken.id == written[4].id
    assert "1 entrée(s) modifiée(s) puis empreinte(s) recalculée(s)" in report.message_fr
    assert "ligne 6" in report.message_fr


def test_appending_a_forged_entry_is_named(store):
    fill(store, 3)
    last = grid(store)[-1][column(store, "hash")]
    forged = {"id": "JRN-FORGED01", "horodatage": "2026-01-05 10:00:00", "acteur": "admin@region.fr",
              "action": "divulgation coordonnées", "hash_precedent": last}
    forged["hash"] = journal.entry_hash(last, forged)
    store.append(journal.TAB, [forged])
    report = audit(store)
    assert not report.ok and report.first_broken.id == "JRN-FORGED01"
    assert "non signée après des entrées signées" in report.message_fr


def test_deleting_the_oldest_entries_is_told_apart_from_a_purge(store):
    written = fill(store)
    del grid(store)[1:3]
    report = audit(store)
    assert not report.ok and report.first_broken.id == written[2].id
    assert "les plus anciennes ont été supprimées hors d'une purge journalisée" in report.message_fr


def test_a_journaled_purge_of_the_oldest_entries_is_not_an_alteration(store):
    written = fill(store)
    store.delete(journal.TAB, [w.id for w in written[:2]])
    purge = journal.record_purge(store, ADMIN_USER, written[:2], "durée de conservation", "antérieures au 01/01/2026")
    assert f"2 entrée(s) supprimée(s), de {written[0].id} à {written[1].id}" in purge["details"]
    assert written[1]["hash"] in purge["details"]
    assert audit(store).ok


def test_a_forged_purge_entry_does_not_explain_a_deletion(store):
    written = fill(store)
    del grid(store)[1:3]
    last = grid(store)[-1][column(store, "hash")]
    lie = {"id": "JRN-FAKEPURGE", "horodatage": "2026-01-05 10:00:00", "acteur": "x", "action": "purge journal",
           "hash_precedent": last, "details": f"empreinte de la dernière : {written[1]['hash']}"}
    lie["hash"] = journal.entry_signature(b"pas la cle", last, lie)
    store.append(journal.TAB, [lie])
    report = audit(store)
    assert {b.id for b in report.breaks} >= {written[2].id, "JRN-FAKEPURGE"}


def test_deleting_a_middle_entry_and_recomputing_the_rest_is_named(store):
    written = fill(store)
    del grid(store)[3]  # the third entry
    recompute(store, 3)
    report = audit(store)
    assert not report.ok and report.first_broken.id == written[3].id
    assert "entrées réécrites à partir d'ici" in report.message_fr


def test_editing_created_at_breaks_the_signature(store):
    written = fill(store)
    set_cell(store, 3, "created_at", "2020-01-01 00:00:00")
    report = audit(store)
    assert not report.ok and report.first_broken.id == written[2].id
    assert "la signature ne correspond plus au contenu" in report.message_fr


def test_emptying_the_tab_is_named(store):
    written = fill(store)
    del grid(store)[1:]
    report = audit(store)
    assert not report.ok and "journal vidé : l'ancre attend au moins 5 entrée(s)" in report.message_fr
    assert report.first_broken.id == written[0].id


def test_editing_a_middle_entry_is_named(store):
    written = fill(store)
    set_cell(store, 3, "details", "autre chose")
    report = audit(store)
    assert not report.ok and [b.id for b in report.breaks] == [written[2].id]


def test_a_missing_anchor_with_signed_entries_is_an_alert(store, tmp_path):
    fill(store, 2)
    (tmp_path / "classeur.xlsx.ancre-journal.jsonl").unlink()
    report = audit(store)
    assert not report.ok and "est absente alors que le journal contient des entrées signées" in report.message_fr


def test_without_a_key_the_journal_says_it_is_not_signed(store, monkeypatch):
    monkeypatch.delenv("ECOLE_ENTREPRISE_JOURNAL_KEY")
    fill(store, 2)
    report = audit(store)
    assert report.ok and not report.signed
    assert any("journal non signé" in note for note in report.notes)


def test_signed_entries_without_the_key_are_not_vouched_for(store, monkeypatch):
    fill(store, 2)
    monkeypatch.delenv("ECOLE_ENTREPRISE_JOURNAL_KEY")
    report = audit(store)
    assert not report.ok and "aucune clé n'est configurée" in report.message_fr


def test_anchor_heads_are_read_backwards_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(anchors, "_CHUNK", 50)  # smaller than one line: every line crosses a chunk
    anchor = anchors.Anchor(tmp_path / "ancre.jsonl")
    for i in range(30):
        anchor.append(i + 1, f"JRN-{i:08d}", f"hash{i}")
    assert [h.count for h in anchor.latest()] == list(range(30, 0, -1))


# ---- command line ---------------------------------------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path, monkeypatch):
    path = tmp_path / "classeur.xlsx"
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    monkeypatch.setenv("ECOLE_ENTREPRISE_JOURNAL_KEY", KEY)
    return path


def test_check_exits_3_when_the_journal_was_altered_and_0_when_intact(workbook, capsys):
    import openpyxl

    main(["init"])
    from ecole_entreprise.config import load_settings
    from ecole_entreprise.store import build_store

    for i in range(3):
        journal.record(build_store(load_settings()), ADMIN_USER, f"action {i}")
    capsys.readouterr()
    assert main(["check"]) == 0, capsys.readouterr().out
    book = openpyxl.load_workbook(workbook)
    sheet = book["Journal"]
    sheet.delete_rows(sheet.max_row)  # the last entry
    book.save(workbook)
    assert main(["check"]) == 3
    assert "supprimée(s) en fin de journal" in capsys.readouterr().out


def test_journal_key_command_prints_a_new_key_and_where_to_keep_it(workbook, monkeypatch, capsys):
    monkeypatch.delenv("ECOLE_ENTREPRISE_JOURNAL_KEY")
    assert main(["journal-key"]) == 0
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("key = ")]
    assert len(bytes.fromhex(line.split('"')[1])) == 32
    assert "secrets.toml" in out and "ancre-journal.jsonl" in out


def test_journal_key_command_refuses_to_replace_a_configured_key(workbook, capsys):
    assert main(["journal-key"]) == 1
    assert "--force" in capsys.readouterr().err


# ---- admin home page ------------------------------------------------------------------------------------------


def test_the_admin_home_page_alerts_when_the_journal_and_its_anchor_disagree(app_workbook, monkeypatch):
    import openpyxl

    from tests.support.apptest import ADMIN, COMITE, app_store, open_page

    monkeypatch.setenv("ECOLE_ENTREPRISE_JOURNAL_KEY", KEY)
    written = [journal.record(app_store(), ADMIN_USER, f"action {i}") for i in range(3)]
    at = open_page(monkeypatch, ADMIN, "pages/home.py")
    assert not [e for e in at.error if "Journal d'audit altéré" in e.value]
    book = openpyxl.load_workbook(app_workbook)
    book["Journal"].delete_rows(book["Journal"].max_row)  # the last entry, by hand in the file
    book.save(app_workbook)
    app_store().invalidate()
    at = open_page(monkeypatch, ADMIN, "pages/home.py")
    [alert] = [e for e in at.error if "Journal d'audit altéré" in e.value]
    assert written[2].id in alert.value and "supprimée(s) en fin de journal" in alert.value
    at = open_page(monkeypatch, COMITE, "pages/home.py")  # the alert is for those who may read the journal
    assert not [e for e in at.error if "Journal d'audit altéré" in e.value]


def test_signatures_survive_each_backends_round_trip(env, monkeypatch):
    """What the sheet gives back (dates typed as text, a Google grid) still verifies: nothing signed is reformatted."""
    monkeypatch.setenv("ECOLE_ENTREPRISE_JOURNAL_KEY", KEY)
    env.store.init()
    for details in ("=SUM(A1:A3)", "accents éèà « guillemets »\nsur deux lignes", "+33 6 12", "0042"):
        journal.record(env.store, ADMIN_USER, "test", "Entreprises", "ENT-1", ["notes"], "test", details)
    rows = env.make_second_store().read().rows(journal.TAB)
    report = journal.verify_chain(rows)
    assert report.ok and report.signed and report.checked == 4, report.message_fr


def test_the_retention_purge_is_journaled_with_what_it_removed_and_the_chain_still_holds(store):
    from datetime import date, datetime

    from ecole_entreprise.services.privacy import retention

    old = [journal.record(store, ADMIN_USER, f"ancienne {i}", when=datetime(2020, 1, 1 + i)) for i in range(3)]
    fill(store, 2)
    assert retention.purge_journal(store, store.read(), date(2026, 6, 1), months=12) == 3
    rows = store.read().rows(journal.TAB)
    [purge] = [r for r in rows if r["action"] == journal.PURGE_ACTION]
    assert f"3 entrée(s) supprimée(s), de {old[0].id} à {old[-1].id}" in purge["details"]
    assert rows[0]["hash_precedent"] == old[-1]["hash"] and old[-1]["hash"] in purge["details"]
    assert audit(store).ok, audit(store).message_fr
