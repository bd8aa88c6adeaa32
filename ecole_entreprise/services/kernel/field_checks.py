"""Small field checks shared by the meeting and partnership services.

Each check is a callable returning the cell text or raising ValueError with a French message; `run_checks`
runs them all so every faulty field is reported at once and nothing is written while one fails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ...domain.schema import default_schema
from ...domain.validation import character_problem
from ...domain.values import format_date, parse_date

Check = Callable[[], str]


def run_checks(checks: dict[str, Check]) -> tuple[dict[str, str], dict[str, str]]:
    """(values, errors) keyed by field name."""
    values, errors = {}, {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except ValueError as error:
            errors[name] = str(error)
    return values, errors


def text_check(tab: str, name: str, value, required: bool = False) -> Check:
    def check() -> str:
        text = str(value or "").strip()
        limit = default_schema().tab(tab).field(name).max_length
        if required and not text:
            raise ValueError("Ce champ est obligatoire.")
        if limit and len(text) > limit:
            raise ValueError(f"{len(text)} caractères : {limit} au maximum.")
        if problem := character_problem(text):
            raise ValueError(problem)
        return text
    return check


def day_check(value, required: bool) -> Check:
    def check() -> str:
        if isinstance(value, dt.date):
            return format_date(value)
        if not str(value or "").strip():
            if required:
                raise ValueError("La date est obligatoire.")
            return ""
        return format_date(parse_date(str(value)))
    return check
