"""Imports: reading CSV/xlsx, column mapping, line-by-line preview, import rules, CLI (real local workbook)."""

import io
from datetime import date

import pandas as pd
import pytest

from ecole_entreprise.domain.roles import ADMIN, COORD_CPME, User, parse_scope
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.services.census import records as census
from ecole_entreprise.services.census.imports import (
    DUPLICATE,
    ERROR,
    VALID,
    ImportFileError,
    anomalies_csv,
    import_cli,
    plus_one_month,
    preview,
    read_table,
    run_import,
    suggest_mapping,
)
from ecole_entreprise.store.workbook import WorkbookStore

ADMIN_USER = User(email="admin@exemple.fr", role=ADMIN)
HEADER = "Raison sociale;SIRET;CP;Ville;Code INSEE;Nom;Prénom;Mail;Tél\n"
GOOD = "Atelier Démo Alpha;73282932000074;21000;Dijon;21231;Martin;Léa;lea@exemple-entreprise.fr;03 80 44 84 00\n"
LINES = [
    GOOD,
    "Garage Démo Bravo;12345678901234;21200;Beaune;21054;Petit;Marc;marc@exemple-entreprise.fr;\n",  # bad SIRET
    "Scierie Démo Charlie;;39000;Lons;39300;Roux;Anne;;\n",  # no email
    "Atelier Démo Alpha bis;;21000;Dijon;21231;Autre;Eve;LEA@exemple-entreprise.fr;\n",  # same email as line 2
    "Imprimerie Démo Delta;;25000;Besançon;25056;Dumas;Jean;jean@exemple-entreprise.fr;0381000000\n",
    ";;;;;;;;\n",  # blank line: skipped
    "=HYPERLINK(\"x\");;21000;Dijon;21231;Mal;Icieux;;\n",  # formula + missing email
]


def csv_bytes(lines=LINES, encoding="utf-8", sep=";"):
    return (HEADER + "".join(lines)).replace(";", sep).encode(encoding)


@pytest.fixture
def store(tmp_path):
    store = WorkbookStore(default_schema(), tmp_path / "import.xlsx")
    store.init()
    return store


def report_for(store, data=None, user=None):
    frame = read_table(data or csv_bytes(), "liste.csv")
    return preview(frame, suggest_mapping(list(frame.columns), "Entreprises"), "Entreprises", store.read(), user)


# ---- reading ----------------------------------------------------------------------------------------------


def test_csv_semicolon_utf8_keeps_text_and_skips_blank_lines():
    frame = read_table(csv_bytes(), "liste.csv")
    assert list(frame.columns) == ["Raison sociale", "SIRET", "CP", "Ville", "Code INSEE", "Nom", "Prénom", "Mail",
                                   "Tél"]
    assert list(frame.index) == [2, 3, 4, 5, 6, 8]  # file line numbers, the blank line 7 dropped
    assert frame.loc[2, "SIRET"] == "73282932000074" and frame.loc[6, "Tél"] == "0381000000"


def test_csv_comma_cp1252():
    frame = read_table(csv_bytes(LINES[:1], encoding="cp1252", sep=","), "export excel.CSV")
    assert frame.loc[2, "Raison sociale"] == "Atelier Démo Alpha" and frame.loc[2, "Prénom"] == "Léa"


def test_xlsx_numbers_become_text():
    buffer = io.BytesIO()
    pd.DataFrame({"Entreprise": ["Atelier Démo Xl"], "CP": [21000], "Téléphone": ["03 80 44 84 00"],
                  "Date": [pd.Timestamp("2025-03-04")]}).to_excel(buffer, index=False)
    frame = read_table(buffer.getvalue(), "liste.xlsx")
    assert frame.loc[2, "CP"] == "21000" and frame.loc[2, "Date"] == "2025-03-04"
    assert frame.loc[2, "Entreprise"] == "Atelier Démo Xl"


