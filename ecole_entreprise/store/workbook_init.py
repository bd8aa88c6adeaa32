"""`init` on the local workbook: the layout of sheet_layout.py rendered with openpyxl.

Creates the file or the missing tabs and columns (at the end), then brings every tab to the layout: text format
("@") on every column, dropdowns reading the Listes tab, a comment on each header cell, widths that fit the
header, frozen bold header row, conditional formats, an autofilter, protections. Nothing a person typed changes;
the file is rewritten only when something was missing, and the report says what changed.

Mechanisms of the workbook where Google has others: the "warning-only protection" of the header row, the IDs and
the timestamps is a data validation that always warns (Excel and LibreOffice ask before accepting a change);
the Journal is a protected sheet (no password: Révision/Outils > Ôter la protection lifts it); there are no
filter views in a workbook (the autofilter is the basic filter).
"""

from __future__ import annotations

import io

import openpyxl
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from ..domain.schema import Schema, TabSchema
from .base import InitReport, SchemaMismatch
from .cells import column_letter
from .corrections import CORRECTIONS, Correction, link_formula, records
from .sheet_layout import (
    LISTES,
    PROTECTION_GENERATED,
    PROTECTION_HEADER,
    PROTECTION_ID,
    Column,
    TabLayout,
    build_layout,
    drift,
    rename_notes,
    seed_note,
    seed_records,
)
from .sheet_rules import ERROR
from .xlsx_io import write_atomic

TEXT = "@"
LAST_ROW = 1048576
COLOURS = {ERROR: "F4CCCC", "missing": "FFF2CC"}  # light red: invalid; light yellow: required and empty
AUTHOR = "Rencontres École–Entreprise"
GUARD_TITLE = "Case gérée par l'application"


def init_workbook(store) -> InitReport:
    """Create the file, or add what is missing to an existing one and lay out every tab; report what changed."""
    with store._errors(), store._exclusive():
        if not store.path.exists():
            return create_workbook(store)
        book = openpyxl.load_workbook(store.path)
        report = InitReport()
        if lay_out_book(store.schema, book, report):
            _save(store, book)
        return report


def create_workbook(store) -> InitReport:
    book = openpyxl.Workbook()
    book.remove(book.active)
    report = InitReport(notes=[f"Classeur créé : {store.path}"])
    lay_out_book(store.schema, book, report)
    report.applied.clear()  # a new file: everything is new, the created tabs say it
    _save(store, book)
    return report


def _save(store, book) -> None:
    buffer = io.BytesIO()
    book.save(buffer)
    write_atomic(store.path, buffer.getvalue())
    store._forget()


# ---- structure: tabs, columns, seeds -------------------------------------------------------------------------


def lay_out_book(schema: Schema, book, report: InitReport) -> bool:
    """Bring `book` to the schema and the layout; True when anything changed."""
    sheets = {tab.name: _structure(schema, book, tab, report) for tab in schema.tabs.values()}
    listes = _texts(sheets[LISTES]) if LISTES in sheets else []
    headers = {name: [str(c.value or "").strip() for c in ws[1]] for name, ws in sheets.items()}
    layouts, notes = build_layout(schema, headers, listes)
    report.notes += notes
    for name, ws in sheets.items():
        changes = _format(ws, layouts[name])
        if changes and name not in report.created_tabs:
            report.applied.append(f"{name} : {', '.join(changes)}")
    return bool(report.created_tabs or report.missing_columns or report.applied)


def _structure(schema: Schema, book, tab: TabSchema, report: InitReport):
    ws = next((s for s in book.worksheets if s.title.strip().casefold() == tab.name.casefold()), None)
    if ws is None:
        ws = book.create_sheet(tab.name)
        for col, header in enumerate(tab.headers, start=1):
            _put_text(ws.cell(1, col), header)
        seeds = seed_records(schema, tab)
        for line, record in enumerate(seeds, start=2):
            for col, f in enumerate(tab.fields, start=1):
                _put_text(ws.cell(line, col), record[f.name])
        report.created_tabs.append(tab.name)
        return ws
    headers = [str(c.value or "").strip() for c in ws[1]]
    missing, extra = drift(tab, headers)
    if extra:
        report.extra_columns[tab.name] = extra
    report.notes += rename_notes(tab, headers)
    if missing:
        report.missing_columns[tab.name] = missing
        last = max((i for i, h in enumerate(headers, start=1) if h), default=0)
        for offset, header in enumerate(missing, start=1):
            _put_text(ws.cell(1, last + offset), header)
    if tab.name in (LISTES, "Parametres") and ws.max_row < 2:
        seeds = seed_records(schema, tab)
        position = {h: i for i, h in enumerate(str(c.value or "").strip() for c in ws[1])}
        for line, record in enumerate(seeds, start=2):
            for f in tab.fields:
                _put_text(ws.cell(line, position[f.header] + 1), record[f.name])
        report.notes.append(seed_note(tab, len(seeds)))
    return ws


