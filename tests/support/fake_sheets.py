"""An in-process, stateful fake of the Google Sheets API v4, mounted on a `requests` session as a transport adapter.

    fake = FakeSheets()
    key = fake.create_spreadsheet("Classeur de test")
    session.mount("https://sheets.googleapis.com/", FakeSheetsAdapter(fake))

What it answers (behaviour checked against recorded real exchanges in tests/test_fake_sheets_conformance.py):
spreadsheets.get (with `fields` masks), spreadsheets.create, spreadsheets.batchUpdate (addSheet, deleteSheet,
updateSheetProperties, updateSpreadsheetProperties, repeatCell, setDataValidation, addProtectedRange,
deleteProtectedRange, deleteDimension, insertDimension, appendDimension, moveDimension, sortRange), values.get,
values:batchGet, values.update, values.append, values:batchUpdate, values.clear, values:batchClear.

Google behaviours reproduced: a values answer's `range` is the requested range clipped to the grid; trailing empty
cells and rows are omitted and an empty range has no `values`; values.append finds the "table" around the range
and answers `tableRange` only when one existed; RAW keeps text, USER_ENTERED parses numbers, booleans, ISO dates and
simple arithmetic formulas (other formulas are kept, shown empty, returned as text with FORMULA); writes outside the
grid are refused, appends grow it; errors are {"error": {"code", "message", "status"}} with HTTP status == code.
Simplifications: number formats are those of an en_US spreadsheet; validations, protections and formats follow row
and column insertions/deletions but not moves or sorts; merges, named ranges, notes and filters are not modelled.

Test hooks: request counts (`total`, `count(kind)`), injected failures (`fail_next`, `timeout_next`,
`disconnect_next`), private spreadsheets (`make_private`), and direct edits as a person would make them in the
Google UI (`type_cells`, `insert_rows`, `delete_rows`, `sort_rows`, `move_columns`, `grid_text`…), never counted.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import json
import operator
import random
import re
import string
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

DEFAULT_ROWS, DEFAULT_COLS = 1000, 26
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                408: "DEADLINE_EXCEEDED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE",
                503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
STATUS_MESSAGES = {
    404: "Requested entity was not found.",
    403: "The caller does not have permission",
    408: "Request timed out.",
    429: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user'.",
    500: "Internal error encountered.",
    502: "Bad gateway.",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}
KINDS = ("create", "metadata", "batchUpdate", "values.get", "values.batchGet", "values.update", "values.append",
         "values.clear", "values.batchUpdate", "values.batchClear", "developerMetadata.get",
         "developerMetadata.search")
# Extra spreadsheets.batchUpdate request kinds: name -> handler(fake, book, params, index) returning the reply
# (or None). Modules of tests/support add theirs at import; the fake's own kinds are its `_bu_<name>` methods.
BATCH_REQUESTS: dict = {}
# Google's per-minute quotas count reads and writes apart ("Read requests", "Write requests" per minute per user).
READ_KINDS = {"metadata", "values.get", "values.batchGet", "developerMetadata.get", "developerMetadata.search"}
QUOTA_MESSAGE = ("Quota exceeded for quota metric '{metric} requests' and limit '{metric} requests per minute per "
                 "user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.")


class ApiError(Exception):
    def __init__(self, code: int, message: str = ""):
        super().__init__(message)
        self.code, self.message = code, message or STATUS_MESSAGES.get(code, "Error")

    def payload(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "status": STATUS_NAMES.get(self.code, "UNKNOWN")}}


# ---- A1 notation ---------------------------------------------------------------------------------------------


def col_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    n, out = index + 1, ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def quote_title(title: str) -> str:
    """Google quotes a title in answers unless it is a plain identifier that cannot be read as a cell."""
    plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title)
    cell_like = re.fullmatch(r"[A-Za-z]{1,3}[0-9]+", title) or re.fullmatch(r"[Rr][0-9]*[Cc][0-9]*", title)
    return title if plain and not cell_like else "'" + title.replace("'", "''") + "'"


_ENDPOINT = re.compile(r"^\$?([A-Za-z]{0,3})\$?([0-9]*)$")


@dataclass
class Box:
    """Inclusive 0-based cell rectangle; `anchor` is true when the request named a single cell."""

    r0: int
    c0: int
    r1: int
    c1: int
    anchor: bool = False

    def a1(self) -> str:
        start = f"{col_letter(self.c0)}{self.r0 + 1}"
        if (self.r0, self.c0) == (self.r1, self.c1):
            return start
        return f"{start}:{col_letter(self.c1)}{self.r1 + 1}"


def _parse_cells(text: str, rows: int, cols: int) -> Box | None:
    parts = text.split(":")
    if len(parts) > 2:
        return None
    ends = [_ENDPOINT.match(p.strip()) for p in parts]
    if not all(ends) or any(not (m.group(1) or m.group(2)) for m in ends):
        return None
    (c_a, r_a) = ends[0].groups()
    if len(parts) == 1:
        if not (c_a and r_a):
            return None
        r, c = int(r_a) - 1, col_index(c_a)
        return Box(r, c, r, c, anchor=True)
    (c_b, r_b) = ends[1].groups()
    r0 = int(r_a) - 1 if r_a else 0
    c0 = col_index(c_a) if c_a else 0
    r1 = int(r_b) - 1 if r_b else rows - 1
    c1 = col_index(c_b) if c_b else cols - 1
    if r0 < 0 or r1 < 0:
        return None
    return Box(min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1))


# ---- cells ---------------------------------------------------------------------------------------------------


@dataclass
class Cell:
    kind: str  # "text", "number", "bool", "date", "error"
    value: object  # str, float, bool; the serial number for a date
    text: str  # the formatted value, as shown in the UI
    formula: str = ""


def general_number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".15g")


def _number_out(value: float):
    return int(value) if value == int(value) and abs(value) < 1e15 else value


def raw_cell(value) -> Cell | None:
    """valueInputOption=RAW: strings stay strings, JSON numbers and booleans keep their type; "" empties."""
    if isinstance(value, bool):
        return Cell("bool", value, "TRUE" if value else "FALSE")
    if isinstance(value, (int, float)):
        return Cell("number", float(value), general_number(float(value)))
    text = str(value)
    return Cell("text", text, text) if text != "" else None


_NUMBER = re.compile(r"([+-]?)(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d+))?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _arith(node):
    if isinstance(node, ast.Expression):
        return _arith(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return _ARITH[type(node.op)](_arith(node.left), _arith(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return -_arith(node.operand) if isinstance(node.op, ast.USub) else _arith(node.operand)
    raise ValueError("unsupported")


def _formula_cell(text: str) -> Cell:
    body = text[1:]
    if re.fullmatch(r"[\d\s.+\-*/()]+", body):
        try:
            value = _arith(ast.parse(body.strip(), mode="eval"))
        except ZeroDivisionError:
            return Cell("error", "#DIV/0!", "#DIV/0!", formula=text)
        except (ValueError, SyntaxError):
            pass
        else:
            return Cell("number", value, general_number(value), formula=text)
    return Cell("text", "", "", formula=text)  # not evaluated by the fake


def user_entered_cell(value) -> Cell | None:
    """valueInputOption=USER_ENTERED: as if typed in the UI ("0042" -> 42, "TRUE" -> boolean, "=1+1" -> 2)."""
    if not isinstance(value, str):
        return raw_cell(value)
    if value == "":
        return None
    if value.startswith("'"):
        return Cell("text", value[1:], value[1:])
    if value.startswith("="):
        return _formula_cell(value)
    stripped = value.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return raw_cell(stripped.upper() == "TRUE")
    number = _NUMBER.fullmatch(stripped)
    if number and (number.group(2) or number.group(3)):
        sign, whole, decimals = number.groups()
        amount = float(f"{sign}{(whole or '0').replace(',', '')}.{decimals or '0'}")
        if "," in whole:  # typed with thousands separators: Google keeps a grouped number format
            return Cell("number", amount, f"{amount:,.{len(decimals or '')}f}")
        return Cell("number", amount, general_number(amount))
    when = _ISO_DATE.fullmatch(stripped)
    if when:
        try:
            day = date(*(int(g) for g in when.groups()))
        except ValueError:
            day = None
        if day:
            return Cell("date", float((day - date(1899, 12, 30)).days), stripped)
    return Cell("text", value, value)


def render(cell: Cell | None, value_option: str, date_option: str):
    if cell is None:
        return ""
    if value_option == "FORMULA" and cell.formula:
        return cell.formula
    if value_option == "FORMATTED_VALUE":
        return cell.text
    if cell.kind == "number":
        return _number_out(cell.value)
    if cell.kind == "bool":
        return cell.value
    if cell.kind == "date":
        return cell.text if date_option == "FORMATTED_STRING" else _number_out(cell.value)
    return cell.text


def _sort_key(cell: Cell | None):
    if cell is None:
        return (3, "")
    if cell.kind in ("number", "date"):
        return (0, cell.value)
    if cell.kind == "bool":
        return (2, cell.value)
    return (1, cell.text.casefold())


# ---- grid ranges attached to a sheet (validations, protections, formats) --------------------------------------

_BOUNDS = {"ROWS": ("startRowIndex", "endRowIndex"), "COLUMNS": ("startColumnIndex", "endColumnIndex")}


def _shift_insert(items: list[dict], dimension: str, at: int, count: int, keys=None) -> None:
    start_key, end_key = keys or _BOUNDS[dimension]
    for item in items:
        rng = item["range"]
        if rng.get(start_key, 0) >= at and start_key in rng:
            rng[start_key] += count
        if end_key in rng and rng[end_key] > at:
            rng[end_key] += count


def _shift_delete(items: list[dict], dimension: str, start: int, end: int, keys=None) -> list[dict]:
    start_key, end_key = keys or _BOUNDS[dimension]
    width = end - start

    def moved(index: int) -> int:
        return index if index < start else (start if index < end else index - width)

    kept = []
    for item in items:
        rng = item["range"]
        if start_key in rng:
            rng[start_key] = moved(rng[start_key])
        if end_key in rng:
            rng[end_key] = moved(rng[end_key])
        if rng.get(start_key, 0) < rng.get(end_key, 10**9):
            kept.append(item)
    return kept


def grid_range_out(rng: dict) -> dict:
    """GridRange as Google prints it: a sheetId of 0 is omitted (proto3 default), nulls dropped."""
    return {k: v for k, v in rng.items() if v is not None and not (k == "sheetId" and v == 0)}


def _covers(rng: dict, row: int, col: int) -> bool:
    return (rng.get("startRowIndex", 0) <= row < rng.get("endRowIndex", 10**9)
            and rng.get("startColumnIndex", 0) <= col < rng.get("endColumnIndex", 10**9))


# ---- ragged grid layers (cells, notes) -----------------------------------------------------------------------


def _cell_of(layer: list[list], row: int, col: int):
    if row < len(layer) and col < len(layer[row]):
        return layer[row][col]
    return None


def _put(layer: list[list], row: int, col: int, value) -> None:
    if value is None:
        if row < len(layer) and col < len(layer[row]):
            layer[row][col] = None
        return
    while len(layer) <= row:
        layer.append([])
    line = layer[row]
    line.extend([None] * (col + 1 - len(line)))
    line[col] = value


def _insert(layer: list[list], dimension: str, at: int, count: int) -> None:
    if dimension == "ROWS":
        if at < len(layer):
            layer[at:at] = [[] for _ in range(count)]
        return
    for line in layer:
        if at < len(line):
            line[at:at] = [None] * count


def _delete(layer: list[list], dimension: str, start: int, end: int) -> None:
    if dimension == "ROWS":
        del layer[start:end]
        return
    for line in layer:
        del line[start:end]


def _move(layer: list[list], dimension: str, start: int, end: int, destination: int, target: int) -> None:
    if dimension == "ROWS":
        layer.extend([] for _ in range(max(0, max(end, destination) - len(layer))))
        block = layer[start:end]
        del layer[start:end]
        layer[target:target] = block
        return
    width = max(end, destination)
    for line in layer:
        line.extend([None] * (width - len(line)))
        block = line[start:end]
        del line[start:end]
        line[target:target] = block


# Developer metadata located on a row or column: {"location": {"dimensionRange": {...}}}; the range helpers
# below shift items shaped {"range": {...}}, so metadata is viewed through small adapters.
_INDEX_KEYS = ("startIndex", "endIndex")


def _meta_dimension(meta: dict) -> str | None:
    rng = meta["location"].get("dimensionRange")
    return rng.get("dimension") if rng else None


class _RangeView:
    """A row/column metadata entry seen as {"range": its dimensionRange}, for the range shifters."""

    def __init__(self, meta: dict):
        self.meta = meta

    def __getitem__(self, key: str) -> dict:
        return self.meta["location"]["dimensionRange"]


def _dimension_ranges(metadata: list[dict], dimension: str) -> list[_RangeView]:
    return [_RangeView(m) for m in metadata if _meta_dimension(m) == dimension]

# ---- state ---------------------------------------------------------------------------------------------------


@dataclass
class Sheet:
    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    col_count: int = DEFAULT_COLS
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden: bool = False
    grid_extra: dict = field(default_factory=dict)  # other gridProperties (hideGridlines…)
    extra: dict = field(default_factory=dict)  # other sheet properties (tabColor…)
    cells: list[list[Cell | None]] = field(default_factory=list)  # ragged: only up to the data extent
    notes: list[list[str | None]] = field(default_factory=list)  # cell notes, same layout as `cells`
    validations: list[dict] = field(default_factory=list)  # {"range", "rule"}
    protected: list[dict] = field(default_factory=list)  # protectedRange objects
    formats: list[dict] = field(default_factory=list)  # {"range", "format", "fields"}
    metadata: list[dict] = field(default_factory=list)  # developer metadata on this sheet, its rows and columns

    def get(self, row: int, col: int) -> Cell | None:
        return _cell_of(self.cells, row, col)

    def put(self, row: int, col: int, cell: Cell | None) -> None:
        _put(self.cells, row, col, cell)

    def get_note(self, row: int, col: int) -> str:
        return _cell_of(self.notes, row, col) or ""

    def put_note(self, row: int, col: int, note: str) -> None:
        _put(self.notes, row, col, note or None)

    def last_data_row(self) -> int:
        """0-based index of the last row holding a value, -1 when empty."""
        for index in range(len(self.cells) - 1, -1, -1):
            if any(c is not None for c in self.cells[index]):
                return index
        return -1

    def insert(self, dimension: str, at: int, count: int) -> None:
        for layer in (self.cells, self.notes):
            _insert(layer, dimension, at, count)
        if dimension == "ROWS":
            self.row_count += count
        else:
            self.col_count += count
        for items in (self.validations, self.protected, self.formats):
            _shift_insert(items, dimension, at, count)
        _shift_insert(_dimension_ranges(self.metadata, dimension), dimension, at, count, keys=_INDEX_KEYS)

    def delete(self, dimension: str, start: int, end: int) -> None:
        for layer in (self.cells, self.notes):
            _delete(layer, dimension, start, end)
        if dimension == "ROWS":
            self.row_count -= end - start
        else:
            self.col_count -= end - start
        self.validations = _shift_delete(self.validations, dimension, start, end)
        self.protected = _shift_delete(self.protected, dimension, start, end)
        self.formats = _shift_delete(self.formats, dimension, start, end)
        # Documented: metadata on a deleted row or column is deleted with it; the others follow the shift.
        kept = _shift_delete(_dimension_ranges(self.metadata, dimension), dimension, start, end, keys=_INDEX_KEYS)
        kept_ids = {id(view.meta) for view in kept}
        self.metadata = [m for m in self.metadata if _meta_dimension(m) != dimension or id(m) in kept_ids]

    def move(self, dimension: str, start: int, end: int, destination: int) -> None:
        """moveDimension: `destination` counts in coordinates before the block is removed. Metadata on the
        moved rows or columns moves with them (documented); cells, notes too."""
        target = destination - (end - start) if destination > start else destination
        for layer in (self.cells, self.notes):
            _move(layer, dimension, start, end, destination, target)
        order = list(range(max(end, destination)))
        block = order[start:end]
        del order[start:end]
        order[target:target] = block
        new_index = {old: new for new, old in enumerate(order)}
        for item in _dimension_ranges(self.metadata, dimension):
            old = item["range"]["startIndex"]
            if old in new_index:
                item["range"]["startIndex"], item["range"]["endIndex"] = new_index[old], new_index[old] + 1

    def resize(self, rows: int, cols: int) -> None:
        if rows < self.row_count:
            self.delete("ROWS", rows, self.row_count)
        if cols < self.col_count:
            self.delete("COLUMNS", cols, self.col_count)
        self.row_count, self.col_count = rows, cols

    def sort(self, r0: int, r1: int, c0: int, c1: int, specs: list[tuple[int, bool]]) -> None:
        """Sort rows r0..r1 (exclusive end) on columns c0..c1 only, empty cells last in both orders.

        Values and notes move with their rows; row developer metadata does NOT (the worst case: Google does
        not document what a sort does to row metadata, so the fake keeps it at its position)."""
        self.cells.extend([] for _ in range(max(0, r1 - len(self.cells))))
        rows = []
        for r in range(r0, r1):
            rows.append(([_cell_of(self.cells, r, c) for c in range(c0, c1)],
                         [_cell_of(self.notes, r, c) for c in range(c0, c1)]))
        for col, descending in reversed(specs):
            rel = col - c0
            rows.sort(key=lambda pair: _sort_key(pair[0][rel]), reverse=descending)
            rows = [r for r in rows if r[0][rel] is not None] + [r for r in rows if r[0][rel] is None]
        for offset, (cells, notes) in enumerate(rows):
            for rel, (cell, note) in enumerate(zip(cells, notes, strict=True)):
                self.put(r0 + offset, c0 + rel, cell)
                _put(self.notes, r0 + offset, c0 + rel, note)

    def snapshot(self) -> Sheet:
        """A copy to roll back to: cell lists copied (Cell objects are never changed in place), the small
        range lists deep-copied (shifts change their dicts)."""
        return dataclasses.replace(
            self, grid_extra=copy.deepcopy(self.grid_extra), extra=copy.deepcopy(self.extra),
            cells=[list(r) for r in self.cells], notes=[list(r) for r in self.notes],
            validations=copy.deepcopy(self.validations), protected=copy.deepcopy(self.protected),
            formats=copy.deepcopy(self.formats), metadata=copy.deepcopy(self.metadata))

    def properties(self, index: int) -> dict:
        grid = {"rowCount": self.row_count, "columnCount": self.col_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        grid.update(self.grid_extra)
        props = {"sheetId": self.sheet_id, "title": self.title, "index": index, "sheetType": "GRID",
                 "gridProperties": grid}
        if self.hidden:
            props["hidden"] = True
        props.update(self.extra)
        return props

    # read-only helpers for tests
    def validation_at(self, row: int, col: int) -> dict | None:
        found = None
        for item in self.validations:
            if _covers(item["range"], row, col):
                found = item["rule"]
        return found

    def format_at(self, row: int, col: int) -> dict:
        merged: dict = {}
        for item in self.formats:
            if _covers(item["range"], row, col):
                merged = _deep_merge(merged, item["format"])
        return merged


def _deep_merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@dataclass
class Spreadsheet:
    key: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    metadata: list[dict] = field(default_factory=list)  # developer metadata on the spreadsheet itself

    def by_title(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets if s.title == title), None)

    def by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def snapshot(self) -> Spreadsheet:
        return dataclasses.replace(self, sheets=[s.snapshot() for s in self.sheets],
                                   metadata=copy.deepcopy(self.metadata))


@dataclass
class _Plan:
    kind: str | None
    action: str  # "status", "status-after", "timeout-before", "timeout-after", "disconnect"
    status: int = 0
    times: int = 1


# ---- field masks (spreadsheets.get?fields=…) -----------------------------------------------------------------


def parse_mask(text: str) -> dict:
    """"a.b,c(d,e)" -> {"a": {"b": {}}, "c": {"d": {}, "e": {}}}; {} means "everything below"."""
    tree: dict = {}

    def parse(i: int, node: dict) -> int:
        while i < len(text):
            j = i
            while j < len(text) and text[j] not in ",()":
                j += 1
            leaf = node
            for part in filter(None, re.split(r"[./]", text[i:j].strip())):
                leaf = leaf.setdefault(part, {})
            if j < len(text) and text[j] == "(":
                j = parse(j + 1, leaf)
            if j < len(text) and text[j] == ")":
                return j + 1
            i = j + 1
        return i

    parse(0, tree)
    return tree


def prune(value, tree: dict):
    if not tree or "*" in tree:
        return value
    if isinstance(value, list):
        return [prune(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: prune(value[k], sub) for k, sub in tree.items() if k in value}
    return value


# ---- the fake ------------------------------------------------------------------------------------------------


class FakeSheets:
    """The state of every fake spreadsheet, request accounting and failure injection. Thread-safe."""

    def __init__(self, seed: int = 0, clock=None):
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.private: set[str] = set()
        self.counts: Counter = Counter()
        self.total = 0
        self.log: list[tuple[str, str]] = []  # (kind, decoded path) of every request received
        self.bodies: list[dict] = []  # the JSON body of every request received, in order
        self.queries: list[dict] = []  # the query parameters of every request received, in order
        self.bytes_down = 0  # bytes of every answer sent back (the JSON as it goes on the wire, uncompressed)
        self.clock = clock or (lambda: 0.0)
        self.before_request = None  # hook(number, kind): a person's edit just before request `number` runs
        self.quota: dict[str, int] | None = None  # {"read": 60, "write": 60} per `quota_window_s`
        self.quota_window_s = 60.0
        self.served: list[tuple[float, str]] = []  # (clock time, "read" | "write") of every request answered
        self._plans: list[_Plan] = []

    def enforce_quotas(self, reads: int = 60, writes: int = 60, window_s: float = 60.0) -> None:
        """Answer 429 past `reads` read requests or `writes` write requests in any `window_s` seconds of
        `clock`, as Google's per-minute per-user quotas do; refused requests do not count."""
        self.quota, self.quota_window_s = {"read": reads, "write": writes}, window_s

    def max_per_window(self, window_s: float = 60.0) -> dict[str, int]:
        """The most read and write requests answered within any `window_s` seconds of `clock`."""
        best = {"read": 0, "write": 0, "all": 0}
        for i, (start, _) in enumerate(self.served):
            inside = [c for t, c in self.served[i:] if t < start + window_s]
            best["all"] = max(best["all"], len(inside))
            for category in ("read", "write"):
                best[category] = max(best[category], inside.count(category))
        return best

    def _over_quota(self, category: str) -> bool:
        if self.quota is None:
            return False
        now = self.clock()
        recent = sum(1 for t, c in self.served if c == category and t > now - self.quota_window_s)
        return recent >= self.quota[category]

    # -- set-up and accounting --

    def create_spreadsheet(self, title: str = "Untitled spreadsheet", key: str | None = None,
                           first_sheet: str = "Sheet1") -> str:
        with self._lock:
            key = key or "".join(self._rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(44))
            self.spreadsheets[key] = Spreadsheet(key, title, [Sheet(0, first_sheet)])
            return key

    def delete_spreadsheet(self, key: str) -> None:
        with self._lock:
            self.spreadsheets.pop(key, None)

    def make_private(self, key: str) -> None:
        """Requests for this key answer 403, as for a spreadsheet not shared with the caller."""
        self.private.add(key)

    def count(self, kind: str | None = None) -> int:
        return self.total if kind is None else self.counts[kind]

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.total = 0
            self.log.clear()
            self.bodies.clear()
            self.queries.clear()
            self.served.clear()
            self.bytes_down = 0

    def fail_next(self, kind: str | None = None, status: int = 503, times: int = 1, after_apply: bool = False) -> None:
        """The next `times` requests of `kind` (any kind when None) answer an error `status`; nothing changes
        unless `after_apply` (the change is made, then the error is answered, as a proxy failing late would)."""
        self._plans.append(_Plan(_check_kind(kind), "status-after" if after_apply else "status", status, times))

    def timeout_next(self, kind: str | None = None, after_apply: bool = False, times: int = 1) -> None:
        """Raise ReadTimeout; with `after_apply` the change is made first, as when a response is lost."""
        self._plans.append(_Plan(_check_kind(kind), "timeout-after" if after_apply else "timeout-before", 0, times))

    def disconnect_next(self, kind: str | None = None, times: int = 1) -> None:
        self._plans.append(_Plan(_check_kind(kind), "disconnect", 0, times))

    def _take_plan(self, kind: str) -> _Plan | None:
        for plan in self._plans:
            if plan.kind in (None, kind):
                plan.times -= 1
                if plan.times <= 0:
                    self._plans.remove(plan)
                return plan
        return None

    # -- direct access (a person in the Google UI; never counted) --

    def book(self, key: str) -> Spreadsheet:
        return self.spreadsheets[key]

    def sheet(self, key: str, title: str) -> Sheet:
        found = self.spreadsheets[key].by_title(title)
        if found is None:
            raise KeyError(title)
        return found

    def titles(self, key: str) -> list[str]:
        return [s.title for s in self.spreadsheets[key].sheets]

    def grid_text(self, key: str, title: str) -> list[list[str]]:
        """Every row down to the last one with a value, as shown (trailing empty cells dropped)."""
        with self._lock:
            sheet = self.sheet(key, title)
            grid = []
            for r in range(sheet.last_data_row() + 1):
                line = [c.text if c else "" for c in (sheet.cells[r] if r < len(sheet.cells) else [])]
                while line and line[-1] == "" and sheet.get(r, len(line) - 1) is None:
                    line.pop()
                grid.append(line)
            return grid

    def type_cells(self, key: str, title: str, row: int, col: int, values: list[str]) -> None:
        """Type values from (row, col) rightwards (0-based), parsed like the UI does (USER_ENTERED)."""
        with self._lock:
            sheet = self.sheet(key, title)
            if col + len(values) > sheet.col_count:
                sheet.insert("COLUMNS", sheet.col_count, col + len(values) - sheet.col_count)
            if row >= sheet.row_count:
                sheet.insert("ROWS", sheet.row_count, row + 1 - sheet.row_count)
            for offset, value in enumerate(values):
                sheet.put(row, col + offset, user_entered_cell(value))

    def insert_rows(self, key: str, title: str, at: int, count: int = 1) -> None:
        with self._lock:
            self.sheet(key, title).insert("ROWS", at, count)

    def delete_rows(self, key: str, title: str, start: int, end: int) -> None:
        with self._lock:
            self.sheet(key, title).delete("ROWS", start, end)

    def sort_rows(self, key: str, title: str, col: int, first_row: int = 1, descending: bool = False) -> None:
        """Data > Sort range over the rows from `first_row` to the last row with data, all columns."""
        with self._lock:
            sheet = self.sheet(key, title)
            sheet.sort(first_row, sheet.last_data_row() + 1, 0, sheet.col_count, [(col, descending)])

    def move_columns(self, key: str, title: str, start: int, end: int, to_index: int) -> None:
        """Drag columns start..end (exclusive) so that the first lands at final position `to_index`."""
        with self._lock:
            destination = to_index + (end - start) if to_index > start else to_index
            self.sheet(key, title).move("COLUMNS", start, end, destination)

    # -- HTTP --

    def handle(self, method: str, url: str, body: bytes | str | None):
        """Answer one request: returns (status, payload) or raises a requests exception (injected failure)."""
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        payload = json.loads(body) if body else {}
        with self._lock:
            route = _route(method.upper(), parts.path)
            kind = route[0] if route else "unknown"
            if self.before_request is not None:
                self.before_request(self.total, kind)
            self.total += 1
            self.counts[kind] += 1
            self.log.append((kind, unquote(parts.path)))
            self.bodies.append(payload)
            self.queries.append(query)
            category = "read" if kind in READ_KINDS else "write"
            if self._over_quota(category):
                metric = category.capitalize()
                return 429, ApiError(429, QUOTA_MESSAGE.format(metric=metric)).payload()
            self.served.append((self.clock(), category))
            plan = self._take_plan(kind)
            if plan and plan.action == "status":
                return plan.status, ApiError(plan.status).payload()
            if plan and plan.action == "timeout-before":
                raise requests.exceptions.ReadTimeout("Read timed out (fake, before the change)")
            if plan and plan.action == "disconnect":
                raise requests.exceptions.ConnectionError("Connection refused (fake)")
            try:
                if route is None:
                    raise ApiError(404, "Method not found.")
                status, answer = 200, self._dispatch(route, query, payload)
                if query.get("fields") and kind != "metadata":  # standard partial-response parameter
                    answer = prune(answer, parse_mask(query["fields"][0]))
            except ApiError as error:
                status, answer = error.code, error.payload()
            if plan and plan.action == "timeout-after":
                raise requests.exceptions.ReadTimeout("Read timed out (fake, after the change)")
            if plan and plan.action == "status-after":
                return plan.status, ApiError(plan.status).payload()
            return status, answer

    def _dispatch(self, route, query: dict, body: dict):
        kind, key, range_text = route
        if kind == "create":
            return self._create(body)
        if key in self.private:
            raise ApiError(403)
        book = self.spreadsheets.get(key)
        if book is None:
            raise ApiError(404)
        first = lambda name, default: query.get(name, [default])[0]  # noqa: E731
        if kind == "metadata":
            fields = first("fields", "")
            grid = first("includeGridData", "false") == "true" or ".data" in fields or "/data" in fields \
                or "data(" in fields
            doc = fake_sheets_grid.spreadsheet_with_data(self, book, query.get("ranges", []), grid)
            return prune(doc, parse_mask(fields)) if fields else doc
        if kind == "batchUpdate":
            return self._batch_update(book, body, masked=bool(query.get("fields")))
        if kind == "developerMetadata.get":
            return fake_sheets_metadata.get(book, int(range_text))
        if kind == "developerMetadata.search":
            return fake_sheets_metadata.search(self, book, body)
        options = (first("majorDimension", "ROWS"), first("valueRenderOption", "FORMATTED_VALUE"),
                   first("dateTimeRenderOption", "SERIAL_NUMBER"))
        if kind == "values.get":
            return self._values_get(book, range_text, *options)
        if kind == "values.batchGet":
            return {"spreadsheetId": key,
                    "valueRanges": [self._values_get(book, r, *options) for r in query.get("ranges", [])]}
        if kind == "values.clear":
            return {"spreadsheetId": key, "clearedRange": self._clear(book, range_text)}
        if kind == "values.batchClear":
            return {"spreadsheetId": key, "clearedRanges": [self._clear(book, r) for r in body.get("ranges", [])]}
        input_option = first("valueInputOption", "") or body.get("valueInputOption", "")
        if input_option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "'valueInputOption' is required but not specified")
        parse = raw_cell if input_option == "RAW" else user_entered_cell
        if kind == "values.update":
            return self._values_update(book, [(range_text, body)], parse)["responses"][0]
        if kind == "values.batchUpdate":
            return self._values_update(book, [(d.get("range", ""), d) for d in body.get("data", [])], parse)
        return self._append(book, range_text, body, parse, first("insertDataOption", "OVERWRITE"))

    # -- spreadsheets --

    def _create(self, body: dict) -> dict:
        title = body.get("properties", {}).get("title", "Untitled spreadsheet")
        key = self.create_spreadsheet(title)
        book = self.spreadsheets[key]
        requested = body.get("sheets") or []
        if requested:
            book.sheets = []
            for i, sheet in enumerate(requested):
                props = sheet.get("properties", {})
                self._add_sheet(book, props, i)
        return self._metadata(book, "")

    def _metadata(self, book: Spreadsheet, fields: str) -> dict:
        sheets = []
        for index, sheet in enumerate(book.sheets):
            entry = {"properties": sheet.properties(index)}
            if sheet.protected:
                entry["protectedRanges"] = [_protected_out(p) for p in sheet.protected]
            sheets.append(entry)
        doc = {"spreadsheetId": book.key,
               "properties": {"title": book.title, "locale": book.locale, "autoRecalc": "ON_CHANGE",
                              "timeZone": book.time_zone},
               "sheets": sheets,
               "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.key}/edit"}
        if book.metadata:
            doc["developerMetadata"] = [fake_sheets_metadata._out(m) for m in book.metadata]
        for sheet, entry in zip(book.sheets, sheets, strict=True):
            on_sheet = [m for m in sheet.metadata if "dimensionRange" not in m["location"]]
            if on_sheet:
                entry["developerMetadata"] = [fake_sheets_metadata._out(m) for m in on_sheet]
        return prune(doc, parse_mask(fields)) if fields else doc

    def _batch_update(self, book: Spreadsheet, body: dict, masked: bool = False) -> dict:
        saved = book.snapshot()  # batchUpdate is atomic: all requests apply or none
        replies = []
        try:
            for index, request in enumerate(body.get("requests", [])):
                (name, params), = request.items()
                handler = self._batch_handler(name)
                if handler is None:
                    raise ApiError(400, f"Invalid requests[{index}]: the fake does not support '{name}'.")
                try:
                    replies.append(handler(book, params or {}, index) or {})
                except ApiError as error:
                    if not error.message.startswith("Invalid requests"):
                        error.message = f"Invalid requests[{index}].{name}: {error.message}"
                    raise
        except ApiError:
            self.spreadsheets[book.key] = saved
            raise
        answer = {"spreadsheetId": book.key, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            # The spreadsheet after the updates, in the same answer: with a field mask the mask alone decides
            # whether grid data is included (responseIncludeGridData is then ignored, as documented).
            grid = masked or bool(body.get("responseIncludeGridData"))
            answer["updatedSpreadsheet"] = fake_sheets_grid.spreadsheet_with_data(
                self, book, body.get("responseRanges") or [], grid)
        return answer

    def _batch_handler(self, name: str):
        """`BATCH_REQUESTS[name]` (modules add request kinds there), else a `_bu_<name>` method."""
        extra = BATCH_REQUESTS.get(name)
        if extra is not None:
            return lambda book, params, index: extra(self, book, params, index)
        return getattr(self, f"_bu_{name}", None)

    def _sheet_of(self, book: Spreadsheet, sheet_id) -> Sheet:
        sheet = book.by_id(sheet_id or 0)
        if sheet is None:
            raise ApiError(400, f"No grid with id: {sheet_id or 0}")
        return sheet

    def _new_sheet_id(self, book: Spreadsheet) -> int:
        while True:
            candidate = self._rng.randrange(1, 2**31 - 1)
            if book.by_id(candidate) is None:
                return candidate

    def _add_sheet(self, book: Spreadsheet, props: dict, index: int | None = None) -> Sheet:
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if any(s.title.casefold() == title.casefold() for s in book.sheets):
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        sheet_id = props.get("sheetId")
        if sheet_id is not None and book.by_id(sheet_id) is not None:
            raise ApiError(400, f"A sheet with the id {sheet_id} already exists.")
        grid = props.get("gridProperties", {})
        sheet = Sheet(sheet_id if sheet_id is not None else self._new_sheet_id(book), title,
                      grid.get("rowCount", DEFAULT_ROWS), grid.get("columnCount", DEFAULT_COLS),
                      grid.get("frozenRowCount", 0), grid.get("frozenColumnCount", 0), bool(props.get("hidden")))
        position = props.get("index", len(book.sheets) if index is None else index)
        book.sheets.insert(min(position, len(book.sheets)), sheet)
        return sheet

    def _bu_addSheet(self, book, params, index):
        sheet = self._add_sheet(book, params.get("properties", {}))
        return {"addSheet": {"properties": sheet.properties(book.sheets.index(sheet))}}

    def _bu_deleteSheet(self, book, params, index):
        sheet = self._sheet_of(book, params.get("sheetId"))
        if len(book.sheets) == 1:
            raise ApiError(400, "You can't remove all the sheets in a document.")
        book.sheets.remove(sheet)

    def _bu_updateSheetProperties(self, book, params, index):
        props = params.get("properties", {})
        sheet = self._sheet_of(book, props.get("sheetId"))
        paths = [p.strip() for p in params.get("fields", "").split(",") if p.strip()]
        if paths == ["*"]:
            paths = [k for k in props if k != "sheetId"]
        rows, cols = sheet.row_count, sheet.col_count
        for path in paths:
            parts = re.split(r"[./]", path)
            value = props
            for part in parts:
                value = value.get(part) if isinstance(value, dict) else None
            self._set_sheet_property(book, sheet, parts, value, index)
            if parts == ["gridProperties", "rowCount"]:
                rows = value or 0
            if parts == ["gridProperties", "columnCount"]:
                cols = value or 0
        if (rows, cols) != (sheet.row_count, sheet.col_count):
            sheet.resize(rows, cols)

    def _set_sheet_property(self, book, sheet: Sheet, parts: list[str], value, index: int) -> None:
        name = parts[0]
        if name == "title":
            if any(s is not sheet and s.title.casefold() == str(value).casefold() for s in book.sheets):
                raise ApiError(400, f'A sheet with the name "{value}" already exists. Please enter another name.')
            sheet.title = value
        elif name == "index":
            old = book.sheets.index(sheet)
            target = value if value is not None else len(book.sheets)
            book.sheets.remove(sheet)
            book.sheets.insert(target - 1 if target > old else target, sheet)
        elif name == "hidden":
            if value and all(s.hidden for s in book.sheets if s is not sheet):
                raise ApiError(400, f"Invalid requests[{index}].updateSheetProperties: "
                                    "You can't hide all the sheets in a document.")
            sheet.hidden = bool(value)
        elif name == "gridProperties" and len(parts) == 2:
            key = parts[1]
            if key == "frozenRowCount":
                sheet.frozen_rows = value or 0
            elif key == "frozenColumnCount":
                sheet.frozen_cols = value or 0
            elif key not in ("rowCount", "columnCount"):
                if value in (None, False, 0):
                    sheet.grid_extra.pop(key, None)
                else:
                    sheet.grid_extra[key] = value
        elif value is None:
            sheet.extra.pop(name, None)
        else:
            sheet.extra[name] = value

    def _bu_updateSpreadsheetProperties(self, book, params, index):
        props = params.get("properties", {})
        for path in params.get("fields", "").split(","):
            path = path.strip()
            if path == "title":
                book.title = props.get("title", "")
            elif path == "locale":
                book.locale = props.get("locale", "")
            elif path == "timeZone":
                book.time_zone = props.get("timeZone", "")

    def _bu_repeatCell(self, book, params, index):
        rng = dict(params.get("range", {}))
        sheet = self._sheet_of(book, rng.get("sheetId"))
        sheet.formats.append({"range": rng, "format": params.get("cell", {}).get("userEnteredFormat", {}),
                              "fields": params.get("fields", "")})

    def _bu_setDataValidation(self, book, params, index):
        rng = dict(params.get("range", {}))
        sheet = self._sheet_of(book, rng.get("sheetId"))
        sheet.validations = [v for v in sheet.validations if v["range"] != rng]
        if params.get("rule"):
            sheet.validations.append({"range": rng, "rule": params["rule"]})

    def _bu_addProtectedRange(self, book, params, index):
        wanted = params.get("protectedRange", {})
        rng = dict(wanted.get("range", {}))
        sheet = self._sheet_of(book, rng.get("sheetId"))
        stored = {"protectedRangeId": wanted.get("protectedRangeId") or self._rng.randrange(1, 2**31 - 1),
                  "range": rng}
        if wanted.get("description"):
            stored["description"] = wanted["description"]
        if wanted.get("warningOnly"):  # false is the proto default: Google leaves it out
            stored["warningOnly"] = True
        stored["requestingUserCanEdit"] = True
        stored["editors"] = {}
        sheet.protected.append(stored)
        return {"addProtectedRange": {"protectedRange": _protected_out(stored)}}

    def _bu_deleteProtectedRange(self, book, params, index):
        wanted = params.get("protectedRangeId")
        for sheet in book.sheets:
            kept = [p for p in sheet.protected if p["protectedRangeId"] != wanted]
            if len(kept) != len(sheet.protected):
                sheet.protected = kept
                return
        raise ApiError(400, f"No protected range with id: {wanted}")

    def _dimension(self, book, rng: dict) -> tuple[Sheet, str, int, int]:
        sheet = self._sheet_of(book, rng.get("sheetId"))
        dimension = rng.get("dimension", "ROWS")
        size = sheet.row_count if dimension == "ROWS" else sheet.col_count
        start, end = rng.get("startIndex", 0), rng.get("endIndex", size)
        if not 0 <= start <= end:
            raise ApiError(400, "Invalid dimension range.")
        return sheet, dimension, start, end

    def _bu_deleteDimension(self, book, params, index):
        sheet, dimension, start, end = self._dimension(book, params.get("range", {}))
        size = sheet.row_count if dimension == "ROWS" else sheet.col_count
        if end > size:
            raise ApiError(400, f"Invalid requests[{index}].deleteDimension: Cannot delete a "
                                f"{'row' if dimension == 'ROWS' else 'column'} that doesn't exist. "
                                f"Tried to delete index {end - 1} but there are only {size}.")
        if end - start >= size:
            raise ApiError(400, f"You can't delete all the {'rows' if dimension == 'ROWS' else 'columns'} "
                                "on the sheet.")
        sheet.delete(dimension, start, end)

    def _bu_insertDimension(self, book, params, index):
        sheet, dimension, start, end = self._dimension(book, params.get("range", {}))
        size = sheet.row_count if dimension == "ROWS" else sheet.col_count
        if start > size:
            raise ApiError(400, "Cannot insert beyond the end of the sheet.")
        sheet.insert(dimension, start, end - start)

    def _bu_appendDimension(self, book, params, index):
        sheet = self._sheet_of(book, params.get("sheetId"))
        dimension = params.get("dimension", "ROWS")
        sheet.insert(dimension, sheet.row_count if dimension == "ROWS" else sheet.col_count, params.get("length", 0))

    def _bu_moveDimension(self, book, params, index):
        sheet, dimension, start, end = self._dimension(book, params.get("source", {}))
        sheet.move(dimension, start, end, params.get("destinationIndex", 0))

    def _bu_sortRange(self, book, params, index):
        rng = params.get("range", {})
        sheet = self._sheet_of(book, rng.get("sheetId"))
        specs = [(s.get("dimensionIndex", 0), s.get("sortOrder", "ASCENDING") == "DESCENDING")
                 for s in params.get("sortSpecs", [])]
        sheet.sort(rng.get("startRowIndex", 0), rng.get("endRowIndex", sheet.row_count),
                   rng.get("startColumnIndex", 0), rng.get("endColumnIndex", sheet.col_count), specs)

    # -- values --

    def _resolve(self, book: Spreadsheet, text: str, write: bool = False) -> tuple[Sheet, Box]:
        title, cells = _split_range(text)
        if title is None:
            whole = book.by_title(cells)
            if whole is not None:
                title, cells = cells, ""
        sheet = book.by_title(title) if title is not None else next((s for s in book.sheets if not s.hidden), None)
        if sheet is None:
            raise ApiError(400, f"Unable to parse range: {text}")
        if not cells:
            return sheet, Box(0, 0, sheet.row_count - 1, sheet.col_count - 1)
        box = _parse_cells(cells, sheet.row_count, sheet.col_count)
        if box is None:
            raise ApiError(400, f"Unable to parse range: {text}")
        if box.r0 >= sheet.row_count or box.c0 >= sheet.col_count:
            raise ApiError(400, f"Range ({quote_title(sheet.title)}!{box.a1()}) exceeds grid limits. "
                                f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}")
        if not write:
            box.r1, box.c1 = min(box.r1, sheet.row_count - 1), min(box.c1, sheet.col_count - 1)
        return sheet, box

    def _values_get(self, book, text, major, value_option, date_option) -> dict:
        sheet, box = self._resolve(book, text)
        answer = {"range": f"{quote_title(sheet.title)}!{box.a1()}", "majorDimension": major}
        values = _read_box(sheet, box, major, value_option, date_option)
        if values:
            answer["values"] = values
        return answer

    def _clear(self, book, text) -> str:
        sheet, box = self._resolve(book, text)
        for r in range(box.r0, min(box.r1, len(sheet.cells) - 1) + 1):
            for c in range(box.c0, min(box.c1, len(sheet.cells[r]) - 1) + 1):
                sheet.cells[r][c] = None
        return f"{quote_title(sheet.title)}!{box.a1()}"

    def _values_update(self, book, items: list[tuple[str, dict]], parse) -> dict:
        planned = []  # validate everything first: a refused batch changes nothing
        for text, body in items:
            sheet, box = self._resolve(book, text, write=True)
            rows = _as_rows(body)
            height, width = len(rows), max((len(r) for r in rows), default=0)
            too_tall, too_wide = height > box.r1 - box.r0 + 1, width > box.c1 - box.c0 + 1
            if not box.anchor and (too_tall or too_wide):
                where = f"row [{box.r0 + height}]" if too_tall else f"column [{col_letter(box.c0 + width - 1)}]"
                raise ApiError(400, f"Requested writing within range [{quote_title(sheet.title)}!{box.a1()}], "
                                    f"but tried writing to {where}")
            if box.r0 + height > sheet.row_count or box.c0 + width > sheet.col_count:
                written = Box(box.r0, box.c0, box.r0 + max(height, 1) - 1, box.c0 + max(width, 1) - 1)
                raise ApiError(400, f"Range ({quote_title(sheet.title)}!{written.a1()}) exceeds grid limits. "
                                    f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}")
            planned.append((sheet, box, rows, height, width))
        responses = []
        for sheet, box, rows, height, width in planned:
            answer = {"spreadsheetId": book.key}
            if height and width:
                _write(sheet, box.r0, box.c0, rows, parse)
                answer.update(updatedRange=f"{quote_title(sheet.title)}!"
                                           f"{Box(box.r0, box.c0, box.r0 + height - 1, box.c0 + width - 1).a1()}",
                              **_counts(rows))
            responses.append(answer)
        total = lambda name: sum(r.get(name, 0) for r in responses)  # noqa: E731
        return {"spreadsheetId": book.key, "totalUpdatedRows": total("updatedRows"),
                "totalUpdatedColumns": total("updatedColumns"), "totalUpdatedCells": total("updatedCells"),
                "totalUpdatedSheets": len({id(p[0]) for p in planned if p[3]}), "responses": responses}

    def _append(self, book, text, body, parse, insert_option: str) -> dict:
        sheet, box = self._resolve(book, text)
        table = _find_table(sheet, box)
        row, col = (table.r1 + 1, table.c0) if table else (box.r0, box.c0)
        rows = _as_rows(body)
        height, width = len(rows), max((len(r) for r in rows), default=0)
        if insert_option == "INSERT_ROWS":
            sheet.insert("ROWS", min(row, sheet.row_count), height)
        elif row + height > sheet.row_count:
            sheet.insert("ROWS", sheet.row_count, row + height - sheet.row_count)
        if col + width > sheet.col_count:
            sheet.insert("COLUMNS", sheet.col_count, col + width - sheet.col_count)
        _write(sheet, row, col, rows, parse)
        title = quote_title(sheet.title)
        answer = {"spreadsheetId": book.key}
        if table:
            answer["tableRange"] = f"{title}!{table.a1()}"
        answer["updates"] = {"spreadsheetId": book.key,
                             "updatedRange": f"{title}!{Box(row, col, row + height - 1, col + width - 1).a1()}",
                             **_counts(rows)}
        return answer


def _check_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown request kind {kind!r}; one of {KINDS}")
    return kind


def _protected_out(stored: dict) -> dict:
    out = dict(stored)
    out["range"] = grid_range_out(stored["range"])
    return out


def _route(method: str, path: str):
    """(kind, key, decoded range or None) for a Sheets v4 URL path, None when unknown."""
    if path in ("/v4/spreadsheets", "/v4/spreadsheets/") and method == "POST":
        return ("create", "", None)
    match = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
    if not match:
        return None
    key, rest = unquote(match.group(1)), match.group(2)
    fixed = {("GET", ""): "metadata", ("POST", ":batchUpdate"): "batchUpdate",
             ("GET", "/values:batchGet"): "values.batchGet", ("POST", "/values:batchUpdate"): "values.batchUpdate",
             ("POST", "/values:batchClear"): "values.batchClear"}
    if (method, rest) in fixed:
        return (fixed[(method, rest)], key, None)
    if method == "POST" and rest == "/developerMetadata:search":
        return ("developerMetadata.search", key, None)
    found = re.fullmatch(r"/developerMetadata/(\d+)", rest)
    if method == "GET" and found:
        return ("developerMetadata.get", key, found.group(1))
    if not rest.startswith("/values/"):
        return None
    encoded = rest[len("/values/"):]
    for suffix, kind in ((":append", "values.append"), (":clear", "values.clear")):
        if encoded.endswith(suffix) and method == "POST":
            return (kind, key, unquote(encoded[: -len(suffix)]))
    kinds = {"GET": "values.get", "PUT": "values.update"}
    return (kinds[method], key, unquote(encoded)) if method in kinds else None


def _split_range(text: str) -> tuple[str | None, str]:
    """("Sheet title" or None, cell part) from "'My sheet'!A1:B2", "Sheet1!A1", "Sheet1" or "A1:B2"."""
    text = text.strip()
    if text.startswith("'"):
        i, title = 1, ""
        while i < len(text):
            if text[i] == "'" and text[i + 1: i + 2] == "'":
                title, i = title + "'", i + 2
            elif text[i] == "'":
                break
            else:
                title, i = title + text[i], i + 1
        rest = text[i + 1:]
        return title, rest[1:] if rest.startswith("!") else rest
    if "!" in text:
        title, cells = text.split("!", 1)
        return title, cells
    return None, text


def _as_rows(body: dict) -> list[list]:
    values = body.get("values") or []
    if not isinstance(values, list) or any(not isinstance(v, list) for v in values):
        raise ApiError(400, f"Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), "
                            f"{json.dumps(values)}")
    if (body.get("majorDimension") or "ROWS") == "COLUMNS":
        height = max((len(c) for c in values), default=0)
        return [[c[r] if r < len(c) else None for c in values] for r in range(height)]
    return values


def _counts(rows: list[list]) -> dict:
    """Google counts only the cells sent with a value (null skips a cell), and their rows and columns."""
    cells = [(r, c) for r, line in enumerate(rows) for c, v in enumerate(line) if v is not None]
    return {"updatedRows": len({r for r, _ in cells}), "updatedColumns": len({c for _, c in cells}),
            "updatedCells": len(cells)}


def _write(sheet: Sheet, row: int, col: int, rows: list[list], parse) -> None:
    for dr, line in enumerate(rows):
        for dc, value in enumerate(line):
            if value is not None:  # null leaves the cell as it is
                sheet.put(row + dr, col + dc, parse(value))


def _trim(line: list, cells: list) -> list:
    while line and cells[len(line) - 1] is None:
        line.pop()
    return line


def _read_box(sheet: Sheet, box: Box, major: str, value_option: str, date_option: str) -> list[list]:
    last_row = min(box.r1, len(sheet.cells) - 1)
    if major == "COLUMNS":
        out = []
        for c in range(box.c0, box.c1 + 1):
            cells = [sheet.get(r, c) for r in range(box.r0, last_row + 1)]
            out.append(_trim([render(x, value_option, date_option) for x in cells], cells))
    else:
        out = []
        for r in range(box.r0, last_row + 1):
            line = sheet.cells[r]
            cells = [line[c] if c < len(line) else None for c in range(box.c0, min(box.c1, len(line) - 1) + 1)]
            out.append(_trim([render(x, value_option, date_option) for x in cells], cells))
    while out and not out[-1]:
        out.pop()
    return out


def _find_table(sheet: Sheet, box: Box) -> Box | None:
    """The "table" values.append extends: the block of touching cells around the last value in the range."""
    seed = None
    for r in range(min(box.r1, len(sheet.cells) - 1), box.r0 - 1, -1):
        line = sheet.cells[r]
        for c in range(min(box.c1, len(line) - 1), box.c0 - 1, -1):
            if line[c] is not None:
                seed = (r, c)
                break
        if seed:
            break
    if seed is None:
        return None
    seen, todo = {seed}, [seed]
    while todo:
        r, c = todo.pop()
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                nxt = (r + dr, c + dc)
                if nxt not in seen and nxt[0] >= 0 and nxt[1] >= 0 and sheet.get(*nxt) is not None:
                    seen.add(nxt)
                    todo.append(nxt)
    rows, cols = [p[0] for p in seen], [p[1] for p in seen]
    return Box(min(rows), min(cols), max(rows), max(cols))


class FakeSheetsAdapter(BaseAdapter):
    """A `requests` transport adapter answering from a FakeSheets: mount it on the session under test."""

    def __init__(self, fake: FakeSheets):
        super().__init__()
        self.fake = fake

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        try:
            status, payload = self.fake.handle(request.method, request.url, request.body)
        except requests.exceptions.RequestException as error:
            error.request = request
            raise
        response = requests.Response()
        response.status_code = status
        response.reason = "OK" if status == 200 else STATUS_NAMES.get(status, "Error")
        response._content = json.dumps(payload).encode("utf-8")
        self.fake.bytes_down += len(response._content)
        response.headers = CaseInsensitiveDict({"Content-Type": "application/json; charset=UTF-8"})
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


# The request kinds and resources that live in their own modules (they import this one, hence at the end).
from tests.support import fake_sheets_grid, fake_sheets_metadata  # noqa: E402

BATCH_REQUESTS.update({
    "updateCells": fake_sheets_grid.update_cells,
    "copyPaste": fake_sheets_grid.copy_paste,
    "appendCells": fake_sheets_grid.append_cells,
    "cutPaste": fake_sheets_grid.cut_paste,
    "createDeveloperMetadata": fake_sheets_metadata.create,
    "updateDeveloperMetadata": fake_sheets_metadata.update,
    "deleteDeveloperMetadata": fake_sheets_metadata.delete,
})
# Number formats, locales, notes, conditional formats and filters: their own module, which installs itself.
from tests.support import fake_sheets_format  # noqa: E402,F401
