"""The local workbook as a place to work by hand, after `init` (and `demo`): text format, dropdowns from Listes,
header comments, widths, conditional formats, guards and the protected Journal; `init` changes no value."""

from __future__ import annotations

import re
from datetime import datetime

import openpyxl
import pytest

from ecole_entreprise.services.census.demo import load_demo
from ecole_entreprise.store.cells import column_letter
from ecole_entreprise.store.workbook import WorkbookStore
from ecole_entreprise.store.workbook_init import COLOURS, TEXT
from tests.support.sheet_formulas import Grid, rule_applies

TEXT_LIKE = ("id", "text", "email", "phone", "siret", "uai", "postcode", "commune", "naf", "date", "datetime",
             "time", "choice", "multichoice", "ref", "bool", "int")


@pytest.fixture
def path(tmp_path):
    return tmp_path / "classeur.xlsx"


@pytest.fixture
def store(schema, path):
    store = WorkbookStore(schema, path)
    store.init()
    return store


@pytest.fixture
def demo(store):
    load_demo(store)
    return store


def _headers(ws) -> list[str]:
    return [str(c.value or "") for c in ws[1]]


def type_in_workbook(path, tab: str, row: int, header: str, text: str) -> None:
    """A person types `text` into a cell in Excel or LibreOffice (French locale), then saves.

    Model: a cell takes its own format, or its column's when it did not exist yet; in a text ("@") cell the
    typing stays text; in a General cell digits become a number (the leading 0 and "+" lost) and J/M/AAAA a date.
    """
    book = openpyxl.load_workbook(path)
    ws = book[tab]
    col = _headers(ws).index(header) + 1
    cell = ws.cell(row, col)
    fmt = cell.number_format if cell.has_style else ws.column_dimensions[column_letter(col - 1)].number_format
    french_date = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if fmt == TEXT:
        cell.value = text
    elif re.fullmatch(r"[+-]?\d+", text):
        cell.value = float(text)
    elif french_date:
        day, month, year = (int(g) for g in french_date.groups())
        cell.value = datetime(year, month, day)
    else:
        cell.value = text
    cell.number_format = fmt
    book.save(path)


def test_after_the_init_and_demo_commands_the_workbook_shows_its_rules(path, schema, monkeypatch, capsys):
    """The Must-show, opened by openpyxl: "@" on the text-like columns of Entreprises and Personnels, data
    validations whose formula refers to Listes, conditional formatting on both, a comment on every header cell,
    the Journal sheet protected."""
    from ecole_entreprise.cli import main

    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    assert main(["init"]) == 0 and main(["demo"]) == 0
    capsys.readouterr()
    book = openpyxl.load_workbook(path)
    for name in ("Entreprises", "Personnels"):
        ws, tab = book[name], schema.tab(name)
        headers = _headers(ws)
        assert ws.max_row > 50, name  # the demo's rows are there
        for f in tab.fields:  # every column holds text (codes, phones, dates… all are text-like)
            col = headers.index(f.header) + 1
            assert f.type in TEXT_LIKE and ws.column_dimensions[column_letter(col - 1)].number_format == TEXT, f.header
            assert all(c.number_format == TEXT for (c,) in ws.iter_rows(min_row=2, min_col=col, max_col=col)
                       if c.value is not None), f.header
        from_listes = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation
                       if dv.type == "list" and dv.formula1.startswith("'Listes'!$")}
        assert from_listes == {f"{column_letter(headers.index(f.header))}2" for f in tab.fields
                               if f.type in ("choice", "multichoice")}, name
        rules = [(str(cf.sqref), rule.formula[0]) for cf in ws.conditional_formatting for rule in cf.rules]
        siret_or_uai = "SIRET" if name == "Entreprises" else "UAI établissement"
        letter = column_letter(headers.index(siret_or_uai))
        assert any(sqref.startswith(f"{letter}2:") for sqref, _ in rules) and len(rules) >= 15, name
        assert ws.freeze_panes == "A2" and all(c.font.bold for c in ws[1] if c.value) and ws.auto_filter.ref
    for ws in book.worksheets:
        assert all(c.comment is not None and c.comment.text.strip() for c in ws[1] if c.value), ws.title
        assert len([c for c in ws[1] if c.value]) == len(schema.tab(ws.title).fields), ws.title
    assert book["Journal"].protection.sheet is True
    assert not any(book[name].protection.sheet for name in schema.tab_names if name != "Journal")


