"""The sheet as a workplace, described once for both backends: formats, dropdowns, notes, widths, protections,
conditional rules and filter views of every tab, derived from sheets_schema and the tab as it is now.

gsheets_init.py renders it as Sheets API requests, workbook_init.py with openpyxl. Conventions:
- every cell from row 2 down is plain text (Google numberFormat TEXT, xlsx "@"): what a person types stays as
  typed ("0612345678", "+33380448400", "01000", a SIRET); dates are text too, AAAA-MM-JJ as the app writes them,
  JJ/MM/AAAA accepted (domain/values.py reads exactly these two forms);
- dropdowns read their values from the Listes tab (a list's rows must be contiguous there); strict on choice
  columns, advisory with a hint on multichoice and oui/non columns;
- the header row, the ID and the two timestamp columns are protected with a warning; the Journal only by the app;
- conditional rules come from sheet_rules.py, in the columns' current positions (init recomputes them).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..domain.schema import CREATED_FIELD, ID_FIELD, UPDATED_FIELD, Field, Schema, TabSchema
from ..domain.validators import ACADEMIES
from .base import stamp_new
from .cells import a1_title, column_letter
from .sheet_rules import Rule, field_rules

LISTES, JOURNAL = "Listes", "Journal"
LOCALE, TIME_ZONE = "fr_FR", "Europe/Paris"
MIN_WIDTH, MAX_WIDTH = 10, 40  # characters
# What the cells usually hold, where it is wider than the header ("ID" holds "ENT-7KQ2M9XA").
CONTENT_WIDTH = {"id": 15, "siret": 17, "email": 30, "phone": 16, "datetime": 19, "date": 11, "ref": 14,
                 "multichoice": 28, "text": 16}
WIDE_TEXT = {"probleme": MAX_WIDTH}  # « À corriger »: the message is the point of the row
PROTECTION_HEADER = "En-têtes lus par l'application : ne pas les renommer ni les déplacer sans raison."
PROTECTION_ID = "Identifiants et horodatages gérés par l'application : ne pas modifier."
PROTECTION_JOURNAL = ("Journal d'audit : seule l'application y écrit. Un administrateur peut lever cette "
                      "protection (Données > Feuilles et plages protégées).")
PROTECTION_GENERATED = "Onglet réécrit par `check --sheet` et la page Qualité : ne pas le modifier à la main."
SORT_HINT = ("Pour trier ou filtrer sans changer l'ordre des lignes que voient les autres, passez par une vue "
             "filtrée (Google Sheets : Données > Vues filtrées) : c'est sans risque pour les données.")
LISTES_HINT = ("Chaque menu déroulant lit le bloc de lignes de sa liste, à sa place : ne triez pas cet onglet "
               "(une vue filtrée ne gêne pas ; après un tri, relancez init). Pour ajouter une valeur, insérez une "
               "ligne dans le bloc de sa liste.")
_EXPECTED = {
    "email": "adresse e-mail, par exemple prenom.nom@exemple.fr",
    "phone": "téléphone, par exemple 03 80 44 84 00 ou +33 3 80 44 84 00 (le 0 initial est conservé)",
    "siret": "SIRET : 14 chiffres, espaces acceptés",
    "uai": "code UAI : 7 chiffres et une lettre, par exemple 0210015C",
    "postcode": "code postal : 5 chiffres, par exemple 21000 ou 01000",
    "commune": "code INSEE de la commune (5 caractères, par exemple 21231 pour Dijon)",
    "naf": "code NAF : NN.NNL, par exemple 62.01Z",
    "date": "date : AAAA-MM-JJ (ainsi l'écrit l'application) ou JJ/MM/AAAA",
    "datetime": "date et heure : AAAA-MM-JJ HH:MM:SS, ou JJ/MM/AAAA HH:MM",
    "time": "heure : HH:MM, par exemple 09:30",
    "bool": "oui ou non",
}


@dataclass(frozen=True)
class ListRange:
    """Where a list's values are in the Listes tab: one column, rows first..last (1-based, inclusive)."""

    column: int
    first_row: int
    last_row: int

    def a1(self) -> str:
        letter = column_letter(self.column)
        return f"{a1_title(LISTES)}!${letter}${self.first_row}:${letter}${self.last_row}"


@dataclass(frozen=True)
class Dropdown:
    values: tuple[str, ...]
    source: ListRange | None  # None: the values are written in the rule (oui/non, or a list absent from Listes)
    strict: bool
    message: str = ""


@dataclass(frozen=True)
class Column:
    field: Field
    index: int  # 0-based, in the tab as it is now
    note: str
    width: int  # characters
    dropdown: Dropdown | None
    rules: tuple[Rule, ...]
    protected: bool  # warning-protected (ID, timestamps)

    @property
    def letter(self) -> str:
        return column_letter(self.index)


@dataclass(frozen=True)
class FilterView:
    key: str  # stable, for the view's ID
    title: str
    column: int  # the département column
    values: tuple[str, ...]  # départements shown
    commune: int | None = None  # the INSEE code column: a row without département is shown by its commune


