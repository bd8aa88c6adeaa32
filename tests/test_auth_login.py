"""Issue 13, point 5: who gets the identity chooser, local accounts with salted hashes, the red banner when the
chooser is forced over Google Sheets, and sign-ins (accepted and refused) in the journal."""

import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import Settings, accounts_path, load_settings
from ecole_entreprise.services.kernel import accounts, journal
from ecole_entreprise.services.kernel import session_cookie as sc
from tests.support.apptest import ADMIN, app_store

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
LOCAL, GOOGLE = Settings(backend="local"), Settings(backend="google", spreadsheet="cle")


@pytest.mark.parametrize("settings, address, forwarded, expected", [
    (LOCAL, "127.0.0.1", False, accounts.CHOOSER),
    (LOCAL, "::1", False, accounts.CHOOSER),
    (LOCAL, None, False, accounts.PASSWORD),  # Streamlit's default: every interface
    (LOCAL, "0.0.0.0", False, accounts.PASSWORD),
    (LOCAL, "127.0.0.1", True, accounts.PASSWORD),  # loopback behind a reverse proxy proves nothing
    (replace(LOCAL, demo=True), "0.0.0.0", False, accounts.CHOOSER),
    (replace(LOCAL, auth_configured=True), None, False, accounts.OIDC),
    (GOOGLE, "127.0.0.1", False, accounts.NONE),  # never the chooser over the real sheet by default
    (replace(GOOGLE, demo=True), "127.0.0.1", False, accounts.NONE),
    (replace(GOOGLE, auth_configured=True), None, False, accounts.OIDC),
    (replace(GOOGLE, allow_local_login=True), None, False, accounts.CHOOSER),
])
def test_the_identity_chooser_only_on_loopback_or_a_declared_demo(settings, address, forwarded, expected):
    assert accounts.login_mode(settings, address, forwarded) == expected


def test_passwords_are_stored_as_salted_scrypt_hashes(tmp_path):
    store = accounts.LocalAccounts(tmp_path / "comptes.json")
    store.set_password("Admin@Exemple.fr", PASSWORD)
    text = (tmp_path / "comptes.json").read_text()
    assert PASSWORD not in text and '"admin@exemple.fr": "scrypt$16384$8$1$' in text
    assert stat.S_IMODE((tmp_path / "comptes.json").stat().st_mode) == 0o600
    assert accounts.hash_password(PASSWORD) != accounts.hash_password(PASSWORD)  # a new salt each time
    assert store.check("admin@exemple.fr", PASSWORD)
    assert not store.check("admin@exemple.fr", PASSWORD + "!")
    assert not store.check("inconnu@exemple.fr", PASSWORD)


def test_a_short_password_is_refused(tmp_path):
    with pytest.raises(ValueError, match="au moins 12"):
        accounts.LocalAccounts(tmp_path / "comptes.json").set_password("a@b.fr", "court")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def fresh_throttle(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(accounts, "THROTTLE", accounts.Throttle(limit=5, window_s=900, clock=clock))
    return clock


def test_five_refused_passwords_block_the_address_for_a_while(tmp_path, fresh_throttle):
    from tests.support.memory_store import MemoryStore

    store = MemoryStore()
    store.init()
    settings = Settings(backend="local", accounts_file=tmp_path / "comptes.json")
    accounts.local_accounts(settings).set_password("a@b.fr", PASSWORD)
    def attempt(email, password):
        return accounts.sign_in_with_password(store, settings, {"a@b.fr", "c@d.fr"}, email, password)

    for _ in range(5):
        assert attempt("a@b.fr", "faux") == "mot de passe incorrect"
    assert attempt("a@b.fr", PASSWORD) == accounts.TOO_MANY  # even the right password, for a while
    assert attempt("c@d.fr", "x") == "mot de passe incorrect"  # another address is not blocked
    fresh_throttle.now += 900  # the failures leave the window
    assert attempt("a@b.fr", PASSWORD) == ""
    entries = [r for r in store.read().rows(journal.TAB) if r["acteur"] == "a@b.fr"]
    assert [r["action"] for r in entries] == ["connexion refusée"] * 6 + ["connexion"]
    assert "motif : trop d'essais refusés" in entries[5]["details"]


# ---- the app --------------------------------------------------------------------------------------------------


@pytest.fixture
def exposed(app_workbook, monkeypatch):
    """The demo workbook served beyond loopback, no demo declared: a real login is required."""
    monkeypatch.delenv("ECOLE_ENTREPRISE_DEMO")
    return app_workbook


def run_app() -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.run()
    return at


def texts(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "error", "caption", "subheader", "title")
                    for e in getattr(at, kind))


def sign_in(at, email, password) -> AppTest:
    at.text_input(key="login_email").input(email)
    at.text_input(key="login_password").input(password)
    [button] = [b for b in at.button if b.label == "Se connecter"]
    return button.click().run()


def sign_ins(email):
    return [r for r in app_store().read(fresh=True).rows(journal.TAB)
            if r["action"] in (accounts.SIGN_IN, accounts.SIGN_IN_REFUSED) and r["acteur"] == email]


