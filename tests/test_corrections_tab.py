"""The « À corriger » tab: written by `check --sheet` and the Qualité page, one row per anomaly with a link to its
cell that still points at the right cell after a person sorts; no personal value copied into it."""

from __future__ import annotations

import openpyxl
import pytest

from ecole_entreprise.cli import main
from ecole_entreprise.services.census.corrections import PERSONAL, correction_entries, rewrite_corrections
from ecole_entreprise.services.census.quality import Anomaly
from ecole_entreprise.services.kernel.access import SYSTEM_USER
from ecole_entreprise.store.corrections import CORRECTIONS, Correction, link_formula
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support import fake_sheets_format as fmt
from tests.support.fake_sheets import FakeSheets
from tests.support.google_env import FakeClock, FakeSheetsHuman, make_store
from tests.support.sheet_formulas import Grid, evaluate

BAD_SIRET = "73282932000075"
BAD_EMAIL = "pas-un-email.exemple.fr"


def company(name, **extra):
    return {"raison_sociale": name, "code_postal": "21000", "commune_insee": "21231", "departement": "21",
            "contact_nom": "Martin", "contact_prenom": "Léa", "contact_email": "lea@exemple.fr", **extra}


# ---- the pure part -------------------------------------------------------------------------------------------


def test_entries_leave_out_personal_values_and_the_tab_itself(schema):
    anomalies = [
        Anomaly("Entreprises", 3, "ENT-A", "SIRET", BAD_SIRET, f"Le SIRET « {BAD_SIRET} » n'est pas valide.", "erreur"),
        Anomaly("Entreprises", 4, "ENT-B", "Email du contact", BAD_EMAIL, f"« {BAD_EMAIL} » invalide.", "erreur"),
        Anomaly("Entreprises", 5, "ENT-C", "Nom du contact", "", "« Nom du contact » est obligatoire.", "erreur"),
        Anomaly(CORRECTIONS, 2, "COR-1", "Onglet", "", "?", "erreur"),
    ]
    entries = correction_entries(anomalies, schema)
    assert [e.row_id for e in entries] == ["ENT-A", "ENT-B", "ENT-C"]
    assert BAD_SIRET in entries[0].message and entries[1].message == PERSONAL
    assert entries[2].message == "« Nom du contact » est obligatoire."


def test_a_link_finds_its_cell_by_id_and_header_whatever_the_row_order():
    entry = Correction("Entreprises", "ENT-B", 3, "SIRET", "…", "erreur")
    headers = ["ID", "Raison sociale", "SIRET"]
    formula = link_formula(entry, headers, gid=42)
    grid = Grid({"Entreprises": [headers, ["ENT-A", "a", "1"], ["ENT-B", "b", "2"]]})
    assert evaluate(formula, grid, CORRECTIONS).url == "#gid=42&range=C3"
    grid = Grid({"Entreprises": [headers, ["ENT-B", "b", "2"], ["ENT-A", "a", "1"]]})
    assert evaluate(formula, grid, CORRECTIONS).url == "#gid=42&range=C2"
    local = link_formula(entry, headers, gid=None)
    assert evaluate(local, grid, CORRECTIONS).url == "#'Entreprises'!C2"


# ---- Google --------------------------------------------------------------------------------------------------


@pytest.fixture
def google(schema):
    fake = FakeSheets()
    key = fake.create_spreadsheet("Classeur de test")
    store = make_store(schema, fake, key, FakeClock())
    store.init()
    rows = store.append("Entreprises", [company("Alpha"), company("Bravo", siret=BAD_SIRET),
                                        company("Charlie", contact_email=BAD_EMAIL), company("Delta")])
    return fake, key, store, FakeSheetsHuman(fake, key), rows


def _tab_rows(human) -> list[dict[str, str]]:
    grid = human.grid(CORRECTIONS)
    return [dict(zip(grid[0], line + [""] * (len(grid[0]) - len(line)), strict=True)) for line in grid[1:]]


def _linked_value(fake, key, human, row_index: int) -> tuple[str, str]:
    """The value in the cell a row's link points at, evaluated on the spreadsheet as it is now."""
    col = human.grid(CORRECTIONS)[0].index("Aller à la case")
    link = fmt.link_at(fake, key, CORRECTIONS, row_index, col)
    gid, cell = link.url.removeprefix("#gid=").split("&range=")
    sheet = next(s for s in fake.book(key).sheets if s.sheet_id == int(gid))
    letters = "".join(c for c in cell if c.isalpha())
    number = int(cell[len(letters):])
    column = sum((ord(c) - 64) * 26 ** i for i, c in enumerate(reversed(letters))) - 1
    found = sheet.get(number - 1, column)
    return sheet.title, found.text if found else ""