def test_unsupported_or_damaged_files_give_french_errors():
    with pytest.raises(ImportFileError, match="non pris en charge"):
        read_table(b"x", "liste.ods")
    with pytest.raises(ImportFileError, match="ne peut pas être lu"):
        read_table(b"not a zip", "liste.xlsx")


# ---- mapping ----------------------------------------------------------------------------------------------


def test_mapping_from_usual_titles():
    columns = ["Entreprise", "N° SIRET", "Mail", "Tél", "CP", "Ville", "NOM", "prénom", "Commentaire libre"]
    assert suggest_mapping(columns, "Entreprises") == {
        "Entreprise": "raison_sociale", "N° SIRET": "siret", "Mail": "contact_email", "Tél": "contact_telephone",
        "CP": "code_postal", "Ville": "commune", "NOM": "contact_nom", "prénom": "contact_prenom",
    }
    staff = suggest_mapping(["E-mail", "Téléphone", "Nom", "Etablissement", "RNE", "Code postal"], "Personnels")
    assert staff == {"E-mail": "email", "Téléphone": "telephone", "Nom": "nom", "Etablissement": "etablissement",
                     "RNE": "uai", "Code postal": "code_postal"}


def test_mapping_uses_each_field_once_and_tolerates_typos():
    mapping = suggest_mapping(["Raison sociale", "Entreprise", "Adresse mial"], "Entreprises")
    assert mapping == {"Raison sociale": "raison_sociale", "Adresse mial": "contact_email"}


def test_mapping_never_targets_system_fields():
    mapping = suggest_mapping(["ID", "Statut", "Source", "Créé le"], "Entreprises")
    assert mapping == {}


# ---- preview ----------------------------------------------------------------------------------------------


def test_preview_one_line_per_source_row_with_status_and_french_errors(store):
    existing = census.create(store, store.read(), ADMIN_USER, "Entreprises",
                             {"raison_sociale": "Imprimerie Démo Delta", "code_postal": "25000",
                              "commune_insee": "25056", "contact_nom": "Dumas", "contact_prenom": "Jean",
                              "contact_email": "jean@exemple-entreprise.fr"}).row
    report = report_for(store)
    assert [(line.line, line.status) for line in report.lines] == [
        (2, VALID), (3, ERROR), (4, ERROR), (5, DUPLICATE), (6, DUPLICATE), (8, ERROR)]
    bad_siret, no_email, _, _, formula = (report.lines[i] for i in (1, 2, 3, 4, 5))
    assert "clé de contrôle" in bad_siret.errors["siret"]
    assert "obligatoire" in no_email.errors["contact_email"]
    assert "ligne 2 du fichier" in report.lines[3].reason and "même email" in report.lines[3].reason
    assert existing.id in report.lines[4].reason
    assert "obligatoire" in formula.errors["contact_email"]
    good = report.lines[0]
    assert good.clean["contact_telephone"] == "+33380448400" and good.clean["departement"] == "21"
    assert good.clean["statut"] == "validé" and good.clean["source"] == "import"
    assert report.missing_required == []
    assert (report.count(VALID), report.count(ERROR), report.count(DUPLICATE)) == (1, 3, 2)


def test_preview_reports_missing_required_columns(store):
    frame = pd.DataFrame({"Entreprise": ["A"], "Ville": ["Dijon"]})
    report = preview(frame, suggest_mapping(list(frame.columns), "Entreprises"), "Entreprises", store.read())
    assert "Email du contact" in report.missing_required and "Code postal" in report.missing_required


def test_preview_marks_lines_outside_the_coordinators_scope(store):
    cpme = User(email="coord.cpme21@exemple.fr", role=COORD_CPME, departements=parse_scope("21, 58, 71, 89"))
    report = report_for(store, user=cpme)
    doubs = next(line for line in report.lines if "Delta" in line.source["Raison sociale"])
    assert doubs.status == ERROR and "périmètre" in doubs.reason
    assert report.lines[0].status == VALID


