"""An in-memory Store (test double) over grids of text, following the port's docstrings in store/base.py.

`grids[tab]` is what a person would see in the sheet: row 0 holds the headers, every cell is text. Tests may
edit the grids directly to play a person typing in the sheet. `read_delay_s` widens the gap between a read
and the next write, to make races visible in concurrency tests.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from ecole_entreprise.domain.schema import ID_FIELD, Schema, TabSchema, default_schema
from ecole_entreprise.domain.values import now_paris
from ecole_entreprise.store.base import (
    Busy,
    Conflict,
    DuplicateId,
    InitReport,
    ReadOnlyTab,
    ReadVersions,
    Row,
    RowNotFound,
    SchemaMismatch,
    Snapshot,
    rows_from_grid,
    stamp_changes,
    stamp_new,
)


class MemoryStore:
    def __init__(self, schema: Schema | None = None, read_delay_s: float = 0.0):
        self.schema = schema or default_schema()
        self.grids: dict[str, list[list[str]]] = {}
        self.read_delay_s = read_delay_s
        self.writes = 0
        self._lock = threading.Lock()  # one "API call" at a time, like a single spreadsheet
        self._named: dict[str, threading.Lock] = {}  # exclusive(name): one process here, so thread locks
        self._versions = ReadVersions()  # what a conflict shows as "your version", as the real adapters do

    def sheet_locale(self) -> str | None:
        return None

    def describe(self) -> dict[str, str]:
        return {"kind": "memory", "title": "Données en mémoire", "location": "tests", "url": ""}

    def init(self) -> InitReport:
        report = InitReport()
        with self._lock:
            for tab in self.schema.tabs.values():
                if tab.name not in self.grids:
                    self.grids[tab.name] = [list(tab.headers)]
                    report.created_tabs.append(tab.name)
                    continue
                headers = self.grids[tab.name][0]
                missing = [h for h in tab.headers if h not in headers]
                if missing:
                    headers.extend(missing)
                    report.missing_columns[tab.name] = missing
                extra = [h for h in headers if h and h not in tab.headers]
                if extra:
                    report.extra_columns[tab.name] = extra
        return report

    def read(self, tabs=None) -> Snapshot:
        wanted = set(tabs) if tabs else set(self.schema.tabs)
        with self._lock:
            tabs = {name: rows_from_grid(self.schema.tab(name), [list(r) for r in grid])
                    for name, grid in self.grids.items() if name in wanted}
        for name, data in tabs.items():
            self._versions.remember(name, data.rows)
        time.sleep(self.read_delay_s)
        return Snapshot(tabs=tabs, read_at=now_paris(), requests=1)

    def tail(self, tab: str, n: int = 1) -> list[Row]:
        schema_tab = self.schema.tab(tab)
        with self._lock:
            grid = self._grid(schema_tab)
            rows = rows_from_grid(schema_tab, [list(r) for r in grid]).rows[-n:] if n > 0 else []
        time.sleep(self.read_delay_s)
        return rows

    @contextmanager
    def exclusive(self, name: str, ttl_s: float = 30.0):
        with self._lock:
            lock = self._named.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=ttl_s):
            raise Busy(name, ttl_s)
        try:
            yield
        finally:
            lock.release()

    # ---- writes ----

    def _grid(self, tab: TabSchema, written=()) -> list[list[str]]:
        """The tab's grid; like the real adapters, only the ID and the fields written must have a column."""
        if tab.name not in self.grids:
            raise SchemaMismatch(tab.name)
        grid = self.grids[tab.name]
        headers = [h.strip() for h in grid[0]]
        for f in tab.fields:
            if f.header not in headers and (f.name == ID_FIELD or f.name in written):
                raise SchemaMismatch(tab.name, f.header)
        return grid

    def _row(self, tab: TabSchema, grid: list[list[str]], line: int) -> Row:
        return next(r for r in rows_from_grid(tab, [grid[0], grid[line]]).rows)

    def _lines_with_id(self, grid: list[list[str]], row_id: str) -> list[int]:
        col = grid[0].index("ID")
        return [i for i in range(1, len(grid)) if col < len(grid[i]) and grid[i][col].strip() == row_id]

    def append(self, tab: str, records: list[dict[str, str]]) -> list[Row]:
        schema_tab = self.schema.tab(tab)
        out = []
        with self._lock:
            grid = self._grid(schema_tab, {k for r in records for k, v in r.items() if v})
            for record in records:
                values = stamp_new(schema_tab, record)
                existing = self._lines_with_id(grid, values[ID_FIELD])
                if not existing:
                    by_header = {f.header: values[f.name] for f in schema_tab.fields}
                    grid.append([by_header.get(h.strip(), "") for h in grid[0]])
                    self.writes += 1
                    existing = [len(grid) - 1]
                out.append(_renumbered(self._row(schema_tab, grid, existing[0]), existing[0] + 1))
        return out

    def update(self, tab: str, row_id: str, changes: dict[str, str], expected_fingerprint: str) -> Row:
        schema_tab = self.schema.tab(tab)
        if schema_tab.append_only:
            raise ReadOnlyTab(tab)
        with self._lock:
            grid = self._grid(schema_tab, set(changes))
            lines = self._lines_with_id(grid, row_id)
            if not lines:
                raise RowNotFound(tab, row_id)
            if len(lines) > 1:
                raise DuplicateId(tab, row_id, [i + 1 for i in lines])
            line = lines[0]
            current = _renumbered(self._row(schema_tab, grid, line), line + 1)
            if current.fingerprint != expected_fingerprint:
                raise Conflict(tab, row_id, self._versions.recall(tab, row_id, expected_fingerprint), current,
                               attempted=dict(changes))
            cells = grid[line] + [""] * (len(grid[0]) - len(grid[line]))
            headers = [h.strip() for h in grid[0]]
            for name, value in stamp_changes(schema_tab, changes).items():
                header = schema_tab.field(name).header
                if header in headers:  # a timestamp column a person removed is skipped, as in the adapters
                    cells[headers.index(header)] = value
            grid[line] = cells
            self.writes += 1
            updated = _renumbered(self._row(schema_tab, grid, line), line + 1)
            self._versions.remember(tab, [updated])
            return updated

    def delete(self, tab: str, row_ids: list[str]) -> int:
        schema_tab = self.schema.tab(tab)
        targets = {i.strip() for i in row_ids if i and i.strip()}
        with self._lock:
            grid = self._grid(schema_tab)
            doomed = {line for row_id in targets for line in self._lines_with_id(grid, row_id)}
            self.grids[tab] = [r for i, r in enumerate(grid) if i not in doomed]
            self.writes += bool(doomed)
        return len(doomed)

    # ---- helpers for tests (a person editing the sheet) ----

    def set_cell(self, tab: str, row_id: str, header: str, value: str) -> None:
        with self._lock:
            grid = self.grids[tab]
            [line] = self._lines_with_id(grid, row_id)
            grid[line][grid[0].index(header)] = value


