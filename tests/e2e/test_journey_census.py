"""Journey 2, as new users would: coordinators record a company and a staff member, a typo is caught on the way,
and a bad row a person typed straight into the workbook shows up on the data-quality page."""

import csv
import io
import re

import openpyxl
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.store.workbook import WorkbookStore
from tests.e2e.conftest import open_first_row, settle

pytestmark = pytest.mark.browser

CPME = "coord.cpme21@exemple.fr"
DIJON = "coord.dijon@exemple.fr"
COMPANY = "Chaudronnerie Démo Parcours"
STAFF_NAME = "Démo-Parcours"
BAD_ROW_ID = "ENT-PARCOURS"
ONE_MATCH = re.compile(r"^1 fiche\(s\) sur \d+ ")


def count(path, tab, column, value) -> int:
    rows = WorkbookStore(default_schema(), path).read().rows(tab)
    return sum(1 for r in rows if r[column] == value)


def type_in(page, label, text) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Tab")  # Streamlit takes the value when the field loses focus


def choose(page, label, option, attempts: int = 3) -> None:
    """Open a selectbox and pick an option; a rerun triggered by the previous field may close the list, so the
    list is reopened a few times, as a person would."""
    for attempt in range(attempts):
        page.get_by_label(label, exact=True).click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            settle(page)  # the form as the choice redraws it
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")


def sign_in(page, app) -> None:
    """Open the app at its root first: a fresh server answers a deep link only once st.navigation has run."""
    page.goto(app.url)
    page.get_by_text("Connecté :").wait_for()


def new_record_tab(page, url) -> None:
    page.goto(url)
    page.get_by_role("tab", name="Nouvelle fiche").click()


def search(page, text) -> None:
    page.get_by_role("button", name="← Retour à la liste").click()
    type_in(page, "Rechercher", text)


def test_coordinators_record_a_company_and_a_staff_member_then_a_bad_row_shows_on_quality(
        workbook, start_app, page):
    app = start_app(ECOLE_ENTREPRISE_DEV_USER=CPME)
    assert app.workbook == workbook
    sign_in(page, app)

    # The CPME coordinator types a company with a mistyped SIRET.
    new_record_tab(page, app.url + "/entreprises")
    type_in(page, "Raison sociale *", COMPANY)
    type_in(page, "SIRET", "732 829 320 00075")
    type_in(page, "Code postal *", "21000")
    expect(page.get_by_label("Commune *", exact=True)).to_have_value("Dijon (21231)")  # from the postal code
    type_in(page, "Nom du contact *", "Parcours")
    type_in(page, "Prénom du contact *", "Agathe")
    type_in(page, "Email du contact *", "demo.agathe.parcours@exemple-parcours.fr")
    page.get_by_role("button", name="Créer la fiche").click()
    siret_column = page.locator('[data-testid="stColumn"]').filter(has=page.get_by_label("SIRET", exact=True))
    expect(siret_column).to_contain_text("clé de contrôle")  # the message sits right under the field
    page.get_by_text("La fiche n'a pas été enregistrée").wait_for()
    assert count(workbook, "Entreprises", "raison_sociale", COMPANY) == 0

    # …sees the message under the field, corrects the SIRET and saves.
    type_in(page, "SIRET", "732 829 320 00074")
    page.get_by_role("button", name="Créer la fiche").click()
    page.get_by_test_id("stAlertContentSuccess").get_by_text("enregistrée.").wait_for()
    assert count(workbook, "Entreprises", "raison_sociale", COMPANY) == 1
    search(page, "parcours")
    page.get_by_text(ONE_MATCH).wait_for()
    open_first_row(page)
    page.get_by_role("heading", name=re.compile(COMPANY)).wait_for()
    app.stop()

    # The académie coordinator adds a staff member (same workbook, another session of the app).
    app = start_app(ECOLE_ENTREPRISE_DEV_USER=DIJON)
    sign_in(page, app)
    new_record_tab(page, app.url + "/personnels")
    type_in(page, "Nom *", STAFF_NAME)
    type_in(page, "Prénom *", "Lucie")
    choose(page, "Fonction *", "CPE")
    choose(page, "Canal de recrutement *", "CLEE")
    type_in(page, "Code postal *", "21000")
    expect(page.get_by_label("Commune *", exact=True)).to_have_value("Dijon (21231)")
    type_in(page, "Email professionnel *", "demo.lucie.parcours@ac-dijon.fr")
    page.get_by_role("button", name="Créer la fiche").click()
    page.get_by_test_id("stAlertContentSuccess").get_by_text("enregistrée.").wait_for()
    assert count(workbook, "Personnels", "nom", STAFF_NAME) == 1
    search(page, STAFF_NAME)
    page.get_by_text(ONE_MATCH).wait_for()

    # The company is in the companies list too (read-only for this coordinator).
    page.goto(app.url + "/entreprises")
    type_in(page, "Rechercher", COMPANY)
    page.get_by_text(ONE_MATCH).wait_for()

    # Nothing to fix yet; then someone types a bad row straight into the workbook.
    page.goto(app.url + "/qualite")
    page.get_by_text("Aucune anomalie").wait_for()
    book = openpyxl.load_workbook(workbook)
    sheet = book["Entreprises"]
    headers = {cell.value: cell.column for cell in sheet[1]}
    row = sheet.max_row + 1
    typed = {"ID": BAD_ROW_ID, "Raison sociale": "Garage Démo Tapé À La Main", "SIRET": "1234",
             "Code postal": "21000", "Code INSEE commune": "21231", "Département": "21", "Nom du contact": "Main",
             "Prénom du contact": "Jean", "Email du contact": "jean.main-at-exemple.fr", "Statut": "validé"}
    for header, value in typed.items():
        sheet.cell(row, headers[header], value)
    book.save(workbook)

    page.get_by_role("button", name=re.compile("Relire les données")).click()
    page.get_by_text("anomalie(s) dont").wait_for()
    # The file holds personal data: it is journaled first, then offered.
    page.get_by_role("button", name="Préparer les anomalies (CSV)").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger les anomalies (CSV)").click()
    report = download.value.path().read_bytes().decode("utf-8-sig")
    lines = [line for line in csv.DictReader(io.StringIO(report), delimiter=";") if line["ID"] == BAD_ROW_ID]
    assert lines, report[:500]
    assert {line["Onglet"] for line in lines} == {"Entreprises"}
    flagged = " ".join(" ".join(line.values()) for line in lines)
    assert "SIRET" in flagged and "Email" in flagged