@dataclass
class TabLayout:
    tab: TabSchema
    headers: list[str]  # as in the sheet (after init added the missing ones)
    columns: list[Column]
    locked: bool = False  # only the app's account may edit (Journal)
    generated: bool = False  # rewritten by the app, warning on the whole tab
    filter_views: list[FilterView] = field(default_factory=list)

    @property
    def width(self) -> int:
        return len(self.headers)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.field.name == name), None)


# ---- the layout of every tab ---------------------------------------------------------------------------------


def build_layout(schema: Schema, headers: dict[str, list[str]], listes: list[list[str]]) -> tuple[dict, list[str]]:
    """Layouts of the tabs in `headers` (tab -> header row as it will be after init), and French notes on what
    could not be laid out (e.g. a list whose rows are scattered in Listes). `listes` is the Listes tab's grid."""
    ranges, notes = list_ranges(schema, listes)
    id_columns = {name: f"{a1_title(name)}!${column_letter(h.index('ID'))}:${column_letter(h.index('ID'))}"
                  for name, h in headers.items() if "ID" in h}
    layouts = {}
    for name, row in headers.items():
        tab = schema.tab(name)
        columns = [_column(schema, tab, f, row, ranges, id_columns) for f in tab.fields if f.header in row]
        layouts[name] = TabLayout(tab, list(row), columns, locked=name == JOURNAL, generated=tab.generated,
                                  filter_views=_filter_views(tab, row))
    return layouts, notes


def _column(schema: Schema, tab: TabSchema, f: Field, headers: list[str], ranges: dict, id_columns: dict) -> Column:
    index = headers.index(f.header)
    letter = column_letter(index)
    cell, row = f"{letter}2", f"$A2:${column_letter(max(len(headers) - 1, 0))}2"
    checked = not (tab.append_only or tab.generated or tab.name == LISTES)
    rules = tuple(field_rules(tab, f, cell, row, id_columns)) if checked else ()
    return Column(f, index, header_note(schema, tab, f), width_for(f), dropdown_for(f, ranges), rules,
                  f.name in (ID_FIELD, CREATED_FIELD, UPDATED_FIELD))


def width_for(f: Field) -> int:
    """Characters: the header fits (bold, with the filter button), and so does the usual content (a choice
    column: its longest value and the dropdown button)."""
    choice = max(map(len, f.choices), default=0) + 3 if f.type == "choice" else 0
    wanted = max(len(f.header) + 4, CONTENT_WIDTH.get(f.type, 0), choice, WIDE_TEXT.get(f.name, 0),
                 30 if (f.max_length or 0) > 500 else 0)
    return max(MIN_WIDTH, min(MAX_WIDTH, wanted))


def header_note(schema: Schema, tab: TabSchema, f: Field) -> str:
    """What a person needs to fill the column: the schema's help text, the expected form, where values come from."""
    lines = [f.help] if f.help else []
    if f.name == ID_FIELD:
        lines = ["Identifiant stable attribué par l'application : ne pas le modifier ni le recopier.", SORT_HINT]
    elif f.name in (CREATED_FIELD, UPDATED_FIELD):
        lines.append("Rempli par l'application (AAAA-MM-JJ HH:MM:SS, heure de Paris).")
    else:
        lines += _form(schema, f)
    if tab.name == LISTES and f.name == "liste":
        lines.append(LISTES_HINT)
    if f.required:
        lines.append("Obligatoire.")
    if f.is_personal:
        lines.append("Donnée personnelle : ne pas la recopier hors du classeur.")
    return "\n".join(lines)


def _form(schema: Schema, f: Field) -> list[str]:
    """The expected form of a value, unless the help text already gives it (the SIRET's "14 chiffres…")."""
    if f.type in _EXPECTED:
        expected = _EXPECTED[f.type]
        if expected.split(" : ", 1)[-1].casefold() in (f.help or "").casefold():
            return []
        return [expected[0].upper() + expected[1:] + "."]
    if f.type == "choice":
        return [f"Une valeur de la liste « {f.choices_list} » (onglet Listes)."]
    if f.type == "multichoice":
        return [multi_hint(f)]
    if f.type == "ref":
        return [f"Identifiant d'une fiche de l'onglet « {f.ref} » ({schema.tab(f.ref).id_prefix}-…)."]
    if f.type == "int":
        bounds = f" de {f.min} à {f.max}" if f.min is not None and f.max is not None else ""
        return [f"Nombre entier{bounds}."]
    if f.type == "text" and f.max_length:
        return [f"Texte libre, {f.max_length} caractères au plus."]
    return [] if f.help else ["Texte libre."]


def multi_hint(f: Field) -> str:
    example = "; ".join(f.choices[:2])
    return (f"Une ou plusieurs valeurs de la liste « {f.choices_list} » (onglet Listes), séparées par « ; », "
            f"par exemple « {example} ».")


