"""Journey 3, as a new user would: an académie coordinator proposes a pair from the suggestions, records the
staff member's acceptance (the CPME coordinator records the company's), plans the meeting (on a day already past,
so it can be marked held), marks it held, enters the staff member's conclusions and creates a partnership from the
meeting."""

import datetime as dt
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.values import now_paris
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.users import find_user
from ecole_entreprise.services.meetings import lifecycle as meetings
from ecole_entreprise.services.pairing import plan as pairing
from ecole_entreprise.store.workbook import WorkbookStore
from tests.e2e.conftest import open_first_row, settle

pytestmark = pytest.mark.browser

DIJON = "coord.dijon@exemple.fr"
CPME = "coord.cpme21@exemple.fr"
CONCLUSIONS = "Visite de l'atelier très riche : nous accueillerons une classe au printemps."


def read(path):
    return WorkbookStore(default_schema(), path).read()


def best_pair(path):
    """A company with a suggestion this coordinator may propose, and that suggestion (the first one shown); the
    company is one the demo's CPME coordinator covers, so that they can record its acceptance."""
    snap = read(path)
    user, cpme = find_user(snap, DIJON), find_user(snap, CPME)
    for company in snap.rows("Entreprises"):
        if not cpme.covers(access.person_departement(company)):
            continue
        found = [p for p in pairing.suggestions_for_entreprise(snap, company.id)
                 if access.row_in_scope(user, "Rencontres", {"entreprise_id": p.entreprise_id,
                                                             "personnel_id": p.personnel_id}, snap)]
        if found and snap.get("Personnels", found[0].personnel_id)["uai"]:  # a school for the partnership
            return company, found[0]
    raise AssertionError("the demo data should offer this coordinator a pair")


def choose(page, label, option, attempts: int = 3) -> None:
    """Open a selectbox, type to filter, pick the option; a rerun may close the list, so retry as a person would."""
    for attempt in range(attempts):
        page.get_by_label(label, exact=True).click()
        page.keyboard.type(option[:20])
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=5_000)
            settle(page)  # the page the choice leads to, not the one a pending rerun is about to replace
            return
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")


def tick_until_enabled(container, label, button, attempts: int = 3) -> None:
    """Tick a confirmation box; a click landing while the expander still moves is lost, so look and retry."""
    for attempt in range(attempts):
        settle(container.page)  # while a rerun draws the expander, its old and new boxes are both in the page
        if not container.get_by_role("checkbox", name=label).is_checked():
            container.get_by_text(label).click()
        try:
            expect(button).to_be_enabled(timeout=5_000)
            return
        except AssertionError:
            if attempt == attempts - 1:
                raise


def type_in(page, label, text) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Tab")


def type_segments(page, label, digits: str) -> None:
    """Date and time fields are made of segments (day / month / year, hour : minute): type from the first one."""
    page.get_by_label(label, exact=True).get_by_role("spinbutton").first.click()
    page.keyboard.type(digits)
    page.keyboard.press("Tab")


def click_and_wait(page, button, message) -> None:
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_test_id("stMainBlockContainer").get_by_text(message, exact=True).wait_for()  # not its toast copy


def meeting(path, meeting_id):
    return read(path).get("Rencontres", meeting_id)


def test_from_suggestion_to_partnership(workbook, start_app, page, tmp_path):
    company, pair = best_pair(workbook)
    staff = read(workbook).get("Personnels", pair.personnel_id)
    before = {r.id for r in read(workbook).rows("Rencontres")}
    app = start_app(ECOLE_ENTREPRISE_DEV_USER=DIJON)
    page.goto(app.url)
    page.get_by_text("Connecté :").wait_for()
    try:
        journey(page, app, workbook, company, pair, staff, before)
    finally:
        page.screenshot(path=str(tmp_path / "dernier-ecran.png"), full_page=True)


