"""The sheet's conditional rules say what the validators say: exact rules colour a cell exactly when the validator
refuses it, the others never colour a cell the validator accepts. Checked with the formula evaluator of
tests/support/sheet_formulas.py on typed values, awkward ones included."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecole_entreprise.domain import validation
from ecole_entreprise.store.sheet_layout import build_layout, list_ranges, seed_records
from ecole_entreprise.store.sheet_rules import ERROR, MISSING, google_formula
from tests.support.sheet_formulas import Grid, evaluate, rule_applies

CASES = {  # (tab, field) -> typical values, valid and not
    ("Entreprises", "siret"): ["73282932000074", "732 829 320 00074", "73282932000075", "7328293200007",
                               "35600000000048", "35600000049837", "35600000049838", "7328.2932-000074",
                               "73282932000074\u00a0", "\u00a0732\u00a0829\u00a0320\u00a000074", "ABCDEFGHIJKLMN"],
    ("Personnels", "uai"): ["0210015C", "0210015c", "210015C", " 0210015 C", "0210015D", "021001C", "02100155",
                            "A210015C", "0210015"],
    ("Entreprises", "code_postal"): ["21000", "01000", "1000", "21 000", "210000", "2100A", "21\u00a0000"],
    ("Entreprises", "naf"): ["62.01Z", "6201Z", "62.01z", "62-01Z", "62.011", "6201", "62.01ZZ", " 62.01Z "],
    ("Rencontres", "date"): ["2026-03-14", "14/03/2026", "1/3/2026", "31/02/2026", "2026-02-29", "2024-02-29",
                             "2026-3-14", "14/03/26", "20260314", "14-03-2026", "1899-12-31", "00/01/2026",
                             "14/13/2026", "2026-03-14 09:00", "111/03/2026"],
    ("Entreprises", "membre_cpme"): ["oui", "Non", "OUI", "x", "1", "peut-être", "o", "oui|non", "vrai "],
    ("Entreprises", "capacite_annuelle"): ["1", "0", "20", "21", "-1", "+3", "3 ", "1 0", "1.5", "deux", "03"],
    ("Rencontres", "annee_scolaire"): ["2025-2026", "2025-26", "2025/2026", "25-2026", "2025-2026 "],
}
SOUND_ONLY = {
    ("Entreprises", "contact_email"): ["a@b.fr", "pas-un-email", "a@b", "a@@b.fr", "@b.fr", "a b@c.fr",
                                       "a@b.fr.", "prenom.nom@ac-dijon.fr", "a@.fr"],
    ("Entreprises", "contact_telephone"): ["0612345678", "06 12 34 56 78", "+33612345678", "612345678",
                                           "061234567", "0033612345678", "+41 22 123 45 67", "06-12-34-56-78",
                                           "abc", "0612345678 90"],
    ("Entreprises", "commune_insee"): ["21231", "75056", "2123", "21A31", "99999"],
    ("Rencontres", "acceptation_entreprise"): ["2026-03-14 09:30:00", "14/03/2026 09:30", "2026-03-14",
                                               "hier", "2026-13-01 10:00", "14.03.2026"],
}
CODE_CHARS = string.digits + " .-" + "\u00a0\u202f" + "ABCZabcz/"


@pytest.fixture(scope="module")
def layouts(schema_module):
    schema = schema_module
    listes = [schema.tab("Listes").headers] + [[r[f.name] for f in schema.tab("Listes").fields]
                                               for r in seed_records(schema, schema.tab("Listes"))]
    layouts, _ = build_layout(schema, {n: t.headers for n, t in schema.tabs.items()}, listes)
    return layouts


@pytest.fixture(scope="module")
def schema_module():
    from ecole_entreprise.domain.schema import default_schema

    return default_schema()


def _column(layouts, tab, name):
    return layouts[tab].column(name)


def _colours(layouts, tab: str, name: str, text: str, kind: str = ERROR) -> bool:
    """Whether the column's rules of `kind` colour a cell holding `text` (row 2, a filled row)."""
    layout = layouts[tab]
    column = layout.column(name)
    row = ["x"] * layout.width
    row[column.index] = text
    grid = Grid({tab: [layout.headers, row]})
    return any(rule_applies(r.formula, grid, tab, (1, column.index), (1, column.index))
               for r in column.rules if r.kind == kind)


def _refused(schema, tab: str, name: str, text: str) -> bool:
    result = validation.validate_record(schema.tab(tab), {name: text})
    return name in result.errors and bool(text.strip())


