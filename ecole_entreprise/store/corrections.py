"""The « À corriger » tab: one row per anomaly, with a link to the cell, written whole by either backend.

The link is a HYPERLINK formula that finds the cell when it is clicked: the row by MATCH on the row's ID in the
tab's ID column, the column by MATCH on its header in row 1. A sort, an inserted row or a moved column after the
tab was written still lands on the right cell (the ID column reference follows a moved ID column, as any
reference does). A row without ID is linked by the row number it had when the tab was written.
Google: "#gid=<sheet>&range=C5" (a link inside the spreadsheet); workbook: "#'Tab'!C5" (an internal link).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.schema import Schema
from .base import stamp_new
from .cells import a1_title, column_letter
from .sheet_rules import google_formula

CORRECTIONS = "À corriger"


@dataclass(frozen=True)
class Correction:
    tab: str
    row_id: str
    row_number: int | None  # as read, for a row without ID (None: the whole tab)
    column: str  # header ("" for a whole row or tab)
    message: str  # French, with no personal value
    severity: str


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _address(entry: Correction, headers: list[str]) -> str:
    ref = a1_title(entry.tab)
    if entry.row_id and "ID" in headers:
        letter = column_letter(headers.index("ID"))
        row = f"MATCH({_q(entry.row_id)},{ref}!${letter}:${letter},0)"
    else:
        row = str(entry.row_number or 1)
    col = f"MATCH({_q(entry.column)},{ref}!$1:$1,0)" if entry.column and entry.column in headers else "1"
    return f"ADDRESS({row},{col},4)"


def link_formula(entry: Correction, headers: list[str], gid: int | None) -> str:
    """The link for one anomaly, for Google when `gid` is given (its syntax), for a workbook otherwise."""
    address = _address(entry, headers)
    label = f"{_q(entry.tab + ' ')}&{address}"
    if gid is not None:
        return google_formula(f'=HYPERLINK("#gid={gid}&range="&{address},{label})')
    return f'=HYPERLINK("#{a1_title(entry.tab)}!"&{address},{label})'


def records(schema: Schema, entries: list[Correction]) -> list[dict[str, str]]:
    """The tab's rows without their link (stamped: ID and timestamps), in the order of `entries`."""
    tab = schema.tab(CORRECTIONS)
    return [stamp_new(tab, {"onglet": e.tab, "ligne_id": e.row_id, "colonne": e.column, "probleme": e.message,
                            "gravite": e.severity, "lien": ""}) for e in entries]
