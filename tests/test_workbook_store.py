"""The local workbook adapter: what the shared contract suite cannot see (file layout, Excel cells, atomicity,
locking across threads and processes, model reuse)."""

import multiprocessing
import os
import sqlite3
import threading
import zipfile
from datetime import date, datetime, time

import openpyxl
import pytest
from filelock import FileLock
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.store import xlsx_io
from ecole_entreprise.store.base import (
    Conflict,
    DuplicateId,
    ReadOnlyTab,
    RowNotFound,
    SchemaMismatch,
    StoreError,
    Unreachable,
)
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support.workbook_env import WorkbookHuman

TAB = "Entreprises"


def company(name, **extra):
    base = {"raison_sociale": name, "code_postal": "21000", "commune_insee": "21231", "departement": "21",
            "contact_nom": "Martin", "contact_prenom": "Léa", "contact_email": "lea@exemple.fr"}
    base.update(extra)
    return base


@pytest.fixture
def path(tmp_path):
    return tmp_path / "donnees" / "classeur.xlsx"


@pytest.fixture
def store(schema, path):
    return WorkbookStore(schema, path)


def headers_of(sheet):
    return [c.value for c in sheet[1] if c.value is not None]


def column_of(sheet, header):
    return headers_of(sheet).index(header) + 1


def line_of(sheet, row_id):
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == row_id)


# ---- creation and init ----------------------------------------------------------------------------------------


def test_first_read_creates_the_workbook_with_every_tab(store, path, schema):
    assert not path.parent.exists()
    snapshot = store.read()
    assert path.exists()
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == schema.tab_names
    for tab in schema.tabs.values():
        sheet = book[tab.name]
        assert headers_of(sheet) == tab.headers
        assert all(cell.font.bold for cell in sheet[1] if cell.value)
        assert sheet.freeze_panes == "A2"
        validated = {str(rng).split(":")[0].rstrip("0123456789") for dv in sheet.data_validations.dataValidation
                     if dv.type == "list" for rng in dv.sqref.ranges}  # dropdowns (the guards are "custom")
        for f in tab.fields:
            letter = openpyxl.utils.get_column_letter(tab.headers.index(f.header) + 1)
            assert (letter in validated) == (f.type in ("choice", "multichoice", "bool")), (tab.name, f.header)
    taille = openpyxl.utils.get_column_letter(schema.tab(TAB).headers.index("Taille") + 1)
    tailles = next(dv for dv in book[TAB].data_validations.dataValidation if str(dv.sqref).startswith(taille))
    values = [c.value for (c,) in book["Listes"][tailles.formula1.split("!")[1].replace("$", "")]]
    assert tailles.formula1.startswith("'Listes'!") and values == list(schema.lists["tailles"])  # from Listes
    listes = [(r["liste"], r["valeur"], r["ordre"]) for r in snapshot.rows("Listes")]
    assert listes == [(name, v, str(i)) for name, values in schema.lists.items()
                      for i, v in enumerate(values, start=1)]
    params = {r["cle"]: r["valeur"] for r in snapshot.rows("Parametres")}
    assert params == {k: str(v["valeur"]) for k, v in schema.tab("Parametres").defaults.items()}
    assert all(r.id.startswith("LST-") for r in snapshot.rows("Listes"))
    assert store.describe() == {"kind": "local", "title": "classeur.xlsx", "location": str(path), "url": ""}


def test_init_adds_missing_tabs_and_columns_at_the_end_and_keeps_the_rest(store, path, schema):
    store.init()
    [kept] = store.append(TAB, [company("Alpha", notes="à garder")])
    book = openpyxl.load_workbook(path)
    sheet = book[TAB]
    sheet.delete_cols(column_of(sheet, "Commune"))  # a person removed a column…
    sheet.cell(1, sheet.max_column + 1).value = "Suivi CPME"  # …and added one
    sheet.cell(2, sheet.max_column).value = "appelé"
    del book["Journal"]
    book.save(path)

    report = store.init()
    assert report.created_tabs == ["Journal"]
    assert report.missing_columns == {TAB: ["Commune"]}
    assert report.extra_columns == {TAB: ["Suivi CPME"]}
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-1] == "Journal" and headers_of(book["Journal"]) == schema.tab("Journal").headers
    assert headers_of(book[TAB])[-2:] == ["Suivi CPME", "Commune"]
    assert book[TAB].cell(1, len(headers_of(book[TAB]))).font.bold
    row = store.read().get(TAB, kept.id)
    assert (row["notes"], row["raison_sociale"], row.extra["Suivi CPME"]) == ("à garder", "Alpha", "appelé")

    before = path.read_bytes()
    again = store.init()
    assert (again.created_tabs, again.missing_columns) == ([], {})
    assert again.extra_columns == {TAB: ["Suivi CPME"]}
    assert path.read_bytes() == before  # nothing to add: the file is not rewritten