def test_a_person_typing_awkward_values_reads_back_exactly(store, path):
    [row] = store.append("Entreprises", [{"raison_sociale": "Saisie à la main", "code_postal": "21000",
                                          "commune_insee": "21231", "departement": "21", "contact_nom": "Martin",
                                          "contact_prenom": "Léa", "contact_email": "lea@exemple.fr"}])
    typed = {"Téléphone du contact": "0612345678", "Code postal": "01000", "SIRET": "73282932000074",
             "À informer avant le": "04/03/2026", "Notes": "+33380448400"}
    for header, text in typed.items():  # into cells the app wrote (or left empty) on its row
        type_in_workbook(path, "Entreprises", row.row_number, header, text)
    for header, text in typed.items():  # and into a new row below, typed from scratch
        type_in_workbook(path, "Entreprises", row.row_number + 1, header, text)
    type_in_workbook(path, "Entreprises", row.row_number + 1, "ID", "ENT-HUMAN0001")
    snapshot = WorkbookStore(store.schema, path).read()
    by_header = store.schema.tab("Entreprises").by_header()
    for row_id in (row.id, "ENT-HUMAN0001"):
        got = snapshot.get("Entreprises", row_id)
        assert {h: got[by_header[h].name] for h in typed} == typed


def test_without_the_text_format_the_same_typing_is_mangled(tmp_path, schema):
    """The control: a column left in the General format (as before this layout) loses the leading 0."""
    path = tmp_path / "brut.xlsx"
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Entreprises"
    ws.append(schema.tab("Entreprises").headers)
    book.save(path)
    type_in_workbook(path, "Entreprises", 2, "Téléphone du contact", "0612345678")
    type_in_workbook(path, "Entreprises", 2, "ID", "ENT-HUMAN0001")
    row = WorkbookStore(schema, path).read().get("Entreprises", "ENT-HUMAN0001")
    assert row["contact_telephone"] == "612345678"


def test_app_writes_keep_the_column_text_format(store, path):
    [row] = store.append("Entreprises", [{"raison_sociale": "Alpha", "contact_email": "a@exemple.fr"}])
    store.update("Entreprises", row.id, {"contact_telephone": "+33380448400"}, row.fingerprint)
    ws = openpyxl.load_workbook(path)["Entreprises"]
    headers = _headers(ws)
    for header in ("Raison sociale", "Téléphone du contact", "ID"):
        assert ws.cell(row.row_number, headers.index(header) + 1).number_format == TEXT, header


def test_editing_listes_changes_the_dropdown(store, path):
    book = openpyxl.load_workbook(path)
    listes, entreprises = book["Listes"], book["Entreprises"]
    letter = column_letter(_headers(entreprises).index("Taille"))
    [dv] = [dv for dv in entreprises.data_validations.dataValidation if str(dv.sqref).startswith(f"{letter}2")]
    first, last = (int(n) for n in re.findall(r"\$(\d+)", dv.formula1))
    value_col = _headers(listes).index("Valeur") + 1
    listes.cell(first, value_col).value = "TPE (moins de 10)"
    book.save(path)  # a person edits Listes; no init in between
    book = openpyxl.load_workbook(path)
    [dv] = [dv for dv in book["Entreprises"].data_validations.dataValidation
            if str(dv.sqref).startswith(f"{letter}2")]
    sheet, cells = dv.formula1.split("!")
    start, end = cells.replace("$", "").split(":")
    offered = [c.value for (c,) in book["Listes"][start:end]]
    assert sheet == "'Listes'"
    assert offered[0] == "TPE (moins de 10)" and len(offered) == last - first + 1
    assert dv.errorStyle == "stop"  # strict: a value outside Listes is refused


def test_multichoice_dropdowns_are_advisory_with_a_hint(store, path):
    ws = openpyxl.load_workbook(path)["Entreprises"]
    letter = column_letter(_headers(ws).index("Thématiques"))
    [dv] = [dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith(f"{letter}2")]
    assert dv.errorStyle == "warning" and "séparées par « ; »" in dv.prompt and dv.showInputMessage


