"""The store port: what every backend (Google Sheets, local workbook) must do, and its errors.

Rules every adapter follows (the contract suite in tests/test_store_contract.py checks them):
- `read()` returns a snapshot of every tab; every cell is text, never converted to numbers.
- Columns are located by header at write time; columns a person added are kept untouched.
- Rows are located by ID at write time; row numbers are only for messages.
- `update` compares the row's current fingerprint with the one the caller read: a mismatch is a Conflict.
- `append` is idempotent on the record ID: a record whose ID is already in the tab is not written again.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import threading
from collections import OrderedDict
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from .. import errors
from ..domain.schema import CREATED_FIELD, ID_FIELD, UPDATED_FIELD, Schema, TabSchema
from ..domain.values import format_datetime, now_paris

_ID_ALPHABET = string.ascii_uppercase.replace("O", "").replace("I", "") + "23456789"


def new_id(prefix: str) -> str:
    """Client-made, collision-resistant IDs (e.g. ENT-7KQ2M9XA): made before the first send, so retries are safe."""
    return f"{prefix}-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def fingerprint(tab: TabSchema, values: dict[str, str]) -> str:
    """Hash of the schema cells of a row; any change by a person or another session changes it."""
    joined = "\x1f".join((values.get(name) or "") for name in tab.field_names)
    # surrogatepass: a lone surrogate a person pasted in the sheet must not make the row unreadable
    return hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@dataclass(frozen=True)
class Row:
    id: str
    values: dict[str, str]  # field name -> cell text ("" when empty), every schema field present
    extra: dict[str, str]  # columns a person added: header -> text (kept, never written by the app)
    row_number: int  # 1-based row as seen in the sheet when read (for messages only)
    fingerprint: str

    def __getitem__(self, name: str) -> str:
        return self.values.get(name, "")


@dataclass
class TabIssue:
    """A structural problem seen while reading (missing header, row without ID, duplicate ID…)."""

    tab: str
    message: str
    row_number: int | None = None
    column: str = ""


@dataclass
class TabData:
    name: str
    headers: list[str]  # as found in the sheet, in sheet order
    rows: list[Row]  # rows with an ID, in sheet order
    issues: list[TabIssue] = field(default_factory=list)
    rows_without_id: list[Row] = field(default_factory=list)

    def by_id(self) -> dict[str, Row]:
        return {r.id: r for r in self.rows}

    def find(self, row_id: str) -> Row | None:
        """The first row with this ID, through an index rebuilt whenever the rows list is not the one it was
        built from; a hit is checked against the list, a miss scanned, so a list changed in place stays right."""
        rows = self.rows
        key = (id(rows), len(rows))
        if getattr(self, "_index_key", None) != key:
            index: dict[str, int] = {}
            for position, row in enumerate(rows):
                index.setdefault(row.id, position)
            self._index, self._index_key = index, key
        position = self._index.get(row_id)
        if position is not None and position < len(rows) and rows[position].id == row_id:
            return rows[position]
        return next((row for row in rows if row.id == row_id), None)


@dataclass
class Snapshot:
    tabs: dict[str, TabData]
    read_at: datetime
    requests: int = 0  # API requests this read cost (0 when served from cache)

    def rows(self, tab: str) -> list[Row]:
        return self.tabs[tab].rows if tab in self.tabs else []

    def get(self, tab: str, row_id: str) -> Row | None:
        return self.tabs[tab].find(row_id) if tab in self.tabs else None

    def issues(self) -> list[TabIssue]:
        return [issue for data in self.tabs.values() for issue in data.issues]


@dataclass
class InitReport:
    created_tabs: list[str] = field(default_factory=list)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)  # tab -> headers added
    extra_columns: dict[str, list[str]] = field(default_factory=dict)  # tab -> headers a person added
    notes: list[str] = field(default_factory=list)
    applied: list[str] = field(default_factory=list)  # French: what init changed in the sheet's layout

    @property
    def drift(self) -> bool:
        return bool(self.missing_columns or self.extra_columns)


# ---- errors: every message is French and meant for the user ----------------------------------------------


class StoreError(errors.UserError):
    """Base class; `str(error)` is a French message that can be shown as is."""


class SchemaMismatch(StoreError, errors.Unavailable):
    """A tab or a required column is missing from the sheet."""

    def __init__(self, tab: str, column: str = ""):
        self.tab, self.column = tab, column
        if column:
            super().__init__(f"L'onglet « {tab} » n'a pas de colonne « {column} ». "
                             "Rétablissez l'en-tête ou lancez `python -m ecole_entreprise init`.")
        else:
            super().__init__(f"L'onglet « {tab} » est introuvable. Lancez `python -m ecole_entreprise init`.")


class RowNotFound(StoreError, errors.NotFound):
    def __init__(self, tab: str, row_id: str):
        self.tab, self.row_id = tab, row_id
        super().__init__(f"La ligne {row_id} n'existe plus dans l'onglet « {tab} » (supprimée entre-temps ?).")


class DuplicateId(StoreError, errors.Refused):
    def __init__(self, tab: str, row_id: str, row_numbers: list[int]):
        self.tab, self.row_id = tab, row_id
        rows = ", ".join(str(n) for n in row_numbers)
        super().__init__(f"L'identifiant {row_id} apparaît plusieurs fois dans « {tab} » (lignes {rows}). "
                         "Corrigez la feuille avant de modifier cette fiche.")


class Conflict(StoreError, errors.Conflict):
    """The row changed since the caller read it: carries both versions, nothing was written."""

    def __init__(self, tab: str, row_id: str, expected: dict[str, str] | None, current: Row,
                 attempted: dict[str, str] | None = None):
        self.tab, self.row_id, self.expected, self.current = tab, row_id, expected, current
        self.attempted = attempted or {}
        super().__init__(f"La fiche {row_id} (« {tab} ») a été modifiée par quelqu'un d'autre depuis son "
                         "ouverture. Rien n'a été enregistré : comparez les deux versions.")

    def changed_fields(self) -> list[str]:
        if self.expected is None:
            return []
        return [k for k, v in self.current.values.items() if self.expected.get(k, "") != v]


class ReadVersions:
    """The last few versions of each row this store handed out, by fingerprint, so that a conflict can show
    what the caller read beside what the sheet holds now (and which fields changed in between)."""

    KEPT = 4  # versions per row: a form is rarely older than a few reads of the same row

    def __init__(self):
        self._seen: dict[tuple[str, str], OrderedDict] = {}
        self._lock = threading.Lock()

    def remember(self, tab: str, rows) -> None:
        with self._lock:
            for row in rows:
                seen = self._seen.setdefault((tab, row.id), OrderedDict())
                seen[row.fingerprint] = row.values
                seen.move_to_end(row.fingerprint)
                while len(seen) > self.KEPT:
                    seen.popitem(last=False)

    def recall(self, tab: str, row_id: str, wanted: str) -> dict[str, str] | None:
        with self._lock:
            return self._seen.get((tab, row_id), {}).get(wanted)

    def latest(self, tab: str, row_id: str) -> dict[str, str] | None:
        """The values handed out last for this row."""
        with self._lock:
            seen = self._seen.get((tab, row_id))
            return next(reversed(seen.values())) if seen else None


class SpreadsheetNotFound(StoreError, errors.Unavailable):
    pass


class PermissionDenied(StoreError, errors.Unavailable):
    pass


class QuotaExceeded(StoreError, errors.Unavailable):
    pass


class Unreachable(StoreError, errors.Unavailable):
    pass


class ReadOnlyTab(StoreError, errors.Refused):
    def __init__(self, tab: str):
        super().__init__(f"L'onglet « {tab} » est en ajout seul : ses lignes ne se modifient pas.")


class Busy(StoreError, errors.Unavailable):
    """`exclusive(name)` could not be had in time: another process holds it."""

    def __init__(self, name: str, waited_s: float):
        self.name, self.waited_s = name, waited_s
        super().__init__(f"Une autre session écrit en ce moment (verrou « {name} » occupé depuis plus de "
                         f"{waited_s:g} s). Rien n'a été enregistré : réessayez dans un instant.")


class MaybeApplied(StoreError, errors.Unavailable):
    """A write was sent but its answer was lost: Google may or may not have applied it, and checking failed."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(f"{what} : la réponse de Google s'est perdue, l'écriture est peut-être déjà "
                         "enregistrée : vérifiez avant de recommencer.")


