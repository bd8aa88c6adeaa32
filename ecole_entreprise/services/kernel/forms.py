"""How a form's widget values become cell text and back: the one translation pages use, so that a page never
parses or formats a cell itself (the rules live in domain/values.py)."""

from __future__ import annotations

from datetime import date, datetime, time

from ...domain import values as cells
from ...domain.schema import default_schema
from ...store.base import new_id


def new_record_id(tab: str) -> str:
    """The ID a form gives the record of `tab` when it is drawn: a double submit finds the row already written."""
    return new_id(default_schema().tab(tab).id_prefix)


def today() -> date:
    """Today in Paris (the programme's time zone), not the server's."""
    return cells.now_paris().date()


def now() -> datetime:
    return cells.now_paris()


def date_of(text: str) -> date | None:
    """A cell's date, or None when empty or unreadable (the quality report names unreadable cells)."""
    try:
        return cells.parse_date(text) if text else None
    except ValueError:
        return None


def date_cell(value: date | None) -> str:
    return cells.format_date(value) if value else ""


def datetime_of(text: str) -> datetime | None:
    try:
        return cells.parse_datetime(text) if text else None
    except ValueError:
        return None


def datetime_cell(value: datetime) -> str:
    return cells.format_datetime(value)


def time_of(text: str) -> time | None:
    try:
        return cells.parse_time(text) if text else None
    except ValueError:
        return None


def choices_of(text: str, allowed=None) -> list[str]:
    """A multi-choice cell's values (only the allowed ones when a list is given)."""
    chosen = cells.parse_multi(text)
    return [v for v in chosen if v in allowed] if allowed is not None else chosen


def choices_cell(chosen) -> str:
    return cells.format_multi(chosen)


def is_true(text: str) -> bool:
    return (text or "").strip().lower() in cells.TRUE_WORDS


def bool_cell(value: bool) -> str:
    return cells.format_bool(value)
