"""Writes that check their own target: the heart of "nothing lands on another row" on Google Sheets.

Google has no conditional write, and between two requests a person may sort, insert or delete rows, move
columns or type anywhere. So every write that overwrites or deletes cells is one atomic spreadsheets.batchUpdate
that also, in the same request:
1. copies the rows it is about to change into the hidden tab `_app_sauvegarde`, at the same coordinates
   (copyPaste runs before the writes of the batch, and the batch applies all or nothing);
2. answers, through `responseRanges`, that copy (the rows exactly as they were when the write ran), the header
   row and the written rows as they are right after it.
From that one answer the adapter knows whether the write met the row and the columns it meant, with the values
the caller had read. If not, it puts back exactly what it overwrote (values and formulas from the copy, or the
whole deleted row) and then retries on the right row or raises a Conflict carrying both versions.
Appends overwrite nothing (appendCells adds rows after the last row with data); their answer is checked for the
header the cells were placed under, and misplaced cells are rewritten.
"""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass, field

from gspread.exceptions import APIError

from .. import errors
from ..domain.schema import TabSchema
from .base import Row, StoreError, rows_from_grid
from .gsheets_index import answer_grids, header_range, positions, rows_range, texts

SCRATCH_TITLE = "_app_sauvegarde"
SCRATCH_ID = zlib.crc32(b"ecole-entreprise/sauvegarde") & 0x7FFFFFFF
WRITE_FIELDS = ("replies,updatedSpreadsheet.sheets(properties(sheetId,title),"
                "data(startRow,rowData(values(formattedValue,userEnteredValue,note))))")