# ---- cells ----------------------------------------------------------------------------------------------------

TRICKY_TEXT = {
    "contact_telephone": "0612345678", "code_postal": "01000", "siret": "73282932000074",
    "attendus": "+33380448400", "notes": "=SUM(A1:A3)", "contact_fonction": "  gérant & associé <SAS>  ",
    "commune": "ligne 1\nligne 2\r\nfin\r", "raison_sociale": "_x0041_ littéral, \x01 contrôle, 🎓",
    "consentement_version": "1.50", "naf": "1e3",
}


def test_text_reads_back_exactly_and_stays_text_for_other_programs(store, path, schema):
    [row] = store.append(TAB, [company("x", **TRICKY_TEXT)])
    fresh = WorkbookStore(schema, path).read().get(TAB, row.id)  # parsed from the file, not from memory
    for name, value in TRICKY_TEXT.items():
        assert fresh[name] == value, name
    assert fresh.fingerprint == row.fingerprint
    sheet = openpyxl.load_workbook(path)[TAB]
    line = line_of(sheet, row.id)
    for header in ("Notes", "Téléphone du contact", "SIRET", "Code postal"):
        cell = sheet.cell(line, column_of(sheet, header))
        assert cell.data_type == "s" and isinstance(cell.value, str), header
    assert sheet.cell(line, column_of(sheet, "Notes")).value == "=SUM(A1:A3)"


def test_cells_a_person_typed_in_a_spreadsheet_program_are_read_as_text(store, path):
    [row] = store.append(TAB, [company("Alpha")])
    book = openpyxl.load_workbook(path)  # openpyxl saves with shared strings and number formats, as Excel does
    sheet = book[TAB]
    line = line_of(sheet, row.id)
    typed = {"Téléphone du contact": 612345678, "Rencontres par année scolaire": 3.0, "SIRET": 73282932000074,
             "À informer avant le": date(2026, 1, 19),
             "Consentement partage coordonnées": datetime(2026, 1, 19, 14, 30), "Adhérent CPME": True,
             "Code INSEE commune": 21231.5, "Notes": "texte partagé", "Raison sociale": "texte partagé"}
    for header, value in typed.items():
        sheet.cell(line, column_of(sheet, header)).value = value
    sheet.cell(line, column_of(sheet, "Version notice consentement")).value = time(14, 30)
    sheet.cell(line, column_of(sheet, "Version notice consentement")).number_format = "hh:mm"
    book.save(path)
    got = store.read().get(TAB, row.id)
    assert (got["contact_telephone"], got["capacite_annuelle"], got["siret"]) == ("612345678", "3", "73282932000074")
    assert (got["informer_avant"], got["consentement_partage"]) == ("2026-01-19", "2026-01-19 14:30:00")
    assert (got["membre_cpme"], got["commune_insee"], got["consentement_version"]) == ("oui", "21231.5", "14:30")
    assert got["notes"] == got["raison_sociale"] == "texte partagé"


def test_dates_of_a_1904_workbook(store, path):
    [row] = store.append(TAB, [company("Alpha")])
    book = openpyxl.load_workbook(path)
    book.epoch = CALENDAR_MAC_1904
    sheet = book[TAB]
    sheet.cell(line_of(sheet, row.id), column_of(sheet, "À informer avant le")).value = date(2026, 3, 2)
    book.save(path)
    assert store.read().get(TAB, row.id)["informer_avant"] == "2026-03-02"


