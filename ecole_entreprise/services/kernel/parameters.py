"""The Parametres tab (key/value rows people edit in the sheet), with the documented defaults of the schema."""

from __future__ import annotations

from datetime import date

from ...domain.schema import default_schema
from ...domain.values import is_school_year, school_year_of
from ...store.base import Snapshot


def parameters(snapshot: Snapshot | None) -> dict[str, str]:
    """Every setting: the sheet's value when filled in, else the default from sheets_schema/parametres.yaml."""
    values = {key: str(spec.get("valeur", "")) for key, spec in default_schema().tab("Parametres").defaults.items()}
    for row in snapshot.rows("Parametres") if snapshot is not None else []:
        if row["cle"].strip() and row["valeur"].strip():
            values[row["cle"].strip()] = row["valeur"].strip()
    return values


def parameter(snapshot: Snapshot | None, key: str) -> str:
    return parameters(snapshot).get(key, "")


def int_parameter(snapshot: Snapshot | None, key: str) -> int:
    """A whole-number setting; a typo in the sheet falls back to the default rather than breaking a purge."""
    try:
        return int(parameters(snapshot)[key])
    except ValueError:
        return int(parameters(None)[key])


def current_school_year(snapshot: Snapshot | None, today: date) -> str:
    """The programme's school year as set in Parametres (the last non-empty row wins, as for every setting),
    else the one `today` falls in (also when the sheet holds a malformed value: the quality check reports it)."""
    value = parameters(snapshot).get("annee_scolaire", "")
    return value if is_school_year(value) else school_year_of(today)
