"""Journey, as an administrator would go: on Partenariats, open the Événements tab, create an event — the page stays
on that tab with the confirmation under the form (issue 17: it used to jump back to the first tab), and a reload
of the page opens that tab again (the tab is kept in the URL)."""

import datetime as dt

import pytest

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.store.workbook import WorkbookStore

pytestmark = pytest.mark.browser


def test_creating_an_event_stays_on_the_events_tab(start_app, page, workbook):
    app = start_app(ECOLE_ENTREPRISE_DEV_USER="admin@exemple.fr")
    page.goto(app.url)
    page.get_by_role("heading", name="Accueil").wait_for()
    page.get_by_role("link", name="Partenariats").click()
    page.get_by_role("heading", name="Partenariats").wait_for()
    events_tab = page.get_by_role("tab", name="Événements")
    events_tab.click()
    page.wait_for_url("**onglet=*")
    form = page.get_by_test_id("stExpander").filter(has_text="Nouvel événement")
    form.get_by_text("Nouvel événement").click()
    form.get_by_label("Titre *").fill("Forum des métiers du Parcours")
    form.get_by_role("combobox", name="Partenariat").click()
    page.get_by_role("option").nth(1).click()  # the first partnership (the option before it is « aucun »)
    day = dt.date.today() + dt.timedelta(days=30)
    form.get_by_label("Date *", exact=True).get_by_role("spinbutton").first.click()  # day / month / year segments
    page.keyboard.type(f"{day:%d%m%Y}")
    page.keyboard.press("Tab")
    before = {r.id for r in WorkbookStore(default_schema(), workbook).read().rows("Evenements")}
    form.get_by_role("button", name="Créer l'événement").click()
    page.get_by_text("Événement EVT-").first.wait_for()
    [made] = [r for r in WorkbookStore(default_schema(), workbook).read().rows("Evenements") if r.id not in before]
    assert made["titre"] == "Forum des métiers du Parcours" and made["date"] == day.isoformat()
    assert events_tab.get_attribute("aria-selected") == "true"  # still on the tab where the person acted
    assert page.get_by_role("tab", name="Partenariats", exact=True).get_attribute("aria-selected") == "false"
    page.reload()
    page.get_by_role("heading", name="Partenariats").wait_for()
    page.get_by_role("tab", name="Événements").wait_for()
    assert page.get_by_role("tab", name="Événements").get_attribute("aria-selected") == "true"
