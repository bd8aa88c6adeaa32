"""Grid data in the fake Sheets API: CellData out (spreadsheets.get with ranges, batchUpdate responseRanges) and
in (updateCells, copyPaste).

Shapes follow Google's (checked against the notes cassettes in tests/test_fake_sheets_conformance.py): a GridData
omits startRow/startColumn when 0, lists rows down to the last one holding something in the range (an empty row
in between is {}), and each row's cells up to its last cell holding something (an empty cell is {}).
Simplifications: a cell's userEnteredFormat is merged from the format ranges that cover it (the fake keeps
formats on ranges); copyPaste and cutPaste move values and notes only; a copied formula keeps its text as is
(Google shifts its relative references; the adapter only copies to the same coordinates, where both agree).
"""

from __future__ import annotations

from tests.support.fake_sheets import (
    ApiError,
    Box,
    Cell,
    Sheet,
    _formula_cell,
    general_number,
)

# ---- CellData out ----------------------------------------------------------------------------------------------


def _user_entered(cell: Cell) -> dict:
    if cell.formula:
        return {"formulaValue": cell.formula}
    return _effective(cell)


def _effective(cell: Cell) -> dict:
    if cell.kind in ("number", "date"):
        value = cell.value
        return {"numberValue": int(value) if value == int(value) and abs(value) < 1e15 else value}
    if cell.kind == "bool":
        return {"boolValue": cell.value}
    if cell.kind == "error":
        return {"errorValue": {"type": "DIVIDE_BY_ZERO", "message": "Function DIVIDE parameter 2 cannot be zero."}}
    return {"stringValue": cell.text}


def cell_data(sheet: Sheet, row: int, col: int) -> dict:
    cell, note, out = sheet.get(row, col), sheet.get_note(row, col), {}
    if cell is not None:
        out["userEnteredValue"] = _user_entered(cell)
        out["effectiveValue"] = _effective(cell)
        out["formattedValue"] = cell.text
    if note:
        out["note"] = note
    form = sheet.format_at(row, col)  # formats live on ranges in the fake; a formatted cell is a cell
    if form:
        out["userEnteredFormat"] = form
    return out


def grid_data(sheet: Sheet, box: Box) -> dict:
    """One GridData for a box of the sheet (clipped to the grid)."""
    data: dict = {}
    if box.r0:
        data["startRow"] = box.r0
    if box.c0:
        data["startColumn"] = box.c0
    rows = []
    for r in range(box.r0, min(box.r1, sheet.row_count - 1) + 1):
        cells = [cell_data(sheet, r, c) for c in range(box.c0, min(box.c1, sheet.col_count - 1) + 1)]
        while cells and not cells[-1]:
            cells.pop()
        rows.append({"values": cells} if cells else {})
    while rows and not rows[-1]:
        rows.pop()
    if rows:
        data["rowData"] = rows
    return data


def spreadsheet_with_data(fake, book, ranges: list[str], grid: bool) -> dict:
    """The Spreadsheet resource for spreadsheets.get / updatedSpreadsheet: every sheet without ranges; with
    ranges only the sheets they name (in spreadsheet order), each with one GridData per range when `grid`."""
    doc = fake._metadata(book, "")
    if not ranges:
        if grid:
            for sheet, entry in zip(book.sheets, doc["sheets"], strict=True):
                entry["data"] = [grid_data(sheet, Box(0, 0, sheet.row_count - 1, sheet.col_count - 1))]
        return doc
    wanted: dict[int, list[Box]] = {}
    for text in ranges:
        sheet, box = fake._resolve(book, text)
        wanted.setdefault(sheet.sheet_id, []).append(box)
    entries = []
    for sheet, entry in zip(book.sheets, doc["sheets"], strict=True):
        if sheet.sheet_id in wanted:
            if grid:
                entry["data"] = [grid_data(sheet, box) for box in wanted[sheet.sheet_id]]
            entries.append(entry)
    doc["sheets"] = entries
    return doc


# ---- CellData in -----------------------------------------------------------------------------------------------


def _value_in(value: dict | None) -> Cell | None:
    if not value:
        return None
    if "formulaValue" in value:
        return _formula_cell(value["formulaValue"])
    if "stringValue" in value:
        text = value["stringValue"]
        return Cell("text", text, text) if text != "" else None
    if "numberValue" in value:
        number = float(value["numberValue"])
        return Cell("number", number, general_number(number))
    if "boolValue" in value:
        return Cell("bool", bool(value["boolValue"]), "TRUE" if value["boolValue"] else "FALSE")
    raise ApiError(400, f"Invalid value: {value}")


def _fields(text: str) -> set[str]:
    names = {part.strip().split(".")[0] for part in (text or "").split(",") if part.strip()}
    if not names:
        raise ApiError(400, "At least one field must be specified in 'fields'.")
    return {"userEnteredValue", "note"} if "*" in names else names


def _area(sheet: Sheet, rng: dict) -> Box:
    r1 = rng.get("endRowIndex", sheet.row_count) - 1
    c1 = rng.get("endColumnIndex", sheet.col_count) - 1
    return Box(rng.get("startRowIndex", 0), rng.get("startColumnIndex", 0), r1, c1)


def _check_inside(sheet: Sheet, r1: int, c1: int) -> None:
    if r1 >= sheet.row_count or c1 >= sheet.col_count:
        raise ApiError(400, f"Range ('{sheet.title}'!R{r1 + 1}C{c1 + 1}) exceeds grid limits. "
                            f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}")


