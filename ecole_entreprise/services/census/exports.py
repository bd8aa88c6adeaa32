"""The CSV export of the Entreprises / Personnels list a person sees, journaled before it is handed over.

The file is built from access.visible_rows (never the raw snapshot): a column the person may not see in the
list (contact details of the other side, of a record out of their scope…) is not in the file, nor its values.
Formula-looking text is kept as text (kernel/exports.csv_bytes).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from ...domain.schema import default_schema
from ..kernel import access
from ..kernel.exports import csv_bytes
from ..kernel.forms import now
from ..privacy.contacts import journal_export
from . import records

FINALITE = "suivi du programme (export de liste)"
MIME = "text/csv"


@dataclass(frozen=True)
class ListExport:
    tab: str
    data: bytes
    file_name: str
    columns: tuple[str, ...]  # field names, in the file's order
    row_ids: tuple[str, ...]

    @property
    def personal_fields(self) -> list[str]:
        schema = default_schema().tab(self.tab)
        return [name for name in self.columns if schema.field(name).is_personal]


def may_export(user) -> bool:
    return access.allowed(user, access.EXPORT_PERSONAL_DATA)


def rows_signature(tab: str, rows: list[dict[str, str]]) -> str:
    """Changes whenever the file would: a page keeps the file built for it until then (building it costs far
    more than this digest, and the list is redrawn at every click)."""
    return hashlib.sha256(repr((tab, rows)).encode()).hexdigest()


def list_export(user, tab: str, rows: list[dict[str, str]]) -> ListExport:
    """The file of `rows`: masked rows from access.visible_rows, already searched and filtered by the page."""
    fields = records.list_fields(rows, tab) if rows else []
    frame = pd.DataFrame([[row.get(f.name, "") for f in fields] for row in rows], columns=[f.header for f in fields])
    stamp = now().strftime("%Y%m%d-%H%M")
    return ListExport(tab, csv_bytes(frame), f"{tab.lower()}-{stamp}.csv", tuple(f.name for f in fields),
                      tuple(row.get("id", "") for row in rows))


def journal_list_export(store, user, export: ListExport) -> None:
    """One journal entry naming every record of the file and its personal columns, before the bytes leave."""
    fields = export.personal_fields or list(export.columns)
    journal_export(store, user, f"liste « {export.tab} » ({len(export.row_ids)} fiche(s), CSV)", fields, FINALITE,
                   [(export.tab, row_id) for row_id in export.row_ids])
