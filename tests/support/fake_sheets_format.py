"""The fake Sheets API's formatting side: what `init` sends to make the sheet a workplace, and what a person's
typing becomes in a formatted cell. Installed into FakeSheets when tests/support/fake_sheets.py is imported.

batchUpdate requests added: updateCells (values, formulas, notes), updateDimensionProperties (column pixelSize),
addConditionalFormatRule / deleteConditionalFormatRule (by index, the reply shapes of the API reference),
addFilterView / deleteFilterView (a filterViewId already in use is refused, as Google documents),
setBasicFilter / clearBasicFilter. spreadsheets.get answers them back (`conditionalFormats`, `filterViews`,
`basicFilter` per sheet) and, with includeGridData and ranges, the cells' `formattedValue`, `note`,
`dataValidation`, `userEnteredFormat` and the columns' `pixelSize` (100 unless set), as GridData blocks.

A person typing (`type_cells`), as in the Google UI:
- into a cell whose number format is TEXT (repeatCell numberFormat TEXT): the text stays as typed, "=…" too;
- into any other cell: parsed as USER_ENTERED, with the spreadsheet's locale deciding dates: J/M/AAAA in fr_FR,
  M/J/AAAA in en_US (Google's default for a new spreadsheet), shown in that locale's date format; an ISO date
  keeps its form. Numbers lose leading zeros and "+" as before.
Inserted rows and columns take the formats and validations of those after them (Google's default).
Simplifications: conditional formats, filter views and widths do not follow inserted, deleted or sorted rows
and columns; values.* requests with USER_ENTERED ignore number formats (the app writes RAW only).
"""

from __future__ import annotations

import re
from datetime import date

from tests.support import fake_sheets as core
from tests.support.sheet_formulas import Err, Grid, Link, evaluate, rule_applies

DEFAULT_PX = 100
_DAY_MONTH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


# ---- per-sheet formatting state (attributes of the fake's Sheet, copied with it by the atomic batchUpdate) ----


def _state(sheet) -> dict:
    return sheet.__dict__.setdefault("formatting", {"conditional": [], "filter_views": [], "basic_filter": None,
                                                    "widths": {}, "notes": {}})


def note_at(sheet, row: int, col: int) -> str:
    if hasattr(sheet, "get_note"):
        return sheet.get_note(row, col)
    return _state(sheet)["notes"].get((row, col), "")


def _put_note(sheet, row: int, col: int, note: str) -> None:
    if hasattr(sheet, "put_note"):
        sheet.put_note(row, col, note)
    elif note:
        _state(sheet)["notes"][(row, col)] = note
    else:
        _state(sheet)["notes"].pop((row, col), None)


def conditional_rules(sheet) -> list[dict]:
    return _state(sheet)["conditional"]


def filter_views(sheet) -> list[dict]:
    return _state(sheet)["filter_views"]


def basic_filter(sheet) -> dict | None:
    return _state(sheet)["basic_filter"]


def width_of(sheet, col: int) -> int:
    return _state(sheet)["widths"].get(col, DEFAULT_PX)


def is_text_cell(sheet, row: int, col: int) -> bool:
    return sheet.format_at(row, col).get("numberFormat", {}).get("type") == "TEXT"


# ---- typing ----------------------------------------------------------------------------------------------------


def _date_cell(day: date, text: str):
    return core.Cell("date", float((day - date(1899, 12, 30)).days), text)


def typed_cell(book, sheet, row: int, col: int, value):
    """What a person's typing becomes in this cell (see module docstring)."""
    if not isinstance(value, str) or value == "":
        return core.user_entered_cell(value)
    if is_text_cell(sheet, row, col):
        return core.Cell("text", value, value)
    match = _DAY_MONTH.fullmatch(value.strip())
    if match:
        a, b, year = (int(g) for g in match.groups())
        day_first = not book.locale.startswith("en_US")
        try:
            day = date(year, b, a) if day_first else date(year, a, b)
        except ValueError:
            return core.Cell("text", value, value)
        shown = f"{day.day:02d}/{day.month:02d}/{day.year}" if day_first else f"{day.month}/{day.day}/{day.year}"
        return _date_cell(day, shown)
    return core.user_entered_cell(value)


