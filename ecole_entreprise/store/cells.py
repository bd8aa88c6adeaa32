"""A1 notation shared by both adapters: column letters and quoted tab titles."""

from __future__ import annotations

from functools import cache


def a1_title(title: str) -> str:
    """A tab title as an A1 range: always quoted, which is valid for any title."""
    return "'" + title.replace("'", "''") + "'"


@cache
def column_letter(index: int) -> str:
    """0 -> A, 26 -> AA (the one column-letter helper of the store)."""
    n, out = index + 1, ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out