def test_ids_timestamps_and_headers_warn_before_a_change(store, path):
    ws = openpyxl.load_workbook(path)["Entreprises"]
    guards = [dv for dv in ws.data_validations.dataValidation if dv.type == "custom"]
    covered = " ".join(str(dv.sqref) for dv in guards)
    headers = _headers(ws)
    for header in ("ID", "Créé le", "Modifié le"):
        assert f"{column_letter(headers.index(header))}2:" in covered
    assert "A1:" in covered and all(dv.errorStyle == "warning" and dv.formula1 == "FALSE" for dv in guards)
    corrections = openpyxl.load_workbook(path)["À corriger"]  # rewritten by check --sheet: every cell warns
    covered = " ".join(str(dv.sqref) for dv in corrections.data_validations.dataValidation if dv.type == "custom")
    assert "A1:" in covered and "A2:" in covered


def test_the_conditional_rules_colour_the_mistakes_a_person_typed(demo, path):
    ws = openpyxl.load_workbook(path)["Entreprises"]
    headers = _headers(ws)
    siret = headers.index("SIRET")
    [(formula, colour)] = [(r.formula[0], r.dxf.fill.fgColor.rgb[-6:]) for cf in ws.conditional_formatting
                           for r in cf.rules if str(cf.sqref).startswith(f"{column_letter(siret)}2:")]
    assert colour == COLOURS["error"]
    rows = [[c.value or "" for c in line] for line in ws.iter_rows(max_row=3)]
    good = list(rows[1])
    bad = list(rows[1])
    bad[siret] = "73282932000075"
    grid = Grid({"Entreprises": [headers, good, bad]})
    assert not rule_applies(formula, grid, "Entreprises", (1, siret), (1, siret))
    assert rule_applies(formula, grid, "Entreprises", (2, siret), (1, siret))


def test_init_on_an_existing_workbook_changes_no_value_and_says_what_it_laid_out(demo, path, schema):
    book = openpyxl.load_workbook(path)  # the layout of an older version: no comments, no rules, no guards
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.comment = None
        ws.conditional_formatting = type(ws.conditional_formatting)()
        ws.data_validations.dataValidation = []
        ws.protection.sheet = False
    book["Entreprises"].column_dimensions["Z"].width = 55  # a width a person chose
    book.save(path)
    before = WorkbookStore(schema, path).read()
    report = demo.init()
    after = WorkbookStore(schema, path).read()
    for name in schema.tab_names:
        assert [(r.id, r.values, r.extra) for r in after.rows(name)] == \
            [(r.id, r.values, r.extra) for r in before.rows(name)], name
    assert not report.created_tabs and not report.drift
    entreprises = next(line for line in report.applied if line.startswith("Entreprises :"))
    assert "note d'en-tête" in entreprises and "mise en forme conditionnelle" in entreprises
    assert any(line.startswith("Journal :") and "protégée" in line for line in report.applied)
    assert openpyxl.load_workbook(path)["Entreprises"].column_dimensions["Z"].width == 55


def test_a_second_init_rewrites_nothing(store, path):
    stamp = path.stat().st_mtime_ns, path.read_bytes()
    report = store.init()
    assert report.applied == [] and not report.created_tabs and not report.notes
    assert (path.stat().st_mtime_ns, path.read_bytes()) == stamp


def test_a_persons_own_validation_and_format_survive_init(store, path):
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.load_workbook(path)
    ws = book["Entreprises"]
    mine = DataValidation(type="whole", operator="between", formula1="0", formula2="9")
    mine.add("AF2:AF10")
    ws.add_data_validation(mine)
    ws.conditional_formatting.add("AF2:AF10", CellIsRule(operator="greaterThan", formula=["5"],
                                                         fill=PatternFill(start_color="00FF00", end_color="00FF00",
                                                                          fill_type="solid")))
    book.save(path)
    store.init()
    ws = openpyxl.load_workbook(path)["Entreprises"]
    assert any(str(dv.sqref) == "AF2:AF10" for dv in ws.data_validations.dataValidation)
    assert any(str(cf.sqref) == "AF2:AF10" for cf in ws.conditional_formatting)


