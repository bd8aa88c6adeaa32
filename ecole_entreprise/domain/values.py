"""How typed values are written in cells (always as text) and read back.

Cells are text in both backends; these helpers are the one place that knows the conventions:
booleans "oui"/"non", multichoice "a; b", datetimes "YYYY-MM-DD HH:MM:SS" in Europe/Paris time.

Dates (the sheet convention, see the README): text in text-formatted cells, written by the app as AAAA-MM-JJ
(which sorts as text); a person may also type JJ/MM/AAAA (day first, whatever the spreadsheet's locale). The
reader takes exactly these two forms, from 1900 on, and nothing else (no "20260314", no week dates).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
MULTI_SEPARATOR = "; "
TRUE_WORDS = {"oui", "o", "vrai", "true", "1", "x", "yes"}
FALSE_WORDS = {"non", "n", "faux", "false", "0", "no", ""}
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", re.ASCII)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$", re.ASCII)
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-]\d{2}:\d{2}|Z)?)?$", re.ASCII)
_INTEGER = re.compile(r"^[+-]?\d+$", re.ASCII)
FIRST_YEAR = 1900


def now_paris() -> datetime:
    return datetime.now(PARIS).replace(microsecond=0, tzinfo=None)


def format_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def format_date(value: date) -> str:
    return value.strftime("%Y-%m-%d")


def format_bool(value: bool) -> str:
    return "oui" if value else "non"


def format_multi(values) -> str:
    return MULTI_SEPARATOR.join(v for v in values if v)


def parse_multi(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;\n]", text or "") if part.strip()]


def parse_bool(text: str) -> bool:
    word = (text or "").strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"« {text} » n'est pas une valeur oui/non.")


def parse_date(text: str) -> date:
    text = (text or "").strip()
    french, iso = _FR_DATE.match(text), _ISO_DATE.match(text)
    try:
        if french:
            day, month, year = (int(g) for g in french.groups())
        elif iso:
            year, month, day = (int(g) for g in iso.groups())
        else:
            raise ValueError(text)
        if year < FIRST_YEAR:
            raise ValueError(text)
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas une date valide (attendu AAAA-MM-JJ ou JJ/MM/AAAA).") from None


def parse_datetime(text: str) -> datetime:
    text = (text or "").strip()
    try:
        if _FR_DATE.match(text.split(" ")[0]):
            day = parse_date(text.split(" ")[0])
            rest = text.split(" ", 1)[1] if " " in text else "00:00"
            return datetime.combine(day, parse_time(rest))
        if not _ISO_DATETIME.match(text):
            raise ValueError(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        parse_date(text[:10])  # the same date rules (from 1900 on)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas une date et heure valide.") from None
    return parsed.astimezone(PARIS).replace(tzinfo=None) if parsed.tzinfo else parsed


def parse_time(text: str) -> time:
    text = (text or "").strip().lower().replace("h", ":")
    if text.endswith(":"):
        text += "00"
    try:
        return time.fromisoformat(text if len(text.split(":")[0]) == 2 else "0" + text)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas une heure valide (attendu HH:MM).") from None


def parse_int(text: str) -> int:
    compact = str(text).strip().replace("\u202f", "").replace(" ", "")
    try:
        if not _INTEGER.match(compact):
            raise ValueError(compact)
        return int(compact)
    except ValueError:
        raise ValueError(f"« {text} » n'est pas un nombre entier.") from None


def is_school_year(text: str) -> bool:
    """ "2025-2026": two consecutive years."""
    match = re.fullmatch(r"(\d{4})-(\d{4})", (text or "").strip())
    return bool(match) and int(match.group(2)) == int(match.group(1)) + 1


def school_year_of(day: date) -> str:
    """School years run from 1 September to 31 August: 2026-03-10 → "2025-2026"."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"