def type_cells(self, key: str, title: str, row: int, col: int, values: list[str]) -> None:
    """Type values from (row, col) rightwards (0-based), as a person does in the Google UI."""
    with self._lock:
        sheet = self.sheet(key, title)
        if col + len(values) > sheet.col_count:
            sheet.insert("COLUMNS", sheet.col_count, col + len(values) - sheet.col_count)
        if row >= sheet.row_count:
            sheet.insert("ROWS", sheet.row_count, row + 1 - sheet.row_count)
        for offset, value in enumerate(values):
            sheet.put(row, col + offset, typed_cell(self.book(key), sheet, row, col + offset, value))


# ---- batchUpdate requests ----------------------------------------------------------------------------------------


def _value_in(data: dict):
    value = data.get("userEnteredValue")
    if value is None:
        return None
    if "formulaValue" in value:
        return core.Cell("text", "", "", formula=value["formulaValue"])
    if "stringValue" in value:
        return core.Cell("text", value["stringValue"], value["stringValue"]) if value["stringValue"] else None
    if "numberValue" in value:
        return core.raw_cell(value["numberValue"])
    if "boolValue" in value:
        return core.raw_cell(bool(value["boolValue"]))
    return None


def _bu_updateCells(self, book, params, index):
    """Cells from `start` (or the top-left of `range`, whose other cells in `fields` are cleared)."""
    fields = {f.strip() for f in params.get("fields", "").split(",") if f.strip()}
    if not fields:
        raise core.ApiError(400, "At least one field must be specified in 'fields'.")
    if "*" in fields:
        fields = {"userEnteredValue", "note"}
    where = params.get("range") or params.get("start") or {}
    sheet = self._sheet_of(book, where.get("sheetId"))
    top, left = where.get("startRowIndex", where.get("rowIndex", 0)), where.get("startColumnIndex",
                                                                               where.get("columnIndex", 0))
    rows = params.get("rows", [])
    if top + len(rows) > sheet.row_count or any(left + len(r.get("values", [])) > sheet.col_count for r in rows):
        raise core.ApiError(400, f"Range ({core.quote_title(sheet.title)}) exceeds grid limits. "
                                 f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}")
    if "range" in params:  # a range's cells not covered by rows are cleared (fields only)
        rng = params["range"]
        for r in range(top, min(rng.get("endRowIndex", sheet.row_count), sheet.row_count)):
            for c in range(left, min(rng.get("endColumnIndex", sheet.col_count), sheet.col_count)):
                if "userEnteredValue" in fields:
                    sheet.put(r, c, None)
                if "note" in fields:
                    _put_note(sheet, r, c, "")
    for dr, line in enumerate(rows):
        for dc, data in enumerate(line.get("values", [])):
            if "userEnteredValue" in fields:
                sheet.put(top + dr, left + dc, _value_in(data))
            if "note" in fields:
                _put_note(sheet, top + dr, left + dc, data.get("note", ""))


def _bu_updateDimensionProperties(self, book, params, index):
    rng = params.get("range", {})
    sheet = self._sheet_of(book, rng.get("sheetId"))
    if rng.get("dimension") != "COLUMNS" or "pixelSize" not in params.get("fields", ""):
        raise core.ApiError(400, "the fake models column pixelSize only")
    for col in range(rng.get("startIndex", 0), rng.get("endIndex", sheet.col_count)):
        _state(sheet)["widths"][col] = params.get("properties", {}).get("pixelSize", DEFAULT_PX)


def _rule_sheet(self, book, rule: dict):
    ranges = rule.get("ranges") or []
    if not ranges:
        raise core.ApiError(400, "Conditional format rule must have at least one range.")
    return self._sheet_of(book, ranges[0].get("sheetId"))


def _bu_addConditionalFormatRule(self, book, params, index):
    rule = params.get("rule", {})
    sheet = _rule_sheet(self, book, rule)
    rules = conditional_rules(sheet)
    at = params.get("index", 0)
    if at > len(rules):
        raise core.ApiError(400, f"Invalid requests[{index}].addConditionalFormatRule: index {at} is out of bounds.")
    rules.insert(at, {**rule, "ranges": [dict(r) for r in rule["ranges"]]})


