"""StoreEnv for the in-memory double used by feature tests: it must keep the same contract as the real adapters.

A person's edits change the shared grids directly, under the store's lock (one spreadsheet, one edit at a time).
"""

from __future__ import annotations

from pathlib import Path

from ecole_entreprise.domain.schema import Schema
from tests.support import StoreEnv
from tests.support.memory_store import MemoryStore


class MemoryHuman:
    """A person editing the in-memory grids (HumanEditor protocol)."""

    def __init__(self, store: MemoryStore):
        self.store = store

    def _sheet(self, tab: str) -> list[list[str]]:
        if tab not in self.store.grids:  # a person can only open a sheet the app has created
            self.store.init()
        return self.store.grids[tab]

    def _col(self, tab: str, header: str) -> int:
        return [h.strip() for h in self._sheet(tab)[0]].index(header)

    @staticmethod
    def _pad(row: list[str], width: int) -> list[str]:
        return row + [""] * (width - len(row))

    def grid(self, tab: str) -> list[list[str]]:
        with self.store._lock:
            rows = [list(r) for r in self._sheet(tab)]
        while rows and not any(rows[-1]):
            rows.pop()
        return rows

    def set_cell(self, tab: str, row_number: int, header: str, value: str) -> None:
        with self.store._lock:
            sheet, col = self._sheet(tab), self._col(tab, header)
            while len(sheet) < row_number:
                sheet.append([])
            sheet[row_number - 1] = self._pad(sheet[row_number - 1], col + 1)
            sheet[row_number - 1][col] = value

    def insert_row(self, tab: str, row_number: int, cells: list[str]) -> None:
        with self.store._lock:
            self._sheet(tab).insert(row_number - 1, list(cells))

    def delete_row(self, tab: str, row_number: int) -> None:
        with self.store._lock:
            del self._sheet(tab)[row_number - 1]

    def sort_rows(self, tab: str, header: str, reverse: bool = False) -> None:
        with self.store._lock:
            sheet, col = self._sheet(tab), self._col(tab, header)
            data = [r for r in sheet[1:] if any(v for v in r)]
            data.sort(key=lambda r: r[col] if col < len(r) else "", reverse=reverse)
            sheet[1:] = data

    def move_column(self, tab: str, header: str, to_index: int) -> None:
        with self.store._lock:
            sheet, col = self._sheet(tab), self._col(tab, header)
            width = max(len(r) for r in sheet)
            for i, row in enumerate(sheet):
                row = self._pad(row, width)
                row.insert(to_index, row.pop(col))
                sheet[i] = row

    def add_column(self, tab: str, header: str, values: list[str]) -> None:
        with self.store._lock:
            sheet = self._sheet(tab)
            width = max(len(r) for r in sheet)
            column = [header, *values]
            for i in range(max(len(sheet), len(column))):
                if i >= len(sheet):
                    sheet.append([])
                sheet[i] = self._pad(sheet[i], width) + [column[i] if i < len(column) else ""]

    def append_cells(self, tab: str, cells: list[str]) -> None:
        with self.store._lock:
            sheet = self._sheet(tab)
            while sheet and not any(sheet[-1]):
                sheet.pop()
            sheet.append(list(cells))

    def rename_header(self, tab: str, old: str, new: str) -> None:
        with self.store._lock:
            sheet = self._sheet(tab)
            sheet[0][self._col(tab, old)] = new


def make_env(tmp_path: Path, schema: Schema) -> StoreEnv:
    store = MemoryStore(schema)

    def second() -> MemoryStore:  # another session over the same grids, behind the same lock
        other = MemoryStore(schema)
        other.grids, other._lock, other._named = store.grids, store._lock, store._named
        return other

    return StoreEnv(store=store, human=MemoryHuman(store), make_second_store=second, request_count=None)
