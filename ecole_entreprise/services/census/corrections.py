"""The « À corriger » tab of the sheet: one row per anomaly of the data-quality report, with a link to its cell.

`correction_entries` is pure: it turns anomalies into the tab's rows, and leaves out any value of a personal
field (a validator's message quotes the value: it is replaced by a pointer to the column's header note).
`rewrite_corrections` checks the sheet as it is now and has the store rewrite the tab, whose links the store
computes from the current positions (store/corrections.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...domain.schema import Schema
from ...store.base import StoreError
from ...store.corrections import CORRECTIONS, Correction
from ..kernel import access
from ..kernel.journal import fresh_snapshot
from .quality import Anomaly, check_snapshot

PERSONAL = ("Valeur à corriger : la note de l'en-tête dit ce qui est attendu (donnée personnelle, non recopiée "
            "ici).")


def correction_entries(anomalies: list[Anomaly], schema: Schema) -> list[Correction]:
    return [Correction(a.tab, a.row_id, a.row_number, a.column, _message(a, schema), a.severity)
            for a in anomalies if a.tab != CORRECTIONS]


def _message(anomaly: Anomaly, schema: Schema) -> str:
    tab = schema.tabs.get(anomaly.tab)
    field = tab.by_header().get(anomaly.column) if tab is not None else None
    if field is not None and field.is_personal and anomaly.value.strip():
        return PERSONAL
    return anomaly.reason


@dataclass(frozen=True)
class Rewritten:
    ok: bool
    written: int
    message: str  # French, for the page and the command line


def rewrite_corrections(store, user) -> Rewritten:
    """Rewrite the tab from the sheet as it is now (refusals and store failures come back as a French message)."""
    try:
        access.require(user, access.VIEW_QUALITY)
        snapshot = fresh_snapshot(store)
        entries = correction_entries(check_snapshot(snapshot, store.schema), store.schema)
        written = store.write_corrections(entries)
    except StoreError as error:
        return Rewritten(False, 0, f"Onglet « {CORRECTIONS} » non réécrit : {error}")
    return Rewritten(True, written, f"Onglet « {CORRECTIONS} » réécrit : {written} ligne(s), chacune avec un lien "
                                    "vers sa case.")