def dropdown_for(f: Field, ranges: dict[str, ListRange]) -> Dropdown | None:
    if f.type == "bool":
        return Dropdown(("oui", "non"), None, False, "oui ou non")
    if f.type not in ("choice", "multichoice") or not f.choices:
        return None
    multi = f.type == "multichoice"
    return Dropdown(f.choices, ranges.get(f.choices_list), strict=not multi, message=multi_hint(f) if multi else "")


def _filter_views(tab: TabSchema, headers: list[str]) -> list[FilterView]:
    departement = next((f for f in tab.fields if f.name == "departement"), None)
    if departement is None or departement.header not in headers or not departement.choices:
        return []
    column = headers.index(departement.header)
    commune = next((headers.index(f.header) for f in tab.fields if f.name == "commune_insee" and f.header in headers),
                   None)
    views = [FilterView(f"academie:{name}", f"{tab.name} — académie de {name}", column, codes, commune)
             for name, codes in ACADEMIES.items()]
    views += [FilterView(f"departement:{code}", f"{tab.name} — département {code}", column, (code,), commune)
              for code in departement.choices]
    return views


# ---- the Listes tab ------------------------------------------------------------------------------------------


def list_ranges(schema: Schema, grid: list[list[str]]) -> tuple[dict[str, ListRange], list[str]]:
    """Each list's values in Listes as one range; a list whose rows are not contiguous gets none (and a note)."""
    header = [h.strip() for h in grid[0]] if grid else []
    if "Liste" not in header or "Valeur" not in header:
        return {}, []
    name_col, value_col = header.index("Liste"), header.index("Valeur")
    rows: dict[str, list[int]] = {}
    for number, line in enumerate(grid[1:], start=2):
        name = line[name_col].strip() if name_col < len(line) else ""
        if name:
            rows.setdefault(name, []).append(number)
    ranges, notes = {}, []
    for name in schema.lists:
        numbers = rows.get(name)
        if not numbers:
            continue
        if numbers[-1] - numbers[0] + 1 != len(numbers):
            notes.append(f"Listes : les lignes de la liste « {name} » ne se suivent pas ; regroupez-les (triez "
                         "l'onglet Listes par la colonne Liste) puis relancez init pour que son menu déroulant "
                         "lise l'onglet. En attendant, il reprend les valeurs de sheets_schema/lists.yaml.")
            continue
        ranges[name] = ListRange(value_col, numbers[0], numbers[-1])
    return ranges, notes


# ---- seeds, drift and renamed headers (both backends' init) ---------------------------------------------------


def seed_records(schema: Schema, tab: TabSchema) -> list[dict[str, str]]:
    """The default rows of a reference tab (Listes from lists.yaml, Parametres from its defaults), stamped."""
    if tab.name == LISTES:
        raw = [{"liste": name, "valeur": value, "ordre": str(order)}
               for name, values in schema.lists.items() for order, value in enumerate(values, start=1)]
    elif tab.name == "Parametres":
        raw = [{"cle": key, "valeur": str(v.get("valeur", "")) if isinstance(v, dict) else str(v),
                "description": str(v.get("description", "")) if isinstance(v, dict) else ""}
               for key, v in tab.defaults.items()]
    else:
        raw = []
    return [stamp_new(tab, record) for record in raw]


def seed_note(tab: TabSchema, count: int) -> str:
    return f"« {tab.name} » rempli avec {count} lignes par défaut."


def drift(tab: TabSchema, headers: list[str]) -> tuple[list[str], list[str]]:
    """(schema headers missing from the sheet, headers a person added)."""
    present = [h.strip() for h in headers]
    missing = [h for h in tab.headers if h not in present]
    extra = [h for h in present if h and h not in tab.by_header()]
    return missing, extra


def rename_notes(tab: TabSchema, headers: list[str]) -> list[str]:
    """A French note for each missing header that a person seems to have renamed."""
    present = [h.strip() for h in headers]
    missing, extra = drift(tab, headers)
    return [f"{tab.name} : « {old} » semble avoir été renommée « {new} » ; la colonne « {old} » est ajoutée à "
            "la fin. Rétablissez l'en-tête d'origine (et reportez les valeurs) pour que l'application retrouve "
            "ces données."
            for old, new in renamed_headers(tab.headers, present, missing, extra).items()]


def renamed_headers(schema_headers: list[str], headers: list[str], missing: list[str], extra: list[str]) -> dict:
    """Missing header -> the extra header that probably replaced it (same place between neighbours, or close)."""
    found: dict[str, str] = {}
    position = {h: i for i, h in enumerate(headers)}
    for header in missing:
        k = schema_headers.index(header)
        slots = []
        if k > 0 and schema_headers[k - 1] in position:
            slots.append(position[schema_headers[k - 1]] + 1)
        if k + 1 < len(schema_headers) and schema_headers[k + 1] in position:
            slots.append(position[schema_headers[k + 1]] - 1)
        if k < len(headers):
            slots.append(k)
        free = [h for h in extra if h not in found.values()]
        guess = next((headers[i] for i in slots if 0 <= i < len(headers) and headers[i] in free), None)
        guess = guess or next(iter(difflib.get_close_matches(header, free, n=1, cutoff=0.75)), None)
        if guess:
            found[header] = guess
    return found