def test_sheet_xml_written_by_other_generators():
    """Formulas with cached results, missing cell addresses, rich text, attribute order, a namespace prefix."""
    xml = ('<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           '<x:dimension ref="A1:F3"/><x:sheetData>'
           '<x:row r="1" spans="1:6"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c t="inlineStr"><x:is><x:r><x:t>ri'
           '</x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t xml:space="preserve">ch </x:t></x:r><x:rPh><x:t>ignored'
           '</x:t></x:rPh></x:is></x:c><x:c r="D1" t="str"><x:f>A1&amp;"!"</x:f><x:v>a &amp; b!</x:v></x:c>'
           '<x:c r="E1"><x:f>1+1</x:f><x:v>2</x:v></x:c><x:c r="F1" t="e"><x:v>#N/A</x:v></x:c></x:row>'
           '<x:row r="3"><x:c t="n" s="1" r="B3"><x:v>46041</x:v></x:c><x:c r="C3" t="b"><x:v>0</x:v></x:c>'
           '<x:c r="D3" t="s"><x:v>1</x:v></x:c><x:c r="E3" s="1"/></x:row>'
           '</x:sheetData></x:worksheet>')
    shared = xlsx_io.parse_shared_strings(
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>partagé</t></si>'
        '<si><t>ligne_x000D_\nsuite</t></si></sst>')
    ctx = xlsx_io.Context(shared=shared, date_styles=frozenset({1}))
    sheet = xlsx_io.parse_sheet(xml, ctx)
    assert sheet.texts[0] == ["partagé", "rich ", "", "a & b!", "2", "#N/A"]
    assert sheet.texts[1] == []
    assert sheet.texts[2] == ["", "2026-01-19", "non", "ligne\r\nsuite"]
    sheet.set_cells(3, {2: "oui & <non>", 5: "=1+1"})
    reparsed = xlsx_io.parse_sheet(sheet.to_xml(), ctx)
    assert reparsed.texts[2] == ["", "2026-01-19", "oui & <non>", "ligne\r\nsuite", "", "=1+1"]
    assert 'ref="A1:F3"' in sheet.to_xml() and "<x:f>1+1</x:f>" in sheet.to_xml()


# ---- rows and columns found at write time ----------------------------------------------------------------------


def test_an_update_keeps_a_persons_numbers_formulas_and_formatting(store, path):
    alpha, bravo = store.append(TAB, [company("Alpha"), company("Bravo")])
    book = openpyxl.load_workbook(path)
    sheet = book[TAB]
    extra = sheet.max_column + 1
    sheet.cell(1, extra).value = "Montant"
    sheet.cell(1, extra + 1).value = "Double"
    for row_id, amount in ((alpha.id, 1200), (bravo.id, 80)):
        line = line_of(sheet, row_id)
        sheet.cell(line, extra).value = amount
        sheet.cell(line, extra + 1).value = f"={openpyxl.utils.get_column_letter(extra)}{line}*2"
    book.save(path)

    current = store.read().get(TAB, alpha.id)
    assert current.extra["Montant"] == "1200"
    store.update(TAB, alpha.id, {"notes": "rappelé"}, current.fingerprint)
    sheet = openpyxl.load_workbook(path)[TAB]
    line = line_of(sheet, alpha.id)
    assert sheet.cell(line, column_of(sheet, "Notes")).value == "rappelé"
    assert sheet.cell(line, extra).value == 1200 and sheet.cell(line, extra).data_type == "n"
    assert sheet.cell(line, extra + 1).data_type == "f"
    assert sheet.cell(line_of(sheet, bravo.id), extra + 1).value.endswith("*2")
    assert all(cell.font.bold for cell in sheet[1][:extra - 1])  # the app's headers are still bold


def test_delete_moves_the_rows_below_up_and_keeps_their_values(store, path):
    rows = store.append(TAB, [company(n) for n in ("Alpha", "Bravo", "Charlie", "Delta")])
    book = openpyxl.load_workbook(path)
    sheet = book[TAB]
    extra = sheet.max_column + 1
    sheet.cell(1, extra).value = "Montant"
    for offset, row in enumerate(rows):
        sheet.cell(line_of(sheet, row.id), extra).value = 10 * (offset + 1)
    book.save(path)
    assert store.delete(TAB, [rows[1].id, "ENT-INCONNU0"]) == 1
    snapshot = store.read()
    assert [(r["raison_sociale"], r.extra["Montant"], r.row_number) for r in snapshot.rows(TAB)] == [
        ("Alpha", "10", 2), ("Charlie", "30", 3), ("Delta", "40", 4)]
    sheet = openpyxl.load_workbook(path)[TAB]
    assert [sheet.cell(r, extra).value for r in range(2, 6)] == [10, 30, 40, None]
    assert store.delete(TAB, []) == 0


