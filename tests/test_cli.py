"""The CLI on the embedded default (a workbook in a temporary folder)."""

import pytest

from ecole_entreprise.cli import main


@pytest.fixture
def workbook(tmp_path, monkeypatch):
    path = tmp_path / "classeur.xlsx"
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    return path


def test_init_creates_the_workbook_then_reports_no_drift(workbook, capsys):
    assert main(["init"]) == 0
    assert workbook.exists()
    first = capsys.readouterr().out
    assert "onglet créé : Entreprises" in first or "conformes" in first
    assert main(["init"]) == 0
    assert "tous les onglets sont conformes au schéma" in capsys.readouterr().out


def test_demo_refuses_a_non_empty_store_without_force(workbook, capsys):
    assert main(["demo"]) == 0
    assert "Données de démonstration chargées" in capsys.readouterr().out
    assert main(["demo"]) == 1
    assert "--force" in capsys.readouterr().err


def test_check_is_clean_on_demo_data_and_fails_on_a_bad_row(workbook, capsys):
    main(["demo"])
    capsys.readouterr()
    assert main(["check"]) == 0, capsys.readouterr().out
    import openpyxl

    book = openpyxl.load_workbook(workbook)
    sheet = book["Entreprises"]
    headers = [c.value for c in sheet[1]]
    row = [None] * len(headers)
    row[headers.index("ID")] = "ENT-BADROW01"
    row[headers.index("Raison sociale")] = "Ligne saisie à la main"
    row[headers.index("SIRET")] = "12345678901234"
    sheet.append(row)
    book.save(workbook)
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "ENT-BADROW01" in out and "SIRET" in out


def test_store_errors_are_french_messages_not_tracebacks(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(tmp_path / "classeur.xlsx"))
    assert main(["add-user", "x@exemple.fr", "pirate"]) == 2
    assert "Rôle inconnu" in capsys.readouterr().err


def test_import_dry_run_writes_nothing_and_third_party_sets_the_information_date(workbook, tmp_path, capsys):
    main(["init"])
    source = tmp_path / "clee.csv"
    source.write_text(
        "Nom;Prénom;Fonction;Mail;CP;Ville;Canal\n"
        "Durand;Anne;professeur;anne.durand@ac-dijon.fr;21000;Dijon;CLEE\n"
        "Petit;Marc;professeur;pas-un-email;21000;Dijon;CLEE\n", encoding="utf-8")
    assert main(["import", "Personnels", str(source), "--dry-run"]) == 1
    from ecole_entreprise.config import load_settings
    from ecole_entreprise.store import build_store

    assert build_store(load_settings()).read().rows("Personnels") == []
    assert main(["import", "Personnels", str(source), "--liste-tierce"]) == 1
    [row] = build_store(load_settings()).read().rows("Personnels")
    assert row["nom"] == "Durand" and row["informer_avant"]


def test_init_on_a_drifted_workbook_reports_renamed_and_extra_columns_and_keeps_data(workbook, capsys):
    import openpyxl

    main(["init"])
    book = openpyxl.load_workbook(workbook)
    sheet = book["Entreprises"]
    for cell in sheet[1]:
        if cell.value == "Notes":
            cell.value = "Remarques"
    sheet.cell(row=1, column=sheet.max_column + 1, value="Suivi CPME")
    sheet.cell(row=2, column=sheet.max_column, value="à rappeler")
    sheet.cell(row=2, column=1, value="ENT-HUMAN001")
    book.save(workbook)
    capsys.readouterr()
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "« Notes » semble avoir été renommée « Remarques »" in out
    assert "Suivi CPME" in out
    headers = [c.value for c in openpyxl.load_workbook(workbook)["Entreprises"][1]]
    assert {"Remarques", "Suivi CPME", "Notes"} <= set(headers)
    assert openpyxl.load_workbook(workbook)["Entreprises"].cell(row=2, column=headers.index("Suivi CPME") + 1).value \
        == "à rappeler"


def test_report_writes_a_pdf_and_an_xlsx(workbook, tmp_path, capsys):
    main(["demo"])
    from ecole_entreprise.config import load_settings
    from ecole_entreprise.services.home.todo import current_school_year
    from ecole_entreprise.store import build_store

    year = current_school_year(build_store(load_settings()).read(), __import__("datetime").date.today())
    pdf, xlsx = tmp_path / "bilan.pdf", tmp_path / "bilan.xlsx"
    assert main(["report", "--year", year, "--out", str(pdf), "--xlsx", str(xlsx)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF") and xlsx.stat().st_size > 0
    from pypdf import PdfReader

    assert year in "".join(page.extract_text() for page in PdfReader(pdf).pages)


def test_a_list_without_channel_column_imports_with_canal(workbook, tmp_path, capsys):
    main(["init"])
    source = tmp_path / "salon.csv"
    source.write_text("Nom;Prénom;Fonction;Mail;CP;Ville\n"
                      "Durand;Anne;professeur;anne.durand@ac-dijon.fr;21000;Dijon\n"
                      "Roux;Paul;;paul.roux@ac-dijon.fr;21000;Dijon\n", encoding="utf-8")
    assert main(["import", "Personnels", str(source), "--dry-run"]) == 2
    assert "Canal de recrutement" in capsys.readouterr().out
    assert main(["import", "Personnels", str(source), "--canal", "salon REE", "--fonction", "CPE"]) == 0
    from ecole_entreprise.config import load_settings
    from ecole_entreprise.store import build_store

    staff = {r["nom"]: r for r in build_store(load_settings()).read().rows("Personnels")}
    assert {r["canal"] for r in staff.values()} == {"salon REE"}
    assert (staff["Durand"]["fonction"], staff["Roux"]["fonction"]) == ("professeur", "CPE")  # the file wins
    assert main(["import", "Entreprises", str(source), "--canal", "CLEE", "--dry-run"]) == 2


@pytest.mark.parametrize("year", ["abc", "2025", "2025-2027", "2025/2026"])
def test_report_refuses_a_malformed_school_year_in_french(workbook, tmp_path, capsys, year):
    main(["init"])
    pdf = tmp_path / "bilan.pdf"
    assert main(["report", "--year", year, "--out", str(pdf)]) == 2
    err = capsys.readouterr().err
    assert f"Année scolaire « {year} » invalide" in err and "Traceback" not in err
    assert not pdf.exists()


def test_purge_dry_run_changes_nothing(workbook, capsys):
    main(["demo"])
    from ecole_entreprise.config import load_settings
    from ecole_entreprise.store import build_store

    before = build_store(load_settings()).read()
    assert main(["purge", "--dry-run"]) == 0
    after = build_store(load_settings()).read()
    for tab in ("Entreprises", "Personnels", "Journal"):
        assert [r.fingerprint for r in after.rows(tab)] == [r.fingerprint for r in before.rows(tab)]
    assert capsys.readouterr().out.strip()
