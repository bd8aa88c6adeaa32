"""Safe exports of tables: a cell that a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import pandas as pd

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix formula-looking text with an apostrophe so Excel/LibreOffice show it as text (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """French-Excel friendly CSV: semicolon separator, UTF-8 with BOM, formulas neutralised."""
    safe = frame.map(neutralise) if not frame.empty else frame
    return safe.to_csv(index=False, sep=";").encode("utf-8-sig")