def test_append_returns_the_existing_row_for_a_known_id(store):
    [alpha] = store.append(TAB, [company("Alpha")])
    same = store.append(TAB, [company("Autre", id=alpha.id), company("Écho", id="ENT-ECHO0001"),
                              company("Écho bis", id="ENT-ECHO0001")])
    assert [r["raison_sociale"] for r in same] == ["Alpha", "Écho", "Écho"]
    assert [r["raison_sociale"] for r in store.read().rows(TAB)] == ["Alpha", "Écho"]


def test_write_errors_name_the_problem_and_write_nothing(store, path):
    alpha, bravo = store.append(TAB, [company("Alpha"), company("Bravo")])
    [entry] = store.append("Journal", [{"horodatage": "2026-01-01 10:00:00", "acteur": "a", "action": "b"}])
    WorkbookHuman(path, store.schema).append_cells(TAB, [alpha.id, "Copie"])
    before = path.read_bytes()
    with pytest.raises(DuplicateId) as caught:
        store.update(TAB, alpha.id, {"notes": "x"}, alpha.fingerprint)
    assert "plusieurs fois" in str(caught.value) and "lignes 2, 4" in str(caught.value)
    with pytest.raises(RowNotFound):
        store.update(TAB, "ENT-INCONNU0", {"notes": "x"}, alpha.fingerprint)
    with pytest.raises(Conflict) as caught:
        store.update(TAB, bravo.id, {"notes": "x"}, alpha.fingerprint)
    assert caught.value.current["raison_sociale"] == "Bravo" and caught.value.attempted == {"notes": "x"}
    with pytest.raises(ReadOnlyTab):
        store.update("Journal", entry.id, {"action": "falsifié"}, entry.fingerprint)
    assert path.read_bytes() == before

    book = openpyxl.load_workbook(path)
    del book["Rencontres"]
    book.save(path)
    snapshot = store.read()
    assert snapshot.rows("Rencontres") == [] and "absent" in snapshot.tabs["Rencontres"].issues[0].message
    with pytest.raises(SchemaMismatch) as caught:
        store.append("Rencontres", [{"entreprise_id": alpha.id}])
    assert "Rencontres" in str(caught.value) and caught.value.column == ""


def test_a_persons_save_is_seen_before_the_next_write(store, path, schema):
    alpha, bravo = store.append(TAB, [company("Alpha"), company("Bravo")])
    snapshot = store.read()
    human = WorkbookHuman(path, schema)
    line = next(i for i, r in enumerate(human.grid(TAB), start=1) if alpha.id in r)
    human.set_cell(TAB, line, "Notes", "saisi dans Excel")
    store.update(TAB, bravo.id, {"notes": "par l'app"}, snapshot.get(TAB, bravo.id).fingerprint)
    after = store.read()
    assert after.get(TAB, alpha.id)["notes"] == "saisi dans Excel"
    assert after.get(TAB, bravo.id)["notes"] == "par l'app"


def test_unchanged_sheets_are_not_parsed_again_after_a_write(store):
    [alpha] = store.append(TAB, [company("Alpha")])
    store.read()
    other_sheet = store._package.parsed("Personnels")
    other_data = store.read().tabs["Personnels"]
    store.update(TAB, alpha.id, {"notes": "x"}, alpha.fingerprint)
    snapshot = store.read()
    assert store._package.parsed("Personnels") is other_sheet
    assert snapshot.tabs["Personnels"] is other_data
    assert snapshot.get(TAB, alpha.id)["notes"] == "x"


