"""The layout of sheet_layout.py as Sheets API requests: only what differs from the spreadsheet as read.

Each step compares the wanted state with what `spreadsheets.get` returned (sheet properties, protected ranges,
filter views, the basic filter, conditional formats, and the cells of rows 1, 2 and the last row: notes, number
formats, bold, data validations, column widths) and returns the requests that bring it there, with a French label.
Nothing here writes a value below the header row. Things the app created are recognised by stable IDs
(protected ranges, filter views: derived from the sheet and the purpose) or by their colours (conditional
formats, which have no ID); what a person made is never deleted.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from .cells import column_letter
from .sheet_layout import (
    LOCALE,
    PROTECTION_GENERATED,
    PROTECTION_HEADER,
    PROTECTION_ID,
    PROTECTION_JOURNAL,
    TIME_ZONE,
    Column,
    TabLayout,
)
from .sheet_rules import ERROR, MISSING, google_formula

DEFAULT_WIDTH_PX = 100  # Google's width for a column nobody resized
PX_PER_CHAR = 7.5
COLOURS = {ERROR: {"red": 0.957, "green": 0.8, "blue": 0.8}, MISSING: {"red": 1.0, "green": 0.949, "blue": 0.8}}
OLD_DESCRIPTIONS = ("Identifiants gérés par l'application : ne pas modifier.",)  # earlier versions of init
OURS = {PROTECTION_HEADER, PROTECTION_ID, PROTECTION_JOURNAL, PROTECTION_GENERATED, *OLD_DESCRIPTIONS}


@dataclass
class SheetState:
    """One sheet as read: its properties and the parts of it init may change."""

    props: dict
    protected: list[dict] = field(default_factory=list)
    filter_views: list[dict] = field(default_factory=list)
    basic_filter: dict | None = None
    conditional: list[dict] = field(default_factory=list)
    cells: dict[tuple[int, int], dict] = field(default_factory=dict)  # (row, col) -> CellData
    widths: dict[int, int] = field(default_factory=dict)  # col -> pixelSize
    new: bool = False  # created by this very request

    @property
    def sheet_id(self) -> int:
        return self.props.get("sheetId", 0)

    @property
    def last_row(self) -> int:
        return self.props.get("gridProperties", {}).get("rowCount", 1000) - 1

    def cell(self, row: int, col: int) -> dict:
        return self.cells.get((row, col), {})


def stable_id(*parts) -> int:
    return zlib.crc32(":".join(str(p) for p in parts).encode("utf-8")) & 0x7FFFFFFF or 1


def _rng(state: SheetState, **bounds) -> dict:
    return {"sheetId": state.sheet_id, **bounds}


def _column_range(state: SheetState, col: int, first_row: int = 1) -> dict:
    return _rng(state, startRowIndex=first_row, startColumnIndex=col, endColumnIndex=col + 1)


def _runs(columns: list[int]) -> list[tuple[int, int]]:
    """Contiguous runs [start, end) of sorted column indexes."""
    runs: list[list[int]] = []
    for col in sorted(columns):
        if runs and runs[-1][1] == col:
            runs[-1][1] = col + 1
        else:
            runs.append([col, col + 1])
    return [(a, b) for a, b in runs]


def same_formula(a: str, b: str) -> bool:
    """Formulas as Google may print them back: separators, spaces and sheet-name quotes aside."""
    def norm(text: str) -> str:
        parts = (text or "").split('"')
        outside = [re.sub(r"\s+", "", p).replace(";", ",").replace("'", "").upper() for p in parts[::2]]
        parts[::2] = outside
        return '"'.join(parts)
    return norm(a) == norm(b)


def _same_colour(a: dict | None, b: dict) -> bool:
    a = a or {}
    return all(abs(a.get(k, 0.0) - b.get(k, 0.0)) < 0.01 for k in ("red", "green", "blue"))


# ---- the spreadsheet -----------------------------------------------------------------------------------------


def spreadsheet_requests(properties: dict) -> tuple[list[dict], str]:
    if properties.get("locale") == LOCALE and properties.get("timeZone") == TIME_ZONE:
        return [], ""
    return ([{"updateSpreadsheetProperties": {"properties": {"locale": LOCALE, "timeZone": TIME_ZONE},
                                              "fields": "locale,timeZone"}}],
            f"paramètres régionaux {LOCALE} et fuseau {TIME_ZONE} (dates saisies lues jour/mois)")


# ---- one tab -------------------------------------------------------------------------------------------------


def tab_requests(layout: TabLayout, state: SheetState, service_account: str) -> tuple[list[dict], list[str]]:
    """Requests and French labels bringing one existing (or just added) sheet to its layout."""
    requests: list[dict] = []
    labels: list[str] = []
    steps = (_frozen, _bold, _text, _widths, _notes, _validations, _conditional, _basic_filter, _filter_views)
    for step in steps:
        more, label = step(layout, state)
        requests += more
        if label and more:
            labels.append(label)
    more, label = _protections(layout, state, service_account)
    requests += more
    if label and more:
        labels.append(label)
    return requests, labels


def _frozen(layout: TabLayout, state: SheetState):
    if state.props.get("gridProperties", {}).get("frozenRowCount", 0) == 1:
        return [], ""
    return [{"updateSheetProperties": {"properties": {"sheetId": state.sheet_id, "gridProperties": {
        "frozenRowCount": 1}}, "fields": "gridProperties.frozenRowCount"}}], "ligne d'en-tête figée"


def _bold(layout: TabLayout, state: SheetState):
    bold = [state.cell(0, c).get("userEnteredFormat", {}).get("textFormat", {}).get("bold") is True
            for c, h in enumerate(layout.headers) if h]
    if all(bold):
        return [], ""
    return [{"repeatCell": {"range": _rng(state, startRowIndex=0, endRowIndex=1, startColumnIndex=0,
                                          endColumnIndex=layout.width),
                            "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                            "fields": "userEnteredFormat.textFormat.bold"}}], "en-têtes en gras"


def _is_text(cell: dict) -> bool:
    return cell.get("userEnteredFormat", {}).get("numberFormat", {}).get("type") == "TEXT"


def _text(layout: TabLayout, state: SheetState):
    """Plain text from row 2 down, on every column of the tab (those a person added too)."""
    rows = (1, state.last_row)
    todo = [c for c in range(layout.width) if not all(_is_text(state.cell(r, c)) for r in rows)]
    requests = [{"repeatCell": {"range": _rng(state, startRowIndex=1, startColumnIndex=a, endColumnIndex=b),
                                "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT"}}},
                                "fields": "userEnteredFormat.numberFormat"}} for a, b in _runs(todo)]
    return requests, f"format texte sur {len(todo)} colonne(s)"


def pixels(column: Column) -> int:
    return round(column.width * PX_PER_CHAR)


def _widths(layout: TabLayout, state: SheetState):
    """Only columns at Google's default width (or new): a width a person chose is kept."""
    requests = []
    for column in layout.columns:
        current = state.widths.get(column.index, DEFAULT_WIDTH_PX)
        if current == DEFAULT_WIDTH_PX and pixels(column) != DEFAULT_WIDTH_PX:
            requests.append({"updateDimensionProperties": {
                "range": {"sheetId": state.sheet_id, "dimension": "COLUMNS", "startIndex": column.index,
                          "endIndex": column.index + 1},
                "properties": {"pixelSize": pixels(column)}, "fields": "pixelSize"}})
    return requests, f"largeur de {len(requests)} colonne(s)"