def _texts(ws) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]


def _put_text(cell, text: str) -> None:
    cell.value = text
    cell.data_type = "s"  # openpyxl would turn "=…" into a formula


# ---- the layout of one tab: each step returns a French label when it changed something ------------------------


def _format(ws, layout: TabLayout) -> list[str]:
    chosen = {letter for letter, d in ws.column_dimensions.items() if d.customWidth}  # before we touch any
    steps = (_frozen_bold_header, _text_format, _comments, _dropdowns, _conditional, _filter, _protect)
    labels = [_widths(ws, layout, chosen)] + [step(ws, layout) for step in steps]
    return [label for label in labels if label]


def _frozen_bold_header(ws, layout: TabLayout) -> str:
    changed = ws.freeze_panes != "A2"
    ws.freeze_panes = "A2"
    for col in range(1, layout.width + 1):
        cell = ws.cell(1, col)
        if cell.value not in (None, "") and not cell.font.bold:
            cell.font = Font(bold=True)
            changed = True
    return "en-tête figé et en gras" if changed else ""


def _text_format(ws, layout: TabLayout) -> str:
    """"@" on the column (cells a person creates) and on every existing cell below the header."""
    changed = 0
    for col in range(1, layout.width + 1):
        letter = column_letter(col - 1)
        dimension = ws.column_dimensions[letter]
        touched = dimension.number_format != TEXT
        dimension.number_format = TEXT
        for (cell,) in ws.iter_rows(min_row=2, max_row=ws.max_row, min_col=col, max_col=col):
            if cell.value is not None and cell.number_format != TEXT:  # empty cells take the column's
                cell.number_format = TEXT
                touched = True
        changed += touched
    return f"format texte sur {changed} colonne(s)" if changed else ""


def _widths(ws, layout: TabLayout, chosen: set[str]) -> str:
    """Only columns still at the default width: a width a person (or an earlier init) chose is kept."""
    changed = 0
    for column in layout.columns:
        dimension = ws.column_dimensions[column.letter]
        if column.letter not in chosen:
            dimension.width = column.width
            changed += 1
    return f"largeur de {changed} colonne(s)" if changed else ""


def _comments(ws, layout: TabLayout) -> str:
    changed = 0
    for column in layout.columns:
        cell = ws.cell(1, column.index + 1)
        if column.note and (cell.comment is None or cell.comment.text != column.note):
            cell.comment = Comment(column.note, AUTHOR, width=320, height=140)
            changed += 1
    return f"note d'en-tête sur {changed} colonne(s)" if changed else ""


def _ours(validation: DataValidation) -> bool:
    return validation.errorTitle in ("Valeur hors liste", GUARD_TITLE) or validation.promptTitle == GUARD_TITLE


def _dropdowns(ws, layout: TabLayout) -> str:
    """Our validations (dropdowns and guards) rebuilt; a person's own validations are left alone."""
    before = sorted(_signature(v) for v in ws.data_validations.dataValidation if _ours(v))
    kept = [v for v in ws.data_validations.dataValidation if not _ours(v)]
    ws.data_validations.dataValidation = kept
    for column in layout.columns:
        validation = _dropdown(column)
        if validation is not None:
            validation.add(f"{column.letter}2:{column.letter}{LAST_ROW}")
            ws.add_data_validation(validation)
    for validation in _guards(layout):
        ws.add_data_validation(validation)
    after = sorted(_signature(v) for v in ws.data_validations.dataValidation if _ours(v))
    return "listes déroulantes et avertissements" if before != after else ""


def _signature(v: DataValidation) -> tuple:
    return (str(v.sqref), v.type or "", v.formula1 or "", v.errorStyle or "", v.prompt or "", v.error or "")


def _dropdown(column: Column) -> DataValidation | None:
    dropdown = column.dropdown
    if dropdown is None:
        return None
    if dropdown.source is not None:
        formula = dropdown.source.a1()
    else:
        joined = ",".join(dropdown.values)
        if len(joined) > 250 or any("," in c or '"' in c for c in dropdown.values):
            return None
        formula = f'"{joined}"'
    header = column.field.header
    return DataValidation(
        type="list", formula1=formula, allow_blank=True, showDropDown=False,
        showErrorMessage=True, errorStyle="stop" if dropdown.strict else "warning",
        errorTitle="Valeur hors liste", error=f"« {header} » attend une valeur de la liste (onglet Listes).",
        showInputMessage=bool(dropdown.message), promptTitle=header[:32] if dropdown.message else None,
        prompt=dropdown.message[:255] if dropdown.message else None,
    )