# ---- import -----------------------------------------------------------------------------------------------


def test_run_imports_only_valid_lines_with_source_and_provenance(store):
    report = report_for(store)
    seen = []
    outcome = run_import(store, report, ADMIN_USER, "liste-cpme.csv", third_party=False,
                         on_progress=lambda f, m: seen.append(f), today=date(2026, 1, 15))
    assert (outcome.imported, outcome.errors, outcome.duplicates) == (2, 3, 1)
    rows = store.read().rows("Entreprises")
    assert sorted(r["raison_sociale"] for r in rows) == ["Atelier Démo Alpha", "Imprimerie Démo Delta"]
    for row in rows:
        assert row["source"] == "import" and row["statut"] == "validé" and row["informer_avant"] == ""
        assert "liste-cpme.csv" in row["notes"] and "2026-01-15" in row["notes"]
        assert row["consentement_source"] == ""  # the list carried no consent
    assert seen[-1] == 1.0
    [entry] = store.read().rows("Journal")
    assert entry["action"] == "import" and "2 fiche(s)" in entry["details"] and "Martin" not in entry["details"]


def test_import_journal_names_the_records_and_their_consents(store):
    data = ("Raison sociale;CP;Code INSEE;Nom;Prénom;Mail;Consentement participation;Version notice consentement\n"
            "Atelier Démo Alpha;21000;21231;Martin;Léa;lea@exemple-entreprise.fr;2026-01-10 09:00:00;2025-09\n"
            "Imprimerie Démo Delta;25000;25056;Dumas;Jean;jean@exemple-entreprise.fr;;\n").encode()
    run_import(store, report_for(store, data), ADMIN_USER, "liste.csv", third_party=False, today=date(2026, 1, 15))
    rows = {r["raison_sociale"]: r for r in store.read().rows("Entreprises")}
    entries = store.read().rows("Journal")
    assert [e["action"] for e in entries] == ["import", "consentement"]
    imported, consented = entries
    assert set(imported["cible_id"].split(", ")) == {r.id for r in rows.values()}
    assert consented["cible_id"] == rows["Atelier Démo Alpha"].id
    assert (consented["champs"], consented["details"]) == (
        "consentement_participation", "finalité participation ; source import ; notice 2025-09")


def test_third_party_list_sets_inform_before_one_month_later(store):
    run_import(store, report_for(store), ADMIN_USER, "liste salon", third_party=True, today=date(2026, 1, 31))
    assert {r["informer_avant"] for r in store.read().rows("Entreprises")} == {"2026-02-28"}
    assert plus_one_month(date(2025, 12, 15)) == date(2026, 1, 15)


def test_running_the_same_report_twice_imports_once(store):
    report = report_for(store)
    run_import(store, report, ADMIN_USER, "liste", third_party=False)
    run_import(store, report, ADMIN_USER, "liste", third_party=False)
    assert len(store.read().rows("Entreprises")) == 2


def test_out_of_scope_lines_are_not_imported_even_without_user_in_preview(store):
    cpme = User(email="coord.cpme21@exemple.fr", role=COORD_CPME, departements=parse_scope("21, 58, 71, 89"))
    outcome = run_import(store, report_for(store), cpme, "liste", third_party=False)
    assert outcome.imported == 1
    assert [r["departement"] for r in store.read().rows("Entreprises")] == ["21"]
    assert any("périmètre" in reason for reason in outcome.anomalies["Motif"])