def journey(page, app, workbook, company, pair, staff, before) -> None:
    # Suggestions for the company: the best one is proposed after the confirmation box is ticked.
    page.get_by_role("link", name="Appariement").click()
    page.get_by_role("heading", name="Appariement").wait_for()
    choose(page, "Entreprise", f"{company['raison_sociale']} ({company['commune']})")
    best = page.locator('[data-testid="stExpander"]').first
    expect(best).to_contain_text(f"{staff['prenom']} {staff['nom']}")
    best.locator("summary").click()
    tick_until_enabled(best, "Je confirme la proposition de cette rencontre",
                       best.get_by_role("button", name="Proposer cette rencontre"))
    best.get_by_role("button", name="Proposer cette rencontre").click()
    page.get_by_test_id("stMainBlockContainer").get_by_text(re.compile(r"^1 rencontre\(s\) proposée\(s\)")).wait_for()
    [meeting_id] = [r.id for r in read(workbook).rows("Rencontres") if r.id not in before]
    assert (meeting(workbook, meeting_id)["entreprise_id"], meeting(workbook, meeting_id)["personnel_id"]) == (
        company.id, staff.id)

    # The meeting is in the Rencontres list; the coordinator finds it and opens it.
    page.get_by_role("link", name="Rencontres").click()
    page.get_by_role("heading", name="Rencontres").wait_for()
    type_in(page, "Rechercher", f"{company['raison_sociale']} {staff['prenom']} {staff['nom']}")
    page.get_by_text(re.compile(r"^1 rencontre\(s\) sur ")).wait_for()
    open_first_row(page)
    page.get_by_role("heading", name=re.compile(re.escape(company["raison_sociale"]))).wait_for()

    # Both sides said yes, each recorded by its own coordinator: the company's button is not hers.
    expect(page.get_by_role("button", name="Enregistrer l'acceptation de l'entreprise", exact=True)).to_be_disabled()
    click_and_wait(page, "Enregistrer l'acceptation du personnel", "Acceptation enregistrée.")
    assert meeting(workbook, meeting_id)["statut"] == "proposée"
    store = WorkbookStore(default_schema(), workbook)  # the CPME coordinator, in their own session
    meetings.accept(store, store.read(), find_user(store.read(), CPME), meeting_id, "entreprise")
    assert meeting(workbook, meeting_id)["statut"] == "acceptée"
    page.wait_for_timeout(2_500)  # the app's read cache lasts 2 s in these journeys
    page.reload()
    page.get_by_text(re.compile(r"^Acceptée par l'entreprise le ")).wait_for()

    # Planned on a day already past (the meeting took place), then marked held.
    day = now_paris().date() - dt.timedelta(days=2)
    type_segments(page, "Date *", day.strftime("%d%m%Y"))
    type_segments(page, "Heure *", "1230")
    type_in(page, "Lieu *", "Restaurant Le Parcours, Dijon")
    page.get_by_label("Format *", exact=True).click()
    page.get_by_role("option", name="déjeuner", exact=True).click()
    click_and_wait(page, "Planifier", "Rencontre planifiée.")
    planned = meeting(workbook, meeting_id)
    assert (planned["statut"], planned["date"], planned["heure"], planned["format"]) == (
        "planifiée", day.isoformat(), "12:30", "déjeuner")
    click_and_wait(page, "Marquer la rencontre comme réalisée", "Rencontre réalisée.")
    assert meeting(workbook, meeting_id)["statut"] == "réalisée"

    # The staff member's conclusions and questionnaire.
    page.get_by_label("Conclusions *", exact=True).fill(CONCLUSIONS)
    page.get_by_role("radiogroup", name=re.compile("^Satisfaction")).get_by_text("5", exact=True).click()
    page.get_by_role("radiogroup", name=re.compile("comprends mieux le monde")).get_by_text("4", exact=True).click()
    page.get_by_role("radiogroup", name=re.compile("^Recommanderait")).get_by_text("oui", exact=True).click()
    page.get_by_label("Suite envisagée *", exact=True).click()
    page.get_by_role("option", name="partenariat", exact=True).click()
    page.keyboard.press("Escape")
    click_and_wait(page, "Enregistrer le bilan du personnel", "Bilan enregistré.")
    reviewed = meeting(workbook, meeting_id)
    assert (reviewed["statut"], reviewed["conclusions_personnel"], reviewed["satisfaction_personnel"],
            reviewed["comprehension_personnel"], reviewed["recommande_personnel"], reviewed["suite_envisagee"]) == (
        "bilan saisi", CONCLUSIONS, "5", "4", "oui", "partenariat")

    # A partnership is born from the meeting.
    page.get_by_role("link", name="Créer un partenariat").click()
    page.get_by_role("heading", name="Partenariats").wait_for()
    expect(page.get_by_label("Rencontre réalisée *", exact=True)).to_have_value(re.compile(meeting_id))
    page.get_by_label("Types de partenariat *", exact=True).click()
    page.get_by_role("option", name="invitations mutuelles", exact=True).click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Créer le partenariat", exact=True).click()
    page.get_by_test_id("stMainBlockContainer").get_by_text(re.compile(r"^Partenariat PAR-\w+ créé\.$")).wait_for()
    [made] = [p for p in read(workbook).rows("Partenariats") if p["rencontre_id"] == meeting_id]
    assert (made["entreprise_id"], made["uai"], made["types"]) == (company.id, staff["uai"],
                                                                   "invitations mutuelles")
