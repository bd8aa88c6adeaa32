"""Journey: the participants answer through their personal links, as they would from their mailbox. A coordinator
sends each party of a proposed meeting its link (real SMTP to an aiosmtpd sink); each party, signed out in its own
browser, opens the link read from the mail it received and accepts: the meeting is « acceptée ». Then the due
reminders are sent from the Rencontres page once, and neither the page nor the `remind` command sends them again."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.values import now_paris
from ecole_entreprise.store.workbook import WorkbookStore
from tests.e2e.conftest import PAGE_TIMEOUT_MS, open_first_row

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "admin@exemple.fr"
SECRET = "secret de test des liens personnels"
COMPANY = {"raison_sociale": "Fonderie Lumière", "code_postal": "21000", "commune_insee": "21231",
           "commune": "Dijon", "departement": "21", "contact_prenom": "Léa", "contact_nom": "Martin",
           "contact_email": "lea.martin@fonderie.test", "statut": "validé",
           "consentement_participation": "2025-10-01 09:00:00"}
STAFF = {"nom": "Durand", "prenom": "Paul", "fonction": "professeur", "uai": "0210015C",
         "etablissement": "Lycée Carnot", "code_postal": "21000", "commune_insee": "21231", "commune": "Dijon",
         "departement": "21",
         "email": "paul.durand@ac-dijon.test", "statut": "validé", "consentement_participation": "2025-10-01 09:00:00"}


class Sink:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sink():
    inbox = Sink()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def workbook(tmp_path):
    """An administrator, one company, one staff member and two proposed meetings: one new, one ten days old."""
    store = WorkbookStore(default_schema(), tmp_path / "classeur.xlsx")
    store.init()
    store.append("Utilisateurs", [{"email": ADMIN, "role": "admin", "nom": "Admin Démo", "actif": "oui"}])
    [company] = store.append("Entreprises", [COMPANY])
    [staff] = store.append("Personnels", [STAFF])
    pair = {"entreprise_id": company.id, "personnel_id": staff.id, "annee_scolaire": "2025-2026",
            "statut": "proposée"}
    [new, old] = store.append("Rencontres", [{**pair}, {**pair, "created_at": "2020-01-06 09:00:00"}])
    return store, new.id, old.id


@pytest.fixture
def home(tmp_path, sink):
    """A HOME whose ~/.streamlit/secrets.toml points [smtp] at the sink and holds the link secret."""
    _inbox, port = sink
    folder = tmp_path / "home"
    (folder / ".streamlit").mkdir(parents=True)
    (folder / ".streamlit" / "secrets.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nsender = "ecole-entreprise@exemple.fr"\n\n'
        f'[links]\nsecret = "{SECRET}"\npublic_url = "http://rencontres.exemple.fr"\n', encoding="utf-8")
    return folder


def link_of(message) -> str:
    return re.search(r"http://rencontres\.exemple\.fr/lien\?t=\S+", message.get_body().get_content()).group(0)


def on(app, url: str) -> str:
    """The mailed link on the server under test (the mail names the public address of the deployment)."""
    parts = urlsplit(url)
    return f"{app.url}{parts.path}?{parts.query}"


def status(store, meeting_id) -> str:
    return WorkbookStore(default_schema(), store.path).read().get("Rencontres", meeting_id)["statut"]


def sign_in(page, app) -> None:
    page.goto(app.url)
    page.get_by_label("Se connecter en tant que", exact=True).wait_for()
    page.get_by_role("button", name="Entrer", exact=True).click()
    page.get_by_text("Connecté :").wait_for()


def back_to_list(page) -> None:
    page.get_by_role("button", name="← Retour à la liste").click()
    page.get_by_label("Rechercher", exact=True).wait_for()


def open_meeting(page, meeting_id) -> None:
    """From the Rencontres list (reached by the menu when elsewhere), the meeting found by its ID."""
    field = page.get_by_label("Rechercher", exact=True)
    if not field.is_visible():
        page.get_by_role("link", name="Rencontres").click()
        field.wait_for()
    field.fill(meeting_id)
    field.press("Tab")
    # The list may still show the previous search's single line: wait for this search's rerun to be drawn.
    page.wait_for_url(re.compile(rf"f_query={re.escape(meeting_id)}"))
    page.get_by_text(re.compile(r"^1 rencontre\(s\) sur ")).wait_for()
    open_first_row(page)
    page.get_by_role("heading", name=re.compile("Fonderie Lumière")).wait_for()


def confirmed(page, text: str) -> None:
    """The confirmation in the page (its toast repeats it). Data in it are plain text: an address carries a word
    joiner that keeps it from becoming a link (pages/_plain.py), so the sentence is matched up to the address."""
    page.get_by_test_id("stMainBlockContainer").get_by_text(text).first.wait_for()


def test_both_parties_accept_by_their_links_and_a_reminder_goes_once(workbook, sink, home, start_app, browser, page,
                                                                      tmp_path):
    store, new_id, old_id = workbook
    inbox, _port = sink
    app = start_app(HOME=str(home))
    try:
        journey(store, new_id, old_id, inbox, app, browser, page, home)
    finally:
        page.screenshot(path=str(tmp_path / "dernier-ecran.png"), full_page=True)


def journey(store, new_id, old_id, inbox, app, browser, page, home) -> None:
    sign_in(page, app)
    open_meeting(page, new_id)
    page.get_by_role("button", name="Envoyer le lien « réponse rencontre » à l'entreprise et au personnel").click()
    confirmed(page, "Lien « réponse rencontre » envoyé à")
    assert sorted(m["To"] for m in inbox.messages) == ["lea.martin@fonderie.test", "paul.durand@ac-dijon.test"]

    # Each party, signed out in its own browser, opens the link from its own mail and accepts.
    for message, dates in zip(inbox.messages, ("Le mardi matin", ""), strict=True):
        context = browser.new_context(locale="fr-FR")
        party = context.new_page()
        party.set_default_timeout(PAGE_TIMEOUT_MS)
        party.goto(on(app, link_of(message)))
        party.get_by_role("heading", name="Rencontre proposée").wait_for()
        expect(party.get_by_text("Connecté :")).to_have_count(0)
        if dates:
            party.get_by_label("Dates ou créneaux qui vous conviendraient (facultatif)").fill(dates)
        party.get_by_role("button", name="J'accepte la rencontre").click()
        party.get_by_text(re.compile("votre acceptation est enregistrée")).wait_for()
        party.goto(on(app, link_of(message)))  # the same link again: spent
        party.get_by_text(re.compile("^Ce lien a déjà servi")).wait_for()
        expect(party.get_by_role("button")).to_have_count(0)
        context.close()
    assert status(store, new_id) == "acceptée"

    # Reminders: the old proposal is due for both sides; sent once from the page.
    back_to_list(page)
    page.get_by_role("button", name="Envoyer les relances dues (2)").click()
    confirmed(page, "2 relance(s) envoyée(s).")
    reminders = [m for m in inbox.messages if m["Subject"].startswith("Rappel")]
    assert sorted(m["To"] for m in reminders) == ["lea.martin@fonderie.test", "paul.durand@ac-dijon.test"]
    assert all(link_of(m) for m in reminders)  # each with its own link (link_of fails when there is none)
    expect(page.get_by_role("button", name=re.compile("^Envoyer les relances dues"))).to_have_count(0)

    # The command a timer runs finds nothing left to send.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLE_ENTREPRISE_")}
    env.update({"HOME": str(home), "ECOLE_ENTREPRISE_WORKBOOK": str(store.path)})
    done = subprocess.run([sys.executable, "-m", "ecole_entreprise", "remind"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "0 relance(s) envoyée(s)." in done.stdout
    assert len([m for m in inbox.messages if m["Subject"].startswith("Rappel")]) == 2
    actions = [r["action"] for r in WorkbookStore(default_schema(), store.path).read().rows("Journal")]
    assert actions.count("relance envoyée") == 2 and actions.count("lien utilisé") == 2


@pytest.fixture
def dated_workbook(tmp_path):
    """A meeting in five days, one held two days ago, and a company event its partner school is invited to."""
    store = WorkbookStore(default_schema(), tmp_path / "classeur.xlsx")
    store.init()
    store.append("Utilisateurs", [{"email": ADMIN, "role": "admin", "nom": "Admin Démo", "actif": "oui"}])
    [company] = store.append("Entreprises", [COMPANY])
    [staff] = store.append("Personnels", [STAFF])
    today = now_paris().date()
    planned = {"entreprise_id": company.id, "personnel_id": staff.id, "annee_scolaire": "2025-2026",
               "statut": "planifiée", "acceptation_entreprise": "2025-10-01 09:00:00",
               "acceptation_personnel": "2025-10-01 09:00:00", "heure": "12:30", "lieu": "Dijon",
               "format": "déjeuner", "visite": "aucune"}
    [ahead, held] = store.append("Rencontres", [{**planned, "date": (today + dt.timedelta(days=5)).isoformat()},
                                                {**planned, "date": (today - dt.timedelta(days=2)).isoformat()}])
    [partnership] = store.append("Partenariats", [{"uai": STAFF["uai"], "entreprise_id": company.id,
                                                   "types": "invitations mutuelles", "statut": "actif"}])
    [event] = store.append("Evenements", [{"titre": "Portes ouvertes de la fonderie", "organisateur": "entreprise",
                                           "entreprise_id": company.id, "partenariat_id": partnership.id,
                                           "date": (today + dt.timedelta(days=20)).isoformat(), "lieu": "Dijon"}])
    return store, ahead.id, held.id, event.id


def party_page(browser, app, message):
    context = browser.new_context(locale="fr-FR")
    party = context.new_page()
    party.set_default_timeout(PAGE_TIMEOUT_MS)
    party.goto(on(app, link_of(message)))
    return context, party


def test_expectations_conclusions_and_an_event_answer_by_the_parties(dated_workbook, sink, home, start_app, browser,
                                                                     page, tmp_path):
    store, ahead_id, held_id, event_id = dated_workbook
    inbox, _port = sink
    app = start_app(HOME=str(home))
    try:
        sign_in(page, app)
        before_and_after(store, ahead_id, held_id, inbox, app, browser, page)
        event_answer(store, event_id, inbox, app, browser, page)
    finally:
        page.screenshot(path=str(tmp_path / "dernier-ecran.png"), full_page=True)


def before_and_after(store, ahead_id, held_id, inbox, app, browser, page) -> None:
    open_meeting(page, ahead_id)
    page.get_by_role("button", name="Envoyer le lien « attendus » à l'entreprise et au personnel").click()
    confirmed(page, "Lien « attendus » envoyé à")
    for message in list(inbox.messages):
        context, party = party_page(browser, app, message)
        party.get_by_role("heading", name="Vos attendus avant la rencontre").wait_for()
        party.get_by_label("Ce que vous attendez de la rencontre, vos points de vigilance").fill(
            f"Attendus pour {message['To']}")
        party.get_by_role("button", name="Enregistrer mes attendus").click()
        party.get_by_text(re.compile("vos attendus sont enregistrés")).wait_for()
        context.close()
    ahead = WorkbookStore(default_schema(), store.path).read().get("Rencontres", ahead_id)
    assert (ahead["attendus_entreprise"], ahead["attendus_personnel"]) == (
        "Attendus pour lea.martin@fonderie.test", "Attendus pour paul.durand@ac-dijon.test")

    back_to_list(page)
    open_meeting(page, held_id)
    sent_before = len(inbox.messages)
    page.get_by_role("button", name="Envoyer le lien « conclusions » à l'entreprise et au personnel").click()
    confirmed(page, "Lien « conclusions » envoyé à")
    for message, score in zip(inbox.messages[sent_before:], ("5", "4"), strict=True):
        context, party = party_page(browser, app, message)
        party.get_by_role("heading", name="Vos conclusions après la rencontre").wait_for()
        party.get_by_label("Vos conclusions sur la rencontre").fill("Une rencontre utile, à refaire.")
        party.get_by_role("radiogroup", name=re.compile("^Satisfaction")).get_by_text(score, exact=True).click()
        party.get_by_role("radiogroup", name=re.compile("mieux comprendre")).get_by_text("4", exact=True).click()
        party.get_by_role("radiogroup", name=re.compile("^Recommanderiez")).get_by_text("Oui", exact=True).click()
        party.get_by_label("Suite envisagée").click()
        party.get_by_role("option", name="invitation", exact=True).click()
        party.keyboard.press("Escape")
        party.get_by_role("button", name="Enregistrer mes conclusions").click()
        party.get_by_text(re.compile("vos conclusions et vos réponses au questionnaire sont enregistrées")).wait_for()
        context.close()
    held = WorkbookStore(default_schema(), store.path).read().get("Rencontres", held_id)
    assert (held["statut"], held["satisfaction_entreprise"], held["satisfaction_personnel"],
            held["suite_envisagee"]) == ("bilan saisi", "5", "4", "invitation")


def event_answer(store, event_id, inbox, app, browser, page) -> None:
    page.get_by_role("link", name="Partenariats").click()
    page.get_by_role("tab", name="Événements").click()
    page.get_by_text("Inviter par lien personnel et suivre les réponses").click()
    page.get_by_text("Réponses : 0 vient / viennent, 0 ne vient pas, 0 sans réponse.").wait_for()
    sent_before = len(inbox.messages)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    confirmed(page, "Lien « réponse événement » envoyé à")
    [message] = inbox.messages[sent_before:]
    context, party = party_page(browser, app, message)
    party.get_by_role("heading", name="Invitation à un temps fort").wait_for()
    party.get_by_role("button", name="Je viens").click()
    party.get_by_text("Merci, nous comptons sur votre venue.").wait_for()
    context.close()
    answers = [r["reponse"] for r in WorkbookStore(default_schema(), store.path).read().rows("Liens")
               if r["cible_id"] == event_id]
    assert answers == ["vient"]
    page.get_by_role("button", name=re.compile("Relire les données")).click()  # past the read cache
    page.get_by_role("tab", name="Événements").click()
    expect(page.get_by_text("Réponses : 1 vient / viennent, 0 ne vient pas, 0 sans réponse.")).to_be_attached()


def test_a_self_registration_is_confirmed_by_the_link_in_its_mail(tmp_path, sink, home, start_app, page):
    """Double opt-in: a company registers on the public form, receives the confirmation link and confirms."""
    store = WorkbookStore(default_schema(), tmp_path / "classeur.xlsx")
    store.init()
    inbox, _port = sink
    app = start_app(HOME=str(home))
    try:
        page.goto(app.url)
        page.get_by_role("link", name="Inscription entreprise").click()
        page.get_by_role("heading", name="Inscription entreprise").wait_for()
        for label, text in (("Raison sociale *", "Verrerie des Combes"), ("Code postal *", "39000"),
                            ("Nom du contact *", "Roux"), ("Prénom du contact *", "Anne"),
                            ("Email du contact *", "anne.roux@verrerie-combes.fr")):
            field = page.get_by_label(label, exact=True)
            field.fill(text)
            field.press("Tab")
        page.get_by_text(re.compile("^J'accepte de participer au programme")).click()
        page.get_by_role("button", name="Envoyer mon inscription").click()
        page.get_by_text(re.compile("ouvrez le lien qu'il contient pour confirmer")).wait_for()
        [message] = inbox.messages
        assert message["To"] == "anne.roux@verrerie-combes.fr" and message["Subject"] == "Confirmez votre inscription"
        page.goto(on(app, link_of(message)))
        page.get_by_role("heading", name="Confirmez votre inscription").wait_for()
        expect(page.get_by_text("Verrerie des Combes")).to_have_count(0)  # the link shows no data
        page.get_by_role("button", name="Je confirme mon inscription").click()
        page.get_by_text(re.compile("votre inscription est confirmée")).wait_for()
        snapshot = WorkbookStore(default_schema(), store.path).read()
        [company] = snapshot.rows("Entreprises")
        assert company["statut"] == "à valider"
        assert [(r["objet"], r["cible_id"], r["reponse"]) for r in snapshot.rows("Liens")
                if r["objet"] == "confirmation inscription"] == [("confirmation inscription", company.id, "confirmée")]
    finally:
        page.screenshot(path=str(tmp_path / "dernier-ecran.png"), full_page=True)
