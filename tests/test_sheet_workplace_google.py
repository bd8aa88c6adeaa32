"""The Google spreadsheet as a place to work by hand, after `init`, over the in-process fake: the exact requests
init sends, what a person's typing becomes, dropdowns from Listes, notes, widths, protections, conditional
formats, filter views, the locale; and init on an existing spreadsheet changes no value."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from ecole_entreprise.store.sheet_layout import LOCALE, TIME_ZONE
from tests.support import fake_sheets_format as fmt
from tests.support.fake_sheets import FakeSheets
from tests.support.google_env import SERVICE_ACCOUNT, FakeClock, FakeSheetsHuman, make_store
from tests.support.sheet_formulas import rule_applies

AWKWARD = {"Téléphone du contact": "0612345678", "Code postal": "01000", "SIRET": "73282932000074",
           "À informer avant le": "04/03/2026", "Notes": "+33380448400"}


class World:
    def __init__(self, schema):
        self.schema = schema
        self.fake = FakeSheets()
        self.key = self.fake.create_spreadsheet("Classeur de test")
        self.store = make_store(schema, self.fake, self.key, FakeClock())
        self.human = FakeSheetsHuman(self.fake, self.key)
        self.bodies: list[tuple[str, dict]] = []
        handle = self.fake.handle

        def recording(method, url, body):
            self.bodies.append((url, json.loads(body) if body else {}))
            return handle(method, url, body)

        self.fake.handle = recording

    def sheet(self, tab):
        return self.fake.sheet(self.key, tab)

    def col(self, tab, header):
        return self.human.grid(tab)[0].index(header)

    def batch(self) -> list[dict]:
        return [r for url, body in self.bodies if url.split("?")[0].endswith(":batchUpdate")
                for r in body.get("requests", [])]

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.fake.log]

    def company_row(self) -> int:
        """A row the app wrote, as a 0-based grid row."""
        [row] = self.store.append("Entreprises", [{"raison_sociale": "Alpha", "code_postal": "21000",
                                                   "commune_insee": "21231", "departement": "21",
                                                   "contact_nom": "Martin", "contact_prenom": "Léa",
                                                   "contact_email": "lea@exemple.fr"}])
        return row.row_number - 1


@pytest.fixture
def world(schema):
    return World(schema)


def _listed(world, source: str) -> list[str]:
    first, last = (int(n) for n in re.findall(r"\$(\d+)", source))
    grid = world.human.grid("Listes")
    column = grid[0].index("Valeur")
    return [grid[r - 1][column] for r in range(first, last + 1)]


# ---- what init sends -----------------------------------------------------------------------------------------


def test_init_on_a_new_spreadsheet_is_one_read_and_one_batch_update(world, schema):
    report = world.store.init()
    assert world.kinds() == ["metadata", "batchUpdate"]  # no tab yet: nothing more to read
    assert report.created_tabs == schema.tab_names
    kinds = Counter(next(iter(r)) for r in world.batch())
    assert kinds["addSheet"] == len(schema.tab_names)
    for kind in ("updateSpreadsheetProperties", "updateCells", "repeatCell", "updateDimensionProperties",
                 "setDataValidation", "addConditionalFormatRule", "addProtectedRange", "setBasicFilter",
                 "addFilterView", "updateSheetProperties"):
        assert kinds[kind] > 0, kind


def test_the_requests_have_the_shapes_of_the_api(world):
    world.store.init()
    requests = world.batch()
    entreprises = world.sheet("Entreprises").sheet_id
    headers = world.human.grid("Entreprises")[0]
    [locale] = [r["updateSpreadsheetProperties"] for r in requests if "updateSpreadsheetProperties" in r]
    assert locale == {"properties": {"locale": "fr_FR", "timeZone": "Europe/Paris"}, "fields": "locale,timeZone"}
    [text] = [r["repeatCell"] for r in requests if "repeatCell" in r and r["repeatCell"]["range"]["sheetId"] ==
              entreprises and "numberFormat" in r["repeatCell"]["fields"]]
    assert text == {"range": {"sheetId": entreprises, "startRowIndex": 1, "startColumnIndex": 0,
                              "endColumnIndex": len(headers)},
                    "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT"}}},
                    "fields": "userEnteredFormat.numberFormat"}
    taille = headers.index("Taille")
    [dropdown] = [r["setDataValidation"] for r in requests if "setDataValidation" in r
                  and r["setDataValidation"]["range"] == {"sheetId": entreprises, "startRowIndex": 1,
                                                          "startColumnIndex": taille, "endColumnIndex": taille + 1}]
    assert dropdown["rule"]["condition"]["type"] == "ONE_OF_RANGE" and dropdown["rule"]["strict"] is True
    assert re.fullmatch(r"='Listes'!\$C\$\d+:\$C\$\d+", dropdown["rule"]["condition"]["values"][0]["userEnteredValue"])
    rules = [r["addConditionalFormatRule"] for r in requests if "addConditionalFormatRule" in r
             and r["addConditionalFormatRule"]["rule"]["ranges"][0]["sheetId"] == entreprises]
    assert [r["index"] for r in rules] == list(range(len(rules)))
    siret = headers.index("SIRET")
    [rule] = [r["rule"] for r in rules if r["rule"]["ranges"][0]["startColumnIndex"] == siret]
    condition = rule["booleanRule"]["condition"]
    assert condition["type"] == "CUSTOM_FORMULA" and ";" in condition["values"][0]["userEnteredValue"]
    views = [r["addFilterView"]["filter"] for r in requests if "addFilterView" in r
             and r["addFilterView"]["filter"]["range"]["sheetId"] == entreprises]
    assert {v["title"] for v in views} >= {"Entreprises — académie de Dijon", "Entreprises — département 21"}
    assert all(v["filterSpecs"][0]["filterCriteria"]["condition"]["type"] == "CUSTOM_FORMULA" for v in views)


def test_a_second_init_reads_twice_and_writes_nothing(world):
    world.store.init()
    world.fake.reset_counts()
    report = world.store.init()
    assert world.kinds() == ["metadata", "metadata"]
    assert report.applied == [] and not report.created_tabs and not report.notes


def test_init_survives_a_lost_reply_and_creates_each_tab_once(world, schema):
    world.fake.timeout_next("batchUpdate", after_apply=True)
    report = world.store.init()
    assert report.created_tabs == schema.tab_names
    assert world.fake.titles(world.key) == ["Sheet1", *schema.tab_names]
    assert world.kinds().count("batchUpdate") == 1  # re-read, found applied, nothing sent again


def test_init_sends_again_what_a_failure_did_not_apply(world, schema):
    world.fake.fail_next("batchUpdate", status=503)
    report = world.store.init()
    assert report.created_tabs == schema.tab_names and world.kinds().count("batchUpdate") == 2
    assert world.fake.titles(world.key) == ["Sheet1", *schema.tab_names]


# ---- typing ----------------------------------------------------------------------------------------------------


def test_a_person_typing_awkward_values_reads_back_exactly(world, schema):
    world.store.init()
    row = world.company_row()
    for header, text in AWKWARD.items():  # in the app's row, then in a new row typed from scratch
        world.fake.type_cells(world.key, "Entreprises", row, world.col("Entreprises", header), [text])
        world.fake.type_cells(world.key, "Entreprises", row + 1, world.col("Entreprises", header), [text])
    world.fake.type_cells(world.key, "Entreprises", row + 1, 0, ["ENT-HUMAN0001"])
    snapshot = world.store.read()
    by_header = schema.tab("Entreprises").by_header()
    for data in snapshot.rows("Entreprises"):
        assert {h: data[by_header[h].name] for h in AWKWARD} == AWKWARD


def test_without_init_the_same_typing_is_mangled_and_the_locale_decides_dates(schema):
    fake = FakeSheets()
    key = fake.create_spreadsheet("Brut")
    fake.type_cells(key, "Sheet1", 0, 0, list(AWKWARD.values()))
    assert fake.grid_text(key, "Sheet1")[0] == ["612345678", "1000", "73282932000074", "4/3/2026", "33380448400"]
    us = fake.sheet(key, "Sheet1").get(0, 3).value
    fake.book(key).locale = "fr_FR"
    fake.type_cells(key, "Sheet1", 1, 3, ["04/03/2026"])
    assert us - fake.sheet(key, "Sheet1").get(1, 3).value == 30  # 3 April (en_US) vs 4 March (fr_FR)


def test_init_sets_the_french_locale_and_paris_time(world):
    world.store.init()
    book = world.fake.book(world.key)
    assert (book.locale, book.time_zone) == (LOCALE, TIME_ZONE)


# ---- dropdowns, notes, widths ----------------------------------------------------------------------------------


def test_editing_listes_changes_the_dropdown(world):
    world.store.init()
    col = world.col("Entreprises", "Taille")
    source = world.sheet("Entreprises").validation_at(1, col)["condition"]["values"][0]["userEnteredValue"]
    first = int(re.findall(r"\$(\d+)", source)[0])
    world.fake.type_cells(world.key, "Listes", first - 1, world.col("Listes", "Valeur"), ["TPE (moins de 10)"])
    assert _listed(world, source)[0] == "TPE (moins de 10)"
    assert world.sheet("Entreprises").validation_at(500, col)["condition"]["values"][0]["userEnteredValue"] == source


def test_multichoice_dropdowns_are_advisory_and_say_how_to_separate(world):
    world.store.init()
    rule = world.sheet("Entreprises").validation_at(1, world.col("Entreprises", "Thématiques"))
    assert rule["strict"] is False and "séparées par « ; »" in rule["inputMessage"]
    assert rule["condition"]["type"] == "ONE_OF_RANGE"


def test_every_header_has_a_note_and_a_width_and_a_chosen_width_is_kept(world, schema):
    world.store.init()
    for tab in schema.tabs.values():
        sheet = world.sheet(tab.name)
        assert sheet.frozen_rows == 1, tab.name
        for col, f in enumerate(tab.fields):
            assert fmt.note_at(sheet, 0, col), (tab.name, f.header)
            assert sheet.format_at(0, col)["textFormat"]["bold"] is True, (tab.name, f.header)
    forms = {"date": "AAAA-MM-JJ", "datetime": "AAAA-MM-JJ HH:MM", "multichoice": "séparées par « ; »",
             "choice": "(onglet Listes)", "phone": "03 80 44 84 00", "postcode": "5 chiffres", "uai": "0210015C",
             "email": "@exemple.fr", "siret": "14 chiffres", "naf": "NN.NNL"}
    for tab in schema.tabs.values():  # the expected form even where the schema has a help text of its own
        sheet = world.sheet(tab.name)
        for col, f in enumerate(tab.fields):
            if f.type in forms and col > 0:
                assert forms[f.type] in fmt.note_at(sheet, 0, col), (tab.name, f.header)
            if f.help and col > 0:  # the ID's note is the app's own
                assert fmt.note_at(sheet, 0, col).startswith(f.help), (tab.name, f.header)
    assert "ne triez pas" in fmt.note_at(world.sheet("Listes"), 0, world.col("Listes", "Liste"))
    sheet = world.sheet("Entreprises")
    assert "vue filtrée" in fmt.note_at(sheet, 0, 0)
    assert "14 chiffres" in fmt.note_at(sheet, 0, world.col("Entreprises", "SIRET"))
    notes = world.col("Entreprises", "Notes")
    assert fmt.width_of(sheet, notes) > 100
    fmt._state(sheet)["widths"][notes] = 333  # a person widened it
    world.store.init()
    assert fmt.width_of(sheet, notes) == 333


# ---- protections, filters ------------------------------------------------------------------------------------


def test_header_ids_and_timestamps_warn_and_only_the_app_writes_the_journal(world):
    world.store.init()
    sheet = world.sheet("Entreprises")
    protected = {(p["range"].get("startRowIndex"), p["range"].get("startColumnIndex")): p for p in sheet.protected}
    assert protected[(0, None)]["warningOnly"] is True  # the header row
    for header in ("ID", "Créé le", "Modifié le"):
        assert protected[(1, world.col("Entreprises", header))]["warningOnly"] is True
    [journal] = world.sheet("Journal").protected
    assert "warningOnly" not in journal and journal["editors"] == {"users": [SERVICE_ACCOUNT]}
    assert "Feuilles et plages protégées" in journal["description"]
    [generated] = world.sheet("À corriger").protected  # rewritten by check --sheet: the whole tab warns
    assert generated["warningOnly"] is True and generated["range"] == {"sheetId": world.sheet("À corriger").sheet_id}


def test_filter_views_per_academie_and_departement_and_a_basic_filter_on_each_tab(world, schema):
    world.store.init()
    sheet = world.sheet("Personnels")
    titles = {v["title"] for v in fmt.filter_views(sheet)}
    assert titles == {f"Personnels — académie de {a}" for a in ("Dijon", "Besançon")} | {
        f"Personnels — département {d}" for d in schema.lists["departements"]}
    for tab in schema.tab_names:
        assert (fmt.basic_filter(world.sheet(tab)) is None) == (tab == "Journal"), tab


# ---- conditional formats ---------------------------------------------------------------------------------------


def test_mistakes_are_coloured_where_a_person_types_them(world):
    world.store.init()
    row = world.company_row()
    siret, name = world.col("Entreprises", "SIRET"), world.col("Entreprises", "Raison sociale")
    world.fake.type_cells(world.key, "Entreprises", row, siret, ["73282932000074"])
    assert fmt.coloured(world.fake, world.key, "Entreprises", row, siret) == []
    world.fake.type_cells(world.key, "Entreprises", row, siret, ["73282932000075"])
    [rule] = fmt.coloured(world.fake, world.key, "Entreprises", row, siret)
    assert rule["booleanRule"]["format"]["backgroundColor"]["red"] > 0.9
    world.fake.type_cells(world.key, "Entreprises", row, name, [""])
    [missing] = fmt.coloured(world.fake, world.key, "Entreprises", row, name)
    assert missing["booleanRule"]["format"]["backgroundColor"]["green"] > 0.9  # yellow: required, empty
    assert fmt.coloured(world.fake, world.key, "Entreprises", row + 5, name) == []  # an empty row is not


def test_an_unknown_reference_is_coloured(world):
    world.store.init()
    row = world.company_row()
    company = world.human.grid("Entreprises")[row][0]
    col = world.col("Rencontres", "ID entreprise")
    world.fake.type_cells(world.key, "Rencontres", 1, col, [company])
    assert fmt.coloured(world.fake, world.key, "Rencontres", 1, col) == []
    world.fake.type_cells(world.key, "Rencontres", 1, col, ["ENT-INCONNU9"])
    assert fmt.coloured(world.fake, world.key, "Rencontres", 1, col)


# ---- init on an existing spreadsheet ---------------------------------------------------------------------------


def test_init_on_an_existing_spreadsheet_changes_no_value_and_reports_what_it_laid_out(world, schema):
    world.store.init()
    row = world.company_row()
    for header, text in AWKWARD.items():
        world.fake.type_cells(world.key, "Entreprises", row, world.col("Entreprises", header), [text])
    for tab in schema.tab_names:  # back to an older layout: no formats, rules, notes, views, protections
        sheet = world.sheet(tab)
        sheet.formats, sheet.validations, sheet.protected = [], [], []
        fmt._state(sheet).update(conditional=[], filter_views=[], basic_filter=None, notes={})
        sheet.notes = []  # the fake's core keeps notes in a layer beside the cells
    world.fake.book(world.key).locale = "en_US"
    before = {tab: world.human.grid(tab) for tab in schema.tab_names}
    world.bodies.clear()
    report = world.store.init()
    assert {tab: world.human.grid(tab) for tab in schema.tab_names} == before
    assert world.kinds()[-3:] == ["metadata", "metadata", "batchUpdate"]
    assert "classeur : paramètres régionaux fr_FR et fuseau Europe/Paris (dates saisies lues jour/mois)" in \
        report.applied
    [line] = [a for a in report.applied if a.startswith("Entreprises :")]
    for part in ("format texte", "note d'en-tête", "listes déroulantes", "mise en forme conditionnelle",
                 "filtre", "vues filtrées", "protections"):
        assert part in line
    assert not any(next(iter(r)) in ("updateCells", "values") and "userEnteredValue" in json.dumps(r)
                   for r in world.batch()), "no cell value written"
    assert world.store.init().applied == []


# ---- the locale, read back -------------------------------------------------------------------------------------


def test_another_locale_is_reported_until_init_sets_fr_fr(world):
    from ecole_entreprise.services.census.quality import locale_warning

    world.fake.book(world.key).locale = "en_US"
    assert "« en_US »" in locale_warning(world.store) and "init" in locale_warning(world.store)
    world.store.init()
    assert locale_warning(world.store) == ""


def test_check_warns_about_the_locale(world, monkeypatch, capsys):
    from ecole_entreprise import cli

    world.store.init()
    world.fake.book(world.key).locale = "de_DE"
    world.store._meta = None  # a new process: the metadata is read again
    monkeypatch.setattr(cli, "_store", lambda: world.store)
    cli.main(["check"])
    assert "Attention : Le classeur Google est réglé sur les paramètres régionaux « de_DE »" in capsys.readouterr().out


def test_the_home_page_warns_about_the_locale(app_workbook, monkeypatch):
    from tests.support.apptest import ADMIN, app_store, open_page

    monkeypatch.setattr(app_store().inner, "sheet_locale", lambda: "en_US")
    at = open_page(monkeypatch, ADMIN, "pages/home.py")
    assert not at.exception, [e.value for e in at.exception]
    assert any("« en_US »" in w.value for w in at.warning)


# ---- the exact requests, per tab ---------------------------------------------------------------------------------


def _sheet_id_in(node):
    """The sheetId a request acts on (the first one found in its body)."""
    if isinstance(node, dict):
        if "sheetId" in node:
            return node["sheetId"]
        node = list(node.values())
    if isinstance(node, list):
        return next((found for item in node if (found := _sheet_id_in(item)) is not None), None)
    return None


def _requests_on(world, tab: str) -> Counter:
    sheet_id = world.sheet(tab).sheet_id
    return Counter(next(iter(r)) for r in world.batch() if _sheet_id_in(r) == sheet_id)


def test_init_sends_for_each_tab_exactly_what_its_columns_need(world, schema):
    world.store.init()
    personnels = schema.tab("Personnels")
    dropdowns = [f for f in personnels.fields if f.type in ("choice", "multichoice", "bool")]
    from ecole_entreprise.store.sheet_layout import build_layout

    headers = {name: t.headers for name, t in schema.tabs.items()}
    layouts, _ = build_layout(schema, headers, world.human.grid("Listes"))
    rules = sum(len(c.rules) for c in layouts["Personnels"].columns)
    assert rules >= 15
    assert _requests_on(world, "Personnels") == Counter({
        "addSheet": 1,
        "updateCells": 2,  # the header's values, then its notes
        "updateSheetProperties": 1,  # frozen header row
        "repeatCell": 2,  # bold header, plain text from row 2 down
        "updateDimensionProperties": len(personnels.fields),  # one width per column
        "setDataValidation": len(dropdowns),
        "addConditionalFormatRule": rules,
        "addProtectedRange": 4,  # header row, ID, Créé le, Modifié le
        "setBasicFilter": 1,
        "addFilterView": 2 + len(schema.lists["departements"]),  # Dijon, Besançon, then each département
    })
    journal = _requests_on(world, "Journal")
    assert journal["addProtectedRange"] == 1 and not journal["setBasicFilter"] and not journal["addFilterView"]
    assert not journal["addConditionalFormatRule"]


def test_the_readme_counts_the_requests_of_init(world):
    """The figure the README gives for a new spreadsheet is the one init sends (within 5 %)."""
    from pathlib import Path

    world.store.init()
    sent = len(world.batch())
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    [(said,)] = {(int(n),) for n in re.findall(r"environ (\d+) requêtes élémentaires", readme)}
    print(f"init on a new spreadsheet: 1 batchUpdate holding {sent} requests (README: about {said})")
    assert abs(sent - said) <= said * 0.05


# ---- columns init adds later -------------------------------------------------------------------------------------


def test_columns_added_by_init_get_the_whole_layout(world, schema):
    """An older Entreprises tab without SIRET and Notes: init adds them at the end, frozen, bold, noted, in plain
    text, sized, with their colour rule at their new place."""
    older = [h for h in schema.tab("Entreprises").headers if h not in ("SIRET", "Notes")]
    world.fake._add_sheet(world.fake.book(world.key), {"title": "Entreprises"})
    world.fake.type_cells(world.key, "Entreprises", 0, 0, older)
    report = world.store.init()
    assert report.missing_columns == {"Entreprises": ["SIRET", "Notes"]}
    sheet = world.sheet("Entreprises")
    assert world.human.grid("Entreprises")[0] == [*older, "SIRET", "Notes"]
    assert sheet.frozen_rows == 1
    for col in (len(older), len(older) + 1):
        assert sheet.format_at(0, col)["textFormat"]["bold"] is True
        assert fmt.note_at(sheet, 0, col) and fmt.is_text_cell(sheet, 1, col) and fmt.is_text_cell(sheet, 900, col)
        assert fmt.width_of(sheet, col) != fmt.DEFAULT_PX
    siret = len(older)
    assert "14 chiffres" in fmt.note_at(sheet, 0, siret)
    row = world.company_row()
    world.fake.type_cells(world.key, "Entreprises", row, siret, ["73282932000075"])
    assert fmt.coloured(world.fake, world.key, "Entreprises", row, siret)
    world.fake.type_cells(world.key, "Entreprises", row, siret, ["73282932000074"])
    assert fmt.coloured(world.fake, world.key, "Entreprises", row, siret) == []
    assert world.store.read().get("Entreprises", world.human.grid("Entreprises")[row][0])["siret"] == \
        "73282932000074"


# ---- typing in Personnels, and the date as the app understands it ---------------------------------------------


def test_a_person_typing_in_personnels_reads_back_exactly_and_the_date_is_day_first(world, schema):
    from datetime import date

    from ecole_entreprise.domain.values import parse_date

    world.store.init()
    typed = {"ID": "PER-HUMAN0001", "Nom": "Martin", "Prénom": "Léa", "UAI établissement": "0210015C",
             "Code postal": "01000", "Téléphone": "+33380448400", "À informer avant le": "04/03/2026",
             "Notes": "0612345678"}
    for header, text in typed.items():
        world.fake.type_cells(world.key, "Personnels", 1, world.col("Personnels", header), [text])
    got = world.store.read().get("Personnels", "PER-HUMAN0001")
    by_header = schema.tab("Personnels").by_header()
    assert {h: got[by_header[h].name] for h in typed} == typed
    assert parse_date(got["informer_avant"]) == date(2026, 3, 4)


# ---- filter views show the rows of their académie or département -----------------------------------------------


def test_filter_views_keep_exactly_the_rows_of_their_academie_or_departement(world):
    from ecole_entreprise.domain.validators import ACADEMIES

    world.store.init()
    col, commune = world.col("Personnels", "Département"), world.col("Personnels", "Code INSEE commune")
    rows = [("21", "21231"), ("25", "25056"), ("58", "58194"), ("90", "90010"), ("71", "71076"), ("", "89024")]
    for number, (code, insee) in enumerate(rows, start=1):  # the last one: département left to the app
        world.fake.type_cells(world.key, "Personnels", number, 0, [f"PER-{number:08d}"])
        world.fake.type_cells(world.key, "Personnels", number, col, [code])
        world.fake.type_cells(world.key, "Personnels", number, commune, [insee])
    grid = fmt.formula_grid(world.fake.book(world.key))
    shown = {}
    for view in fmt.filter_views(world.sheet("Personnels")):
        [spec] = view["filterSpecs"]
        assert spec["columnIndex"] == col
        formula = spec["filterCriteria"]["condition"]["values"][0]["userEnteredValue"]
        shown[view["title"]] = [grid.cells["Personnels"][r][commune][:2] for r in range(1, len(rows) + 1)
                                if rule_applies(formula, grid, "Personnels", (r, col), (1, col))]
    assert shown["Personnels — académie de Dijon"] == [c for c in ("21", "25", "58", "90", "71", "89")
                                                       if c in ACADEMIES["Dijon"]] == ["21", "58", "71", "89"]
    assert shown["Personnels — académie de Besançon"] == ["25", "90"]
    assert shown["Personnels — département 58"] == ["58"] and shown["Personnels — département 89"] == ["89"]
    assert shown["Personnels — département 39"] == []


def test_init_gives_the_journal_back_to_the_service_account(world):
    """An owner who added themselves and removed the app from the Journal's editors: init restores it."""
    world.store.init()
    [journal] = world.sheet("Journal").protected
    journal["editors"] = {"users": ["proprietaire@exemple.fr"]}
    report = world.store.init()
    assert any(line.startswith("Journal :") and "protection" in line for line in report.applied)
    [journal] = world.sheet("Journal").protected
    assert journal["editors"] == {"users": [SERVICE_ACCOUNT]} and "warningOnly" not in journal
    assert world.store.init().applied == []
