"""In a real browser, text from the data shows as typed: no link, image or bold comes from it, and the tracking
pixel of a company name is never fetched (the staff member's address and time would leak to its owner)."""

import re

import pytest

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.store.workbook import WorkbookStore
from tests.test_plain_text_pages import write_payloads

pytestmark = pytest.mark.browser

ADMIN = "admin@exemple.fr"
PIXEL_HOST = "127.0.0.1:9"


@pytest.fixture
def workbook(workbook):
    """The demo workbook (tests/e2e/conftest.py) with the hostile payloads in every free-text cell."""
    write_payloads(workbook)
    return workbook


def first_id(path, tab: str, **where) -> str:
    rows = WorkbookStore(default_schema(), path).read().rows(tab)
    return next(r.id for r in rows if all(r[k] == v for k, v in where.items()))


def markup_from_data(page) -> dict[str, int]:
    """Elements the payloads would have produced if read as Markdown or HTML."""
    return {
        "links": page.locator(f'a[href*="{PIXEL_HOST}"], a[href^="mailto:a@b.fr"], a[href*="www.exemple.fr"]').count(),
        "images": page.locator(f'img[src="x"], img[src*="{PIXEL_HOST}"]').count(),
        "bold": page.locator("strong", has_text=re.compile(r"^gras$")).count(),
        "emphasis": page.locator("em", has_text=re.compile(r"^it$")).count(),
        "code": page.locator("code", has_text=re.compile(r"^code$")).count(),
        "colour": page.locator("span", has_text=re.compile(r"^rouge$")).count(),
        "math": page.locator(".katex").count(),
    }


def test_data_shows_as_typed_in_the_browser(workbook, start_app, page):
    fetched = []
    page.on("request", lambda request: fetched.append(request.url) if PIXEL_HOST in request.url else None)
    app = start_app(ECOLE_ENTREPRISE_DEV_USER=ADMIN)
    page.goto(app.url)
    page.get_by_text("Connecté :").wait_for()
    company = first_id(workbook, "Entreprises", statut="à valider")
    meeting = first_id(workbook, "Rencontres", statut="bilan saisi")  # conclusions, reasons, place
    for path in (f"/entreprises?id={company}", f"/rencontres?id={meeting}", "/calendrier", "/confidentialite"):
        page.goto(app.url + path)
        page.get_by_text("**gras**").first.wait_for()  # the payload is on the page, literally
        page.wait_for_timeout(500)  # let every element of the run draw
        found = markup_from_data(page)
        assert not any(found.values()), (path, found)
    assert fetched == []