# ---- the port ----------------------------------------------------------------------------------------------


class Store(Protocol):
    schema: Schema

    def describe(self) -> dict[str, str]:
        """Where the data lives, for the home page: {"kind", "title", "location", "url"}."""

    def read(self, tabs=None) -> Snapshot:
        """Every tab in one request (or only the tabs named in `tabs`, for a reader that needs no other)."""

    def append(self, tab: str, records: list[dict[str, str]]) -> list[Row]:
        """Add rows; records may carry an "id" (else one is made). Existing IDs are not written twice."""

    def update(self, tab: str, row_id: str, changes: dict[str, str], expected_fingerprint: str) -> Row:
        """Change some fields of one row, if and only if it still has `expected_fingerprint`."""

    def delete(self, tab: str, row_ids: list[str]) -> int:
        """Remove rows by ID (retention purges only); returns how many were removed."""

    def init(self) -> InitReport:
        """Create missing tabs and columns; report drift; never remove anything."""

    def exclusive(self, name: str, ttl_s: float = 30.0) -> AbstractContextManager[None]:
        """Mutual exclusion named `name` across every process using this data (held at most `ttl_s`);
        raises Busy when it cannot be had in time."""

    def tail(self, tab: str, n: int = 1) -> list[Row]:
        """A fresh read of the last `n` rows of one tab (in sheet order), without reading the other tabs."""

    def write_corrections(self, entries: list) -> int:
        """Rewrite the « À corriger » tab with these store.corrections.Correction rows and links to cells."""

    def sheet_locale(self) -> str | None:
        """The spreadsheet's locale ("fr_FR"), None where the backend has none (a workbook)."""


