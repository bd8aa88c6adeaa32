"""Erasure across the whole workbook: a person's name, first name, email and phone redacted wherever people wrote
them in free text (the other party's conclusions, an event's « Venus », a request's notes, a partnership…).

Matching ignores case and accents (« LEA » and « Léa »), names are whole words (« Martin » is not « Martinez »),
and a phone matches in any common French form (06 12 34 56 78, 06.12.34.56.78, +33 6 12 34 56 78, 0033…).
Free text is rewritten wherever one of these values appears. A place or a title (lieu, titre) loses the person
only when it is beyond doubt (email, phone, first name and name together): « Logistique Guérin, Beaune » is a
company, not Nathalie Guérin. Names of places and organisations (établissement, commune, raison sociale) are
never changed, since « Lycée Carnot » must not lose its name when a M. Carnot is erased; a sure match there, in
a column added by hand, or in the Journal (append-only: its entries name IDs, never values) is only reported,
for a person to check.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from ...domain.schema import TabSchema, default_schema
from ...store.base import Row, Snapshot

REDACTED = "[effacé]"
NOT_PEOPLE_DATA = ("Utilisateurs", "Parametres", "Listes")  # accounts and settings: never about a participant
# Short free-text fields typed by people that are not tagged free_text (no person's contact in them by design).
FREE_TYPED = ("lieu", "titre")
MIN_NAME = 2
TEXT_TYPES = ("text", "email", "phone")  # the other types (dates, choices, IDs…) cannot hold a name or a phone
_SEP = r"[\s.\-/]*"


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character without accent, lower case; always one character, so positions stay those of the text."""
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).lower()
    return base[:1] or char.lower()[:1] or char


def fold(text: str) -> str:
    if text.isascii():
        return text.lower()  # the common case, at C speed (ASCII lower case keeps every position)
    return "".join(_fold_char(c) for c in text)


def _phone_digits(phone: str) -> str:
    """The national number without its leading 0 or +33 (« 03 80 00 00 00 » → « 380000000 »)."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0033"):
        return digits[4:]
    if digits.startswith("33") and len(digits) == 11:
        return digits[2:]
    if digits.startswith("0") and len(digits) == 10:
        return digits[1:]
    return digits


def _phone_pattern(phone: str) -> str:
    digits = _phone_digits(phone)
    if len(digits) < 6:
        return ""
    prefix = r"(?:(?:\+|00)\s*33[\s.\-]*(?:\(\s*0\s*\)[\s.\-]*)?|0[\s.\-]*)?"
    return r"(?<![\d+])" + prefix + _SEP.join(digits) + r"(?!\d)"


def _name_pattern(name: str) -> str:
    words = [w for w in re.split(r"[\s\-'’]+", fold(name).strip()) if w]
    if not words or len("".join(words)) < MIN_NAME:
        return ""
    return r"(?<!\w)" + r"[\s\-'’]+".join(re.escape(w) for w in words) + r"(?!\w)"


def _spans(pattern: re.Pattern | None, folded: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(folded) if m.end() > m.start()] if pattern is not None else []


def _merged(found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _compiled(patterns: list[str]) -> re.Pattern | None:
    unique = sorted(dict.fromkeys(p for p in patterns if p), key=len, reverse=True)  # longest first
    return re.compile("|".join(f"(?:{p})" for p in unique)) if unique else None


@dataclass(frozen=True)
class Needles:
    """What identifies one person, as patterns on folded text.

    `strong`: the email, the phone, the first name and name together — the person beyond doubt.
    `weak`: the name or the first name alone — the person in a note, but also « Logistique Guérin » or another
    Nathalie: redacted in free text only."""
    strong: re.Pattern | None
    weak: re.Pattern | None

    def __bool__(self) -> bool:
        return self.strong is not None or self.weak is not None

    def spans(self, text: str, weak: bool = True) -> list[tuple[int, int]]:
        if not text:
            return []
        folded = fold(text)
        return _merged(_spans(self.strong, folded) + (_spans(self.weak, folded) if weak else []))

    def redact(self, text: str, weak: bool = True) -> str:
        for start, end in reversed(self.spans(text, weak)):
            text = text[:start] + REDACTED + text[end:]
        return text


def needles_for(tab: str, row: Row) -> Needles:
    """The person's name and first name (each on its own: a first name alone identifies in context, and both
    together in either order), email and phone, from their own row before it is anonymised."""
    strong, names = [], []
    for f in default_schema().tab(tab).fields:
        value = row[f.name].strip()
        if not value:
            continue
        if f.type == "email":
            strong.append(re.escape(fold(value)))
        elif f.type == "phone":
            strong.append(_phone_pattern(value))
        elif f.sensitivity == "identity" and f.type == "text":
            names.append(value)  # a compound name whole (its particles alone are not names)
    strong += [_name_pattern(f"{a} {b}") for a in names for b in names if a != b]
    return Needles(_compiled(strong), _compiled([_name_pattern(n) for n in names]))


@dataclass
class Sweep:
    changes: dict[tuple[str, str], tuple[Row, dict[str, str]]] = field(default_factory=dict)  # (tab, id) → …
    to_check: list[str] = field(default_factory=list)  # French « onglet ID « colonne » » where a match stays


def _plan(tab: TabSchema) -> tuple[list[str], list[str], list[str]]:
    """(free text: every match redacted, short typed text: strong matches redacted, other text: strong matches
    reported) for one tab; nothing is written in an append-only tab."""
    free = [f.name for f in tab.fields if f.sensitivity == "free_text"]
    typed = [f.name for f in tab.fields if f.type == "text" and f.name in FREE_TYPED and f.name not in free]
    other = [f.name for f in tab.fields if f.type in TEXT_TYPES and f.sensitivity != "identity"
             and f.name not in free + typed]
    return ([], [], free + typed + other) if tab.append_only else (free, typed, other)


def sweep(snapshot: Snapshot, needles: Needles, skip: tuple[str, str] = ("", "")) -> Sweep:
    """Every cell of every tab holding the person's values: free text gets its redaction, the rest is listed.

    `skip`: the person's own row, which anonymisation rewrites itself."""
    result = Sweep()
    if not needles:
        return result
    schema = default_schema()
    for tab_name in snapshot.tabs:
        if tab_name not in schema.tabs or tab_name in NOT_PEOPLE_DATA or schema.tab(tab_name).generated:
            continue
        tab = schema.tab(tab_name)
        free, typed, other = _plan(tab)
        for row in snapshot.rows(tab_name):
            if (tab_name, row.id) == skip:
                continue
            changes = {name: needles.redact(row[name]) for name in free if needles.spans(row[name])}
            changes |= {name: needles.redact(row[name], weak=False) for name in typed
                        if needles.spans(row[name], weak=False)}
            if changes:
                result.changes[(tab_name, row.id)] = (row, changes)
            left = [n for n in typed if n not in changes and needles.spans(row[n])]
            left += [n for n in other if needles.spans(row[n], weak=False)]
            result.to_check += [f"{tab_name} {row.id} « {tab.field(n).header} »" for n in left]
            result.to_check += [f"{tab_name} {row.id} « {header} »" for header, value in row.extra.items()
                                if needles.spans(value, weak=False)]
    return result