def test_anomalies_frame_and_csv_neutralise_formulas(store):
    outcome = run_import(store, report_for(store), ADMIN_USER, "liste", third_party=False)
    frame = outcome.anomalies
    assert list(frame["Ligne"]) == [3, 4, 5, 8]
    assert list(frame.columns[:3]) == ["Ligne", "Statut", "Motif"]
    text = anomalies_csv(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ';=HYPERLINK' not in text
    assert text.splitlines()[0].startswith("Ligne;Statut;Motif;Raison sociale")


# ---- command line -----------------------------------------------------------------------------------------


def test_cli_dry_run_writes_nothing_and_reports(store, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(csv_bytes())
    code, text = import_cli(store, "Entreprises", path, dry_run=True)
    assert code == 1
    assert "valides : 2" in text and "erreurs : 3" in text and "doublons : 1" in text
    assert "ligne 3 (erreur)" in text and "Essai à blanc" in text
    assert store.read().rows("Entreprises") == []


def test_cli_imports_and_exit_codes(store, tmp_path):
    clean = tmp_path / "propre.csv"
    clean.write_bytes(csv_bytes(LINES[:1]))
    assert import_cli(store, "Entreprises", clean, dry_run=False)[0] == 0
    assert len(store.read().rows("Entreprises")) == 1
    code, text = import_cli(store, "Entreprises", clean, dry_run=False)
    assert code == 1 and "doublon" in text  # same company again
    missing = tmp_path / "incomplet.csv"
    missing.write_bytes(b"Entreprise;Ville\nA;Dijon\n")
    code, text = import_cli(store, "Entreprises", missing, dry_run=False)
    assert code == 2 and "Colonnes obligatoires introuvables" in text
    assert import_cli(store, "Rencontres", clean, dry_run=True)[0] == 2
    assert import_cli(store, "Entreprises", tmp_path / "absent.csv", dry_run=True)[0] == 2
    assert len(store.read().rows("Entreprises")) == 1


def test_insee_code_found_from_postal_code_and_town(store):
    data = ("Entreprise;CP;Ville;Nom;Prénom;Mail\n"
            "Atelier Démo Un;25000;;Roux;Anne;un@exemple-entreprise.fr\n"  # one commune for the code
            "Atelier Démo Deux;21110;GENLIS;Roux;Paul;deux@exemple-entreprise.fr\n"  # chosen by name
            "Atelier Démo Trois;39200;St Claude;Roux;Lise;trois@exemple-entreprise.fr\n"  # abbreviation
            "Atelier Démo Quatre;21110;Ailleurs;Roux;Marc;quatre@exemple-entreprise.fr\n").encode()
    report = report_for(store, data)
    assert report.missing_required == []
    assert [line.clean.get("commune_insee") for line in report.lines[:3]] == ["25056", "21292", "39478"]
    assert [line.clean.get("departement") for line in report.lines[:3]] == ["25", "21", "39"]
    ambiguous = report.lines[3]
    assert ambiguous.status == ERROR and "21110 : Aiserey" in ambiguous.errors["commune_insee"]


def test_unknown_postal_code_is_named(store):
    report = report_for(store, b"Entreprise;CP;Ville;Nom;Pr\xc3\xa9nom;Mail\nA;75001;Paris;R;A;a@exemple.fr\n")
    [line] = report.lines
    assert line.status == ERROR and "75001" in line.errors["code_postal"]
    assert "Bourgogne-Franche-Comté" in line.errors["code_postal"]


def test_an_import_the_sheet_stops_midway_says_a_retry_writes_no_line_twice(store, monkeypatch):
    from ecole_entreprise import errors
    from ecole_entreprise.services.census.imports import ImportInterrupted
    from ecole_entreprise.store.base import Unreachable

    report = report_for(store)
    real_append = store.append

    def unreachable(tab, records):
        raise Unreachable("Feuille injoignable.")

    monkeypatch.setattr(store, "append", unreachable)
    with pytest.raises(ImportInterrupted) as raised:
        run_import(store, report, ADMIN_USER, "liste", third_party=False)
    assert isinstance(raised.value, errors.Unavailable)
    assert str(raised.value).startswith("Feuille injoignable.") and "seconde fois" in str(raised.value)
    monkeypatch.setattr(store, "append", real_append)
    assert run_import(store, report, ADMIN_USER, "liste", third_party=False).imported == 2
    assert len(store.read().rows("Entreprises")) == 2
