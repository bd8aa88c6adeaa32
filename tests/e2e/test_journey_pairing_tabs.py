"""Issue 17, as a coordinator would: an action on the pairing page keeps the tab it was made from. « Retirer » in
« Plan global » leaves the coordinator on « Plan global » with the line gone; proposing from « Par personnel »
stays on « Par personnel »."""

import re

import pytest
from playwright.sync_api import expect

from ecole_entreprise.services.kernel.users import find_user
from ecole_entreprise.services.pairing import plan as pairing
from tests.e2e.test_journey_pairing import DIJON, choose, read, tick_until_enabled

pytestmark = pytest.mark.browser


def selected_tab(page, name):
    return page.get_by_role("tab", name=name, exact=True)


def open_tab(page, name) -> None:
    selected_tab(page, name).click()
    expect(selected_tab(page, name)).to_have_attribute("aria-selected", "true")


def test_pairing_tab_kept_after_retirer_and_after_proposing(workbook, start_app, page, tmp_path):
    snap = read(workbook)
    user = find_user(snap, DIJON)
    offer = pairing.choices(user, snap)
    plan_pairs = pairing.in_scope(user, snap, pairing.global_plan(snap).pairs)
    assert len(plan_pairs) >= 2
    dropped = offer.personnels.labels[plan_pairs[0].personnel_id]  # the line « Retirer une paire » opens on
    # someone further down the list than the default, with a suggestion to propose
    person = [pid for pid in offer.personnels.pairable if pairing.suggestions(user, snap, "Personnels", pid)][1]
    best = pairing.suggestions(user, snap, "Personnels", person)[0]
    before = {r.id for r in snap.rows("Rencontres")}
    app = start_app(ECOLE_ENTREPRISE_DEV_USER=DIJON)
    page.goto(app.url)
    page.get_by_text("Connecté :").wait_for()
    try:
        page.get_by_role("link", name="Appariement").click()
        page.get_by_role("heading", name="Appariement").wait_for()

        # « Plan global » → « Retirer »: still on « Plan global », one line fewer.
        open_tab(page, "Plan global")
        page.get_by_role("button", name="Calculer le plan optimal").click()
        propose_all = page.get_by_role("button", name=f"Proposer ces {len(plan_pairs)} rencontres")
        propose_all.wait_for()
        page.get_by_role("button", name="Retirer", exact=True).click()
        page.get_by_role("tabpanel").get_by_text(f"{dropped} retiré(e) du plan.", exact=True).wait_for()
        expect(selected_tab(page, "Plan global")).to_have_attribute("aria-selected", "true")
        expect(selected_tab(page, "Par entreprise")).to_have_attribute("aria-selected", "false")
        expect(page.get_by_role("button", name=f"Proposer ces {len(plan_pairs) - 1} rencontres")).to_be_visible()
        page.get_by_label("Retirer une paire", exact=True).click()
        page.keyboard.type(dropped[:20])  # the list shows what matches: never the dropped line
        expect(page.get_by_role("option", name=dropped, exact=True)).to_have_count(0)  # the line is gone
        page.keyboard.press("Escape")

        # « Par personnel » → propose: still on « Par personnel ».
        open_tab(page, "Par personnel")
        panel = page.get_by_role("tabpanel")
        choose(page, "Personnel", offer.personnels.labels[person])
        suggestion = panel.locator('[data-testid="stExpander"]').first
        expect(suggestion).to_contain_text(offer.entreprises.labels[best.entreprise_id])
        suggestion.locator("summary").click()
        tick_until_enabled(suggestion, "Je confirme la proposition de cette rencontre",
                           suggestion.get_by_role("button", name="Proposer cette rencontre"))
        suggestion.get_by_role("button", name="Proposer cette rencontre").click()
        panel.get_by_text(re.compile(r"^1 rencontre\(s\) proposée\(s\)")).wait_for()
        expect(selected_tab(page, "Par personnel")).to_have_attribute("aria-selected", "true")
        expect(selected_tab(page, "Par entreprise")).to_have_attribute("aria-selected", "false")
    finally:
        page.screenshot(path=str(tmp_path / "dernier-ecran.png"), full_page=True)
    [made] = [r for r in read(workbook).rows("Rencontres") if r.id not in before]
    assert (made["entreprise_id"], made["personnel_id"], made["statut"]) == (best.entreprise_id, person, "proposée")
