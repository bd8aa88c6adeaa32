"""Issue 17: a local sign-in survives a reload, a record link opened signed out lands on its record once signed
in, and the menu never lists the raw file names of pages/, not even while a fresh server discovers them."""

import re

import pytest

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.store.workbook import WorkbookStore

pytestmark = pytest.mark.browser

ADMIN_LABEL = "Administratrice Démo"
# The titles Streamlit gives the files of pages/ and the entry point when it lists them by itself.
RAW_NAMES = re.compile(r"\b(streamlit app|shell|shared|census|plain|liens)\b", re.IGNORECASE)
# Every text the sidebar shows, from the first paint on: a flash of a few milliseconds is recorded too.
RECORD_SIDEBAR = """
window.__sidebarTexts = new Set();
new MutationObserver(() => {
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  if (sidebar) {
    window.__sidebarTexts.add(sidebar.innerText);
    sidebar.querySelectorAll("a").forEach((link) => window.__sidebarTexts.add(link.innerText));
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""


def first_meeting(workbook) -> str:
    return WorkbookStore(default_schema(), workbook).read().rows("Rencontres")[0].id


def sidebar_texts(page) -> list[str]:
    return page.evaluate("Array.from(window.__sidebarTexts)")


def test_a_record_link_opened_signed_out_lands_on_its_record_and_survives_a_reload(workbook, start_app, page):
    meeting_id = first_meeting(workbook)
    app = start_app()  # loopback, no ECOLE_ENTREPRISE_DEV_USER: the identity chooser
    page.goto(f"{app.url}/rencontres?id={meeting_id}")  # the very first page of a freshly started server
    page.get_by_text("Se connecter en tant que").wait_for()
    assert "/rencontres?id=" in page.url
    page.get_by_role("button", name="Entrer").click()

    record = page.get_by_text(f"{meeting_id} — année scolaire")
    record.wait_for()
    page.get_by_text(f"Connecté : {ADMIN_LABEL}").wait_for()
    assert page.url.endswith(f"/rencontres?id={meeting_id}")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["ee_session"]["sameSite"] == "Strict" and cookies["ee_session"]["path"] == "/"

    page.reload()
    record.wait_for()
    page.get_by_text(f"Connecté : {ADMIN_LABEL}").wait_for()
    assert page.get_by_text("Se connecter en tant que").count() == 0
    assert page.get_by_text("Page not found").count() == 0

    page.get_by_role("button", name="Se déconnecter").click()
    page.get_by_text("Se connecter en tant que").wait_for()
    page.wait_for_function("!document.cookie.includes('ee_session=')")
    page.reload()
    page.get_by_text("Se connecter en tant que").wait_for()
    assert page.get_by_text(f"Connecté : {ADMIN_LABEL}").count() == 0

    page.goto(f"{app.url}/journal?filtre=1")  # the server is warm now: the shell's own addresses answer
    page.get_by_text("Se connecter en tant que").wait_for()
    assert page.url.endswith("/journal?filtre=1") and page.get_by_text("Page not found").count() == 0
    page.get_by_role("button", name="Entrer").click()
    page.get_by_role("heading", name="Journal").wait_for()
    assert page.url.endswith("/journal?filtre=1")


def test_the_menu_never_lists_raw_file_names(workbook, start_app, page):
    app = start_app()
    page.add_init_script(RECORD_SIDEBAR)
    page.goto(app.url)  # the first session of a fresh server: the one during which Streamlit discovers pages/
    page.get_by_role("link", name="Inscription entreprise").wait_for()
    page.get_by_role("button", name="Entrer").click()
    page.get_by_role("link", name="Appariement").wait_for()
    page.get_by_role("heading", name="Accueil").wait_for()
    seen = sidebar_texts(page)
    assert any("Appariement" in text for text in seen)
    assert not [text for text in seen if RAW_NAMES.search(text)], seen


def test_an_unknown_address_says_so_in_french_signed_out_and_signed_in(workbook, start_app, page):
    app = start_app()
    page.goto(app.url)  # the first run of a fresh server discovers the pages
    page.get_by_role("button", name="Entrer").wait_for()
    for when in ("signed out", "signed in"):
        page.goto(f"{app.url}/ancienne-page?id=REN-XXXX")
        page.get_by_role("heading", name="Page introuvable").wait_for()
        page.get_by_text(re.compile("^Cette adresse ne correspond à aucune page")).wait_for()
        assert page.get_by_text("Page not found").count() == 0, when
        assert page.get_by_role("dialog").count() == 0, when
        if when == "signed out":
            page.goto(app.url)
            page.get_by_role("button", name="Entrer").click()
            page.get_by_role("heading", name="Accueil").wait_for()
    page.get_by_role("link", name="Rencontres").click()  # the menu still leads to the pages
    page.get_by_label("Rechercher", exact=True).wait_for()
