"""Under injected store faults every page says what happened in French: no traceback, no English API text, and a
write whose answer was lost is reported as possibly saved.

The app's cached store is made to fail (reads, then writes) with the errors a real backend can raise — the French
StoreErrors, a lost reply (MaybeApplied), and raw English errors a bug could let through (a gspread APIError, an
OSError, a RuntimeError, a KeyError) — and every page is drawn, then a form save, a callback step and the public
registration are tried.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from gspread.exceptions import APIError

from ecole_entreprise.services.census import registration
from ecole_entreprise.services.kernel import navigation
from ecole_entreprise.services.kernel.users import find_user
from ecole_entreprise.store.base import Busy, MaybeApplied, QuotaExceeded, Unreachable
from tests.support.apptest import ADMIN, CPME, app_store, open_page
from tests.test_plain_text_pages import markdown_strings, open_public


def api_error(code: int, message: str) -> APIError:
    response = requests.Response()
    response.status_code = code
    response._content = f'{{"error": {{"code": {code}, "message": "{message}", "status": "INTERNAL"}}}}'.encode()
    return APIError(response)


ENGLISH = ["Internal error encountered", "The caller does not have permission", "Connection reset by peer",
           "Something went wrong", "raison_sociale"]
FAULTS = {
    "unreachable": lambda: Unreachable("Google Sheets est injoignable ou indisponible (erreur 503), malgré "
                                       "plusieurs essais : réessayez dans quelques instants."),
    "quota": lambda: QuotaExceeded("Quota de requêtes Google Sheets dépassé, malgré plusieurs essais : patientez "
                                   "une minute puis réessayez."),
    "busy": lambda: Busy("écriture", 30),
    "lost reply": lambda: MaybeApplied("La modification de la fiche ENT-1"),
    "gspread 500": lambda: api_error(500, ENGLISH[0]),
    "gspread 403": lambda: api_error(403, ENGLISH[1]),
    "socket": lambda: ConnectionResetError(104, ENGLISH[2]),
    "bug": lambda: RuntimeError(ENGLISH[3]),
    "key": lambda: KeyError(ENGLISH[4]),
}
LEAKS = re.compile(r"Traceback|File \"|APIError|Error:|Exception|\bthe\b|\berror\b|" +
                   "|".join(re.escape(e) for e in ENGLISH), re.IGNORECASE)


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch):
    monkeypatch.setattr(registration, "_limiter", registration.RateLimiter())


@pytest.fixture(autouse=True)
def as_the_server_runs(monkeypatch):
    """AppTest forgets between runs that the entry point calls st.navigation, so it runs a page file by itself (as
    Streamlit does for a pages/ folder); the server runs streamlit_app.py every time, and so does this test."""
    from streamlit.runtime.scriptrunner import script_runner

    def run_entry_point(main_script_path) -> None:
        path = Path(main_script_path)
        exec(compile(path.read_text(), str(path), "exec"), {"__name__": "__main__", "__file__": str(path)})  # noqa: S102

    monkeypatch.setattr(script_runner, "_mpa_v1", run_entry_point)


def everything_shown(at) -> list[str]:
    texts = markdown_strings(at)
    texts += [str(e.value) for e in at.text] + [str(e.value) for e in at.code]
    return texts


def assert_french_only(at, where) -> list[str]:
    assert not at.exception, (where, [e.value for e in at.exception])  # a traceback would be drawn here
    shown = everything_shown(at)
    leaks = [t for t in shown if LEAKS.search(t)]
    assert leaks == [], (where, leaks)
    return [e.value for e in at.error]


def fail(monkeypatch, store, methods, fault):
    def raising(*_args, **_kwargs):
        raise FAULTS[fault]()

    for name in methods:
        monkeypatch.setattr(store, name, raising)


def rerun_failing(at, fault: str, *targets) -> int:
    """Run the page again with each (object, attribute) of `targets` raising `fault`, then restore them.
    Returns how many times the fault was raised."""
    raised = []

    def raising(*_args, **_kwargs):
        raised.append(1)
        raise FAULTS[fault]()

    with pytest.MonkeyPatch.context() as patch:
        for target, name in targets:
            patch.setattr(target, name, raising)
        at.run()
    return len(raised)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_page_under_a_read_fault(fault, app_workbook, monkeypatch):
    import pages._census as census_view
    import pages._shared as shared

    user = find_user(app_store().read(), ADMIN)
    pages = [spec.path for pages in navigation.sections_for(user).values() for _, spec in pages]
    first_company = app_store().read().rows("Entreprises")[0].id
    views = [(page, {}) for page in pages] + [("pages/entreprises.py", {"id": first_company})]
    reads = 0
    for page, query in views:
        at = open_page(monkeypatch, ADMIN, page, query=query)
        # The pages' own reads (the sign-in's already done): page files import get_snapshot at each run, the
        # shared modules once.
        raised = rerun_failing(at, fault, (shared, "get_snapshot"), (census_view, "get_snapshot"))
        errors = assert_french_only(at, (fault, page))
        # A failed read is said, never silently skipped (the privacy notice falls back to its default text).
        assert errors or not raised or page.endswith("confidentialite.py"), (fault, page)
        reads += raised
    assert reads >= len(pages) - 2  # nearly every page reads when drawn (Import waits for a file)
    at = open_page(monkeypatch, ADMIN, pages[0])
    rerun_failing(at, fault, (app_store(), "read"))  # every read, the sign-in's too
    assert assert_french_only(at, (fault, "sign-in"))
    monkeypatch.delenv("ECOLE_ENTREPRISE_DEV_USER")  # nobody signed in
    for page in ("pages/inscription_entreprise.py", "pages/confidentialite.py"):
        at = open_public(page)
        rerun_failing(at, fault, (app_store(), "read"))
        assert_french_only(at, (fault, page))


@pytest.mark.parametrize("fault", list(FAULTS))
def test_writes_under_a_fault_say_so_in_french(fault, app_workbook, monkeypatch):
    store = app_store()
    snapshot = store.read()
    fail(monkeypatch, store, ["append", "update", "delete"], fault)
    said = []

    # A form save (the page catches the error itself).
    at = open_page(monkeypatch, CPME, "pages/entreprises.py")
    for name, value in {"raison_sociale": "Chaudronnerie Démo Panne", "siret": "73282932000074",
                        "code_postal": "21000", "contact_nom": "Panne", "contact_prenom": "Agathe",
                        "contact_email": "demo.panne@exemple-panne.fr"}.items():
        at.text_input(key=f"form_Entreprises_new_{name}").set_value(value)
    at.run()
    next(b for b in at.button if b.label == "Créer la fiche").click()
    at.run()
    said += assert_french_only(at, (fault, "census save"))

    # A step run in a widget callback.
    meeting = next(r for r in snapshot.rows("Rencontres") if r["statut"] == "proposée"
                   and not r["acceptation_entreprise"])
    at = open_page(monkeypatch, ADMIN, "pages/rencontres.py", query={"id": meeting.id})
    at.button(key=f"accept_entreprise_{meeting.id}").click().run()
    said += assert_french_only(at, (fault, "meeting step"))

    # The public registration (its write is not caught by the page: the entry point's guard speaks).
    monkeypatch.delenv("ECOLE_ENTREPRISE_DEV_USER")  # nobody signed in
    at = open_public("pages/inscription_personnel.py")
    at.selectbox(key="signup_Personnels_fonction").set_value("professeur")
    at.selectbox(key="signup_Personnels_canal").set_value("salon REE")
    for name, value in {"nom": "Démo-Panne", "prenom": "Léo", "code_postal": "25000",
                        "email": "demo.leo.panne@ac-besancon.fr"}.items():
        at.text_input(key=f"signup_Personnels_{name}").set_value(value)
    at.checkbox(key="signup_Personnels_participation").check().run()
    at.button(key="signup_Personnels_send").click().run()
    said += assert_french_only(at, (fault, "registration"))

    assert len(said) >= 3, said  # each write's failure was said
    if fault in ("lost reply", "gspread 500", "socket", "bug", "key"):
        # Nobody can tell whether these writes were applied: the message must not say nothing was saved.
        assert all("peut-être" in s for s in said), said