def _bu_deleteConditionalFormatRule(self, book, params, index):
    sheet = self._sheet_of(book, params.get("sheetId"))
    rules = conditional_rules(sheet)
    at = params.get("index", 0)
    if at >= len(rules):
        raise core.ApiError(400, f"Invalid requests[{index}].deleteConditionalFormatRule: No conditional format on "
                                 f"sheet: {sheet.sheet_id} at index: {at}")
    return {"deleteConditionalFormatRule": {"rule": rules.pop(at)}}


def _all_views(book):
    return [view for sheet in book.sheets for view in filter_views(sheet)]


def _bu_addFilterView(self, book, params, index):
    view = dict(params.get("filter", {}))
    sheet = self._sheet_of(book, view.get("range", {}).get("sheetId"))
    view.setdefault("filterViewId", self._rng.randrange(1, 2**31 - 1))
    if any(v["filterViewId"] == view["filterViewId"] for v in _all_views(book)):
        raise core.ApiError(400, f"Invalid requests[{index}].addFilterView: Filter view with ID "
                                 f"{view['filterViewId']} already exists.")
    filter_views(sheet).append(view)
    return {"addFilterView": {"filter": view}}


def _bu_deleteFilterView(self, book, params, index):
    wanted = params.get("filterId")
    for sheet in book.sheets:
        views = filter_views(sheet)
        for view in views:
            if view["filterViewId"] == wanted:
                views.remove(view)
                return None
    raise core.ApiError(400, f"Invalid requests[{index}].deleteFilterView: No filter with id: {wanted}")


def _bu_setBasicFilter(self, book, params, index):
    flt = params.get("filter", {})
    sheet = self._sheet_of(book, flt.get("range", {}).get("sheetId"))
    _state(sheet)["basic_filter"] = dict(flt)


def _bu_clearBasicFilter(self, book, params, index):
    _state(self._sheet_of(book, params.get("sheetId")))["basic_filter"] = None


def _bu_addProtectedRange(self, book, params, index, _original=core.FakeSheets._bu_addProtectedRange):
    wanted = params.get("protectedRange", {}).get("protectedRangeId")
    if wanted and any(p["protectedRangeId"] == wanted for s in book.sheets for p in s.protected):
        raise core.ApiError(400, f"Invalid requests[{index}].addProtectedRange: A protected range with ID "
                                 f"{wanted} already exists.")
    answer = _original(self, book, params, index)
    stored = next(p for s in book.sheets for p in s.protected
                  if p["protectedRangeId"] == answer["addProtectedRange"]["protectedRange"]["protectedRangeId"])
    editors = params.get("protectedRange", {}).get("editors")
    if editors:
        stored["editors"] = editors
    if params.get("protectedRange", {}).get("warningOnly") is False:
        stored.pop("warningOnly", None)
    return answer


# ---- spreadsheets.get ---------------------------------------------------------------------------------------


def _metadata(self, book, fields: str, _original=core.FakeSheets._metadata):
    doc = _original(self, book, "")
    for sheet, entry in zip(book.sheets, doc["sheets"], strict=True):
        state = _state(sheet)
        if state["conditional"]:
            entry["conditionalFormats"] = [_rule_out(r) for r in state["conditional"]]
        if state["filter_views"]:
            entry["filterViews"] = [_view_out(v) for v in state["filter_views"]]
        if state["basic_filter"] is not None:
            entry["basicFilter"] = _view_out(state["basic_filter"])
    return core.prune(doc, core.parse_mask(fields)) if fields else doc


def _rule_out(rule: dict) -> dict:
    return {**rule, "ranges": [core.grid_range_out(r) for r in rule["ranges"]]}


def _view_out(view: dict) -> dict:
    return {**view, "range": core.grid_range_out(view.get("range", {}))}


def _cell_data(sheet, row: int, col: int, locale: str) -> dict:
    out = {}
    cell = sheet.get(row, col)
    if cell is not None:
        out["formattedValue"] = cell.text
    note = note_at(sheet, row, col)
    if note:
        out["note"] = note
    fmt = sheet.format_at(row, col)
    if fmt:
        out["userEnteredFormat"] = fmt
    rule = sheet.validation_at(row, col)
    if rule:
        out["dataValidation"] = rule
    return out


