"""`init` on the local workbook: create the file or add missing tabs and columns, laid out with openpyxl.

Moved out of workbook.py unchanged; WorkbookStore.init and WorkbookStore._create delegate here.
"""

from __future__ import annotations

import io

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..domain.schema import Field, TabSchema
from .base import InitReport, stamp_new
from .xlsx_io import write_atomic


def init_workbook(store) -> InitReport:
    """Create the file, or add missing tabs and columns at the end of an existing one; report drift."""
    with store._errors(), store._exclusive():
        if not store.path.exists():
            return create_workbook(store)
        store._refresh()
        report = _drift(store)
        if report.created_tabs or report.missing_columns:
            _extend(store, report)
        return report


def create_workbook(store) -> InitReport:
    book = openpyxl.Workbook()
    book.remove(book.active)
    report = InitReport(created_tabs=list(store.schema.tabs), notes=[f"Classeur créé : {store.path}"])
    for tab in store.schema.tabs.values():
        _new_sheet(store, book, tab, report)
    _save(store, book)
    return report


def _drift(store) -> InitReport:
    report = InitReport()
    for tab in store.schema.tabs.values():
        sheet = store._package.sheet(tab.name)
        if sheet is None:
            report.created_tabs.append(tab.name)
            continue
        headers = store._headers(sheet)
        missing = [h for h in tab.headers if h not in headers]
        extra = [h for h in headers if h not in tab.by_header()]
        if missing:
            report.missing_columns[tab.name] = missing
        if extra:
            report.extra_columns[tab.name] = extra
    return report


def _extend(store, report: InitReport) -> None:
    book = openpyxl.load_workbook(store.path)
    for name, headers in report.missing_columns.items():
        tab = store.schema.tab(name)
        sheet = book[store._package.title(name)]
        last = max((c.column for c in sheet[1] if str(c.value or "").strip()), default=0)
        wanted = [f for f in tab.fields if f.header in headers]
        _lay_out(sheet, wanted, last + 1, report.notes)
    for name in report.created_tabs:
        _new_sheet(store, book, store.schema.tab(name), report)
    _save(store, book)


def _new_sheet(store, book, tab: TabSchema, report: InitReport) -> None:
    sheet = book.create_sheet(tab.name)
    _lay_out(sheet, list(tab.fields), 1, report.notes)
    sheet.freeze_panes = "A2"
    for record in _seed_records(store, tab):
        row = sheet.max_row + 1
        for col, f in enumerate(tab.fields, start=1):
            _put_text(sheet.cell(row, col), record[f.name])


def _seed_records(store, tab: TabSchema) -> list[dict[str, str]]:
    if tab.name == "Listes":
        raw = [{"liste": name, "valeur": value, "ordre": str(order)}
               for name, values in store.schema.lists.items() for order, value in enumerate(values, start=1)]
    elif tab.name == "Parametres":
        raw = [{"cle": key, "valeur": str(v.get("valeur", "")) if isinstance(v, dict) else str(v),
                "description": str(v.get("description", "")) if isinstance(v, dict) else ""}
               for key, v in tab.defaults.items()]
    else:
        raw = []
    return [stamp_new(tab, record) for record in raw]


def _save(store, book) -> None:
    buffer = io.BytesIO()
    book.save(buffer)
    write_atomic(store.path, buffer.getvalue())
    store._forget()


# ---- openpyxl layout helpers (creation and init only) ---------------------------------------------------------


def _put_text(cell, text: str) -> None:
    cell.value = text
    cell.data_type = "s"  # openpyxl would turn "=…" into a formula


def _lay_out(sheet, fields: list[Field], first_col: int, notes: list[str]) -> None:
    """Bold headers from column `first_col`, a sensible width, a dropdown on choice columns."""
    for col, f in enumerate(fields, start=first_col):
        cell = sheet.cell(1, col)
        _put_text(cell, f.header)
        cell.font = Font(bold=True)
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = max(12, min(40, len(f.header) + 4))
        validation = _dropdown(f)
        if validation is not None:
            validation.add(f"{letter}2:{letter}1048576")
            sheet.add_data_validation(validation)
        elif f.choices:
            notes.append(f"Pas de liste déroulante pour « {f.header} » (liste trop longue pour Excel).")


def _dropdown(f: Field) -> DataValidation | None:
    choices = ("oui", "non") if f.type == "bool" else f.choices
    if f.type not in ("bool", "choice", "multichoice") or not choices:
        return None
    joined = ",".join(choices)
    if len(joined) > 250 or any("," in c or '"' in c for c in choices):
        return None
    multi = f.type == "multichoice"
    return DataValidation(
        type="list", formula1=f'"{joined}"', allow_blank=True, showDropDown=False,
        showErrorMessage=not multi, errorStyle="warning", errorTitle="Valeur hors liste",
        error=f"« {f.header} » attend une valeur de la liste.",
        showInputMessage=multi, promptTitle=f.header[:32] if multi else None,
        prompt="Plusieurs valeurs possibles : séparez-les par « ; »." if multi else None,
    )
