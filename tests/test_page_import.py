"""Import page through Streamlit's AppTest: upload, suggested mapping, preview per line, import, anomalies."""

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import load_settings
from ecole_entreprise.services.census.imports import plus_one_month
from ecole_entreprise.store import shared_store

ROOT = Path(__file__).resolve().parents[1]
CPME = "coord.cpme21@exemple.fr"
DIJON = "coord.dijon@exemple.fr"
HEADERS = ["Société", "N° SIRET", "CP", "Ville", "Nom", "Prénom", "Mél du dirigeant"]


@pytest.fixture
def workbook(app_workbook):
    """This test's own copy of the demo workbook (tests/conftest.py)."""
    return app_workbook



def rows(tab="Entreprises"):
    return shared_store(load_settings()).read(fresh=True).rows(tab)


def open_import(monkeypatch, email=CPME) -> AppTest:
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", email)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/import.py")
    at.run()
    assert not at.exception, at.exception
    return at


def csv_file(lines) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(HEADERS)
    writer.writerows(lines)
    return out.getvalue().encode("utf-8")


def partner_list(existing_siret: str) -> bytes:
    return csv_file([
        ["Atelier Démo Import Un", "732 829 320 00074", "21000", "Dijon", "Import", "Alice", "alice@exemple-import.fr"],
        ["Garage Démo Import Deux", "", "71100", "Chalon-sur-Saône", "Import", "Bruno", "bruno@exemple-import.fr"],
        ["Fromagerie Démo Faute", "732 829 320 00075", "21000", "Dijon", "Faute", "Chloé", "chloe@exemple-import.fr"],
        ["Doublon Démo", existing_siret, "21000", "Dijon", "Double", "Denis", "denis@exemple-import.fr"],
    ])


def upload(at, data: bytes, name="liste-partenaire.csv") -> AppTest:
    at.file_uploader[0].set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.metric}


def mapping_select(at, column):
    return next(s for s in at.selectbox if s.label == column)


def test_preview_suggests_a_mapping_reports_each_line_and_imports_only_valid_ones(workbook, monkeypatch):
    existing = next(r for r in rows() if r["siret"] and r["departement"] == "21")
    before = len(rows())
    at = open_import(monkeypatch)
    assert at.radio(key="import_tab").options == ["Entreprises"]  # a CPME coordinator edits companies only
    upload(at, partner_list(existing["siret"]))

    assert mapping_select(at, "Société").value == "raison_sociale"
    assert mapping_select(at, "N° SIRET").value == "siret"
    assert mapping_select(at, "CP").value == "code_postal"
    # The e-mail column has an unusual title: required field missing until the person maps it.
    assert mapping_select(at, "Mél du dirigeant").value == ""
    assert any("Email du contact" in e for e in (x.value for x in at.error))
    mapping_select(at, "Mél du dirigeant").set_value("contact_email").run()

    assert metrics(at) == {"Lignes valides": "2", "Lignes en erreur": "1", "Doublons": "1"}
    preview = at.dataframe[0].value
    by_line = dict(zip(preview["Ligne"], preview["Statut"], strict=True))
    assert by_line == {2: "valide", 3: "valide", 4: "erreur", 5: "doublon"}
    reason = preview.loc[preview["Ligne"] == 4, "Motif"].iloc[0]
    assert "clé de contrôle" in reason
    assert existing.id in preview.loc[preview["Ligne"] == 5, "Motif"].iloc[0]
    assert not at.download_button  # the lines hold personal data: nothing is sent before it is journaled
    at.button(key="anomalies_before_prepare").click().run()
    [anomalies] = at.download_button
    assert anomalies.label == "Télécharger les 2 anomalie(s) (CSV)"
    [export] = [r for r in rows("Journal") if r["action"] == "export données personnelles"]
    assert "anomalies d'import" in export["details"]

    at.checkbox(key="third_party").check().run()
    at.button(key="run_import").click().run()
    assert not at.exception, at.exception
    names = ("Atelier Démo Import Un", "Garage Démo Import Deux")
    imported = [r for r in rows() if r["source"] == "import" and r["raison_sociale"] in names]
    assert len(rows()) == before + 2 and len(imported) == 2
    assert {r["informer_avant"] for r in imported} == {plus_one_month(date.today()).isoformat()}
    assert {r["commune"] for r in imported} == {"Dijon", "Chalon-sur-Saône"}
    assert any("2 fiche(s) importée(s)" in s.value for s in at.success)
    assert at.button(key="anomalies_after_prepare").label == "Préparer les 2 anomalie(s) (CSV)"


def test_an_import_is_not_written_twice(workbook, monkeypatch):
    at = open_import(monkeypatch)
    upload(at, partner_list("")[: partner_list("").index(b"Fromagerie")])  # the two good lines only
    mapping_select(at, "Mél du dirigeant").set_value("contact_email").run()
    before = len(rows())
    at.button(key="run_import").click().run()
    assert len(rows()) == before + 2
    at.run()  # the page again, same file: the outcome is shown, nothing is imported again
    assert len(rows()) == before + 2
    assert not any(b.key == "run_import" for b in at.button)
    at.button(key="import_again").click().run()
    assert len(at.file_uploader) == 1 and not at.dataframe  # a fresh uploader, no file


def test_a_file_that_is_not_a_table_gets_a_french_message(workbook, monkeypatch):
    at = open_import(monkeypatch, DIJON)
    assert at.radio(key="import_tab").options == ["Personnels"]
    upload(at, b"\xff\xfe\x00\x01garbage", name="liste.xlsx")
    assert any("ne peut pas être lu" in e.value for e in at.error)
    assert not at.dataframe


def test_a_salon_list_without_channel_takes_one_for_the_whole_file(workbook, monkeypatch):
    at = open_import(monkeypatch, DIJON)
    at.radio(key="import_tab").set_value("Personnels").run()
    data = ("Nom;Prénom;Fonction;Mail;CP;Ville\n"
            "Démo-Salon;Inès;CPE;ines.demo-salon@ac-dijon.fr;21000;Dijon\n").encode()
    upload(at, data, "salon-ree.csv")
    assert any("Canal de recrutement" in e.value for e in at.error)  # said before anything is imported
    [canal] = [s for s in at.selectbox if s.label == "Canal de recrutement (tout le fichier)"]
    canal.set_value("salon REE").run()
    assert not [e for e in at.error if "Canal de recrutement" in e.value]
    assert metrics(at)["Lignes valides"] == "1"
    at.button(key="run_import").click().run()
    [row] = [r for r in rows("Personnels") if r["nom"] == "Démo-Salon"]
    assert row["canal"] == "salon REE"


def test_an_import_the_sheet_stops_is_said_in_french_where_the_person_clicked(workbook, monkeypatch):
    from ecole_entreprise.store.base import Unreachable

    at = open_import(monkeypatch)
    upload(at, partner_list("")[: partner_list("").index(b"Fromagerie")])
    mapping_select(at, "Mél du dirigeant").set_value("contact_email").run()
    before = len(rows())
    store = shared_store(load_settings())

    def unreachable(tab, records):
        raise Unreachable("Le classeur est injoignable.")

    monkeypatch.setattr(store, "append", unreachable)
    at.button(key="run_import").click().run()
    assert not at.exception, at.exception
    assert any("injoignable" in e.value and "seconde fois" in e.value for e in at.error)
    assert any(b.key == "run_import" for b in at.button)  # the person may retry
    assert len(rows()) == before