def stamp_new(tab: TabSchema, record: dict[str, str]) -> dict[str, str]:
    """Fill ID, defaults and timestamps of a record about to be appended."""
    now = format_datetime(now_paris())
    out = {f.name: "" for f in tab.fields}
    for f in tab.fields:
        if f.default:
            out[f.name] = f.default
    out.update({k: ("" if v is None else str(v)) for k, v in record.items() if k in out})
    out[ID_FIELD] = out[ID_FIELD] or new_id(tab.id_prefix)
    out[CREATED_FIELD] = out[CREATED_FIELD] or now
    out[UPDATED_FIELD] = now
    return out


def stamp_changes(tab: TabSchema, changes: dict[str, str]) -> dict[str, str]:
    """Only known, non-ID fields change; `updated_at` always moves."""
    clean = {k: ("" if v is None else str(v)) for k, v in changes.items()
             if k in tab.field_names and k not in (ID_FIELD, CREATED_FIELD)}
    clean[UPDATED_FIELD] = format_datetime(now_paris())
    return clean


def _cell_text(cells: list, index: int) -> str:
    """A ragged row simply lacks its trailing cells."""
    return str(cells[index]) if index < len(cells) and cells[index] is not None else ""


def rows_from_grid(tab: TabSchema, grid: list[list[str]], first_row: int = 2,
                   seen: dict[str, int] | None = None) -> TabData:
    """Turn a grid of text cells (first row = headers) into a TabData; shared by both adapters.

    Ragged rows are padded, blank rows skipped, unknown headers kept as `extra`, and structural
    problems collected as issues rather than raised: reading never fails on a person's typing.
    A tab read in pieces (WorkbookStore.read_pieces): `grid[1]` is sheet row `first_row`, `seen` (ID -> row) is
    shared between the pieces, and missing columns are reported with the first piece only.
    """
    headers = [str(h).strip() for h in (grid[0] if grid else [])]
    data = TabData(name=tab.name, headers=headers, rows=[])
    known = tab.by_header()
    position = {h: i for i, h in enumerate(headers) if h}
    for f in tab.fields:
        if f.header not in position and first_row == 2:
            data.issues.append(TabIssue(tab.name, f"Colonne « {f.header} » absente.", column=f.header))
    if "ID" not in position:
        return data
    seen = {} if seen is None else seen
    for offset, cells in enumerate(grid[1:], start=first_row):
        if not any(str(c).strip() for c in cells):
            continue
        values = {f.name: _cell_text(cells, position[f.header]) if f.header in position else "" for f in tab.fields}
        values[ID_FIELD] = values[ID_FIELD].strip()
        extra = {h: _cell_text(cells, i) for h, i in position.items() if h not in known}
        row = Row(values[ID_FIELD], values, extra, offset, fingerprint(tab, values))
        if not row.id:
            data.rows_without_id.append(row)
            data.issues.append(TabIssue(tab.name, "Ligne sans identifiant (colonne ID vide).", offset, "ID"))
            continue
        if row.id in seen:
            data.issues.append(TabIssue(tab.name, f"Identifiant {row.id} en double (déjà ligne {seen[row.id]}).",
                                        offset, "ID"))
        seen.setdefault(row.id, offset)
        data.rows.append(row)
    return data