def test_a_person_typing_in_personnels_reads_back_exactly(store, path):
    from datetime import date

    from ecole_entreprise.domain.values import parse_date

    typed = {"ID": "PER-HUMAN0001", "Nom": "Martin", "Prénom": "Léa", "UAI établissement": "0210015C",
             "Code postal": "01000", "Téléphone": "+33380448400", "À informer avant le": "04/03/2026",
             "Notes": "0612345678"}
    for header, text in typed.items():
        type_in_workbook(path, "Personnels", 2, header, text)
    got = WorkbookStore(store.schema, path).read().get("Personnels", "PER-HUMAN0001")
    by_header = store.schema.tab("Personnels").by_header()
    assert {h: got[by_header[h].name] for h in typed} == typed
    assert parse_date(got["informer_avant"]) == date(2026, 3, 4)


def test_columns_added_by_init_get_the_whole_layout(path, schema):
    """An older workbook whose Entreprises tab lacks SIRET and Notes: init adds them at the end, bold, with a
    comment, in "@", sized, with the SIRET rule at its new place; the person's row is unchanged."""
    older = [h for h in schema.tab("Entreprises").headers if h not in ("SIRET", "Notes")]
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Entreprises"
    ws.append(older)
    ws.append(["ENT-HUMAN0001", "Alpha"])
    book.save(path)
    report = WorkbookStore(schema, path).init()
    assert report.missing_columns == {"Entreprises": ["SIRET", "Notes"]}
    ws = openpyxl.load_workbook(path)["Entreprises"]
    assert _headers(ws) == [*older, "SIRET", "Notes"] and ws.freeze_panes == "A2"
    assert [ws.cell(2, 1).value, ws.cell(2, 2).value] == ["ENT-HUMAN0001", "Alpha"]
    for col in (len(older) + 1, len(older) + 2):
        letter = column_letter(col - 1)
        cell = ws.cell(1, col)
        assert cell.font.bold and cell.comment is not None and cell.comment.text
        assert ws.column_dimensions[letter].number_format == TEXT and ws.column_dimensions[letter].width > 10
    siret = column_letter(len(older))
    assert "14 chiffres" in ws.cell(1, len(older) + 1).comment.text
    assert any(str(cf.sqref).startswith(f"{siret}2:") for cf in ws.conditional_formatting)
    type_in_workbook(path, "Entreprises", 2, "SIRET", "73282932000074")
    assert WorkbookStore(schema, path).read().get("Entreprises", "ENT-HUMAN0001")["siret"] == "73282932000074"


def test_widths_fit_the_header_and_the_longest_choice(store, path, schema):
    book = openpyxl.load_workbook(path)
    for name in ("Entreprises", "Personnels", "À corriger"):
        ws, tab = book[name], schema.tab(name)
        headers = _headers(ws)
        for f in tab.fields:
            width = ws.column_dimensions[column_letter(headers.index(f.header))].width
            assert width >= min(len(f.header) + 2, 40), (name, f.header)
            if f.type == "choice":
                assert width >= max(len(c) for c in f.choices), (name, f.header)
    corrections = book["À corriger"]
    problem = column_letter(_headers(corrections).index("Problème"))
    assert corrections.column_dimensions[problem].width >= 40


def test_an_unknown_reference_is_coloured(demo, path):
    book = openpyxl.load_workbook(path)
    ws = book["Rencontres"]
    headers = _headers(ws)
    col = headers.index("ID entreprise")
    [formula] = [r.formula[0] for cf in ws.conditional_formatting for r in cf.rules
                 if str(cf.sqref).startswith(f"{column_letter(col)}2:") and "INDIRECT" in r.formula[0]]
    assert "INDIRECT(\"'Entreprises'!$A:$A\")" in formula
    grid = Grid({s.title: [list(line) for line in s.iter_rows(values_only=True)] for s in book.worksheets})
    rows = grid.cells["Rencontres"]
    known = rows[1][col]
    assert known and not rule_applies(formula, grid, "Rencontres", (1, col), (1, col))
    rows[1] = list(rows[1])
    rows[1][col] = "ENT-INCONNU9"
    assert rule_applies(formula, grid, "Rencontres", (1, col), (1, col))
