"""How typed values are written in cells (always as text) and read back.

Cells are text in both backends; these helpers are the one place that knows the conventions:
booleans "oui"/"non", multichoice "a; b", dates ISO (French dd/mm/yyyy accepted when typed by a person),
datetimes "YYYY-MM-DD HH:MM:SS" in Europe/Paris time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
MULTI_SEPARATOR = "; "
TRUE_WORDS = {"oui", "o", "vrai", "true", "1", "x", "yes"}
FALSE_WORDS = {"non", "n", "faux", "false", "0", "no", ""}
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


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
    match = _FR_DATE.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"« {text} » n'est pas une date valide (attendu JJ/MM/AAAA).") from None


def parse_datetime(text: str) -> datetime:
    text = (text or "").strip()
    try:
        if _FR_DATE.match(text.split(" ")[0]):
            day = parse_date(text.split(" ")[0])
            rest = text.split(" ", 1)[1] if " " in text else "00:00"
            return datetime.combine(day, parse_time(rest))
        parsed = datetime.fromisoformat(text)
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
    try:
        return int(str(text).strip().replace("\u202f", "").replace(" ", ""))
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
