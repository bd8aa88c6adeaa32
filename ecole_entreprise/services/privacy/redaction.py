"""Erasure across the whole workbook: a person's name, first name, email and phone redacted wherever people wrote
them in free text (the other party's conclusions, an event's « Venus », a request's notes, a partnership…).

Matching ignores case and accents (« LEA » and « Léa »), names are whole words (« Martin » is not « Martinez »),
and a phone matches in any common French form (06 12 34 56 78, 06.12.34.56.78, +33 6 12 34 56 78, 0033…).
Only free text is rewritten. Names of places and organisations (établissement, commune, raison sociale) are
never changed, since « Lycée Carnot » must not lose its name when a M. Carnot is erased; a match there, in a
column added by hand, or in the Journal (append-only: its entries name IDs, never values) is only reported,
for a person to check.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ...domain.schema import default_schema
from ...store.base import Row, Snapshot

REDACTED = "[effacé]"
NOT_PEOPLE_DATA = ("Utilisateurs", "Parametres", "Listes")  # accounts and settings: never about a participant
# Short free-text fields typed by people that are not tagged free_text (no person's contact in them by design).
FREE_TYPED = ("lieu", "titre")
MIN_NAME = 2
_SEP = r"[\s.\-/]*"


def _fold_char(char: str) -> str:
    """One character without accent, lower case; always one character, so positions stay those of the text."""
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)).lower()
    return base[:1] or char.lower()[:1] or char


def fold(text: str) -> str:
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


@dataclass(frozen=True)
class Needles:
    """What identifies one person, as patterns on folded text."""
    patterns: tuple[re.Pattern, ...]

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def spans(self, text: str) -> list[tuple[int, int]]:
        folded = fold(text)
        found = sorted(m.span() for p in self.patterns for m in p.finditer(folded) if m.end() > m.start())
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def redact(self, text: str) -> str:
        for start, end in reversed(self.spans(text)):
            text = text[:start] + REDACTED + text[end:]
        return text


def needles_for(tab: str, row: Row) -> Needles:
    """The person's name and first name (each on its own: a first name alone identifies in context), email and
    phone, from their own row before it is anonymised."""
    fields = default_schema().tab(tab).fields
    patterns = []
    for f in fields:
        value = row[f.name].strip()
        if not value:
            continue
        if f.type == "email":
            patterns.append(re.escape(fold(value)))
        elif f.type == "phone":
            patterns.append(_phone_pattern(value))
        elif f.sensitivity == "identity" and f.type == "text":
            patterns.append(_name_pattern(value))  # a compound name whole (its particles alone are not names)
    unique = dict.fromkeys(p for p in patterns if p)
    return Needles(tuple(re.compile(p) for p in sorted(unique, key=len, reverse=True)))


def _scanned_fields(tab_name: str) -> list[str]:
    tab = default_schema().tab(tab_name)
    return [f.name for f in tab.fields if f.sensitivity == "free_text" or (f.type == "text" and f.name in FREE_TYPED)]


@dataclass
class Sweep:
    changes: dict[tuple[str, str], tuple[Row, dict[str, str]]] = field(default_factory=dict)  # (tab, id) → …
    to_check: list[str] = field(default_factory=list)  # French « onglet ID « colonne » » where a match stays


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
        writable = set() if tab.append_only else set(_scanned_fields(tab_name))
        for row in snapshot.rows(tab_name):
            if (tab_name, row.id) == skip:
                continue
            changes = {name: needles.redact(row[name]) for name in writable if needles.spans(row[name])}
            if changes:
                result.changes[(tab_name, row.id)] = (row, changes)
            for f in tab.fields:
                if f.name not in writable and f.sensitivity != "identity" and needles.spans(row[f.name]):
                    result.to_check.append(f"{tab_name} {row.id} « {f.header} »")
            result.to_check += [f"{tab_name} {row.id} « {header} »" for header, value in row.extra.items()
                                if needles.spans(value)]
    return result