def update_cells(fake, book, params: dict, index: int):
    """updateCells: `rows` written from `start`, or into `range` where cells the rows do not cover are cleared
    (for the fields named)."""
    rows = [r.get("values", []) for r in params.get("rows", [])]
    fields = _fields(params.get("fields", ""))
    if "range" in params:
        rng = params["range"]
        sheet = fake._sheet_of(book, rng.get("sheetId"))
        box = _area(sheet, rng)
    else:
        start = params.get("start", {})
        sheet = fake._sheet_of(book, start.get("sheetId"))
        r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
        width = max((len(r) for r in rows), default=0)
        box = Box(r0, c0, r0 + max(len(rows), 1) - 1, c0 + max(width, 1) - 1)
    _check_inside(sheet, box.r1, box.c1)
    for dr in range(box.r1 - box.r0 + 1):
        line = rows[dr] if dr < len(rows) else []
        for dc in range(box.c1 - box.c0 + 1):
            data = line[dc] if dc < len(line) else {}
            if "userEnteredValue" in fields:
                sheet.put(box.r0 + dr, box.c0 + dc, _value_in(data.get("userEnteredValue")))
            if "note" in fields:
                sheet.put_note(box.r0 + dr, box.c0 + dc, data.get("note", ""))


PASTE_VALUES_TYPES = {"PASTE_NORMAL", "PASTE_VALUES", "PASTE_FORMULA"}


def copy_paste(fake, book, params: dict, index: int):
    """copyPaste: the source block is copied (tiled when the destination is a multiple of it), taken whole
    before anything is written so overlapping ranges behave."""
    source, destination = params.get("source", {}), params.get("destination", {})
    src_sheet = fake._sheet_of(book, source.get("sheetId"))
    dst_sheet = fake._sheet_of(book, destination.get("sheetId"))
    src, dst = _area(src_sheet, source), _area(dst_sheet, destination)
    height, width = src.r1 - src.r0 + 1, src.c1 - src.c0 + 1
    kind = params.get("pasteType", "PASTE_NORMAL")
    block = [[(src_sheet.get(r, c), src_sheet.get_note(r, c)) for c in range(src.c0, src.c1 + 1)]
             for r in range(src.r0, src.r1 + 1)]
    tall, wide = dst.r1 - dst.r0 + 1, dst.c1 - dst.c0 + 1
    reps_r = tall // height if tall % height == 0 and tall >= height else 1
    reps_c = wide // width if wide % width == 0 and wide >= width else 1
    _check_inside(dst_sheet, dst.r0 + reps_r * height - 1, dst.c0 + reps_c * width - 1)
    for rr in range(reps_r):
        for cc in range(reps_c):
            for dr, line in enumerate(block):
                for dc, (cell, note) in enumerate(line):
                    r, c = dst.r0 + rr * height + dr, dst.c0 + cc * width + dc
                    if kind in PASTE_VALUES_TYPES:
                        value = cell
                        if kind == "PASTE_VALUES" and cell is not None and cell.formula:
                            value = Cell(cell.kind, cell.value, cell.text)
                        dst_sheet.put(r, c, value)
                    if kind == "PASTE_NORMAL":
                        dst_sheet.put_note(r, c, note)


def append_cells(fake, book, params: dict, index: int):
    """appendCells: the rows go after the last row holding a value, rows being added to the grid as needed."""
    sheet = fake._sheet_of(book, params.get("sheetId"))
    rows = [r.get("values", []) for r in params.get("rows", [])]
    fields = _fields(params.get("fields", ""))
    first = sheet.last_data_row() + 1
    width = max((len(r) for r in rows), default=0)
    if width > sheet.col_count:
        _check_inside(sheet, first, width - 1)
    if first + len(rows) > sheet.row_count:
        sheet.insert("ROWS", sheet.row_count, first + len(rows) - sheet.row_count)
    for dr, line in enumerate(rows):
        for dc, data in enumerate(line):
            if "userEnteredValue" in fields:
                sheet.put(first + dr, dc, _value_in(data.get("userEnteredValue")))
            if "note" in fields and data.get("note"):
                sheet.put_note(first + dr, dc, data["note"])


def cut_paste(fake, book, params: dict, index: int):
    """cutPaste: the source block moves to `destination` (a top-left coordinate); the source is emptied first,
    so a destination overlapping it still receives the whole block."""
    source, target = params.get("source", {}), params.get("destination", {})
    src_sheet = fake._sheet_of(book, source.get("sheetId"))
    dst_sheet = fake._sheet_of(book, target.get("sheetId"))
    src = _area(src_sheet, source)
    block = [[(src_sheet.get(r, c), src_sheet.get_note(r, c)) for c in range(src.c0, src.c1 + 1)]
             for r in range(src.r0, src.r1 + 1)]
    r0, c0 = target.get("rowIndex", 0), target.get("columnIndex", 0)
    _check_inside(dst_sheet, r0 + len(block) - 1, c0 + src.c1 - src.c0)
    for r in range(src.r0, src.r1 + 1):
        for c in range(src.c0, src.c1 + 1):
            src_sheet.put(r, c, None)
            src_sheet.put_note(r, c, "")
    for dr, line in enumerate(block):
        for dc, (cell, note) in enumerate(line):
            dst_sheet.put(r0 + dr, c0 + dc, cell)
            dst_sheet.put_note(r0 + dr, c0 + dc, note or "")
