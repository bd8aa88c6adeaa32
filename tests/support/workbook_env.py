"""StoreEnv for the local workbook: a person edits the .xlsx with openpyxl, as with Excel or LibreOffice.

Each edit loads the file, changes it and saves it in place, bypassing the store's lock, as a spreadsheet
program would. `grid` converts cells to text on its own (not with the adapter's reader), so it is an
independent view of the file.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import openpyxl

from ecole_entreprise.domain.schema import Schema
from ecole_entreprise.store.workbook import WorkbookStore
from tests.support import StoreEnv


def cell_text(value) -> str:
    """What a person reads in a cell, in the app's text conventions."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == time(0) else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value)


def set_text(cell, value: str) -> None:
    """Typed text stays text (a person typing into a text column), even when it starts with "="."""
    cell.value = value if value != "" else None
    if value:
        cell.data_type = "s"


class WorkbookHuman:
    """A person editing the workbook directly (HumanEditor protocol)."""

    def __init__(self, path: Path, schema: Schema):
        self.path, self.schema = path, schema

    def _open(self):
        if not self.path.exists():  # a person can only open a workbook the app has created
            WorkbookStore(self.schema, self.path).init()
        return openpyxl.load_workbook(self.path)

    def _edit(self, tab: str, change) -> None:
        book = self._open()
        change(book[tab])
        book.save(self.path)

    @staticmethod
    def _matrix(sheet) -> list[list]:
        return [list(row) for row in sheet.iter_rows(values_only=True)]

    @staticmethod
    def _column(sheet, header: str) -> int:
        for cell in sheet[1]:
            if cell_text(cell.value).strip() == header:
                return cell.column
        raise KeyError(header)

    @staticmethod
    def _rewrite(sheet, matrix: list[list]) -> None:
        """Put values back (keeping each value's type), clearing what is left below and to the right."""
        width = max([len(r) for r in matrix] + [sheet.max_column])
        height = max(len(matrix), sheet.max_row)
        for r in range(height):
            row = matrix[r] if r < len(matrix) else []
            for c in range(width):
                value = row[c] if c < len(row) else None
                cell = sheet.cell(r + 1, c + 1)
                cell.value = value
                if isinstance(value, str) and value:
                    cell.data_type = "s"

    def grid(self, tab: str) -> list[list[str]]:
        book = self._open()
        rows = [[cell_text(v) for v in row] for row in book[tab].iter_rows(values_only=True)]
        while rows and not any(rows[-1]):
            rows.pop()
        return rows

    def set_cell(self, tab: str, row_number: int, header: str, value: str) -> None:
        self._edit(tab, lambda s: set_text(s.cell(row_number, self._column(s, header)), value))

    def insert_row(self, tab: str, row_number: int, cells: list[str]) -> None:
        def change(sheet):
            sheet.insert_rows(row_number)
            for col, value in enumerate(cells, start=1):
                set_text(sheet.cell(row_number, col), value)
        self._edit(tab, change)

    def delete_row(self, tab: str, row_number: int) -> None:
        self._edit(tab, lambda s: s.delete_rows(row_number))

    def sort_rows(self, tab: str, header: str, reverse: bool = False) -> None:
        def change(sheet):
            col = self._column(sheet, header) - 1
            matrix = self._matrix(sheet)
            data = [r for r in matrix[1:] if any(v not in (None, "") for v in r)]
            data.sort(key=lambda r: cell_text(r[col] if col < len(r) else None), reverse=reverse)
            self._rewrite(sheet, [matrix[0], *data])
        self._edit(tab, change)

    def move_column(self, tab: str, header: str, to_index: int) -> None:
        def change(sheet):
            col = self._column(sheet, header) - 1
            matrix = self._matrix(sheet)
            width = max(len(r) for r in matrix)
            for row in matrix:
                row.extend([None] * (width - len(row)))
                row.insert(to_index, row.pop(col))
            self._rewrite(sheet, matrix)
        self._edit(tab, change)

    def add_column(self, tab: str, header: str, values: list[str]) -> None:
        def change(sheet):
            col = max(c.column for c in sheet[1] if c.value not in (None, "")) + 1
            set_text(sheet.cell(1, col), header)
            for row, value in enumerate(values, start=2):
                set_text(sheet.cell(row, col), value)
        self._edit(tab, change)

    def append_cells(self, tab: str, cells: list[str]) -> None:
        def change(sheet):
            filled = [r for r, row in enumerate(sheet.iter_rows(values_only=True), start=1)
                      if any(v not in (None, "") for v in row)]
            row = (filled[-1] if filled else 0) + 1
            for col, value in enumerate(cells, start=1):
                set_text(sheet.cell(row, col), value)
        self._edit(tab, change)

    def rename_header(self, tab: str, old: str, new: str) -> None:
        self._edit(tab, lambda s: set_text(s.cell(1, self._column(s, old)), new))


def make_env(tmp_path: Path, schema: Schema) -> StoreEnv:
    path = Path(tmp_path) / "classeur" / "rencontres.xlsx"
    return StoreEnv(
        store=WorkbookStore(schema, path),
        human=WorkbookHuman(path, schema),
        make_second_store=lambda: WorkbookStore(schema, path),
        request_count=None,
    )