def _renumbered(row: Row, row_number: int) -> Row:
    return Row(row.id, row.values, row.extra, row_number, row.fingerprint)


# ---- a small programme for GDPR and access tests --------------------------------------------------------------

CONSENTED = {"consentement_participation": "2025-09-15 10:00:00", "consentement_partage": "2025-09-15 10:00:00",
             "consentement_version": "2025-09", "consentement_source": "coordinateur"}


def _company(row_id: str, dep: str, **extra) -> dict[str, str]:
    tag = row_id.lower()
    return {"id": row_id, "raison_sociale": f"Société {row_id}", "code_postal": f"{dep}000", "commune_insee": "",
            "departement": dep, "contact_civilite": "Mme", "contact_nom": f"Nom-{tag}", "contact_prenom": "Léa",
            "contact_email": f"canari.{tag}@exemple.fr", "contact_telephone": f"06 00 00 00 {dep}",
            "attendus": f"canari attendus {tag}", "notes": f"canari notes {tag}", "statut": "validé", **CONSENTED,
            **extra}


def _staff(row_id: str, dep: str, fonction: str, canal: str, **extra) -> dict[str, str]:
    tag = row_id.lower()
    return {"id": row_id, "civilite": "M.", "nom": f"Nom-{tag}", "prenom": "Paul", "fonction": fonction,
            "code_postal": f"{dep}000", "departement": dep, "email": f"canari.{tag}@ac-exemple.fr",
            "telephone": f"07 00 00 00 {dep}", "attendus": f"canari attendus {tag}", "notes": f"canari notes {tag}",
            "canal": canal, "statut": "validé", **CONSENTED, **extra}


def _meeting(row_id: str, ent: str, per: str, statut: str, accepted: bool, **extra) -> dict[str, str]:
    stamp = "2025-10-01 09:00:00" if accepted else ""
    tag = row_id.lower()
    return {"id": row_id, "entreprise_id": ent, "personnel_id": per, "annee_scolaire": "2025-2026", "statut": statut,
            "acceptation_entreprise": stamp, "acceptation_personnel": stamp,
            "attendus_entreprise": f"canari attendus entreprise {tag}",
            "attendus_personnel": f"canari attendus personnel {tag}",
            "conclusions_entreprise": f"canari conclusions entreprise {tag}",
            "conclusions_personnel": f"canari conclusions personnel {tag}", **extra}


def seed_programme(store: MemoryStore) -> MemoryStore:
    """Companies ENT-E21 / ENT-E25, staff PER-P21 / PER-P25 / PER-P58 and four meetings:
    REN-M1 (E25 × P21, accepted, disclosable), REN-M2 (E21 × P25, proposed), REN-M3 (E21 × P21, done),
    REN-M4 (E21 × P58, accepted but P58 refused sharing). Every personal value contains "canari"."""
    store.init()
    store.append("Entreprises", [_company("ENT-E21", "21"), _company("ENT-E25", "25")])
    store.append("Personnels", [
        _staff("PER-P21", "21", "professeur", "CLEE"),
        _staff("PER-P25", "25", "CPE", "salon REE"),
        _staff("PER-P58", "58", "professeur", "CLEE", consentement_partage=""),
    ])
    store.append("Rencontres", [
        _meeting("REN-M1", "ENT-E25", "PER-P21", "acceptée", True),
        _meeting("REN-M2", "ENT-E21", "PER-P25", "proposée", False),
        _meeting("REN-M3", "ENT-E21", "PER-P21", "réalisée", True, date="2025-11-05"),
        _meeting("REN-M4", "ENT-E21", "PER-P58", "acceptée", True),
    ])
    store.append("Partenariats", [{"id": "PAR-A1", "uai": "0211234A", "entreprise_id": "ENT-E21",
                                   "rencontre_id": "REN-M3", "types": "visites", "statut": "actif",
                                   "description": "canari description partenariat"}])
    return store
