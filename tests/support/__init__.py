"""Test support shared by the store contract suite and feature tests.

Each backend provides `make_env(tmp_path, schema) -> StoreEnv` in its own module
(tests/support/workbook_env.py, tests/support/google_env.py, tests/support/memory_env.py: the in-memory
double that feature tests use keeps the same contract).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ecole_entreprise.store.base import Store


class HumanEditor(Protocol):
    """Edits a person makes straight in the sheet (Google Sheets UI, Excel/LibreOffice), bypassing the app.

    Row numbers are 1-based as shown in the sheet (row 1 = headers). Columns are named by header text.
    """

    def grid(self, tab: str) -> list[list[str]]:
        """The tab's cells as text, as the person sees them (trailing empties may be omitted)."""

    def set_cell(self, tab: str, row_number: int, header: str, value: str) -> None: ...

    def insert_row(self, tab: str, row_number: int, cells: list[str]) -> None:
        """Insert a new row before `row_number` (cells in current column order)."""

    def delete_row(self, tab: str, row_number: int) -> None: ...

    def sort_rows(self, tab: str, header: str, reverse: bool = False) -> None:
        """Sort the data rows (not the header row) by the text of one column."""

    def move_column(self, tab: str, header: str, to_index: int) -> None:
        """Move a whole column (header and cells) to 0-based position `to_index`."""

    def add_column(self, tab: str, header: str, values: list[str]) -> None:
        """Add a column after the last one, with `values` for data rows 2, 3, …"""

    def append_cells(self, tab: str, cells: list[str]) -> None:
        """Type a new row below the last one, cells in current column order."""

    def rename_header(self, tab: str, old: str, new: str) -> None: ...


@dataclass
class StoreEnv:
    store: Store
    human: HumanEditor
    make_second_store: Callable[[], Store]  # another app process/session over the same data
    request_count: Callable[[], int] | None = None  # API requests sent so far (Google fake only)