def test_check_writes_one_row_per_anomaly_with_a_link_that_survives_a_sort(google, schema):
    fake, key, store, human, rows = google
    result = rewrite_corrections(store, SYSTEM_USER)
    assert result.ok and result.written >= 2
    written = _tab_rows(human)
    bad = next(i for i, r in enumerate(written, start=1)
               if r["Colonne"] == "SIRET" and r["ID de la ligne"] == rows[1].id)
    assert _linked_value(fake, key, human, bad) == ("Entreprises", BAD_SIRET)
    human.sort_rows("Entreprises", "Raison sociale", reverse=True)  # Delta, Charlie, Bravo, Alpha: Bravo moved
    assert human.grid("Entreprises")[3][1] == "Bravo"
    assert _linked_value(fake, key, human, bad) == ("Entreprises", BAD_SIRET)
    human.move_column("Entreprises", "SIRET", 5)
    assert _linked_value(fake, key, human, bad) == ("Entreprises", BAD_SIRET)
    rewrite_corrections(store, SYSTEM_USER)  # rewritten after the sort: recomputed, still right
    again = _tab_rows(human)
    bad = next(i for i, r in enumerate(again, start=1) if r["Colonne"] == "SIRET")
    assert _linked_value(fake, key, human, bad) == ("Entreprises", BAD_SIRET)


def test_the_tab_holds_no_personal_value(google):
    fake, key, store, human, rows = google
    rewrite_corrections(store, SYSTEM_USER)
    text = " ".join(" ".join(line) for line in human.grid(CORRECTIONS))
    assert BAD_EMAIL not in text and "Email du contact" in text


def test_the_tab_is_rewritten_not_appended(google):
    fake, key, store, human, rows = google
    rewrite_corrections(store, SYSTEM_USER)
    before = len(_tab_rows(human))
    fresh = store.read().get("Entreprises", rows[1].id)
    store.update("Entreprises", rows[1].id, {"siret": "73282932000074"}, fresh.fingerprint)
    result = rewrite_corrections(store, SYSTEM_USER)
    assert len(_tab_rows(human)) == before - 1 == result.written
    fake.reset_counts()
    rewrite_corrections(store, SYSTEM_USER)
    assert [k for k, _ in fake.log] == ["values.batchGet", "metadata", "values.batchGet", "batchUpdate"]


def test_a_role_without_the_quality_page_cannot_rewrite_it(google):
    from ecole_entreprise.domain.roles import COMITE, User

    fake, key, store, human, rows = google
    result = rewrite_corrections(store, User(email="comite@exemple.fr", role=COMITE))
    assert not result.ok and "Accès refusé" in result.message and human.grid(CORRECTIONS)[1:] == []


# ---- the local workbook --------------------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path, schema):
    path = tmp_path / "classeur.xlsx"
    store = WorkbookStore(schema, path)
    store.init()
    rows = store.append("Entreprises", [company("Alpha"), company("Bravo", siret=BAD_SIRET)])
    return path, store, rows


def _workbook_grid(path) -> tuple[Grid, openpyxl.Workbook]:
    book = openpyxl.load_workbook(path)
    return Grid({ws.title: [[c for c in line] for line in ws.iter_rows(values_only=True)]
                 for ws in book.worksheets}), book


def _local_linked_value(path, line: int) -> str:
    grid, book = _workbook_grid(path)
    ws = book[CORRECTIONS]
    col = [c.value for c in ws[1]].index("Aller à la case")
    link = evaluate(ws.cell(line, col + 1).value, grid, CORRECTIONS)
    sheet, cell = link.url.removeprefix("#").split("!")
    return book[sheet.strip("'")][cell].value


def test_check_sheet_writes_internal_links_in_the_workbook(local, monkeypatch, capsys):
    path, store, rows = local
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    assert main(["check", "--sheet"]) == 1
    assert "Onglet « À corriger » réécrit" in capsys.readouterr().out
    ws = openpyxl.load_workbook(path)[CORRECTIONS]
    headers = [c.value for c in ws[1]]
    line = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, headers.index("Colonne") + 1).value == "SIRET")
    assert ws.cell(line, headers.index("Aller à la case") + 1).value.startswith('=HYPERLINK("#\'Entreprises\'!"&')
    assert _local_linked_value(path, line) == BAD_SIRET
    book = openpyxl.load_workbook(path)  # a person sorts Entreprises: Bravo first
    sheet = book["Entreprises"]
    data = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    for offset, values in enumerate(reversed(data), start=2):
        for col, value in enumerate(values, start=1):
            sheet.cell(offset, col).value = value
    book.save(path)
    assert _local_linked_value(path, line) == BAD_SIRET


def test_the_quality_page_button_rewrites_the_tab(app_workbook, monkeypatch):
    from tests.support.apptest import ADMIN, app_store, open_page

    store = app_store()
    [row] = store.append("Entreprises", [company("Bouton", siret=BAD_SIRET)])
    at = open_page(monkeypatch, ADMIN, "pages/qualite.py")
    at.button(key="write_corrections").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("réécrit" in s.value for s in at.success)
    ws = openpyxl.load_workbook(app_workbook)[CORRECTIONS]
    assert any(c.value == row.id for line in ws.iter_rows(min_row=2) for c in line)
