"""`check` on a workbook of many years: the Journal is read in pieces straight from the file (WorkbookStore
.read_pieces), and what it reports is what the whole-tab report says (issue 16, point 5)."""

import openpyxl
import pytest

from ecole_entreprise.cli import main
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.census.quality import anomaly_line, check_snapshot
from ecole_entreprise.services.kernel import journal
from ecole_entreprise.services.kernel.journal import verify_chain
from ecole_entreprise.store.workbook import WorkbookStore


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "classeur.xlsx"
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    assert main(["demo"]) == 0
    store = WorkbookStore(default_schema(), path)
    for i in range(23):
        journal.record(store, "admin@exemple.fr", "export", "Entreprises", f"ENT-{i:08d}", finalite="suivi")
    return store


def edit_by_hand(path, tab: str, edit) -> None:
    """A person's save (openpyxl writes shared strings, where the app writes inline strings)."""
    book = openpyxl.load_workbook(path)
    edit(book[tab])
    book.save(path)


def same_rows(a, b) -> None:
    assert [(r.row_number, r.id, r.values, r.extra, r.fingerprint) for r in a] == \
        [(r.row_number, r.id, r.values, r.extra, r.fingerprint) for r in b]


@pytest.mark.parametrize("rows", [1, 4, 5000])
def test_pieces_hold_the_tab_as_read_whole(store, rows):
    def disorder(sheet):
        ids = [c.value for c in sheet["A"]]
        sheet.cell(row=6, column=1, value=ids[2])  # an ID twice, in two different pieces when pieces are small
        sheet.insert_rows(9, amount=2)  # blank rows in between
        sheet.cell(row=sheet.max_row + 2, column=2, value="saisie à la main, sans ID")
        sheet.cell(row=1, column=sheet.max_column + 1, value="Remarque")  # a column a person added

    edit_by_hand(store.path, "Journal", disorder)
    for tab in ("Journal", "Rencontres"):
        whole = store.read(tabs=[tab]).tabs[tab]
        pieces = list(store.read_pieces(tab, rows=rows))
        assert (len(pieces) > 5) == (rows < 5)
        same_rows([r for p in pieces for r in p.rows], whole.rows)
        same_rows([r for p in pieces for r in p.rows_without_id], whole.rows_without_id)
        assert [i for p in pieces for i in p.issues] == whole.issues
        assert all(p.headers == whole.headers for p in pieces)
        streamed = store.read_streamed(tab)
        same_rows(streamed.rows, whole.rows)
        assert streamed.issues == whole.issues
    issues = [i.message for i in store.read(tabs=["Journal"]).tabs["Journal"].issues]
    assert any("en double" in i for i in issues) and any("sans identifiant" in i for i in issues)


def test_an_absent_tab_has_no_piece(store):
    edit_by_hand(store.path, "Journal", lambda sheet: setattr(sheet, "title", "Ancien journal"))
    assert list(store.read_pieces("Journal")) == [] and store.read_streamed("Journal") is None


def test_check_prints_the_whole_tab_report_and_chain(store, capsys, monkeypatch):
    rows = store.read(tabs=["Journal"]).rows("Journal")
    target = rows[7].row_number

    def tamper(sheet):
        headers = [c.value for c in sheet[1]]
        sheet.cell(row=target, column=headers.index("Acteur") + 1, value="quelqu.un@exemple.fr")
        sheet.cell(row=target + 3, column=headers.index("Horodatage") + 1, value="pas une date")

    edit_by_hand(store.path, "Journal", tamper)
    monkeypatch.setattr(WorkbookStore.read_pieces, "__defaults__", (4,))  # many pieces
    capsys.readouterr()
    assert main(["check"]) == 3  # an altered journal has its own exit code, above data anomalies
    out = capsys.readouterr().out.splitlines()
    snapshot = store.read()
    expected = [anomaly_line(a) for a in check_snapshot(snapshot, default_schema())]
    assert expected and out[:len(expected)] == expected
    chain = verify_chain(snapshot.rows("Journal"))
    assert not chain.ok and f"Journal : {chain.message_fr}" in out


def test_a_damaged_file_is_a_french_message(tmp_path):
    from ecole_entreprise.store.base import StoreError

    path = tmp_path / "abime.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"pas un classeur" * 50)
    with pytest.raises(StoreError, match="illisible"):
        list(WorkbookStore(default_schema(), path).read_pieces("Journal"))