@pytest.mark.parametrize("key", sorted(CASES))
def test_exact_rules_colour_exactly_what_the_validator_refuses(layouts, schema_module, key):
    tab, name = key
    assert all(r.exact for r in _column(layouts, tab, name).rules if r.kind == ERROR)
    for text in CASES[key]:
        assert _colours(layouts, tab, name, text) == _refused(schema_module, tab, name, text), text


@pytest.mark.parametrize("key", sorted(SOUND_ONLY))
def test_other_rules_never_colour_a_value_the_validator_accepts(layouts, schema_module, key):
    tab, name = key
    coloured = [t for t in SOUND_ONLY[key] if _colours(layouts, tab, name, t)]
    assert coloured, "the rule colours at least the obvious mistakes"
    for text in coloured:
        assert _refused(schema_module, tab, name, text), text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from([("Entreprises", "siret"), ("Personnels", "uai"), ("Entreprises", "code_postal"),
                            ("Entreprises", "naf")]),
       text=st.text(alphabet=CODE_CHARS, max_size=16))
def test_codes_agree_with_the_validator_on_any_typing(layouts, schema_module, key, text):
    tab, name = key
    assert _colours(layouts, tab, name, text) == _refused(schema_module, tab, name, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(st.text(alphabet="0123456789/-", max_size=11),
                      st.dates().map(lambda d: d.strftime("%d/%m/%Y")), st.dates().map(str)))
def test_dates_agree_with_the_reader(layouts, schema_module, text):
    assert _colours(layouts, "Rencontres", "date", text) == _refused(schema_module, "Rencontres", "date", text)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(siret=st.text(alphabet=string.digits, min_size=14, max_size=14))
def test_siret_checksum_matches_on_fourteen_digits(layouts, schema_module, siret):
    assert _colours(layouts, "Entreprises", "siret", siret) == _refused(schema_module, "Entreprises", "siret", siret)


def test_a_required_cell_is_coloured_only_in_a_filled_row(layouts):
    layout = layouts["Entreprises"]
    column = layout.column("raison_sociale")
    [missing] = [r for r in column.rules if r.kind == MISSING]
    empty_row, filled_row = [""] * layout.width, [""] * layout.width
    filled_row[layout.column("siret").index] = "73282932000074"
    grid = Grid({"Entreprises": [layout.headers, empty_row, filled_row]})
    at = lambda row: rule_applies(missing.formula, grid, "Entreprises", (row, column.index), (1, column.index))  # noqa: E731
    assert not at(1) and at(2)
    assert not layout.column("departement").rules or all(r.kind != MISSING
                                                          for r in layout.column("departement").rules)


def test_an_unknown_reference_is_coloured(layouts):
    layout = layouts["Rencontres"]
    column = layout.column("entreprise_id")
    [rule] = [r for r in column.rules if r.kind == ERROR]
    row = [""] * layout.width
    grid_cells = {"Rencontres": [layout.headers, row], "Entreprises": [layouts["Entreprises"].headers,
                                                                          ["ENT-AAAA2222"]]}
    for value, coloured in (("ENT-AAAA2222", False), ("ENT-ZZZZ9999", True)):
        row[column.index] = value
        assert rule_applies(rule.formula, Grid(grid_cells), "Rencontres", (1, column.index), (1, column.index)) \
            is coloured


def test_google_formulas_use_semicolons_outside_strings_only():
    assert google_formula('=IF(A2="a,b",LEN(A2),0)') == '=IF(A2="a,b";LEN(A2);0)'
    assert evaluate(google_formula('=IF(A2="a,b",LEN(A2),0)'), Grid({"T": [["a,b"]]}), "T", (0, 1)) == 0.0


def test_no_rule_uses_what_the_locale_changes(layouts):
    """No array literal, no decimal number: their syntax differs between an en_US and a fr_FR spreadsheet."""
    for layout in layouts.values():
        for column in layout.columns:
            for rule in column.rules:
                outside = "".join(part for i, part in enumerate(rule.formula.split('"')) if i % 2 == 0)
                assert "{" not in outside and not any(ch.isdigit() and outside[i + 1:i + 2] == "."
                                                      for i, ch in enumerate(outside[:-1])), rule.formula[:80]
                assert len(rule.formula) < 8192  # Excel's formula length limit


def test_scattered_list_rows_fall_back_to_the_schema_values(schema_module):
    grid = [["ID", "Liste", "Valeur"], ["L1", "tailles", "TPE"], ["L2", "civilites", "Mme"],
            ["L3", "tailles", "PE"]]
    ranges, notes = list_ranges(schema_module, grid)
    assert "tailles" not in ranges and ranges["civilites"].a1() == "'Listes'!$C$3:$C$3"
    assert any("tailles" in n for n in notes)