class Uncertain(Exception):
    """Internal: a write was sent and its answer lost (timeout, 5xx, cut connection): it may have been applied."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


class RepairFailed(StoreError, errors.Unavailable):
    """A misdirected write could not be undone because the sheet kept changing: shown with what to restore."""

    def __init__(self, tab: str, line: int, values: dict[str, str]):
        self.tab, self.line, self.values = tab, line, values
        listed = ", ".join(f"{k} = « {v} »" for k, v in values.items()) or "(cellules vides)"
        super().__init__(f"La feuille « {tab} » a changé pendant l'enregistrement et l'application n'a pas pu "
                         f"rétablir la ligne {line} : remettez-y à la main {listed}, puis réessayez.")


def text_cell(value: str) -> dict:
    """RAW text: a stringValue is never parsed, so "0612…", "01000" and "=SUM(…)" stay text."""
    return {"userEnteredValue": {"stringValue": value}} if value != "" else {}


def restore_cell(captured: dict) -> dict:
    """What a captured CellData needs to be put back exactly (a formula stays a formula)."""
    value = captured.get("userEnteredValue") if captured else None
    return {"userEnteredValue": value} if value else {}


def same_value(cell: dict, wanted: dict) -> bool:
    return (cell or {}).get("userEnteredValue") == (wanted or {}).get("userEnteredValue")


@dataclass
class Capture:
    header: list[str]  # row 1 right after the batch (the batch never writes it: also right before)
    before: dict[int, list[dict]]  # line -> its cells when the batch ran (from the backup copy)
    after: dict[int, list[dict]] = field(default_factory=dict)  # line -> its cells right after the batch
    replies: list = field(default_factory=list)


def row_of(tab: TabSchema, header: list[str], cells: list[dict], line: int) -> Row | None:
    data = rows_from_grid(tab, [header, texts(cells)])
    if not data.rows:
        return None
    row = data.rows[0]
    return Row(row.id, row.values, row.extra, line, row.fingerprint)


def cell_values(tab: TabSchema, header: list[str], cells: list[dict]) -> dict[str, str]:
    """Field -> text for the schema columns of a captured row (for messages)."""
    where, out = positions(header), {}
    for f in tab.fields:
        if f.header in where and where[f.header] < len(cells):
            out[f.header] = texts(cells)[where[f.header]]
    return out


class RowWriter:
    """The captured-batch primitive and the repairs built on it; one per store."""

    def __init__(self, store):
        self.store = store
        self.repairs = 0  # misdirected or stale writes seen in an answer and undone
        self.backup_kept = False  # this store's last write left rows in the backup tab (personal data)

    # ---- the primitive -------------------------------------------------------------------------------------

    def _scratch_requests(self, lines: int, width: int) -> list[dict]:
        size = {"rowCount": max(lines, 1), "columnCount": max(width, 1)}
        if self.store.has_tab(SCRATCH_TITLE):
            prepare = {"updateSheetProperties": {
                "properties": {"sheetId": SCRATCH_ID, "gridProperties": size},
                "fields": "gridProperties.rowCount,gridProperties.columnCount"}}
        else:
            prepare = {"addSheet": {"properties": {"sheetId": SCRATCH_ID, "title": SCRATCH_TITLE, "hidden": True,
                                                   "gridProperties": size}}}
        # Only the last write's backup stays in the hidden tab: everything older is cleared first.
        clear = {"updateCells": {"range": {"sheetId": SCRATCH_ID}, "fields": "userEnteredValue,note"}}
        return [prepare, clear]

    def captured(self, tab: str, writes: dict[int, dict[int, dict]], deletes: tuple[int, ...] = (),
                 width: int = 0, guard: list[dict] | None = None) -> Capture:
        """One atomic batch: back up the rows `writes` and `deletes` touch, write the cells
        ({line: {column: CellData}}), delete the rows, and answer what was there and what is there now."""
        sheet_id = self.store.sheet_id(tab)
        lines = sorted(set(writes) | set(deletes))
        token = secrets.token_hex(8)
        requests = []
        for line in lines:
            requests.append({"copyPaste": {"source": _cells(sheet_id, line, 0, width),
                                           "destination": _cells(SCRATCH_ID, line, 0, width),
                                           "pasteType": "PASTE_NORMAL"}})
        for line, cells in writes.items():
            for col, data in cells.items():
                requests.append({"updateCells": {"range": _cells(sheet_id, line, col, 1), "fields": "userEnteredValue",
                                                 "rows": [{"values": [data]}]}})
        for line in sorted(deletes, reverse=True):
            requests.append({"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS",
                                                           "startIndex": line - 1, "endIndex": line}}})
        mark = {"updateCells": {"range": _cells(SCRATCH_ID, 1, 0, 1), "fields": "userEnteredValue",
                                "rows": [{"values": [text_cell(token)]}]}}
        ranges = self._ranges(tab, lines, writes, width)
        for attempt in range(2):
            had_scratch = self.store.has_tab(SCRATCH_TITLE)
            prepare = list(guard or []) + self._scratch_requests(max(lines), width) + [mark]
            try:
                answer = self.store.batch(prepare + requests, ranges)
                break
            except APIError as error:
                if attempt or error.code != 400:
                    raise
                # Another process made the backup tab meanwhile, or a person deleted it: look, then try again
                # with the right preparation (the refused batch applied nothing).
                self.store.refresh_tabs()
                if self.store.has_tab(SCRATCH_TITLE) == had_scratch:
                    raise
            except Uncertain:
                recovered = self.recover(tab, token, lines, writes, width)
                if recovered is None:
                    raise
                return recovered
        self.backup_kept = True
        if not had_scratch:  # made by this batch: known from now on, without reading the tabs again
            self.store.known_tab(SCRATCH_TITLE, SCRATCH_ID)
        return self._capture(tab, answer, lines, writes)

    def tidy_requests(self) -> list[dict]:
        """Empty the backup tab, to ride in this store's next append (a journal entry follows every
        anonymisation and purge): the rows as they were before do not stay in the spreadsheet. Its answer was
        read already; a recovery after a lost answer looks at the rows themselves when the backup is gone."""
        if not self.backup_kept:
            return []
        return [{"updateCells": {"range": {"sheetId": SCRATCH_ID}, "fields": "userEnteredValue,note"}}]

    @staticmethod
    def _ranges(tab: str, lines, writes, width) -> list[str]:
        return ([header_range(tab)] + [rows_range(SCRATCH_TITLE, line, line, width) for line in lines]
                + [rows_range(tab, line, line, width) for line in sorted(writes)])

    def _capture(self, tab: str, answer: dict, lines, writes) -> Capture:
        grids = answer_grids(answer)
        header = texts(grids.get((tab, 1), {}).get(1, []))
        before = {line: grids.get((SCRATCH_TITLE, line), {}).get(line, []) for line in lines}
        after = {line: grids.get((tab, line), {}).get(line, []) for line in writes}
        return Capture([h.strip() for h in header], before, after, answer.get("replies", []))

    def recover(self, tab: str, token: str, lines, writes, width) -> Capture | None:
        """After a lost answer: if the backup tab still carries this batch's token, the batch ran, and the
        backup plus the rows as they are now stand in for the answer; None when it did not run (or when another
        write has since replaced the backup, so nobody can tell: the caller then says so)."""
        ranges = [rows_range(SCRATCH_TITLE, 1, 1, 1)] + self._ranges(tab, lines, writes, width)
        try:
            answer = self.store.fetch_grid(ranges)
        except Uncertain:
            return None
        mark = answer_grids(answer).get((SCRATCH_TITLE, 1), {}).get(1, [])
        if not mark or texts(mark)[0] != token:
            return None
        return self._capture(tab, answer, lines, writes)

    # ---- update ----------------------------------------------------------------------------------------------

    def verdict(self, schema: TabSchema, cap: Capture, line: int, row_id: str, expected: str,
                columns: dict[str, int]) -> str:
        """"ok", "moved" (another row was there), "columns" (a column moved), "changed" (the row itself)."""
        before = row_of(schema, cap.header, cap.before.get(line, []), line)
        if before is None or before.id != row_id:
            return "moved"
        where = positions(cap.header)
        if any(where.get(schema.field(name).header) != col for name, col in columns.items()):
            return "columns"
        return "ok" if before.fingerprint == expected else "changed"

    def undo(self, tab: str, schema: TabSchema, cap: Capture, line: int, written: dict[int, dict],
             width: int) -> None:
        """Put back the cells a write replaced, on the row that was there (found again by its ID if it moved),
        only where they still hold what the app wrote; anything that fails is raised, never dropped."""
        self.repairs += 1
        victim = row_of(schema, cap.header, cap.before.get(line, []), line)
        original = {col: restore_cell(cap.before[line][col] if col < len(cap.before[line]) else {})
                    for col in written}
        target = line
        for _ in range(3):
            fix = self.captured(tab, {target: original}, width=width)
            here = row_of(schema, fix.header, fix.before.get(target, []), target)
            same_row = victim is None or (here is not None and here.id == victim.id)
            ours = all(same_value(_at(fix.before[target], col), written[col]) for col in written)
            if same_row and ours:
                return
            # This put-back met something else: give that back its own cells, then look again.
            self.captured(tab, {target: {col: restore_cell(_at(fix.before[target], col)) for col in written}},
                          width=width)
            if victim is None or victim.id == "":
                break
            found = self.store.find_line(tab, victim.id)
            if found is None:
                break
            target = found
        values = {cap.header[col] if col < len(cap.header) else str(col): texts([original[col]])[0] or
                  str((original[col].get("userEnteredValue") or {}).get("formulaValue", ""))
                  for col in written}
        raise RepairFailed(tab, line, values)

    # ---- delete ----------------------------------------------------------------------------------------------

    def restore_rows(self, tab: str, cap: Capture, wrong: list[int], deleted: list[int], width: int) -> None:
        """Rows deleted by mistake come back at their place, with their values, formulas and notes."""
        self.repairs += 1
        sheet_id = self.store.sheet_id(tab)
        gone = set(deleted) - set(wrong)
        requests = []
        for line in sorted(wrong):
            position = line - sum(1 for d in gone if d < line)
            cells = [_restored(c) for c in cap.before[line]]
            requests.append({"insertDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS",
                                                           "startIndex": position - 1, "endIndex": position},
                                                 "inheritFromBefore": position > 2}})
            requests.append({"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": position - 1,
                                                       "columnIndex": 0},
                                             "fields": "userEnteredValue,note", "rows": [{"values": cells}]}})
        self.store.batch(requests, [])


def _at(cells: list[dict], col: int) -> dict:
    return cells[col] if col < len(cells) else {}


def _restored(cell: dict) -> dict:
    out = restore_cell(cell)
    if cell and cell.get("note"):
        out["note"] = cell["note"]
    return out


def _cells(sheet_id: int, line: int, col: int, width: int) -> dict:
    return {"sheetId": sheet_id, "startRowIndex": line - 1, "endRowIndex": line,
            "startColumnIndex": col, "endColumnIndex": col + max(width, 1)}
