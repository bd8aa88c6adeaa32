"""The Google Sheets adapter: the Store port over the Sheets API v4, through gspread's HTTP client.

Requests per operation: read 1 (values:batchGet over every tab), update 2 (read the tab, write the changed
cells), append 2 (read the tab, values.append), delete 2 (+1 metadata, fetched once and cached), init about 4
plus the seeding of Listes and Parametres. Cells are written RAW and read FORMATTED, so "01000", "+33…" or
"=SUM(…)" stay text. Columns are found by header and rows by ID at write time, on the tab as it is then.

Every request goes through a bounded retry (RetryPolicy) on 408/429/5xx, timeouts and connection errors;
what still fails becomes a French StoreError. gspread's BackOffHTTPClient is not used: it never gives up.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import google.auth.exceptions
import gspread
import requests
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError

from ..domain.schema import ID_FIELD, UPDATED_FIELD, Schema, TabSchema
from ..domain.values import now_paris
from .base import (
    Conflict,
    DuplicateId,
    InitReport,
    PermissionDenied,
    QuotaExceeded,
    ReadOnlyTab,
    ReadVersions,
    Row,
    RowNotFound,
    SchemaMismatch,
    Snapshot,
    SpreadsheetNotFound,
    StoreError,
    TabData,
    TabIssue,
    Unreachable,
    fingerprint,
    rows_from_grid,
    stamp_changes,
    stamp_new,
)
from .cells import a1_title, column_letter
from .gsheets_init import init_spreadsheet, write_corrections
from .retry import RetryPolicy

SCOPES = ("https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive.readonly")
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
READ_PARAMS = {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"}
APPEND_PARAMS = {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"}
MISSING_TAB = "Onglet absent du classeur : lancez `python -m ecole_entreprise init` pour le créer."

DEFAULT_RETRY = RetryPolicy()
_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


def spreadsheet_lock(key: str) -> threading.RLock:
    """One lock per spreadsheet for the whole process: every session of this server shares it."""
    with _locks_guard:
        return _locks.setdefault(key, threading.RLock())


class _MissingTab(Exception):
    """Internal: Google could not parse a range because its tab does not exist."""


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, APIError):
        return error.code in TRANSIENT_STATUS or error.code >= 500
    return isinstance(error, (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                              google.auth.exceptions.TransportError))


def _text_grid(values) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in (values or [])]


def _positions(headers: list[str]) -> dict[str, int]:
    # Same rule as rows_from_grid (last occurrence wins), so reads and writes agree on a column.
    return {h: i for i, h in enumerate(headers) if h}


class GoogleSheetsStore:
    """Store port on one Google spreadsheet; safe to share between the threads of one server."""

    def __init__(self, schema: Schema, spreadsheet_key: str, *, credentials=None, session=None,
                 retry: RetryPolicy = DEFAULT_RETRY, service_account_email: str = "", timeout_s: float = 20):
        if session is None:
            if credentials is None:
                raise StoreError("Aucun compte de service Google configuré : renseignez [connections.gsheets] "
                                 "dans .streamlit/secrets.toml ou ECOLE_ENTREPRISE_CREDENTIALS.")
            session = AuthorizedSession(credentials)
        self.schema = schema
        self.key = spreadsheet_key
        self.retry = retry
        self.service_account_email = service_account_email
        self._http = gspread.Client(auth=None, session=session).http_client
        self._http.set_timeout(timeout_s)
        self._lock = spreadsheet_lock(spreadsheet_key)
        self._meta: dict | None = None  # {"title": str, "sheets": {title: sheet properties}}
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self.requests_sent = 0
        self._versions = ReadVersions()  # values read, for the conflict view

    @classmethod
    def from_settings(cls, schema: Schema, settings) -> GoogleSheetsStore:
        from google.oauth2 import service_account

        try:
            if settings.service_account_info:
                credentials = service_account.Credentials.from_service_account_info(
                    settings.service_account_info, scopes=SCOPES)
            elif settings.credentials_file:
                credentials = service_account.Credentials.from_service_account_file(
                    settings.credentials_file, scopes=SCOPES)
            else:
                credentials = None
        except (ValueError, KeyError, OSError) as error:
            raise PermissionDenied(f"Identifiants du compte de service illisibles ou incomplets ({error}) : "
                                   "vérifiez la clé JSON dans la configuration.") from error
        email = settings.service_account_email or getattr(credentials, "service_account_email", "")
        return cls(schema, settings.spreadsheet, credentials=credentials, retry=RetryPolicy.from_settings(settings),
                   service_account_email=email, timeout_s=settings.request_timeout_s)

    # ---- the port ------------------------------------------------------------------------------------------

    def describe(self) -> dict[str, str]:
        with self._translated():
            title = self._metadata()["title"]
        return {"kind": "google", "title": title, "location": self.key,
                "url": f"https://docs.google.com/spreadsheets/d/{self.key}/edit"}

    def read(self) -> Snapshot:
        self._local.count = 0
        names = self.schema.tab_names
        with self._translated():
            try:
                grids, missing = self._batch_get(names), []
            except _MissingTab:  # someone deleted or renamed a tab: find which, read the others
                present = self._metadata(refresh=True)["sheets"]
                missing = [n for n in names if n not in present]
                kept = [n for n in names if n in present]
                grids = self._batch_get(kept) if kept else {}
        tabs = {}
        for name in names:
            tab = self.schema.tab(name)
            if name in missing:
                tabs[name] = TabData(name, [], [], [TabIssue(name, MISSING_TAB)])
            else:
                tabs[name] = rows_from_grid(tab, grids[name])
                self._versions.remember(name, tabs[name].rows)
        return Snapshot(tabs=tabs, read_at=now_paris(), requests=self._local.count)

    def update(self, tab: str, row_id: str, changes: dict[str, str], expected_fingerprint: str) -> Row:
        schema = self.schema.tab(tab)
        if schema.append_only:
            raise ReadOnlyTab(tab)
        clean = stamp_changes(schema, changes)
        # The process-wide lock makes read-compare-write atomic between the sessions of this server, so two
        # coordinators can never both win. A person typing in the Google UI during the ~100 ms between our
        # read and our write is the remaining window: the API offers no conditional write.
        with self._translated(), self._lock:
            data = rows_from_grid(schema, self._read_tab(tab))
            columns = self._columns(schema, data.headers, list(clean))
            current = self._locate(data, row_id)
            if current.fingerprint != expected_fingerprint:
                raise Conflict(tab, row_id, self._versions.recall(tab, row_id, expected_fingerprint), current, clean)
            writes = {k: v for k, v in clean.items() if v != current.values.get(k, "") or k == UPDATED_FIELD}
            body = {"valueInputOption": "RAW", "data": [
                {"range": f"{a1_title(tab)}!{column_letter(columns[k])}{current.row_number}", "values": [[v]]}
                for k, v in writes.items()]}
            self._call(lambda: self._http.values_batch_update(self.key, body=body))
        values = {**current.values, **clean}
        row = Row(row_id, values, dict(current.extra), current.row_number, fingerprint(schema, values))
        self._versions.remember(tab, [row])
        return row

    def append(self, tab: str, records: list[dict[str, str]]) -> list[Row]:
        schema = self.schema.tab(tab)
        stamped = _unique_by_id([stamp_new(schema, x) for x in records])
        if not stamped:
            return []
        with self._translated(), self._lock:
            grid = self._read_tab(tab)
            headers = [h.strip() for h in grid[0]] if grid else []
            position = self._append_positions(schema, headers, stamped)
            existing = self._rows_by_id(schema, grid)
            pending = [r for r in stamped if r[ID_FIELD] not in existing]
            attempts = 0

            def attempt():
                nonlocal existing, pending, attempts
                attempts += 1
                if attempts > 1:  # the last response may have been lost after Google applied it
                    existing = self._rows_by_id(schema, self._read_tab(tab, retry=False))
                    pending = [r for r in pending if r[ID_FIELD] not in existing]
                if not pending:
                    return None
                cells = [self._ordered(schema, position, len(headers), r) for r in pending]
                body = {"majorDimension": "ROWS", "values": cells}
                # INSERT_ROWS: Google inserts rows after the table found from A1, never overwriting a cell.
                return self._send(lambda: self._http.values_append(self.key, f"{a1_title(tab)}!A1",
                                                                   params=dict(APPEND_PARAMS), body=body))

            answer = self.retry.run(attempt, _is_transient, self._deadline())
        first = _first_row(answer["updates"]["updatedRange"]) if answer else 0
        numbers = {r[ID_FIELD]: first + i for i, r in enumerate(pending)}
        extra = {h: "" for h in _positions(headers) if h not in schema.by_header()}
        rows = [existing.get(r[ID_FIELD]) or
                Row(r[ID_FIELD], r, dict(extra), numbers.get(r[ID_FIELD], 0), fingerprint(schema, r))
                for r in stamped]
        self._versions.remember(tab, rows)
        return rows

    def delete(self, tab: str, row_ids: list[str]) -> int:
        schema = self.schema.tab(tab)
        wanted = set(row_ids)
        if not wanted:
            return 0
        found: list[int] = []
        with self._translated(), self._lock:
            sheet_id = self._sheet_id(tab)

            def attempt():  # re-locates rows on every attempt: deleting by row number is not idempotent
                data = rows_from_grid(schema, self._read_tab(tab, retry=False))
                matches = [r for r in data.rows if r.id in wanted]
                for row_id in {r.id for r in matches}:
                    numbers = [r.row_number for r in matches if r.id == row_id]
                    if len(numbers) > 1:
                        raise DuplicateId(tab, row_id, numbers)
                if not found:
                    found.append(len(matches))
                if matches:
                    body = {"requests": [
                        {"deleteDimension": {"range": {"sheetId": sheet_id, "dimension": "ROWS",
                                                       "startIndex": r.row_number - 1, "endIndex": r.row_number}}}
                        for r in sorted(matches, key=lambda r: -r.row_number)]}
                    self._send(lambda: self._http.batch_update(self.key, body))

            self.retry.run(attempt, _is_transient, self._deadline())
        return found[0] if found else 0

    def init(self) -> InitReport:
        return init_spreadsheet(self)

    def sheet_locale(self) -> str | None:
        """From the metadata this process already holds (fetched once): no request per page view."""
        with self._translated():
            return self._metadata().get("locale", "")

    def write_corrections(self, entries) -> int:
        """Rewrite the « À corriger » tab (store/corrections.py)."""
        return write_corrections(self, entries)

    # ---- reading and locating -----------------------------------------------------------------------------

    def _batch_get(self, names: list[str]) -> dict[str, list[list[str]]]:
        ranges = [a1_title(n) for n in names]
        answer = self._call(lambda: self._http.values_batch_get(self.key, ranges, params=dict(READ_PARAMS)))
        return {n: _text_grid(vr.get("values")) for n, vr in zip(names, answer.get("valueRanges", []), strict=False)}

    def _read_tab(self, name: str, retry: bool = True) -> list[list[str]]:
        def get():
            return self._http.values_get(self.key, a1_title(name), params=dict(READ_PARAMS))

        try:
            answer = self._call(get) if retry else self._send(get)
        except _MissingTab:
            raise SchemaMismatch(name) from None
        return _text_grid(answer.get("values"))

    def _rows_by_id(self, schema: TabSchema, grid: list[list[str]]) -> dict[str, Row]:
        rows: dict[str, Row] = {}
        for row in rows_from_grid(schema, grid).rows:
            rows.setdefault(row.id, row)
        return rows

    @staticmethod
    def _locate(data: TabData, row_id: str) -> Row:
        matches = [r for r in data.rows if r.id == row_id]
        if not matches:
            raise RowNotFound(data.name, row_id)
        if len(matches) > 1:
            raise DuplicateId(data.name, row_id, [r.row_number for r in matches])
        return matches[0]

    @staticmethod
    def _columns(schema: TabSchema, headers: list[str], names: list[str]) -> dict[str, int]:
        position = _positions(headers)
        columns = {}
        for name in names:
            header = schema.field(name).header
            if header not in position:
                raise SchemaMismatch(schema.name, header)
            columns[name] = position[header]
        return columns

    @staticmethod
    def _append_positions(schema: TabSchema, headers: list[str], records: list[dict[str, str]]) -> dict[str, int]:
        """Header -> column; a missing column is an error only if some record has a value for it."""
        position = _positions(headers)
        if "ID" not in position:
            raise SchemaMismatch(schema.name, "ID")
        for f in schema.fields:
            if f.header not in position and any(r.get(f.name) for r in records):
                raise SchemaMismatch(schema.name, f.header)
        return position

    @staticmethod
    def _ordered(schema: TabSchema, position: dict[str, int], width: int, record: dict[str, str]) -> list[str]:
        cells = [""] * width  # cells of columns a person added stay empty in the new row
        for f in schema.fields:
            if f.header in position:
                cells[position[f.header]] = record.get(f.name, "")
        return cells

    # ---- metadata ------------------------------------------------------------------------------------------

    def _metadata(self, refresh: bool = False) -> dict:
        if self._meta is None or refresh:
            answer = self._call(lambda: self._http.fetch_sheet_metadata(
                self.key, params={"includeGridData": "false",
                                  "fields": "properties(title,locale),sheets.properties"}))
            sheets = {s["properties"]["title"]: s["properties"] for s in answer.get("sheets", [])}
            self._meta = {"title": answer.get("properties", {}).get("title", ""), "sheets": sheets,
                          "locale": answer.get("properties", {}).get("locale", "")}
        return self._meta

    def _sheet_id(self, tab: str) -> int:
        sheets = self._metadata()["sheets"]
        if tab not in sheets:
            sheets = self._metadata(refresh=True)["sheets"]
        if tab not in sheets:
            raise SchemaMismatch(tab)
        return sheets[tab].get("sheetId", 0)

    # ---- requests, retries and errors ----------------------------------------------------------------------

    def _send(self, call):
        """One HTTP request, counted; a range naming a missing tab becomes _MissingTab."""
        with self._count_lock:
            self.requests_sent += 1
        self._local.count = getattr(self._local, "count", 0) + 1
        try:
            return call()
        except APIError as error:
            if error.code == 400 and "Unable to parse range" in str(error.error.get("message", "")):
                raise _MissingTab(error.error.get("message", "")) from error
            raise

    def _call(self, call):
        return self.retry.run(lambda: self._send(call), _is_transient, self._deadline())

    def _retrying(self, attempt):
        """Run `attempt` (which sends its own requests) again after a transient failure, within the budget."""
        return self.retry.run(attempt, _is_transient, self._deadline())

    def _deadline(self) -> float | None:
        return getattr(self._local, "deadline", None)

    @contextmanager
    def _translated(self):
        """One store operation: its requests share one retry time budget (the outermost operation's), and
        whatever escaped the retries becomes a French StoreError."""
        outermost = self._deadline() is None
        if outermost:
            self._local.deadline = self.retry.deadline()
        try:
            yield
        except StoreError:
            raise
        except APIError as error:
            raise self._api_error(error) from error
        except _MissingTab as error:  # a tab vanished between two requests of one operation
            match = re.search(r"'((?:[^']|'')*)'", str(error))
            raise SchemaMismatch(match.group(1).replace("''", "'") if match else str(error)) from error
        except google.auth.exceptions.RefreshError as error:
            raise PermissionDenied("Google refuse les identifiants du compte de service (clé révoquée ou "
                                   "invalide) : vérifiez la clé JSON dans la configuration.") from error
        except (requests.exceptions.RequestException, google.auth.exceptions.TransportError) as error:
            raise Unreachable("Google Sheets est injoignable (réseau coupé ou délai dépassé), malgré plusieurs "
                              "essais : vérifiez la connexion puis réessayez dans quelques instants.") from error
        finally:
            if outermost:
                self._local.deadline = None

    def _api_error(self, error: APIError) -> StoreError:
        code = error.code
        if code == 404:
            return SpreadsheetNotFound(f"Classeur introuvable : vérifiez la clé « {self.key} » dans la "
                                       "configuration (secrets.toml ou ECOLE_ENTREPRISE_SPREADSHEET).")
        if code == 403:
            who = self.service_account_email or "le compte de service de l'application"
            return PermissionDenied(f"Accès refusé au classeur « {self.key} ». Partagez le classeur avec {who} "
                                    "en tant qu'éditeur.")
        if code == 401:
            return PermissionDenied("Google refuse les identifiants du compte de service : vérifiez la clé JSON "
                                    "dans la configuration.")
        if code == 429:
            return QuotaExceeded("Quota de requêtes Google Sheets dépassé, malgré plusieurs essais : patientez "
                                 "une minute puis réessayez.")
        if code in TRANSIENT_STATUS or code >= 500:
            return Unreachable(f"Google Sheets est injoignable ou indisponible (erreur {code}), malgré plusieurs "
                               "essais : réessayez dans quelques instants.")
        return StoreError(f"Google Sheets a refusé la requête (erreur {code}) : {error.error.get('message', '')}")

    # ---- what the caller saw, for Conflict messages ---------------------------------------------------------


def _unique_by_id(records: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for record in records:
        seen.setdefault(record[ID_FIELD], record)
    return list(seen.values())


def _first_row(updated_range: str) -> int:
    match = re.search(r"!\$?[A-Z]+\$?(\d+)", updated_range)
    return int(match.group(1)) if match else 0