def _notes(layout: TabLayout, state: SheetState):
    wanted = {c.index: c.note for c in layout.columns if c.note}
    todo = [col for col, note in wanted.items() if state.cell(0, col).get("note", "") != note]
    requests = [{"updateCells": {"range": _rng(state, startRowIndex=0, endRowIndex=1, startColumnIndex=a,
                                               endColumnIndex=b),
                                 "rows": [{"values": [{"note": wanted.get(col, "")} for col in range(a, b)]}],
                                 "fields": "note"}} for a, b in _runs(todo)]
    return requests, f"note d'en-tête sur {len(todo)} colonne(s)"


def validation_rule(column: Column) -> dict | None:
    dropdown = column.dropdown
    if dropdown is None:
        return None
    if dropdown.source is not None:
        condition = {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "=" + dropdown.source.a1()}]}
    else:
        condition = {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": v} for v in dropdown.values]}
    rule = {"condition": condition, "strict": dropdown.strict, "showCustomUi": True}
    if dropdown.message:
        rule["inputMessage"] = dropdown.message
    return rule


def _same_rule(current: dict | None, wanted: dict | None) -> bool:
    if not current or not wanted:
        return not current and not wanted
    a, b = current.get("condition", {}), wanted["condition"]
    values = lambda c: [v.get("userEnteredValue", "") for v in c.get("values", [])]  # noqa: E731
    same_values = (all(same_formula(x, y) for x, y in zip(values(a), values(b), strict=True))
                   if len(values(a)) == len(values(b)) else False)
    return (a.get("type") == b["type"] and same_values and bool(current.get("strict")) == wanted["strict"]
            and current.get("inputMessage", "") == wanted.get("inputMessage", ""))


def _ours_validation(rule: dict | None) -> bool:
    condition = (rule or {}).get("condition", {})
    return condition.get("type") in ("ONE_OF_RANGE", "ONE_OF_LIST")


def _validations(layout: TabLayout, state: SheetState):
    requests = []
    for column in layout.columns:
        wanted = validation_rule(column)
        current = [state.cell(r, column.index).get("dataValidation") for r in (1, state.last_row)]
        if all(_same_rule(c, wanted) for c in current):
            continue
        if wanted is None and not any(_ours_validation(c) for c in current):
            continue  # a person's own rule on a column without a dropdown: theirs
        body = {"range": _column_range(state, column.index)}
        if wanted is not None:
            body["rule"] = wanted
        requests.append({"setDataValidation": body})
    return requests, f"listes déroulantes sur {len(requests)} colonne(s)"


def _wanted_rules(layout: TabLayout, state: SheetState) -> list[dict]:
    return [{"ranges": [_column_range(state, c.index)],
             "booleanRule": {"condition": {"type": "CUSTOM_FORMULA",
                                           "values": [{"userEnteredValue": google_formula(r.formula)}]},
                             "format": {"backgroundColor": COLOURS[r.kind]}}}
            for c in layout.columns for r in c.rules]


def _rule_key(rule: dict) -> tuple:
    rng = (rule.get("ranges") or [{}])[0]
    formula = (rule.get("booleanRule", {}).get("condition", {}).get("values") or [{}])[0].get("userEnteredValue", "")
    colour = rule.get("booleanRule", {}).get("format", {}).get("backgroundColor")
    kind = next((k for k, c in COLOURS.items() if _same_colour(colour, c)), None)
    return rng.get("startColumnIndex"), rng.get("startRowIndex", 0), kind, formula


def _is_ours(rule: dict) -> bool:
    return _rule_key(rule)[2] is not None


def _conditional(layout: TabLayout, state: SheetState):
    wanted = _wanted_rules(layout, state)
    ours = [(i, r) for i, r in enumerate(state.conditional) if _is_ours(r)]
    current = [_rule_key(r) for _, r in ours]
    if len(current) == len(wanted) and all(
            a[:3] == b[:3] and same_formula(a[3], b[3]) for a, b in zip(current, map(_rule_key, wanted),
                                                                        strict=True)):
        return [], ""
    requests = [{"deleteConditionalFormatRule": {"sheetId": state.sheet_id, "index": i}} for i, _ in reversed(ours)]
    requests += [{"addConditionalFormatRule": {"index": i, "rule": rule}} for i, rule in enumerate(wanted)]
    return requests, f"mise en forme conditionnelle ({len(wanted)} règles)"


def _basic_filter(layout: TabLayout, state: SheetState):
    if state.basic_filter is not None or layout.locked:
        return [], ""
    return [{"setBasicFilter": {"filter": {"range": {"sheetId": state.sheet_id}}}}], "filtre"


def filter_view(layout: TabLayout, state: SheetState, view) -> dict:
    letter = column_letter(view.column)
    commune = column_letter(view.commune) if view.commune is not None else None
    # The app deduces an empty département from the commune: such a row is shown by its INSEE code's first digits.
    shown = [f'${letter}2="{code}"' + (f',AND(${letter}2="",LEFT(${commune}2,2)="{code}")' if commune else "")
             for code in view.values]
    formula = google_formula("=OR(" + ",".join(shown) + ")")
    return {"filterViewId": stable_id(state.sheet_id, view.key), "title": view.title,
            "range": {"sheetId": state.sheet_id},
            "filterSpecs": [{"columnIndex": view.column, "filterCriteria": {"condition": {
                "type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]}}}]}


def _same_view(current: dict, wanted: dict) -> bool:
    def spec(view):
        specs = view.get("filterSpecs") or []
        if not specs:
            return None
        condition = specs[0].get("filterCriteria", {}).get("condition", {})
        return specs[0].get("columnIndex"), condition.get("type"), (condition.get("values") or [{}])[0].get(
            "userEnteredValue", "")
    a, b = spec(current), spec(wanted)
    return current.get("title") == wanted["title"] and a is not None and a[:2] == b[:2] and same_formula(a[2], b[2])


def _filter_views(layout: TabLayout, state: SheetState):
    existing = {v.get("filterViewId"): v for v in state.filter_views}
    requests = []
    for view in layout.filter_views:
        wanted = filter_view(layout, state, view)
        current = existing.get(wanted["filterViewId"])
        if current is not None and _same_view(current, wanted):
            continue
        if current is not None:
            requests.append({"deleteFilterView": {"filterId": wanted["filterViewId"]}})
        requests.append({"addFilterView": {"filter": wanted}})
    return requests, f"vues filtrées ({len(layout.filter_views)})"


def _wanted_protections(layout: TabLayout, state: SheetState, service_account: str) -> list[dict]:
    if layout.locked:
        editors = {"users": [service_account]} if service_account else {}
        return [{"protectedRangeId": stable_id(state.sheet_id, "journal"), "range": {"sheetId": state.sheet_id},
                 "description": PROTECTION_JOURNAL, "warningOnly": False, "editors": editors}]
    if layout.generated:
        return [{"protectedRangeId": stable_id(state.sheet_id, "generated"), "range": {"sheetId": state.sheet_id},
                 "description": PROTECTION_GENERATED, "warningOnly": True}]
    wanted = [{"protectedRangeId": stable_id(state.sheet_id, "header"),
               "range": _rng(state, startRowIndex=0, endRowIndex=1), "description": PROTECTION_HEADER,
               "warningOnly": True}]
    for column in (c for c in layout.columns if c.protected):
        wanted.append({"protectedRangeId": stable_id(state.sheet_id, "column", column.field.name),
                       "range": _column_range(state, column.index), "description": PROTECTION_ID,
                       "warningOnly": True})
    return wanted


def _same_protection(current: dict, wanted: dict) -> bool:
    bounds = ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
    a, b = current.get("range", {}), wanted["range"]
    # Google lists the owner among the editors too: the ones init asks for must be there, others may be.
    editors = {u.casefold() for u in current.get("editors", {}).get("users", [])}
    wanted_editors = {u.casefold() for u in wanted.get("editors", {}).get("users", [])}
    return (all(a.get(k) == b.get(k) for k in bounds) and bool(current.get("warningOnly")) == wanted["warningOnly"]
            and current.get("description") == wanted["description"] and wanted_editors <= editors)


def _protections(layout: TabLayout, state: SheetState, service_account: str):
    wanted = _wanted_protections(layout, state, service_account)
    ids = {w["protectedRangeId"] for w in wanted}
    existing = {p.get("protectedRangeId"): p for p in state.protected}
    requests = [{"deleteProtectedRange": {"protectedRangeId": pid}} for pid, p in existing.items()
                if pid not in ids and p.get("description") in OURS]
    for protection in wanted:
        current = existing.get(protection["protectedRangeId"])
        if current is not None and _same_protection(current, protection):
            continue
        if current is not None:
            requests.append({"deleteProtectedRange": {"protectedRangeId": protection["protectedRangeId"]}})
        requests.append({"addProtectedRange": {"protectedRange": protection}})
    label = "protection (seul le compte de l'application écrit)" if layout.locked else "protections"
    return requests, label
