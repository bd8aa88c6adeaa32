"""Journey 1, as a new user would: the app opens on the embedded default, the demo data loads, home shows counts."""

import pytest

pytestmark = pytest.mark.browser


def test_first_run_loads_demo_and_shows_counts(start_app, page):
    app = start_app()
    page.goto(app.url)
    page.get_by_text("Mode local — identité de démonstration").wait_for()
    page.get_by_text("Aucun utilisateur n'est encore enregistré.").wait_for()
    assert app.workbook.exists(), "the local workbook is created on first run"

    page.get_by_role("button", name="Charger les données de démonstration").click()
    page.get_by_text("Se connecter en tant que").wait_for(timeout=90_000)
    page.get_by_role("button", name="Entrer").click()

    page.get_by_role("heading", name="Accueil").wait_for()
    page.get_by_text("Données : classeur local").wait_for()
    page.locator('[data-testid="stMetricValue"]').first.wait_for()
    page.screenshot(path=str(app.workbook.parent / "accueil.png"), full_page=True)
    body = page.inner_text("main")
    assert "Entreprises" in body and "Volontaires" in body
    tiles = [t.replace("\u202f", "").replace("\xa0", "").strip()
             for t in page.locator('[data-testid="stMetricValue"]').all_inner_texts()]
    assert tiles and all(tiles)
    assert any(t.isdigit() and int(t) > 0 for t in tiles), tiles