def test_beyond_loopback_the_chooser_is_replaced_by_a_login_form(exposed, monkeypatch):
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", ADMIN)  # a developer setting: ignored without the chooser
    at = run_app()
    assert not at.exception
    assert "_user" not in at.session_state
    assert not [s for s in at.selectbox if s.key == "local_user_choice"]
    assert "Connexion" in texts(at) and at.text_input(key="login_password")


def test_a_server_listening_on_loopback_offers_the_chooser(exposed):
    import streamlit as st

    before = st.get_option("server.address")
    st.config.set_option("server.address", "127.0.0.1")
    try:
        at = run_app()
    finally:
        st.config.set_option("server.address", before)
    assert [s for s in at.selectbox if s.key == "local_user_choice"]
    assert not [t for t in at.text_input if t.key == "login_password"]


def test_a_local_account_signs_in_with_its_password_and_the_sign_in_is_journaled(exposed):
    accounts.LocalAccounts(accounts_path(load_settings())).set_password(ADMIN, PASSWORD)
    at = sign_in(run_app(), ADMIN, PASSWORD)
    assert not at.exception
    assert at.session_state["_user"].email == ADMIN
    [entry] = sign_ins(ADMIN)
    assert entry["action"] == "connexion" and "méthode : mot de passe" in entry["details"]


def test_the_session_cookie_of_a_password_sign_in_names_that_password(exposed):
    """The cookie set at sign-in restores the session while the password is the same, not after a new one."""
    settings = load_settings()
    book = accounts.LocalAccounts(accounts_path(settings))
    book.set_password(ADMIN, PASSWORD)
    at = sign_in(run_app(), ADMIN, PASSWORD)
    value = at.session_state["_session_cookie"]
    key = sc.signing_key(settings)
    assert sc.read(key, value, accounts.PASSWORD, time.time(), 12, stamp_of=book.stamp).email == ADMIN
    book.set_password(ADMIN, PASSWORD + " changé")
    with pytest.raises(sc.BadCookie, match="changement du mot de passe"):
        sc.read(key, value, accounts.PASSWORD, time.time(), 12, stamp_of=book.stamp)


def test_a_wrong_password_is_refused_and_the_refusal_is_journaled(exposed):
    accounts.LocalAccounts(accounts_path(load_settings())).set_password(ADMIN, PASSWORD)
    at = sign_in(run_app(), ADMIN, "pas le bon mot de passe")
    assert "_user" not in at.session_state
    assert "Adresse ou mot de passe incorrect." in texts(at)
    [entry] = sign_ins(ADMIN)
    assert entry["action"] == "connexion refusée" and "motif : mot de passe incorrect" in entry["details"]


def test_a_password_for_an_address_not_in_utilisateurs_is_refused(exposed):
    stranger = "parti@exemple.fr"
    accounts.LocalAccounts(accounts_path(load_settings())).set_password(stranger, PASSWORD)
    at = sign_in(run_app(), stranger, PASSWORD)
    assert "_user" not in at.session_state
    [entry] = sign_ins(stranger)
    assert entry["action"] == "connexion refusée" and "absent ou inactif" in entry["details"]


def test_a_forced_chooser_over_google_shows_a_red_banner(app_workbook, monkeypatch):
    import pages._shell as shell

    demo = app_store().read()
    monkeypatch.setenv("ECOLE_ENTREPRISE_SPREADSHEET", "cle-inexistante")
    monkeypatch.setenv("ECOLE_ENTREPRISE_ALLOW_LOCAL_LOGIN", "1")
    monkeypatch.setattr(shell, "get_snapshot", lambda: demo)
    at = run_app()
    assert not at.exception, at.exception
    [banner] = [e for e in at.error if "Connexion locale forcée" in e.value]
    assert "feuille Google réelle" in banner.value and banner.icon == ":material/warning:"
    assert "n'authentifie personne" in texts(at)


def test_without_the_forcing_google_never_offers_the_chooser(app_workbook, monkeypatch):
    import pages._shell as shell

    demo = app_store().read()
    monkeypatch.setenv("ECOLE_ENTREPRISE_SPREADSHEET", "cle-inexistante")
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", ADMIN)
    monkeypatch.setattr(shell, "get_snapshot", lambda: demo)
    at = run_app()
    assert not [s for s in at.selectbox if s.key == "local_user_choice"] and "_user" not in at.session_state
    assert not [e for e in at.error if "Connexion locale forcée" in e.value]


def test_set_password_command_writes_a_hash_for_a_known_user_only(app_workbook, monkeypatch, capsys):
    import io

    from ecole_entreprise.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["set-password", ADMIN, "--stdin"]) == 0
    assert "empreinte scrypt salée" in capsys.readouterr().out
    assert accounts.local_accounts(load_settings()).check(ADMIN, PASSWORD)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["set-password", "inconnu@exemple.fr", "--stdin"]) == 1
    assert "n'est pas autorisé" in capsys.readouterr().err
