"""What the Google adapter remembers of each tab between requests, and how it reads cells out of answers.

The memory (TabIndex) is only ever a hint: where a row was, where a tab ended, what its headers were. Every
write checks its target from the answer of the very request that writes (see gsheets_writes.py), so a stale
hint costs an extra request, never a write in the wrong place.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ..domain.schema import TabSchema
from .base import Row, TabData, rows_from_grid
from .cells import a1_title, column_letter


def header_range(tab: str) -> str:
    return f"{a1_title(tab)}!A1:1"  # row 1 from column A to the grid's last column


def rows_range(tab: str, first: int, last: int | None, width: int) -> str:
    """Rows `first`..`last` (1-based, inclusive; None: down to the end of the grid), columns A..width."""
    end = column_letter(max(width, 1) - 1)
    return f"{a1_title(tab)}!A{first}:{end}{last if last is not None else ''}"


def positions(headers: list[str]) -> dict[str, int]:
    """Header -> column; same rule as rows_from_grid (the last occurrence wins)."""
    return {h: i for i, h in enumerate(headers) if h}


@dataclass
class TabIndex:
    headers: list[str] = field(default_factory=list)
    lines: dict[str, list[int]] = field(default_factory=dict)  # ID -> row numbers where it was seen
    end: int = 0  # last row number holding an ID (1 when only the header); 0 when unknown
    complete: bool = False  # `lines` covers the whole tab (a full read or an ID-column read)
    width: int = 0  # the widest row seen (cells a person typed right of the last header included)

    def line_of(self, row_id: str) -> int | None:
        found = self.lines.get(row_id, [])
        return found[0] if len(found) == 1 else None


class TabMemory:
    """Per-tab hints shared by every thread of one store."""

    def __init__(self):
        self._tabs: dict[str, TabIndex] = {}
        self._lock = threading.Lock()

    def get(self, tab: str) -> TabIndex | None:
        with self._lock:
            return self._tabs.get(tab)

    def forget(self, tab: str) -> None:
        with self._lock:
            self._tabs.pop(tab, None)

    def learn_full(self, tab: str, data: TabData, grid: list[list[str]]) -> None:
        """After reading the whole tab."""
        index = TabIndex(headers=list(data.headers), complete=True,
                         width=max((len(r) for r in grid), default=0))
        for row in data.rows:
            index.lines.setdefault(row.id, []).append(row.row_number)
        index.end = max((row.row_number for row in data.rows), default=1)
        with self._lock:
            self._tabs[tab] = index

    def learn_ids(self, tab: str, headers: list[str], ids: list[str], first_line: int = 2) -> TabIndex:
        """After reading the header and the whole ID column (ids[i] is row first_line + i)."""
        index = TabIndex(headers=list(headers), complete=True, width=len(headers))
        for offset, value in enumerate(ids):
            if value.strip():
                index.lines.setdefault(value.strip(), []).append(first_line + offset)
                index.end = first_line + offset
        index.end = index.end or 1
        with self._lock:
            previous = self._tabs.get(tab)
            if previous:
                index.width = max(index.width, previous.width)
            self._tabs[tab] = index
        return index

    def learn_rows(self, tab: str, headers: list[str], rows: list[Row], reaches_end: bool = False) -> None:
        """After reading or writing some rows: their lines; the tab's end when the read went to the bottom."""
        with self._lock:
            index = self._tabs.setdefault(tab, TabIndex())
            if headers:
                index.headers = list(headers)
                index.width = max(index.width, len(headers))
            for row in rows:
                lines = index.lines.setdefault(row.id, [])
                if row.row_number not in lines:
                    if index.complete and lines:  # the row moved: the old line is no longer true
                        lines.clear()
                    lines.append(row.row_number)
            if reaches_end:
                index.end = max((r.row_number for r in rows), default=index.end or 1)
            elif rows:
                index.end = max(index.end, max(r.row_number for r in rows))

    def shifted(self, tab: str) -> None:
        """Rows were inserted or deleted by the app: every remembered line is now a guess only."""
        with self._lock:
            index = self._tabs.get(tab)
            if index:
                index.complete = False


def parse_rows(tab: TabSchema, headers: list[str], lines: list[list[str]], first_line: int) -> TabData:
    """Rows read from line `first_line` on, parsed with the header read in the same answer."""
    grid = [headers] + [[] for _ in range(first_line - 2)] + lines if first_line >= 2 else [headers] + lines
    return rows_from_grid(tab, grid)


# ---- CellData (grid data in batchUpdate answers) -------------------------------------------------------------


def cell_text(cell: dict) -> str:
    """What FORMATTED_VALUE would give for this CellData."""
    return str(cell.get("formattedValue", "")) if cell else ""


def grid_rows(data: dict) -> dict[int, list[dict]]:
    """GridData -> {1-based row number: [CellData from column A]} (startColumn is always 0 here)."""
    first = data.get("startRow", 0) + 1
    out = {}
    for offset, row in enumerate(data.get("rowData", [])):
        out[first + offset] = list(row.get("values", []))
    return out


def answer_grids(answer: dict) -> dict[tuple[str, int], dict[int, list[dict]]]:
    """updatedSpreadsheet -> {(tab title, first row of the range): rows}; the caller knows which it asked."""
    out: dict[tuple[str, int], dict[int, list[dict]]] = {}
    for sheet in answer.get("updatedSpreadsheet", {}).get("sheets", []):
        title = sheet.get("properties", {}).get("title", "")
        for data in sheet.get("data", []):
            out[(title, data.get("startRow", 0) + 1)] = grid_rows(data)
    return out


def texts(cells: list[dict]) -> list[str]:
    return [cell_text(c) for c in cells]
