"""`init` on Google: create missing tabs and columns with their formatting, report drift, seed reference tabs.

Moved out of gsheets.py unchanged; GoogleSheetsStore.init delegates here.
"""

from __future__ import annotations

import difflib
import zlib

from ..domain.schema import Field, TabSchema
from .base import InitReport
from .cells import a1_title, column_letter

NEW_TAB_ROWS, NEW_TAB_COLS = 1000, 26
ID_PROTECTION = "Identifiants gérés par l'application : ne pas modifier."
MULTI_HINT = "Plusieurs valeurs possibles : séparez-les par « ; »."


def init_spreadsheet(store) -> InitReport:
    """Create missing tabs and columns (formatted) on `store`'s spreadsheet; report drift; seed empty reference tabs."""
    report = InitReport()
    structure: list[dict] = []
    headers_to_write: list[dict] = []
    with store._translated(), store._lock:
        sheets = store._metadata(refresh=True)["sheets"]
        present = [t for t in store.schema.tabs.values() if t.name in sheets]
        grids = store._batch_get([t.name for t in present]) if present else {}
        used_ids = {p["sheetId"] for p in sheets.values()}
        for tab in store.schema.tabs.values():
            if tab.name in sheets:
                _reconcile(tab, grids[tab.name], sheets[tab.name], report, structure, headers_to_write)
            else:
                sheet_id = _free_sheet_id(tab.name, used_ids)
                structure += _new_tab_requests(tab, sheet_id)
                headers_to_write.append({"range": f"{a1_title(tab.name)}!A1", "values": [tab.headers]})
                report.created_tabs.append(tab.name)
        if structure:
            store._call(lambda: store._http.batch_update(store.key, {"requests": structure}))
            store._meta = None
        if headers_to_write:
            body = {"valueInputOption": "RAW", "data": headers_to_write}
            store._call(lambda: store._http.values_batch_update(store.key, body=body))
        for name in ("Listes", "Parametres"):  # reference tabs are filled only while empty
            grid = grids.get(name, [])
            if name in store.schema.tabs and not any(any(c.strip() for c in r) for r in grid[1:]):
                _seed(store, store.schema.tab(name), report)
    return report


def _reconcile(tab: TabSchema, grid, props: dict, report: InitReport, structure: list,
               headers_to_write: list) -> None:
    """Report drift on an existing tab; add missing columns after the last header, never remove anything."""
    headers = [h.strip() for h in grid[0]] if grid else []
    missing = [h for h in tab.headers if h not in headers]
    extra = [h for h in headers if h and h not in tab.by_header()]
    if extra:
        report.extra_columns[tab.name] = extra
    for old, new in _renamed(tab.headers, headers, missing, extra).items():
        report.notes.append(f"« {tab.name} » : la colonne « {new} » semble être « {old} » renommée. "
                            f"La colonne « {old} » est ajoutée à la fin ; rétablissez l'en-tête pour "
                            "retrouver les valeurs saisies.")
    if not missing:
        return
    report.missing_columns[tab.name] = missing
    start = len(headers)
    sheet_id = props.get("sheetId", 0)
    columns = props.get("gridProperties", {}).get("columnCount", NEW_TAB_COLS)
    if start + len(missing) > columns:
        structure.append({"appendDimension": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                              "length": start + len(missing) - columns}})
    by_header = tab.by_header()
    for offset, header in enumerate(missing):
        rule = _validation_request(by_header[header], sheet_id, start + offset)
        if rule:
            structure.append(rule)
    headers_to_write.append({"range": f"{a1_title(tab.name)}!{column_letter(start)}1", "values": [missing]})


def _seed(store, tab: TabSchema, report: InitReport) -> None:
    if tab.name == "Listes":
        records = [{"liste": name, "valeur": value, "ordre": str(order)}
                   for name, values in store.schema.lists.items() for order, value in enumerate(values, 1)]
    elif tab.name == "Parametres":
        records = [{"cle": key, "valeur": str(v.get("valeur", "")) if isinstance(v, dict) else str(v),
                    "description": str(v.get("description", "")) if isinstance(v, dict) else ""}
                   for key, v in tab.defaults.items()]
    else:
        return
    if records:
        store.append(tab.name, records)
        report.notes.append(f"« {tab.name} » rempli avec {len(records)} lignes par défaut.")


def _free_sheet_id(name: str, used: set[int]) -> int:
    """A stable sheet ID derived from the tab name, so init can format the tab in the same request."""
    candidate = zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF
    while candidate in used or candidate == 0:
        candidate = (candidate + 1) & 0x7FFFFFFF
    used.add(candidate)
    return candidate


def _new_tab_requests(tab: TabSchema, sheet_id: int) -> list[dict]:
    width = len(tab.fields)
    requests_ = [
        {"addSheet": {"properties": {"sheetId": sheet_id, "title": tab.name, "gridProperties": {
            "rowCount": NEW_TAB_ROWS, "columnCount": max(NEW_TAB_COLS, width), "frozenRowCount": 1}}}},
        {"repeatCell": {"range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1,
                                  "startColumnIndex": 0, "endColumnIndex": width},
                        "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                        "fields": "userEnteredFormat.textFormat.bold"}},
        {"addProtectedRange": {"protectedRange": {
            "range": {"sheetId": sheet_id, "startColumnIndex": 0, "endColumnIndex": 1},
            "description": ID_PROTECTION, "warningOnly": True}}},
    ]
    for col, f in enumerate(tab.fields):
        rule = _validation_request(f, sheet_id, col)
        if rule:
            requests_.append(rule)
    return requests_


def _validation_request(f: Field, sheet_id: int, col: int) -> dict | None:
    """A dropdown from schema.lists: strict on choice columns, advisory on bool and multichoice ones."""
    choices = ("oui", "non") if f.type == "bool" else f.choices
    if f.type not in ("choice", "multichoice", "bool") or not choices:
        return None
    rule = {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": c} for c in choices]},
            "strict": f.type == "choice", "showCustomUi": True}
    if f.type == "multichoice":
        rule["inputMessage"] = MULTI_HINT
    return {"setDataValidation": {"range": {"sheetId": sheet_id, "startRowIndex": 1, "startColumnIndex": col,
                                            "endColumnIndex": col + 1}, "rule": rule}}


def _renamed(schema_headers: list[str], headers: list[str], missing: list[str], extra: list[str]) -> dict:
    """Missing header -> the extra header that probably replaced it (same place between neighbours, or close)."""
    found: dict[str, str] = {}
    position = {h: i for i, h in enumerate(headers)}
    for header in missing:
        k = schema_headers.index(header)
        slots = []
        if k > 0 and schema_headers[k - 1] in position:
            slots.append(position[schema_headers[k - 1]] + 1)
        if k + 1 < len(schema_headers) and schema_headers[k + 1] in position:
            slots.append(position[schema_headers[k + 1]] - 1)
        free = [h for h in extra if h not in found.values()]
        guess = next((headers[i] for i in slots if 0 <= i < len(headers) and headers[i] in free), None)
        guess = guess or next(iter(difflib.get_close_matches(header, free, n=1, cutoff=0.75)), None)
        if guess:
            found[header] = guess
    return found