def _guards(layout: TabLayout) -> list[DataValidation]:
    """The workbook's warning-only protection: any change to these cells asks "continuer ?"."""
    if layout.locked:
        return []
    message = PROTECTION_GENERATED if layout.generated else None
    header = DataValidation(type="custom", formula1="FALSE", showErrorMessage=True, errorStyle="warning",
                            errorTitle=GUARD_TITLE, error=(message or PROTECTION_HEADER)[:225])
    header.add(f"A1:{column_letter(layout.width - 1)}1")
    guards = [header]
    columns = [c for c in layout.columns if c.protected]
    if layout.generated:
        body = DataValidation(type="custom", formula1="FALSE", showErrorMessage=True, errorStyle="warning",
                              errorTitle=GUARD_TITLE, error=PROTECTION_GENERATED[:225])
        body.add(f"A2:{column_letter(layout.width - 1)}{LAST_ROW}")
        return guards + [body]
    if columns:
        cells = DataValidation(type="custom", formula1="FALSE", showErrorMessage=True, errorStyle="warning",
                               errorTitle=GUARD_TITLE, error=PROTECTION_ID[:225])
        for column in columns:
            cells.add(f"{column.letter}2:{column.letter}{LAST_ROW}")
        guards.append(cells)
    return guards


def _fill_of(rule) -> str:
    fill = rule.dxf.fill if rule.dxf is not None else None
    colour = getattr(getattr(fill, "fgColor", None), "rgb", "") or ""
    return str(colour)[-6:]


def _conditional(ws, layout: TabLayout) -> str:
    wanted = [(f"{c.letter}2:{c.letter}{LAST_ROW}", r.formula[1:], COLOURS[r.kind])
              for c in layout.columns for r in c.rules]
    current = []
    formats = ws.conditional_formatting
    kept = type(formats)()
    for entry in formats:
        for rule in entry.rules:
            if _fill_of(rule) in COLOURS.values():
                current.append((str(entry.sqref), (rule.formula or [""])[0], _fill_of(rule)))
            else:
                kept.add(str(entry.sqref), rule)
    if sorted(current) == sorted(wanted):
        return ""
    for sqref, formula, colour in wanted:
        fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
        kept.add(sqref, FormulaRule(formula=[formula], fill=fill))
    ws.conditional_formatting = kept
    return f"mise en forme conditionnelle ({len(wanted)} règles)"


def _filter(ws, layout: TabLayout) -> str:
    if ws.auto_filter.ref:
        return ""
    ws.auto_filter.ref = f"A1:{column_letter(layout.width - 1)}{max(ws.max_row, 2)}"
    return "filtre"


def _protect(ws, layout: TabLayout) -> str:
    if not layout.locked or ws.protection.sheet:
        return ""
    ws.protection.sheet = True  # no password: an admin lifts it from the Review/Tools menu
    ws.protection.autoFilter = False  # filtering and sorting stay possible
    ws.protection.sort = False
    return "feuille protégée (seule l'application y écrit)"


# ---- the « À corriger » tab ------------------------------------------------------------------------------------


def write_corrections(store, entries: list[Correction]) -> int:
    """Rewrite the tab (openpyxl, under the store's lock, like init); links as HYPERLINK formulas."""
    with store._errors(), store._exclusive():
        book = openpyxl.load_workbook(store.path)
        ws = next((s for s in book.worksheets if s.title.strip().casefold() == CORRECTIONS.casefold()), None)
        if ws is None:
            raise SchemaMismatch(CORRECTIONS)
        own = [str(c.value or "").strip() for c in ws[1]]
        fields = {f.header: f.name for f in store.schema.tab(CORRECTIONS).fields}
        missing = next((h for h in fields if h not in own), None)
        if missing:
            raise SchemaMismatch(CORRECTIONS, missing)
        headers = {s.title.strip(): [str(c.value or "").strip() for c in s[1]] for s in book.worksheets}
        if ws.max_row > 1:
            ws.delete_rows(2, ws.max_row - 1)
        for line, (entry, record) in enumerate(zip(entries, records(store.schema, entries), strict=True), start=2):
            for col, header in enumerate(own, start=1):
                name = fields.get(header)
                if name == "lien":
                    ws.cell(line, col).value = link_formula(entry, headers.get(entry.tab, []), None)
                elif name:
                    _put_text(ws.cell(line, col), record[name])
        _save(store, book)
    return len(entries)
