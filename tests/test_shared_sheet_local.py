"""The local workbook shared by app processes and people, with real OS processes and real files: a person's save
is never written over, a workbook open in Excel or LibreOffice is not written, and app writes that a stale copy
erased are reported (home page, `check`) and re-applied through the conflict rules."""

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from ecole_entreprise.domain.roles import ADMIN, User
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.values import PARIS
from ecole_entreprise.services.kernel import journal, workbook_recovery
from ecole_entreprise.store.office_locks import WorkbookOpen
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support import shared_workbook
from tests.support.apptest import open_page
from tests.support.workbook_env import set_text

ROOT = Path(__file__).resolve().parents[1]
TAB = "Entreprises"
ADMIN_USER = User("admin@exemple.fr", ADMIN)


def cli(workbook: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m ecole_entreprise …` in its own process, on this workbook."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLE_ENTREPRISE_")}
    env["ECOLE_ENTREPRISE_WORKBOOK"] = str(workbook)
    return subprocess.run([sys.executable, "-m", "ecole_entreprise", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def company(name, **extra):
    return {"raison_sociale": name, "code_postal": "21000", "departement": "21", **extra}


# ---- four app processes and a person saving fresh and stale copies --------------------------------------------------


def test_four_app_processes_and_a_person_saving_fresh_and_stale_copies(tmp_path):
    # On a busy machine a 3 s run may see no stale save at all: then it runs again (another seed), each run held
    # to every safety rule, until one has exercised the stale copy that erases app writes.
    for seed in (1, 2, 3):
        folder = tmp_path / f"seed-{seed}"
        folder.mkdir()
        figures = shared_workbook.run(folder, seconds=3.0, writers=4, seed=seed)
        assert figures["local_app_writes"] > 0 and figures["local_person_edits"] > 0
        # Every app write the file lacks is reported, and nothing the person saved was written over.
        assert figures["local_lost_undetected"] == 0
        assert figures["local_erased_reported"] >= figures["local_app_writes_erased"]
        assert figures["local_person_edits_erased"] == 0
        # Re-applied, every app write is back, still without touching what the person typed.
        assert figures["local_reapply_conflicts"] == 0 and figures["local_missing_after_reapply"] == 0
        assert figures["local_person_edits_erased_after_reapply"] == 0
        assert figures["journal_chain_ok"]
        if figures["local_person_saves_stale"] >= 1 and figures["local_app_writes_erased"] >= 1:
            break  # the person kept a copy open while the app wrote, and saved it over the app's writes
    else:
        pytest.fail("three runs without a stale copy saved over the app's writes: the case was not exercised")


# ---- Excel and LibreOffice hold the workbook open -------------------------------------------------------------------


def excel_owner_file(name: str) -> bytes:
    """The 165 bytes Excel writes in « ~$<workbook> »: ANSI name padded to 54 bytes, then the UTF-16 name."""
    ansi = name.encode("cp1252")
    wide = name.encode("utf-16-le")
    head = (bytes([len(ansi)]) + ansi).ljust(54, b" ")
    return (head + len(name).to_bytes(2, "little") + wide).ljust(165, b" ")


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "partage" / "classeur.xlsx"
    WorkbookStore(default_schema(), path).append(TAB, [company("Alpha")])
    return path


def test_a_workbook_open_in_excel_is_not_written_and_the_message_names_who(workbook):
    owner = workbook.with_name("~$classeur.xlsx")
    owner.write_bytes(excel_owner_file("Émilie Durand"))
    before = workbook.read_bytes()
    refused = cli(workbook, "add-user", "nouvelle@exemple.fr", "admin")
    assert refused.returncode == 2
    assert "ouvert dans Excel par Émilie Durand" in refused.stderr
    assert "Rien n'a été enregistré" in refused.stderr and "~$classeur.xlsx" in refused.stderr
    assert workbook.read_bytes() == before
    assert cli(workbook, "check").returncode in (0, 1)  # reading stays possible: `check` only reads
    owner.unlink()  # Excel closed the workbook
    assert cli(workbook, "add-user", "nouvelle@exemple.fr", "admin").returncode == 0
    emails = [r["email"] for r in WorkbookStore(default_schema(), workbook).read().rows("Utilisateurs")]
    assert "nouvelle@exemple.fr" in emails


def test_a_workbook_open_in_libreoffice_is_not_written_and_the_message_names_who(workbook):
    lock = workbook.with_name(".~lock.classeur.xlsx#")
    lock.write_text("Durand\\, Émilie,poste-cpme-12,edurand,03.12.2026 10:12,"
                    "file:///home/edurand/.config/libreoffice/4;", encoding="utf-8")
    store = WorkbookStore(default_schema(), workbook)
    row = store.read().rows(TAB)[0]
    refused = cli(workbook, "add-user", "nouvelle@exemple.fr", "admin")
    assert refused.returncode == 2
    assert ("ouvert dans LibreOffice par Durand, Émilie (poste poste-cpme-12) depuis le 03/12/2026 à 10:12"
            in refused.stderr), refused.stderr
    with pytest.raises(WorkbookOpen) as caught:  # in this process too, for any write
        store.update(TAB, row.id, {"notes": "x"}, row.fingerprint)
    assert "LibreOffice" in str(caught.value) and ".~lock.classeur.xlsx#" in str(caught.value)
    lock.unlink()
    assert store.update(TAB, row.id, {"notes": "x"}, row.fingerprint)["notes"] == "x"


# ---- erased writes: reported, re-applied through the conflict rules -------------------------------------------------


def _app_writes(path: str) -> None:
    """Another app process: a new company, a note on Bravo, a note on Charlie, and a journal entry."""
    store = WorkbookStore(default_schema(), path)
    snapshot = store.read()
    store.append(TAB, [company("Delta", id="ENT-DELTA001")])
    bravo, charlie = (next(r for r in snapshot.rows(TAB) if r["raison_sociale"] == n) for n in ("Bravo", "Charlie"))
    store.update(TAB, bravo.id, {"notes": "rappeler en mars"}, bravo.fingerprint)
    store.update(TAB, charlie.id, {"notes": "partenaire potentiel"}, charlie.fingerprint)
    journal.record(store, "coord@exemple.fr", "consentement", TAB, charlie.id)


def run_in_a_process(target, *args) -> None:
    import multiprocessing

    process = multiprocessing.get_context("spawn").Process(target=target, args=args)
    process.start()
    process.join(timeout=120)
    assert process.exitcode == 0


def stale_copy_saved(path: Path, stale: bytes, edit=None) -> datetime:
    """A person saves the copy they opened before the app's writes (with their own edit, if any)."""
    copy = path.with_name("copie-personnelle.xlsx")
    copy.write_bytes(stale)
    book = openpyxl.load_workbook(copy)
    if edit:
        edit(book[TAB])
    book.save(copy)
    os.replace(copy, path)
    return datetime.fromtimestamp(path.stat().st_mtime, PARIS).replace(tzinfo=None)


def test_erased_writes_are_reported_and_reapplied_with_a_conflict_shown(tmp_path):
    path = tmp_path / "classeur.xlsx"
    store = WorkbookStore(default_schema(), path)
    store.append(TAB, [company("Alpha"), company("Bravo"), company("Charlie")])
    journal.record(store, "coord@exemple.fr", "création", TAB, "")
    stale = path.read_bytes()  # the person opens the workbook here…
    run_in_a_process(_app_writes, str(path))  # …the app writes from another process…

    def person_types_in_bravo(sheet):  # …and the person, in their copy, changed Bravo too
        headers = [c.value for c in sheet[1]]
        line = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 2).value == "Bravo")
        set_text(sheet.cell(line, headers.index("Notes") + 1), "vu au salon")

    saved_at = stale_copy_saved(path, stale, person_types_in_bravo)
    erased = WorkbookStore(default_schema(), path).erased_writes()
    assert [(e.write.op, e.write.tab) for e in erased] == [
        ("append", TAB), ("update", TAB), ("update", TAB), ("append", "Journal")]
    [line] = workbook_recovery.notice_lines(erased, saved_at.date())
    assert line.startswith(f"4 modifications de l'application ont été effacées par l'enregistrement du classeur "
                           f"à {saved_at:%H:%M} : ajout ENT-DELTA001 (Entreprises), modification ")

    checked = cli(path, "check")  # `check` (another process) reports it too
    assert checked.returncode == 1
    assert f"effacées par l'enregistrement du classeur à {saved_at:%H:%M}" in checked.stdout

    result = workbook_recovery.reapply(WorkbookStore(default_schema(), path), ADMIN_USER)
    assert len(result.applied) == 3 and not result.failed and not result.stopped
    [conflict] = result.conflicts  # Bravo changed since: shown, not overwritten
    assert conflict.current["notes"] == "vu au salon" and conflict.attempted == {"notes": "rappeler en mars"}
    after = WorkbookStore(default_schema(), path).read()
    notes = {r["raison_sociale"]: r["notes"] for r in after.rows(TAB)}
    assert notes == {"Alpha": "", "Bravo": "vu au salon", "Charlie": "partenaire potentiel", "Delta": ""}
    entries = after.rows(journal.TAB)
    assert [e["action"] for e in entries] == ["création", "consentement", "réapplication d'écritures effacées"]
    assert journal.verify_chain(entries).ok
    assert WorkbookStore(default_schema(), path).erased_writes() == []  # settled: no longer listed
    assert "Classeur :" not in cli(path, "check").stdout


def test_the_admin_home_page_shows_erased_writes_and_reapplies_them(app_workbook, monkeypatch):
    store = WorkbookStore(default_schema(), app_workbook)
    row = store.read().rows(TAB)[0]
    stale = app_workbook.read_bytes()
    store.update(TAB, row.id, {"notes": "écrit par l'application"}, row.fingerprint)
    saved_at = stale_copy_saved(app_workbook, stale)
    at = open_page(monkeypatch, "coord.dijon@exemple.fr", "pages/home.py")
    assert not any("effacée" in w.value for w in at.warning)  # coordinators do not see it
    at = open_page(monkeypatch, "admin@exemple.fr", "pages/home.py")
    assert [w.value for w in at.warning if "effacée" in w.value] == [
        f"1 modification de l'application a été effacée par l'enregistrement du classeur à {saved_at:%H:%M} : "
        f"modification {row.id} (Entreprises)."]
    at.button(key="reapply_erased").click().run()
    assert "1 modification(s) réappliquée(s)." in [s.value for s in at.success]
    assert WorkbookStore(default_schema(), app_workbook).read().get(TAB, row.id)["notes"] == "écrit par l'application"
    at = open_page(monkeypatch, "admin@exemple.fr", "pages/home.py")
    assert not any("effacée" in w.value for w in at.warning)
