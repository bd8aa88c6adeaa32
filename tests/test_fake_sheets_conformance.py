"""The fake Sheets API (tests/support/fake_sheets.py) answers like Google: recorded real exchanges replayed.

The cassettes are gspread's own recordings of the real API (../shared/fixtures/gspread-cassettes, read at test
time, never copied here). Each cassette is replayed in order against a fresh fake: Drive "create" becomes a new
fake spreadsheet (recorded IDs mapped to the fake's, sheet and protected-range IDs too), other Drive calls are
skipped (the project never sends them), and for every Sheets request the status code and the value-bearing
fields are compared: values, range, majorDimension, tableRange, updatedRange, updatedRows, updatedCells,
clearedRange, replies (generated IDs masked), spreadsheet and sheet titles, indexes, grid sizes, frozen rows and
columns, hidden flags, protected ranges, and error code/status.

The operations the adapter sends are captured from the adapter itself (`adapter_operations`, a run of init,
append, update, read and delete); each must be covered by a replayed cassette or listed in UNRECORDED with the
check that stands in for it. Cassettes covering them:
- values:batchGet (read): WorksheetTest.test_batch_get
- values.get (tab read before every write): ~60 cassettes, e.g. WorksheetTest.test_range_unbounded,
  test_get_returns_ValueRange_with_metadata (empty middle rows, trailing cells), test_update_and_get
- values.update RAW / USER_ENTERED: WorksheetTest.test_update_cell, CellTest.test_numeric_value,
  WorksheetTest.test_get_all_values_date_time_render_options, WorksheetTest.test_update_cell_unicode
- values.append RAW (tableRange, updatedRange, table detection): WorksheetTest.test_append_row,
  test_append_row_with_empty_value, test_insert_row, test_insert_cols
- values.clear: WorksheetTest.test_clear and every WorksheetTest cassette (set-up)
- spreadsheets.get (metadata, `fields` masks, 403/404 errors): every cassette,
  ClientTest.test_access_non_existing_spreadsheet (404), ClientTest.test_access_private_spreadsheet (403)
- batchUpdate addSheet / deleteSheet: SpreadsheetTest.test_add_del_worksheet, SpreadsheetTest.test_values_get
- batchUpdate updateSheetProperties (frozen rows, title, size, index, hidden):
  WorksheetTest.test_freeze, test_update_title, test_resize, test_reorder_worksheets, test_hide_show_worksheet
- batchUpdate deleteDimension: WorksheetTest.test_delete_cols; insertDimension: test_insert_row, test_insert_cols
- batchUpdate sortRange: WorksheetTest.test_sort
- batchUpdate repeatCell (header formatting): WorksheetTest.test_format
- batchUpdate addProtectedRange (warning only): WorksheetTest.test_add_protected_range_warning, _normal
- values:batchUpdate: no cassette sends it. `test_values_batch_update_matches_recorded_updates` replays every
  recorded values.update as a one-item values:batchUpdate and compares each `responses[i]` with the recording.
- batchUpdate setDataValidation and appendDimension: no cassette sends them; tests/test_gsheets_store.py checks
  the fake's resulting state after `init`.
- values.append with insertDataOption=INSERT_ROWS: the recordings append with the default (OVERWRITE); the fake
  inserts rows as Google documents it, and test_gsheets_store.py's note-below-the-table test depends on it.
  This option's behaviour is therefore modelled, not replayed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest
import requests

from tests.support.fake_sheets import FakeSheets, FakeSheetsAdapter

CASSETTES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "gspread-cassettes"

_DRIVE_ONLY = "needs Drive (copy, export, CSV import, listing files made elsewhere), never sent by the project"
EXCLUDED = {
    "CellTest.test_define_named_range": "named ranges are not modelled",
    "CellTest.test_delete_named_range": "named ranges are not modelled",
    "CellTest.test_update_named_range": "named ranges are not modelled",
    "CellTest.test_merge_cells": "merged cells are not modelled",
    "WorksheetTest.test_batch_merged_cells": "merged cells are not modelled",
    "WorksheetTest.test_get_merge_cells_and_unmerge_cells": "merged cells are not modelled",
    "WorksheetTest.test_get_values_and_combine_merged_cells": "merged cells are not modelled",
    "WorksheetTest.test_get_values_merge_cells_from_centre_of_sheet": "merged cells are not modelled",
    "WorksheetTest.test_get_values_merge_cells_outside_of_range": "merged cells are not modelled",
    "WorksheetTest.test_get_values_merge_cells_with_named_range": "merged cells and named ranges",
    "WorksheetTest.test_group_columns": "dimension groups are not modelled",
    "WorksheetTest.test_group_rows": "dimension groups are not modelled",
    "WorksheetTest.test_hide_columns_rows": "row/column metadata (updateDimensionProperties) not modelled",
    "WorksheetTest.test_auto_resize_columns": "column widths (autoResizeDimensions) are not modelled",
    "WorksheetTest.test_copy_cut_range": "copyPaste/cutPaste are not modelled",
    "ClientTest.test_copy": _DRIVE_ONLY,
    "ClientTest.test_client_export_spreadsheet": _DRIVE_ONLY,
    "SpreadsheetTest.test_export_spreadsheet": _DRIVE_ONLY,
    "ClientTest.test_import_csv": _DRIVE_ONLY,
    "ClientTest.test_open_all_has_metadata": _DRIVE_ONLY,
    "ClientTest.test_openall": _DRIVE_ONLY,
}
# Spreadsheets the recordings read without creating them, shared with nobody (403 in the recording).
PRIVATE_KEYS = {"ClientTest.test_access_private_spreadsheet": ["1jIKzPs8LsiZZdLdeMEP-5ZIHw6RkjiOmj1LrJN706Yc"]}
MIN_COMPARED = 900  # Sheets interactions compared over all included cassettes

SHEETS_HOST = "sheets.googleapis.com"
VALUE_KEYS = ("values", "range", "majorDimension", "tableRange", "updatedRange", "updatedRows", "updatedCells",
              "clearedRange")
GENERATED_IDS = ("sheetId", "protectedRangeId")


def cassette_names() -> list[str]:
    if not CASSETTES.is_dir():
        return []
    return sorted(p.stem for p in CASSETTES.glob("*.json"))


def included() -> list[str]:
    return [name for name in cassette_names() if name not in EXCLUDED]


def needs_cassettes():
    if not CASSETTES.is_dir():
        pytest.skip(f"Recorded exchanges not found at {CASSETTES} (../shared is absent): conformance replay skipped")


# ---- comparison ----------------------------------------------------------------------------------------------


def masked(value):
    """Replies with generated IDs masked (their presence still counts)."""
    if isinstance(value, dict):
        return {k: "<id>" if k in GENERATED_IDS and v else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def _sheet_essentials(sheet: dict) -> dict:
    props = sheet.get("properties", {})
    out = {k: props[k] for k in ("title", "index", "hidden") if k in props}
    grid = props.get("gridProperties", {})
    out["grid"] = {k: grid[k] for k in ("rowCount", "columnCount", "frozenRowCount", "frozenColumnCount")
                   if k in grid}
    protected = sheet.get("protectedRanges", [])
    if protected:
        out["protected"] = [(p.get("range"), p.get("warningOnly", False), p.get("description", ""))
                            for p in protected]
    return out


def essentials(doc) -> dict:
    if not isinstance(doc, dict):
        return {"body": doc}
    if "error" in doc:
        return {"error": (doc["error"].get("code"), doc["error"].get("status"))}
    out = {k: doc[k] for k in VALUE_KEYS if k in doc}
    for key in ("updates",):
        if key in doc:
            out[key] = essentials(doc[key])
    for key in ("valueRanges", "responses"):
        if key in doc:
            out[key] = [essentials(v) for v in doc[key]]
    if "replies" in doc:
        out["replies"] = masked(doc["replies"])
    if "title" in doc.get("properties", {}):
        out["title"] = doc["properties"]["title"]
    if "sheets" in doc:
        out["sheets"] = [_sheet_essentials(s) for s in doc["sheets"] if "properties" in s]
    return out


# ---- replay --------------------------------------------------------------------------------------------------


class Replay:
    """One cassette against one fresh fake, with recorded IDs mapped to the fake's."""

    def __init__(self, name: str):
        self.name = name
        self.fake = FakeSheets()
        self.session = requests.Session()
        self.session.mount(f"https://{SHEETS_HOST}/", FakeSheetsAdapter(self.fake))
        self.keys: dict[str, str] = {}
        self.ids: dict[int, int] = {}  # recorded sheetId / protectedRangeId -> fake
        self.compared = 0
        self.mismatches: list[str] = []
        for key in PRIVATE_KEYS.get(name, []):
            self.fake.make_private(key)

    def run(self) -> Replay:
        data = json.loads((CASSETTES / f"{self.name}.json").read_text(encoding="utf-8"))
        for number, interaction in enumerate(data["interactions"]):
            request, response = interaction["request"], interaction["response"]
            if urlsplit(request["uri"]).netloc == SHEETS_HOST:
                self._sheets(number, request, response)
            else:
                self._drive(request, response)
        return self

    def _drive(self, request: dict, response: dict) -> None:
        path = urlsplit(request["uri"]).path
        body = json.loads(response["body"]["string"] or "{}") if response["body"]["string"] else {}
        sent = json.loads(request["body"]) if request.get("body") else {}
        if (request["method"] == "POST" and path == "/drive/v3/files"
                and sent.get("mimeType") == "application/vnd.google-apps.spreadsheet"):
            self.keys[body["id"]] = self.fake.create_spreadsheet(sent.get("name", "Untitled spreadsheet"))
        elif request["method"] == "DELETE":
            recorded = path.rsplit("/", 1)[-1]
            self.fake.delete_spreadsheet(self.keys.get(recorded, recorded))

    def _url(self, uri: str) -> str:
        parts = urlsplit(uri)
        match = re.match(r"^(/v4/spreadsheets/)([^/:]+)(.*)$", parts.path)
        path = parts.path
        if match and match.group(2) in self.keys:
            path = match.group(1) + self.keys[match.group(2)] + match.group(3)
        return urlunsplit(parts._replace(path=path))

    def _map_ids(self, value):
        if isinstance(value, dict):
            return {k: (self.ids.get(v, v) if k in GENERATED_IDS else self._map_ids(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._map_ids(v) for v in value]
        return value

    def _learn_ids(self, recorded, actual) -> None:
        """Pair generated IDs found at the same place in the recorded and the fake's replies."""
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for k, v in recorded.items():
                if k in GENERATED_IDS and isinstance(v, int) and isinstance(actual.get(k), int):
                    self.ids[v] = actual[k]
                else:
                    self._learn_ids(v, actual.get(k))
        elif isinstance(recorded, list) and isinstance(actual, list):
            for r, a in zip(recorded, actual, strict=False):
                self._learn_ids(r, a)

    def _sheets(self, number: int, request: dict, response: dict) -> None:
        body = request.get("body")
        if body:
            body = json.dumps(self._map_ids(json.loads(body)))
        answer = self.session.request(request["method"], self._url(request["uri"]), data=body,
                                      headers={"Content-Type": "application/json"} if body else {})
        expected_status = response["status"]["code"]
        recorded = json.loads(response["body"]["string"]) if response["body"]["string"] else {}
        actual = answer.json() if answer.content else {}
        self._learn_ids(recorded.get("replies"), actual.get("replies"))
        self.compared += 1
        where = f"{self.name} #{number} {request['method']} {request['uri']}"
        if answer.status_code != expected_status:
            self.mismatches.append(f"{where}: status {answer.status_code} != {expected_status} ({actual})")
        elif essentials(actual) != essentials(recorded):
            self.mismatches.append(f"{where}:\n  fake     {essentials(actual)}\n  recorded {essentials(recorded)}")


# ---- tests ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", included() or ["(absent)"])
def test_cassette_replays_like_google(name):
    needs_cassettes()
    replay = Replay(name).run()
    assert not replay.mismatches, "\n".join(replay.mismatches[:5])


def test_enough_interactions_are_compared():
    needs_cassettes()
    total = sum(Replay(name).run().compared for name in included())
    assert total >= MIN_COMPARED


def _operation(method: str, uri: str, body) -> set[str]:
    """A Sheets request named by what it does ("values.append", "batchUpdate.addSheet"…)."""
    parts = urlsplit(uri)
    path = parts.path
    if path.endswith(":batchUpdate") and "/values" not in path:
        return {f"batchUpdate.{next(iter(r))}" for r in json.loads(body)["requests"]}
    if "/values:" in path:
        return {"values." + path.rsplit(":", 1)[1]}
    if "/values/" in path:
        return {{"GET": "values.get", "PUT": "values.update"}.get(method, "values." + path.rsplit(":", 1)[-1])}
    return {"metadata"}


def _operations(name: str) -> set[str]:
    """What a cassette sends."""
    ops = set()
    for interaction in json.loads((CASSETTES / f"{name}.json").read_text(encoding="utf-8"))["interactions"]:
        request = interaction["request"]
        if urlsplit(request["uri"]).netloc == SHEETS_HOST:
            ops |= _operation(request["method"], request["uri"], request["body"])
    return ops


class _Recording(FakeSheetsAdapter):
    def __init__(self, fake):
        super().__init__(fake)
        self.sent: set[str] = set()

    def send(self, request, **kwargs):
        body = request.body.decode("utf-8") if isinstance(request.body, bytes) else request.body
        self.sent |= _operation(request.method, request.url, body)
        return super().send(request, **kwargs)


def adapter_operations() -> set[str]:
    """Every kind of request the real Google adapter sends, captured while it does all it does: init on a new
    and on a drifted spreadsheet, read, append, update, delete."""
    from google.auth.credentials import AnonymousCredentials
    from google.auth.transport.requests import AuthorizedSession

    from ecole_entreprise.domain.schema import default_schema
    from ecole_entreprise.store.gsheets import GoogleSheetsStore
    from tests.support.google_env import FakeSheetsHuman

    fake = FakeSheets()
    key = fake.create_spreadsheet("Opérations")
    recording = _Recording(fake)
    session = AuthorizedSession(AnonymousCredentials())
    session.mount(f"https://{SHEETS_HOST}/", recording)
    store = GoogleSheetsStore(default_schema(), key, session=session)
    store.init()
    [row] = store.append("Entreprises", [{"raison_sociale": "Op", "code_postal": "21000"}])
    store.update("Entreprises", row.id, {"notes": "x"}, row.fingerprint)
    store.read()
    store.delete("Entreprises", [row.id])
    human = FakeSheetsHuman(fake, key)
    human.rename_header("Entreprises", "Notes", "Remarques")
    store.init()  # drift: a missing column is added
    return recording.sent


# What the adapter sends that no recording sends, and how each is checked instead.
UNRECORDED = {
    "values.batchUpdate": "test_values_batch_update_matches_recorded_updates (recorded updates replayed as batches)",
    "batchUpdate.setDataValidation": "tests/test_gsheets_store.py checks the fake's state after init",
    "batchUpdate.appendDimension": "tests/test_gsheets_store.py checks the fake's state after init",
    "batchUpdate.addConditionalFormatRule": "tests/test_sheet_workplace_google.py (shapes of the API reference)",
    "batchUpdate.deleteConditionalFormatRule": "tests/test_sheet_workplace_google.py (re-init replaces the rules)",
    "batchUpdate.addFilterView": "tests/test_sheet_workplace_google.py (shapes of the API reference)",
    "batchUpdate.updateDimensionProperties": "tests/test_sheet_workplace_google.py (column widths)",
}


def test_every_operation_the_adapter_sends_is_covered_by_a_replayed_cassette():
    needs_cassettes()
    covered = set().union(*(_operations(name) for name in included()))
    sent = adapter_operations()
    assert {"values.batchGet", "values.append", "values.batchUpdate", "metadata"} <= sent  # the capture works
    assert sent - covered == set(UNRECORDED) & sent, sorted(sent - covered)


def test_values_batch_update_matches_recorded_updates():
    """No recording sends values:batchUpdate: each recorded values.update is replayed as a one-item batch."""
    needs_cassettes()
    checked = 0
    for name in included():
        data = json.loads((CASSETTES / f"{name}.json").read_text(encoding="utf-8"))
        replay = Replay(name)
        for interaction in data["interactions"]:
            request, response = interaction["request"], interaction["response"]
            parts = urlsplit(request["uri"])
            if parts.netloc != SHEETS_HOST:
                replay._drive(request, response)
                continue
            if request["method"] != "PUT" or response["status"]["code"] != 200:
                replay._sheets(0, request, response)
                continue
            key, encoded = re.match(r"^/v4/spreadsheets/([^/]+)/values/(.+)$", parts.path).groups()
            params = dict(p.split("=", 1) for p in parts.query.split("&") if p)
            body = json.loads(request["body"])
            batch = {"valueInputOption": params["valueInputOption"],
                     "data": [{"range": unquote(encoded), **{k: v for k, v in body.items() if v is not None}}]}
            url = f"https://{SHEETS_HOST}/v4/spreadsheets/{replay.keys.get(key, key)}/values:batchUpdate"
            answer = replay.session.post(url, json=batch)
            assert answer.status_code == 200, answer.text
            recorded = json.loads(response["body"]["string"])
            assert essentials(answer.json()["responses"][0]) == essentials(recorded), name
            checked += 1
    assert checked >= 50
