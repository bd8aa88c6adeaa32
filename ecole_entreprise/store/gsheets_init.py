"""`init` on Google: missing tabs and columns, then the layout of sheet_layout.py, in one atomic batchUpdate.

Requests per run: 2 reads (the sheets' properties; then, for the tabs present, their formatting and the cells of
rows 1, 2 and the last row, plus the Listes and Parametres tabs) and at most 1 `batchUpdate` holding everything:
new tabs (with client-chosen sheet IDs), header cells, seed rows, formats, notes, dropdowns, conditional formats,
protections, filters, locale. A run with nothing to change sends no write.

A lost reply (timeout, 5xx, connection cut) leaves the outcome unknown. batchUpdate is atomic, so the next
attempt reads the spreadsheet again and plans from what is there: if the lost request was applied, nothing is
left to send ("A sheet with the name … already exists" can no longer happen); otherwise it is sent again.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from ..domain.schema import Schema, TabSchema
from .base import InitReport, SchemaMismatch
from .cells import a1_title
from .corrections import CORRECTIONS, Correction, link_formula, records
from .gsheets_layout import SheetState, spreadsheet_requests, tab_requests
from .sheet_layout import LISTES, build_layout, drift, rename_notes, seed_note, seed_records

NEW_TAB_ROWS, NEW_TAB_COLS = 1000, 26
SHEET_FIELDS = "properties(title,locale,timeZone),sheets(properties,protectedRanges,filterViews,basicFilter," \
               "conditionalFormats)"
GRID_FIELDS = ("sheets(properties(sheetId,title),data(startRow,startColumn,rowData(values(formattedValue,note,"
               "dataValidation,userEnteredFormat(numberFormat,textFormat(bold)))),columnMetadata(pixelSize)))")
WHOLE = (LISTES, "Parametres")  # read whole: the dropdown ranges and the seeding depend on their content


@dataclass
class _Plan:
    requests: list[dict] = field(default_factory=list)
    report: InitReport = field(default_factory=InitReport)


def init_spreadsheet(store) -> InitReport:
    """Create missing tabs and columns, lay out every tab; report drift and what changed (see module doc)."""
    planned: list[_Plan] = []

    def attempt():
        plan = _plan(store, *_read(store))
        planned.append(plan)
        if plan.requests:
            store._send(lambda: store._http.batch_update(store.key, {"requests": plan.requests}))
            store._meta = None

    with store._translated(), store._lock:
        store._retrying(attempt)
    last = planned[-1]
    # An empty plan after a failed attempt means that attempt was applied: its report says what changed.
    return next((p.report for p in reversed(planned) if p.requests), last.report) if not last.requests \
        else last.report


# ---- reading -------------------------------------------------------------------------------------------------


def _read(store) -> tuple[dict, dict[str, SheetState], dict[str, list[list[str]]]]:
    """(spreadsheet properties, state of each schema tab present, its grid of formatted values by row)."""
    answer = store._send(lambda: store._http.fetch_sheet_metadata(store.key, params={
        "includeGridData": "false", "fields": SHEET_FIELDS}))
    sheets = {s["properties"]["title"]: s for s in answer.get("sheets", [])}
    states = {name: SheetState(props=s["properties"], protected=s.get("protectedRanges", []),
                               filter_views=s.get("filterViews", []), basic_filter=s.get("basicFilter"),
                               conditional=s.get("conditionalFormats", []))
              for name, s in sheets.items() if name in store.schema.tabs}
    grids: dict[str, list[list[str]]] = {name: [] for name in states}
    if states:
        ranges = []
        for name, state in states.items():
            ranges += [a1_title(name)] if name in WHOLE else [f"{a1_title(name)}!1:2",
                                                               f"{a1_title(name)}!{state.last_row + 1}:"
                                                               f"{state.last_row + 1}"]
        data = store._send(lambda: store._http.fetch_sheet_metadata(store.key, params={
            "includeGridData": "true", "ranges": ranges, "fields": GRID_FIELDS}))
        for sheet in data.get("sheets", []):
            name = sheet["properties"]["title"]
            if name in states:
                _take_grid(states[name], grids[name], sheet.get("data", []), whole=name in WHOLE)
    return answer.get("properties", {}), states, grids


def _take_grid(state: SheetState, grid: list[list[str]], data: list[dict], whole: bool) -> None:
    for block in data:
        top, left = block.get("startRow", 0), block.get("startColumn", 0)
        sample = not whole and top > 1  # the last row: its formats matter, its values do not
        for offset, meta in enumerate(block.get("columnMetadata", [])):
            if "pixelSize" in meta:
                state.widths[left + offset] = meta["pixelSize"]
        for r, row in enumerate(block.get("rowData", [])):
            for c, cell in enumerate(row.get("values", [])):
                state.cells[(top + r, left + c)] = cell
                if not sample:
                    while len(grid) <= top + r:
                        grid.append([])
                    line = grid[top + r]
                    line.extend([""] * (left + c + 1 - len(line)))
                    line[left + c] = cell.get("formattedValue", "")


# ---- planning ------------------------------------------------------------------------------------------------


def _plan(store, properties: dict, states: dict[str, SheetState], grids: dict) -> _Plan:
    plan = _Plan()
    schema: Schema = store.schema
    used_ids = {s.sheet_id for s in states.values()}
    headers: dict[str, list[str]] = {}
    for tab in schema.tabs.values():
        if tab.name in states:
            headers[tab.name] = _extend(plan, schema, tab, states[tab.name], grids[tab.name])
        else:
            states[tab.name] = _add_tab(plan, schema, tab, used_ids)
            grids[tab.name] = [tab.headers] + [[r[f.name] for f in tab.fields] for r in seed_records(schema, tab)]
            headers[tab.name] = list(tab.headers)
    layouts, notes = build_layout(schema, headers, grids.get(LISTES, []))
    plan.report.notes += notes
    more, label = spreadsheet_requests(properties)
    plan.requests += more
    if label:
        plan.report.applied.append(f"classeur : {label}")
    for name, layout in layouts.items():
        more, labels = tab_requests(layout, states[name], store.service_account_email)
        plan.requests += more
        if labels and not states[name].new:
            plan.report.applied.append(f"{name} : {', '.join(labels)}")
    return plan


def _free_sheet_id(name: str, used: set[int]) -> int:
    """A stable sheet ID derived from the tab name, so the same request can format the new tab."""
    candidate = zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF
    while candidate in used or candidate == 0:
        candidate = (candidate + 1) & 0x7FFFFFFF
    used.add(candidate)
    return candidate


def _cells(values: list[str]) -> dict:
    return {"values": [{"userEnteredValue": {"stringValue": v}} for v in values]}


def _add_tab(plan: _Plan, schema: Schema, tab: TabSchema, used_ids: set[int]) -> SheetState:
    sheet_id = _free_sheet_id(tab.name, used_ids)
    width = max(NEW_TAB_COLS, len(tab.fields))
    props = {"sheetId": sheet_id, "title": tab.name, "gridProperties": {"rowCount": NEW_TAB_ROWS,
                                                                       "columnCount": width}}
    rows = [_cells(tab.headers)] + [_cells([r[f.name] for f in tab.fields]) for r in seed_records(schema, tab)]
    plan.requests += [{"addSheet": {"properties": props}},
                      {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                                       "rows": rows, "fields": "userEnteredValue"}}]
    plan.report.created_tabs.append(tab.name)
    return SheetState(props=props, new=True)


def _extend(plan: _Plan, schema: Schema, tab: TabSchema, state: SheetState, grid: list[list[str]]) -> list[str]:
    """Report drift; add missing columns after the last header and seed an empty reference tab."""
    headers = [h.strip() for h in grid[0]] if grid else []
    while headers and not headers[-1]:
        headers.pop()
    missing, extra = drift(tab, headers)
    if extra:
        plan.report.extra_columns[tab.name] = extra
    plan.report.notes += rename_notes(tab, headers)
    if missing:
        plan.report.missing_columns[tab.name] = missing
        columns = state.props.get("gridProperties", {}).get("columnCount", NEW_TAB_COLS)
        if len(headers) + len(missing) > columns:
            plan.requests.append({"appendDimension": {"sheetId": state.sheet_id, "dimension": "COLUMNS",
                                                      "length": len(headers) + len(missing) - columns}})
        plan.requests.append({"updateCells": {
            "range": {"sheetId": state.sheet_id, "startRowIndex": 0, "endRowIndex": 1,
                      "startColumnIndex": len(headers), "endColumnIndex": len(headers) + len(missing)},
            "rows": [_cells(missing)], "fields": "userEnteredValue"}})
        headers = headers + missing
    if tab.name in WHOLE and not any(any(c.strip() for c in r) for r in grid[1:]):
        _seed(plan, schema, tab, state, headers, grid)
    return headers


def _seed(plan: _Plan, schema: Schema, tab: TabSchema, state: SheetState, headers: list[str],
          grid: list[list[str]]) -> None:
    records = seed_records(schema, tab)
    position = {h: i for i, h in enumerate(headers)}
    rows = []
    for record in records:
        line = [""] * len(headers)
        for f in tab.fields:
            line[position[f.header]] = record[f.name]
        rows.append(_cells(line))
    if rows:
        plan.requests.append({"updateCells": {"start": {"sheetId": state.sheet_id, "rowIndex": 1, "columnIndex": 0},
                                              "rows": rows, "fields": "userEnteredValue"}})
        grid[1:] = [[c["userEnteredValue"]["stringValue"] for c in r["values"]] for r in rows]
        plan.report.notes.append(seed_note(tab, len(rows)))


# ---- the « À corriger » tab ------------------------------------------------------------------------------------


def write_corrections(store, entries: list[Correction]) -> int:
    """Rewrite the tab in one batchUpdate (updateCells over the whole tab below the header clears what it does
    not fill); the links' ID columns and gids are those of the spreadsheet right now."""
    with store._translated(), store._lock:
        sheets = store._metadata(refresh=True)["sheets"]
        if CORRECTIONS not in sheets:
            raise SchemaMismatch(CORRECTIONS)
        names = [CORRECTIONS, *sorted({e.tab for e in entries if e.tab in sheets} - {CORRECTIONS})]
        answer = store._call(lambda: store._http.values_batch_get(
            store.key, [f"{a1_title(n)}!1:1" for n in names], params={"valueRenderOption": "FORMATTED_VALUE"}))
        headers = {n: [h.strip() for h in (vr.get("values") or [[]])[0]]
                   for n, vr in zip(names, answer.get("valueRanges", []), strict=False)}
        own = headers.get(CORRECTIONS, [])
        fields = {f.header: f.name for f in store.schema.tab(CORRECTIONS).fields}
        if not all(h in own for h in fields):
            raise SchemaMismatch(CORRECTIONS, next(h for h in fields if h not in own))
        rows = []
        for entry, record in zip(entries, records(store.schema, entries), strict=True):
            link = link_formula(entry, headers.get(entry.tab, []), sheets.get(entry.tab, {}).get("sheetId"))
            rows.append({"values": [_correction_cell(fields.get(h), record, link) for h in own]})
        props = sheets[CORRECTIONS]
        sheet_id, row_count = props["sheetId"], props.get("gridProperties", {}).get("rowCount", NEW_TAB_ROWS)
        requests = []
        if len(rows) + 1 > row_count:
            requests.append({"appendDimension": {"sheetId": sheet_id, "dimension": "ROWS",
                                                 "length": len(rows) + 1 - row_count}})
        requests.append({"updateCells": {"range": {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": 0,
                                                   "endColumnIndex": len(own)},
                                         "rows": rows, "fields": "userEnteredValue"}})
        store._call(lambda: store._http.batch_update(store.key, {"requests": requests}))
        store._meta = None
    return len(rows)


def _correction_cell(name: str | None, record: dict[str, str], link: str) -> dict:
    if name == "lien":
        return {"userEnteredValue": {"formulaValue": link}}
    return {"userEnteredValue": {"stringValue": record.get(name, "") if name else ""}}
