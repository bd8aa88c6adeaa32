"""Acceptance test of the GDPR issue: for every role × page, what the session receives holds no contact value
(nor free text) of a person that role may not see.

The workbook holds planted people with distinctive ASCII "canary" values, written *before* the demo data so that
they sit on the first page of every list, then the demo. Each page is run with AppTest as each demo user, and
everything the browser would receive is collected: every element's protobuf (Arrow tables decoded), and the
content of every file offered for download (zip, xlsx and PDF opened). The expected visibility is written here
from the rules, independently of services/access.py:
- admin sees everything;
- a coordinator sees contacts and free texts of their own side (académie: staff, CPME: companies) in their
  départements only; the other side's contacts only through a journaled disclosure (an explicit click);
- the comité de pilotage sees no identity, no contact, no free text.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import load_settings
from ecole_entreprise.domain.roles import User, parse_scope
from ecole_entreprise.domain.schema import default_schema
from ecole_entreprise.domain.values import format_date, school_year_of
from ecole_entreprise.services.census.demo import USERS, load_demo
from ecole_entreprise.services.kernel import access
from ecole_entreprise.store import shared_store
from ecole_entreprise.store.workbook import WorkbookStore
from pages._shell import PAGES
from tests.support.sent import RecordingStorage, everything_sent, leaked, record_media  # noqa: F401 (autouse fixture)

ROOT = Path(__file__).resolve().parents[1]
TODAY = date.today()
YEAR = school_year_of(TODAY)
BOTH_CONSENTS = {"consentement_participation": "2026-09-15 10:00:00", "consentement_partage": "2026-09-15 10:00:00",
                 "consentement_version": "2025-09", "consentement_source": "coordinateur"}
ACCEPTED = {"acceptation_entreprise": "2026-10-01 09:00:00", "acceptation_personnel": "2026-10-02 09:00:00"}


@dataclass(frozen=True)
class Planted:
    """One planted person: side ("entreprise"/"personnel"), département, and their canaries by kind."""

    tag: str
    side: str
    dep: str
    identity: tuple[str, ...]
    contact: tuple[str, ...]  # e-mails and phone numbers
    free_text: tuple[str, ...]
    record: dict[str, str] = field(default_factory=dict, compare=False)


def _company(tag: str, dep: str, insee: str, commune: str, phone: str, consents: dict) -> Planted:
    values = {"id": f"ENT-CANARI{tag.upper().replace('-', '')}", "raison_sociale": f"Canari Entreprise {tag}",
              "code_postal": f"{dep}000", "commune_insee": insee, "commune": commune, "departement": dep,
              "contact_civilite": "Mme", "contact_nom": f"Canarinom-ent-{tag}", "contact_prenom": "Cecile",
              "contact_email": f"canari-ent-{tag}@exemple.fr", "contact_telephone": phone,
              "attendus": f"canari-ent-{tag}-attendus", "notes": f"canari-ent-{tag}-notes", "statut": "validé",
              "formats": "déjeuner", "thematiques": "management", **consents}
    return Planted(tag, "entreprise", dep, (values["contact_nom"],),
                   (values["contact_email"], phone), (values["attendus"], values["notes"]), values)


def _staff(tag: str, dep: str, insee: str, commune: str, academie: str, phone: str, consents: dict) -> Planted:
    values = {"id": f"PER-CANARI{tag.upper().replace('-', '')}", "civilite": "M.", "nom": f"Canarinom-per-{tag}",
              "prenom": "Paul", "fonction": "professeur", "etablissement": "Lycée Canari", "code_postal": f"{dep}000",
              "commune_insee": insee, "commune": commune, "departement": dep, "academie": academie,
              "email": f"canari-per-{tag}@ac-exemple.fr", "telephone": phone, "canal": "CLEE",
              "attendus": f"canari-per-{tag}-attendus", "notes": f"canari-per-{tag}-notes", "statut": "validé",
              "formats": "déjeuner", "thematiques": "management", **consents}
    return Planted(tag, "personnel", dep, (values["nom"],), (values["email"], phone),
                   (values["attendus"], values["notes"]), values)


ONLY_PARTICIPATION = {"consentement_participation": "2026-09-15 10:00:00", "consentement_version": "2025-09",
                      "consentement_source": "coordinateur"}
# "ok": both consents, in an eligible meeting; "ko": no sharing consent, in a proposed meeting; "25": out of the
# Dijon / CPME 21 scopes (Doubs, académie de Besançon).
ENT_OK = _company("ok", "21", "21231", "Dijon", "+33399000011", BOTH_CONSENTS)
ENT_KO = _company("ko", "21", "21231", "Dijon", "+33399000021", ONLY_PARTICIPATION)
ENT_25 = _company("25", "25", "25056", "Besançon", "+33399000031", BOTH_CONSENTS)
PER_OK = _staff("ok", "21", "21231", "Dijon", "Dijon", "+33399000012", BOTH_CONSENTS)
PER_KO = _staff("ko", "21", "21231", "Dijon", "Dijon", "+33399000022", ONLY_PARTICIPATION)
PER_25 = _staff("25", "25", "25056", "Besançon", "Besançon", "+33399000032", BOTH_CONSENTS)
PEOPLE = (ENT_OK, ENT_KO, ENT_25, PER_OK, PER_KO, PER_25)


def _meeting(row_id: str, ent: Planted, per: Planted, statut: str, texts: tuple[str, ...], **extra) -> dict:
    return {"id": row_id, "entreprise_id": ent.record["id"], "personnel_id": per.record["id"],
            "annee_scolaire": YEAR, "statut": statut,
            **{f"{kind}_{side}": f"canari-{row_id.lower()}-{kind}-{side}"
               for kind in texts for side in ("entreprise", "personnel")}, **extra}


# Eligible for disclosure (both consents, accepted by both sides); not eligible (proposed, no sharing consent);
# done, with conclusions (the outcome form and the bilan read them).
MEETING_OK = _meeting("REN-CANARIOK", ENT_OK, PER_OK, "acceptée", ("attendus",), **ACCEPTED)
MEETING_KO = _meeting("REN-CANARIKO", ENT_KO, PER_KO, "proposée", ("attendus",))
MEETING_DONE = _meeting("REN-CANARIDONE", ENT_KO, PER_OK, "réalisée", ("attendus", "conclusions"), **ACCEPTED,
                        date=format_date(TODAY - timedelta(days=3)))
MEETINGS = (MEETING_OK, MEETING_KO, MEETING_DONE)


def meeting_texts(meeting: dict, side: str) -> list[str]:
    """The free texts a meeting holds for one side (they belong to that side's person)."""
    return [v for k, v in meeting.items() if k.endswith("_" + side) and v.startswith("canari-")]


# ---- the oracle -------------------------------------------------------------------------------------------

DEMO_USERS = {email: User(email=email, role=role, nom=name, departements=parse_scope(scope))
              for email, name, role, scope in USERS}


def own_side_of(user: User) -> str:
    return {"coordinateur académie": "personnel", "coordinateur CPME": "entreprise"}.get(user.role, "")


def own_side(user: User, side: str, dep: str) -> bool:
    """Contacts and free texts: admin, or the coordinator of that side covering that département."""
    return user.role == "admin" or (own_side_of(user) == side and dep in user.departements)


def forbidden_for(user: User) -> list[str]:
    """Every canary value this user must never receive from a page rendered without a disclosure click."""
    values: list[str] = []
    for person in PEOPLE:
        if not own_side(user, person.side, person.dep):
            values += [*person.contact, *person.free_text]
        if user.role == "comité de pilotage":
            values += person.identity
    by_id = {p.record["id"]: p for p in PEOPLE}
    for meeting in MEETINGS:
        for side in ("entreprise", "personnel"):
            person = by_id[meeting[f"{side}_id"]]
            if not own_side(user, side, person.dep):
                values += meeting_texts(meeting, side)
    return values


# ---- workbook and app -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def canary_template(tmp_path_factory) -> Path:
    """Planted people and meetings first (first page of every list), then the demo on top."""
    path = tmp_path_factory.mktemp("canary-template") / "classeur.xlsx"
    store = WorkbookStore(default_schema(), path)
    store.init()
    store.append("Entreprises", [p.record for p in PEOPLE if p.side == "entreprise"])
    store.append("Personnels", [p.record for p in PEOPLE if p.side == "personnel"])
    store.append("Rencontres", list(MEETINGS))
    load_demo(store, force=True)
    return path


@pytest.fixture
def workbook(monkeypatch, tmp_path, canary_template) -> Path:
    path = tmp_path / "classeur.xlsx"
    shutil.copy(canary_template, path)
    monkeypatch.setenv("ECOLE_ENTREPRISE_WORKBOOK", str(path))
    return path


def run_page(monkeypatch, email: str, path: str, record_id: str = "") -> AppTest:
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", email)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    at.switch_page(path)
    if record_id:
        at.query_params["id"] = record_id
    at.run()
    return at


def page_cases():
    for email, user in DEMO_USERS.items():
        for key in access.pages_for(user):
            yield pytest.param(email, key, id=f"{email.split('@')[0]}-{key}")


def record_cases():
    """Record views opened by their address: every planted person and meeting, for every user with the page."""
    targets = [("entreprises", p.record["id"]) for p in PEOPLE if p.side == "entreprise"]
    targets += [("personnels", p.record["id"]) for p in PEOPLE if p.side == "personnel"]
    targets += [("rencontres", m["id"]) for m in MEETINGS]
    for email, user in DEMO_USERS.items():
        for key, record_id in targets:
            if key in access.pages_for(user):
                yield pytest.param(email, key, record_id, id=f"{email.split('@')[0]}-{key}-{record_id}")


# ---- tests ------------------------------------------------------------------------------------------------


def test_demo_users_are_the_app_users(workbook):
    """The oracle's users (from the demo list) are those the app identifies, with the same scopes."""
    from ecole_entreprise.services.kernel.users import find_user

    snapshot = shared_store(load_settings()).read()
    for email, expected in DEMO_USERS.items():
        found = find_user(snapshot, email)
        assert (found.role, found.departements) == (expected.role, expected.departements)
    assert {u.role for u in DEMO_USERS.values()} == {"admin", "coordinateur académie", "coordinateur CPME",
                                                     "comité de pilotage"}


@pytest.mark.parametrize("email,key", list(page_cases()))
def test_page_sends_no_forbidden_contact(workbook, monkeypatch, email, key):
    path = PAGES[key][0]
    assert (ROOT / path).exists(), f"page {key} : fichier {path} absent"
    at = run_page(monkeypatch, email, path)
    assert not at.exception, [e.value for e in at.exception]
    user = DEMO_USERS[email]
    assert leaked(everything_sent(at), forbidden_for(user)) == [], f"{user.role} a reçu sur {key}"


def shown_on_record_view(user: User, key: str, record_id: str) -> tuple[str, bool]:
    """A value naming the record, and whether the record view must show it (the record is in the user's reach)."""
    if key == "rencontres":
        meeting = next(m for m in MEETINGS if m["id"] == record_id)
        ent = next(p for p in PEOPLE if p.record["id"] == meeting["entreprise_id"])
        per = next(p for p in PEOPLE if p.record["id"] == meeting["personnel_id"])
        mine = {"entreprise": ent, "personnel": per}.get(own_side_of(user))
        in_scope = user.role == "admin" or (mine is not None and mine.dep in user.departements)
        return ent.record["raison_sociale"], in_scope
    person = next(p for p in PEOPLE if p.record["id"] == record_id)
    return person.identity[0], (user.role == "admin" or person.side != own_side_of(user)
                                or person.dep in user.departements)


@pytest.mark.parametrize("email,key,record_id", list(record_cases()))
def test_record_view_sends_no_forbidden_contact(workbook, monkeypatch, email, key, record_id):
    at = run_page(monkeypatch, email, PAGES[key][0], record_id)
    assert not at.exception, [e.value for e in at.exception]
    user = DEMO_USERS[email]
    sent = everything_sent(at)
    assert leaked(sent, forbidden_for(user)) == [], f"{user.role} a reçu sur {key}?id={record_id}"
    marker, in_reach = shown_on_record_view(user, key, record_id)
    assert (marker in sent) == in_reach  # the record was rendered, or refused when out of the user's reach


def reveal_button(at: AppTest):
    return [b for b in at.button if "coordonnées" in (b.label or "")]


@pytest.mark.parametrize("email,counterpart", [("coord.cpme21@exemple.fr", PER_OK), ("coord.dijon@exemple.fr", ENT_OK)])
def test_disclosure_sends_the_counterpart_contact_only_after_the_click_and_journals_it(workbook, monkeypatch, email,
                                                                                      counterpart):
    user = DEMO_USERS[email]
    at = run_page(monkeypatch, email, PAGES["rencontres"][0], MEETING_OK["id"])
    assert leaked(everything_sent(at), list(counterpart.contact)) == []
    [button] = reveal_button(at)
    button.click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    # Exactly the counterpart's contacts were added: never their free texts, nor anybody else's values.
    assert sorted(leaked(everything_sent(at), forbidden_for(user))) == sorted(counterpart.contact)
    entries = [r for r in shared_store(load_settings()).read(fresh=True).rows("Journal")
               if r["cible_id"] == counterpart.record["id"]]
    assert [(r["action"], r["acteur"]) for r in entries] == [("divulgation coordonnées", email)]


@pytest.mark.parametrize("email", ["coord.cpme21@exemple.fr", "coord.dijon@exemple.fr"])
def test_no_disclosure_offered_for_a_meeting_that_is_not_eligible(workbook, monkeypatch, email):
    at = run_page(monkeypatch, email, PAGES["rencontres"][0], MEETING_KO["id"])
    assert not at.exception, [e.value for e in at.exception]
    assert reveal_button(at) == []
    assert leaked(everything_sent(at), forbidden_for(DEMO_USERS[email])) == []
    journal_rows = shared_store(load_settings()).read(fresh=True).rows("Journal")
    assert not [r for r in journal_rows if r["action"] == "divulgation coordonnées"]


# Positive controls: the search above can fail, since the side that may see a value does receive it.
@pytest.mark.parametrize("email,key,person", [
    ("admin@exemple.fr", "entreprises", ENT_OK), ("admin@exemple.fr", "personnels", PER_25),
    ("coord.cpme21@exemple.fr", "entreprises", ENT_KO), ("coord.dijon@exemple.fr", "personnels", PER_OK),
    ("coord.besancon@exemple.fr", "personnels", PER_25),
])
def test_positive_control_own_side_receives_the_canary(workbook, monkeypatch, email, key, person):
    at = run_page(monkeypatch, email, PAGES[key][0])
    sent = everything_sent(at)
    assert leaked(sent, list(person.contact)) == list(person.contact)
    at = run_page(monkeypatch, email, PAGES[key][0], person.record["id"])
    sent = everything_sent(at)
    assert leaked(sent, [*person.contact, *person.free_text]) == [*person.contact, *person.free_text]


def test_phone_is_found_whatever_its_format():
    """The phone search also catches a reformatted number (the detector itself can fail)."""
    assert leaked("Tél. : 03 99 00 00 11", ["+33399000011"]) == ["+33399000011"]
    assert leaked("+33 3 99 00 00 11", ["+33399000011"]) == ["+33399000011"]
    assert leaked("03 99 00 00 12", ["+33399000011"]) == []


COLLECTOR_SCRIPT = '''
import io, zipfile
import pandas as pd
import streamlit as st
from fpdf import FPDF

st.dataframe(pd.DataFrame({"a": ["canari-table"]}))
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("x.csv", "canari-zip " * 50)
st.download_button("zip", buffer.getvalue(), file_name="x.zip")
pdf = FPDF()
pdf.add_page()
pdf.set_font("helvetica", size=12)
pdf.cell(text="canari-pdf")
st.download_button("pdf", bytes(pdf.output()), file_name="x.pdf")
st.download_button("plus tard", lambda: "canari-deferred", file_name="x.txt")
st.selectbox("s", ["canari-option"])
with st.expander("e"):
    st.text_area("t", value="canari-textarea")
st.sidebar.write("canari-sidebar")
'''


def test_collector_sees_tables_widgets_sidebar_and_the_content_of_downloads():
    """The collector itself can fail: values in Arrow tables, compressed zips and PDFs, deferred downloads."""
    at = AppTest.from_string(COLLECTOR_SCRIPT, default_timeout=60)
    at.run()
    assert not at.exception
    sent = everything_sent(at)
    for value in ("canari-table", "canari-zip", "canari-pdf", "canari-deferred", "canari-option", "canari-textarea",
                  "canari-sidebar"):
        assert value in sent, value
    assert not any(b"canari-zip" in data or b"canari-pdf" in data for data in RecordingStorage.files)  # compressed