def spreadsheet_with_grid(self, book, ranges: list[str], fields: str) -> dict:
    doc = _metadata(self, book, "")
    for text in ranges:
        sheet, box = self._resolve(book, text)
        entry = next(e for s, e in zip(book.sheets, doc["sheets"], strict=True) if s is sheet)
        rows = []
        last = min(box.r1, sheet.row_count - 1)
        for r in range(box.r0, last + 1):
            values = [_cell_data(sheet, r, c, book.locale) for c in range(box.c0, box.c1 + 1)]
            while values and not values[-1]:
                values.pop()
            rows.append({"values": values} if values else {})
        while rows and not rows[-1]:
            rows.pop()
        block = {"rowData": rows, "columnMetadata": [{"pixelSize": width_of(sheet, c)}
                                                     for c in range(box.c0, box.c1 + 1)]}
        if box.r0:
            block["startRow"] = box.r0
        if box.c0:
            block["startColumn"] = box.c0
        entry.setdefault("data", []).append(block)
    return core.prune(doc, core.parse_mask(fields)) if fields else doc


def _dispatch(self, route, query: dict, body: dict, _original=core.FakeSheets._dispatch):
    kind, key, _ = route
    wants_grid = query.get("includeGridData", ["false"])[0] == "true" and query.get("ranges")
    if kind == "metadata" and wants_grid and key in self.spreadsheets and key not in self.private:
        return spreadsheet_with_grid(self, self.spreadsheets[key], query["ranges"], query.get("fields", [""])[0])
    return _original(self, route, query, body)


# ---- what a person sees: colours and links ---------------------------------------------------------------------


def formula_grid(book) -> Grid:
    """Every sheet's cells as the formula evaluator wants them (numbers as numbers, the rest as shown)."""
    cells = {}
    for sheet in book.sheets:
        rows = []
        for r in range(sheet.last_data_row() + 1):
            line = sheet.cells[r] if r < len(sheet.cells) else []
            rows.append([(c.value if c is not None and c.kind in ("number", "date") else (c.text if c else ""))
                         for c in line])
        cells[sheet.title] = rows
    return Grid(cells)


def coloured(fake, key: str, title: str, row: int, col: int) -> list[dict]:
    """The conditional rules whose formula is TRUE at (row, col): what colours the cell."""
    book = fake.book(key)
    sheet = fake.sheet(key, title)
    grid = formula_grid(book)
    hits = []
    for rule in conditional_rules(sheet):
        for rng in rule["ranges"]:
            if core._covers(rng, row, col):
                formula = rule["booleanRule"]["condition"]["values"][0]["userEnteredValue"]
                anchor = (rng.get("startRowIndex", 0), rng.get("startColumnIndex", 0))
                if rule_applies(formula, grid, title, (row, col), anchor):
                    hits.append(rule)
    return hits


def link_at(fake, key: str, title: str, row: int, col: int) -> Link | Err:
    """Where the HYPERLINK formula of a cell points, evaluated on the spreadsheet as it is now."""
    cell = fake.sheet(key, title).get(row, col)
    return evaluate(cell.formula, formula_grid(fake.book(key)), title, (row, col))


def _insert(self, dimension: str, at: int, count: int, _original=core.Sheet.insert) -> None:
    """Inserted rows or columns take the formats and validations of the ones after them (insertDimension's
    default, inheritFromBefore false; values.append's new rows likewise): a range starting at the insertion
    point keeps its start and grows."""
    start_key = core._BOUNDS[dimension][0]
    starting = [item for item in (*self.formats, *self.validations) if item["range"].get(start_key) == at and at]
    _original(self, dimension, at, count)
    for item in starting:
        item["range"][start_key] = at


def install(cls) -> None:
    if getattr(cls, "_formatting_installed", False):
        return
    cls._formatting_installed = True
    for name, function in list(globals().items()):
        if name.startswith("_bu_"):
            setattr(cls, name, function)
    cls._metadata = _metadata
    cls._dispatch = _dispatch
    cls.type_cells = type_cells
    core.Sheet.insert = _insert


install(core.FakeSheets)
