"""French formatting of numbers, percents, dates and labels (Babel, locale fr_FR), for pages, PDF and exports.

Spaces follow French typography as Babel's CLDR data and the charts' Vega locale do: the thousands separator
and the space before "%" are the narrow no-break space (U+202F), so "1 234" and "12,5 %" never wrap.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
from babel.dates import format_date as _babel_date
from babel.numbers import format_decimal, format_percent

LOCALE = "fr_FR"
NNBSP = "\u202f"  # narrow no-break space
MISSING = "—"

DEPARTEMENT_NOMS = {
    "21": "Côte-d'Or", "25": "Doubs", "39": "Jura", "58": "Nièvre",
    "70": "Haute-Saône", "71": "Saône-et-Loire", "89": "Yonne", "90": "Territoire de Belfort",
}


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_int(value) -> str:
    """1234 → "1 234" (narrow no-break space)."""
    if _is_missing(value):
        return MISSING
    return format_decimal(int(round(value)), locale=LOCALE)


def fmt_number(value, decimals: int = 1) -> str:
    """4.5 → "4,5"; always `decimals` digits after the comma."""
    if _is_missing(value):
        return MISSING
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALE)


def fmt_percent(ratio, decimals: int = 1) -> str:
    """0.125 → "12,5 %" (ratio in, percent out); trailing zeros dropped: 0.5 → "50 %"."""
    if _is_missing(ratio):
        return MISSING
    pattern = "#,##0" + ("." + "#" * decimals if decimals else "") + NNBSP + "%"
    return format_percent(ratio, format=pattern, locale=LOCALE)


def fmt_evolution(ratio, decimals: int = 1) -> str:
    """Signed change: 0.25 → "+25 %", -0.1 → "−10 %" (typographic minus)."""
    if _is_missing(ratio):
        return MISSING
    text = fmt_percent(abs(ratio), decimals)
    if round(abs(ratio) * 100, decimals) == 0:
        return text
    return ("+" if ratio > 0 else "−") + text


def fmt_date(value: date | datetime | None) -> str:
    """date(2026, 3, 14) → "14 mars 2026"; the first of the month is "1er mars 2026"."""
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        value = value.date()
    text = _babel_date(value, format="d MMMM y", locale=LOCALE)
    return text.replace("1 ", "1er ", 1) if value.day == 1 else text


def fmt_datetime(value: datetime | None) -> str:
    """datetime(2026, 3, 14, 9, 5) → "14 mars 2026 à 09:05"."""
    if value is None:
        return MISSING
    return f"{fmt_date(value)} à {value:%H:%M}"


def school_year_label(annee: str, prefix: bool = True) -> str:
    """"2025-2026" → "année scolaire 2025-2026" (or "2025-2026" without prefix)."""
    return f"année scolaire {annee}" if prefix else annee


def departement_label(code: str) -> str:
    """"21" → "Côte-d'Or (21)"; an unknown code is returned as is."""
    name = DEPARTEMENT_NOMS.get(code)
    return f"{name} ({code})" if name else (code or "non renseigné")


def fmt_value(value) -> str:
    """Any table cell as French text: ints with thousands separator, floats with one decimal, dates in words."""
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool):
        return "oui" if value else "non"
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalar
        value = value.item()
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, float):  # means and ratios: counts are ints
        return fmt_number(value)
    if isinstance(value, (date, datetime)):
        return fmt_date(value)
    return str(value)


def format_frame(df: pd.DataFrame, percent_columns=(), signed_columns=()) -> pd.DataFrame:
    """A table with every cell as French text, for display (st.dataframe, PDF); text cells such as "< 5"
    are kept as they are."""
    out = pd.DataFrame(index=df.index)
    for column in df.columns:
        if column in percent_columns:
            render = _keep_text(fmt_percent)
        elif column in signed_columns:
            render = _keep_text(fmt_evolution)
        else:
            render = fmt_value
        out[column] = [render(v) for v in df[column]]
    return out


def _keep_text(render):
    return lambda value: value if isinstance(value, str) else render(value)
