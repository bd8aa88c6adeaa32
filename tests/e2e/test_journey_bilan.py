"""Journey, as a member of the comité de pilotage would go: open the Bilan from the menu, pick last school year,
prepare the PDF and download it, then the tables (xlsx). The files are read back (pypdf, openpyxl)."""

from io import BytesIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.values import now_paris
from ecole_entreprise.services.bilan import compute as bilan
from ecole_entreprise.services.census.demo import demo_parameters, load_demo
from ecole_entreprise.store.workbook import WorkbookStore
from tests.e2e.conftest import settle

pytestmark = pytest.mark.browser


def demo_workbook(path) -> str:
    """The demo data in the workbook the server will open; returns the demo's previous school year."""
    store = WorkbookStore(default_schema(), path)
    store.init()
    load_demo(store)
    return bilan.previous_school_year(demo_parameters(now_paris().date())["annee_scolaire"])


def choose(page, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)  # the Bilan of that choice, not the one a pending rerun is about to replace


def test_comite_downloads_last_year_pdf(start_app, page, tmp_path):
    previous = demo_workbook(tmp_path / "classeur.xlsx")
    app = start_app(ECOLE_ENTREPRISE_DEV_USER="comite@exemple.fr")
    page.goto(app.url)
    page.get_by_role("heading", name="Accueil").wait_for()
    page.get_by_role("link", name="Bilan").click()
    page.get_by_role("heading", name="Bilan du programme").wait_for()
    page.get_by_text("De l'inscription au partenariat").wait_for()

    choose(page, "Année scolaire", previous)
    page.get_by_text(f"toute l'année scolaire {previous}").wait_for()
    assert "Conclusions des rencontres" not in page.inner_text("main")

    page.get_by_label("Commentaires").fill("Année de lancement : bilan encourageant.")
    page.get_by_role("button", name="Préparer le PDF").click()
    download_button = page.get_by_role("button", name="Télécharger le PDF")
    download_button.wait_for(timeout=90_000)
    with page.expect_download() as pdf_download:
        download_button.click()
    payload = tmp_path / "bilan.pdf"
    pdf_download.value.save_as(payload)
    assert pdf_download.value.suggested_filename == f"bilan-{previous}.pdf"
    data = payload.read_bytes()
    assert data.startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages)
    assert f"Bilan de l'année scolaire {previous}" in text
    assert "bilan encourageant" in text

    with page.expect_download() as xlsx_download:
        page.get_by_role("button", name="Télécharger les tableaux (xlsx)").click()
    assert xlsx_download.value.suggested_filename == f"bilan-{previous}.xlsx"
    tables = load_workbook(BytesIO(xlsx_download.value.path().read_bytes()), read_only=True)
    sheet = tables["À propos"]
    assert f"Année scolaire {previous}" in [row[0] for row in sheet.iter_rows(values_only=True)]