def test_calc_chain_is_dropped_when_a_sheet_is_rewritten(store, path):
    [alpha] = store.append(TAB, [company("Alpha")])
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/calcChain.xml"] = b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>'
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(b"</Types>", (
        b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.calcChain+xml"/></Types>'))
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", (
        b'<Relationship Id="rIdCalc" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'calcChain" Target="calcChain.xml"/></Relationships>'))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)
    store.update(TAB, alpha.id, {"notes": "x"}, store.read().get(TAB, alpha.id).fingerprint)
    with zipfile.ZipFile(path) as result:
        assert result.testzip() is None
        assert "xl/calcChain.xml" not in result.namelist()
        assert b"calcChain" not in result.read("[Content_Types].xml") + result.read("xl/_rels/workbook.xml.rels")
    assert openpyxl.load_workbook(path)[TAB].cell(2, column_of(openpyxl.load_workbook(path)[TAB], "Notes")).value == "x"


# ---- atomicity and errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_failed_write_leaves_the_previous_file_whole(store, path, monkeypatch, failing):
    [alpha] = store.append(TAB, [company("Alpha")])
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsx_io.os, failing, crash)
    if failing == "replace":  # where names can be swapped atomically, the swap is the replace
        monkeypatch.setattr(xlsx_io, "_exchange", crash)
    with pytest.raises(StoreError) as caught:
        store.update(TAB, alpha.id, {"notes": "perdu"}, alpha.fingerprint)
    assert "n'a pas pu être lu ou écrit" in str(caught.value)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [  # no temp file left behind
        "classeur.xlsx", "classeur.xlsx.app-writes.sqlite", "classeur.xlsx.lock"]
    assert store.read().get(TAB, alpha.id)["notes"] == ""  # the memory model did not keep the lost write
    store.update(TAB, alpha.id, {"notes": "gardé"}, alpha.fingerprint)
    assert WorkbookStore(store.schema, path).read().get(TAB, alpha.id)["notes"] == "gardé"


def test_unreadable_file_and_held_lock_give_french_errors(schema, path):
    store = WorkbookStore(schema, path, lock_timeout_s=0.2)
    [alpha] = store.append(TAB, [company("Alpha")])
    with FileLock(f"{path}.lock"):  # another process (or a stuck session) holds the lock
        with pytest.raises(Unreachable) as caught:
            store.update(TAB, alpha.id, {"notes": "x"}, alpha.fingerprint)
    assert "verrouillé" in str(caught.value)
    path.write_bytes(b"pas un classeur")
    with pytest.raises(StoreError) as caught:
        WorkbookStore(schema, path).read()
    assert "illisible" in str(caught.value)


# ---- concurrency ------------------------------------------------------------------------------------------------


def _append_many(path, label, count, barrier):
    store = WorkbookStore(default_schema(), path)
    barrier.wait()  # start together, so that writes really overlap
    for i in range(count):
        store.append(TAB, [company(f"{label}-{i}")])


def _update_once(path, row_id, expected, label, barrier, results):
    store = WorkbookStore(default_schema(), path)
    store.read()
    barrier.wait()
    try:
        store.update(TAB, row_id, {"notes": label}, expected)
        results.put(("won", label))
    except Conflict:
        results.put(("conflict", label))


def test_two_processes_and_two_threads_append_without_losing_rows(store, path):
    store.init()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    processes = [context.Process(target=_append_many, args=(path, f"p{n}", 20, barrier)) for n in range(2)]
    threads = [threading.Thread(target=_append_many, args=(path, f"t{n}", 10, barrier)) for n in range(2)]
    for worker in processes + threads:
        worker.start()
    for worker in processes + threads:
        worker.join(timeout=120)
    assert all(p.exitcode == 0 for p in processes)
    names = sorted(r["raison_sociale"] for r in WorkbookStore(store.schema, path).read().rows(TAB))
    expected = sorted([f"p{n}-{i}" for n in range(2) for i in range(20)] +
                      [f"t{n}-{i}" for n in range(2) for i in range(10)])
    assert names == expected
    with zipfile.ZipFile(path) as result:
        assert result.testzip() is None


def test_concurrent_updates_with_the_same_fingerprint_exactly_one_wins(store, path):
    [alpha] = store.append(TAB, [company("Alpha")])
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    workers = [context.Process(target=_update_once, args=(path, alpha.id, alpha.fingerprint, f"p{n}", barrier,
                                                          results)) for n in range(3)]
    for worker in workers:
        worker.start()
    _update_once(path, alpha.id, alpha.fingerprint, "main", barrier, results)
    outcomes = [results.get(timeout=120) for _ in range(4)]
    for worker in workers:
        worker.join(timeout=60)
    winners = [label for outcome, label in outcomes if outcome == "won"]
    assert len(winners) == 1 and sum(o == "conflict" for o, _ in outcomes) == 3
    assert WorkbookStore(store.schema, path).read().get(TAB, alpha.id)["notes"] == winners[0]


# ---- a person's save is never written over ------------------------------------------------------------------------


def test_a_save_between_the_reread_and_the_replace_is_not_written_over(store, path, schema, monkeypatch):
    from ecole_entreprise.store import workbook as workbook_module

    alpha, bravo = store.append(TAB, [company("Alpha"), company("Bravo")])
    human, real, calls = WorkbookHuman(path, schema), workbook_module.replace_if_unchanged, []

    def person_saves_first(target, payload, state):
        calls.append(1)
        if len(calls) == 1:  # the person saves right after the app re-read the file
            line = next(i for i, r in enumerate(human.grid(TAB), start=1) if alpha.id in r)
            human.set_cell(TAB, line, "Notes", "saisi dans Excel")
        return real(target, payload, state)

    monkeypatch.setattr(workbook_module, "replace_if_unchanged", person_saves_first)
    store.update(TAB, bravo.id, {"notes": "par l'app"}, bravo.fingerprint)
    assert len(calls) == 2 and store.writes_redone == 1  # refused over the person's file, redone on it
    after = WorkbookStore(schema, path).read()
    assert after.get(TAB, alpha.id)["notes"] == "saisi dans Excel"
    assert after.get(TAB, bravo.id)["notes"] == "par l'app"


def test_a_person_who_keeps_saving_gets_a_french_refusal_not_an_overwrite(store, path, monkeypatch):
    from ecole_entreprise.store import workbook as workbook_module

    [alpha] = store.append(TAB, [company("Alpha")])
    before = path.read_bytes()
    monkeypatch.setattr(workbook_module, "replace_if_unchanged", lambda *args: None)
    with pytest.raises(Unreachable) as caught:
        store.update(TAB, alpha.id, {"notes": "x"}, alpha.fingerprint)
    assert "enregistré sans cesse" in str(caught.value) and "Rien n'a été enregistré" in str(caught.value)
    assert path.read_bytes() == before


def test_replace_checks_the_file_it_displaced_and_puts_a_save_back(tmp_path, monkeypatch):
    """A save landing between the last check and the swap (here: during the check) is restored, not lost."""
    if xlsx_io._renameat2() is None:
        pytest.skip("no atomic exchange of names on this system")
    target = tmp_path / "classeur.xlsx"
    target.write_bytes(b"version lue")
    state = xlsx_io.read_state(target)
    real, checks = xlsx_io.unchanged, []

    def check_then_person_saves(where, read):
        checks.append(where)
        result = real(where, read)
        if len(checks) == 1:  # the person's save lands right after the check said "unchanged"
            saved = tmp_path / "enregistrement.tmp"
            saved.write_bytes(b"version de la personne")
            os.replace(saved, target)
        return result

    monkeypatch.setattr(xlsx_io, "unchanged", check_then_person_saves)
    assert xlsx_io.replace_if_unchanged(target, b"version de l'application", state) is None
    assert target.read_bytes() == b"version de la personne"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["classeur.xlsx"]


def test_a_same_size_save_within_the_same_clock_tick_is_seen_by_its_bytes(tmp_path):
    target = tmp_path / "classeur.xlsx"
    target.write_bytes(b"AAAA")
    state = xlsx_io.read_state(target)
    with open(target, "r+b") as handle:  # rewritten in place, same inode and size…
        handle.write(b"BBBB")
    os.utime(target, ns=(state.mtime_ns, state.mtime_ns))  # …and the same modification time
    assert not xlsx_io.unchanged(target, state)
    target.write_bytes(b"AAAA")
    os.utime(target, ns=(state.mtime_ns, state.mtime_ns))
    assert xlsx_io.unchanged(target, state)


# ---- the write marker and the app-write log ---------------------------------------------------------------------


def test_each_write_stamps_its_number_in_a_property_spreadsheet_programs_keep(store, path):
    from ecole_entreprise.store.xlsx_marker import NAME

    store.append(TAB, [company("Alpha"), company("Bravo")])
    book = openpyxl.load_workbook(path)
    marker = {p.name: p.value for p in book.custom_doc_props.props}[NAME]
    log_id, _, seq = marker.partition(":")
    assert seq == "2" and log_id == store._log.log_id()
    from openpyxl.packaging.custom import StringProperty

    book.custom_doc_props.append(StringProperty(name="Service", value="CPME"))  # a person's own property
    book.save(path)
    [charlie] = store.append(TAB, [company("Charlie")])
    store.update(TAB, charlie.id, {"notes": "x"}, charlie.fingerprint)
    props = {p.name: p.value for p in openpyxl.load_workbook(path).custom_doc_props.props}
    assert props == {NAME: f"{log_id}:4", "Service": "CPME"}
    with zipfile.ZipFile(path) as result:
        assert result.testzip() is None


def test_the_log_is_asked_only_when_the_file_changed(store, path, schema, monkeypatch):
    from ecole_entreprise.store.applog import AppWriteLog

    store.append(TAB, [company("Alpha")])
    store.read()
    asked = []
    real = AppWriteLog.last_seq
    monkeypatch.setattr(AppWriteLog, "last_seq", lambda self: asked.append(1) or real(self))
    store.read()
    store.read()
    assert asked == []  # nothing changed: not even the file is read again
    WorkbookHuman(path, schema).append_cells(TAB, ["ENT-HUMAN001", "Tapée"])
    store.read()
    assert asked == [1]


def test_a_copy_without_the_marker_is_compared_by_content(store, path, schema):
    """A program that drops custom properties: writes the copy lacks are still found, by their content."""
    [alpha] = store.append(TAB, [company("Alpha")])
    stale = openpyxl.load_workbook(path)
    stale.custom_doc_props.props.clear()
    store.update(TAB, alpha.id, {"notes": "par l'app"}, alpha.fingerprint)
    stale.save(path)
    [erased] = WorkbookStore(schema, path).erased_writes()
    assert (erased.write.op, erased.write.row_id, erased.write.values["notes"]) == ("update", alpha.id, "par l'app")


def test_the_log_forgets_written_values_after_its_retention(store, path, monkeypatch):
    from ecole_entreprise.store import applog

    store.append(TAB, [company("Alpha"), company("Bravo")])
    with sqlite3.connect(store._log.path) as db:
        db.execute("UPDATE writes SET at = '2020-01-01 10:00:00'")
    store._log._pruned_at = -applog._PRUNE_EVERY_S
    store.append(TAB, [company("Charlie")])
    with sqlite3.connect(store._log.path) as db:
        assert [seq for (seq,) in db.execute("SELECT seq FROM writes")] == [3]


def test_tail_parses_only_its_own_tab(schema, path):
    WorkbookStore(schema, path).append(TAB, [company("Alpha")])
    fresh = WorkbookStore(schema, path)
    [row] = fresh.tail(TAB, 1)
    assert row["raison_sociale"] == "Alpha"
    assert fresh._package.parsed(TAB) is not None and fresh._package.parsed("Personnels") is None


# ---- lock files of spreadsheet programs ---------------------------------------------------------------------------


def test_excel_and_libreoffice_lock_files_are_read(tmp_path):
    from ecole_entreprise.store import office_locks

    assert office_locks.excel_user(b"\x05Marie" + b" " * 48 + b"\x06\x00" + "Marïe!".encode("utf-16-le")) == "Marïe!"
    assert office_locks.excel_user(b"\x05Marie" + b" " * 48) == "Marie"  # only the ANSI copy
    assert office_locks.excel_user(b"") == ""
    assert office_locks.libreoffice_fields("A\\,B,hote,moi,01.02.2026 09:05,file:///x\\;y;") == [
        "A,B", "hote", "moi", "01.02.2026 09:05", "file:///x;y"]
    book = tmp_path / "b.xlsx"
    assert office_locks.holder(book) is None
    (tmp_path / ".~lock.b.xlsx#").write_text(",hote,jdupont,bad date,;")
    found = office_locks.holder(book)
    assert (found.program, found.user, found.host) == ("LibreOffice", "jdupont", "hote")  # no full name: login


def test_init_refuses_a_workbook_open_in_excel(store, path):
    from ecole_entreprise.store.office_locks import WorkbookOpen

    store.init()
    path.with_name("~$" + path.name).write_bytes(b"")  # unreadable owner file: still open
    with pytest.raises(WorkbookOpen) as caught:
        store.init()
    assert "ouvert dans Excel" in str(caught.value)
    assert store.read().tabs[TAB].headers  # reading goes on
