"""Issue 17: the local sign-in's session cookie (services/kernel/session_cookie.py) and the shell's use of it
(pages/_shell.py): a valid cookie restores the person, logout clears it, a bad one is refused once and cleared;
record links keep their page and query through the sign-in."""

import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ecole_entreprise.config import Settings, load_settings
from ecole_entreprise.services.kernel import accounts, journal
from ecole_entreprise.services.kernel import session_cookie as sc
from ecole_entreprise.services.links import tokens
from tests.support.apptest import ADMIN, COMITE, app_store

ROOT = Path(__file__).resolve().parents[1]
KEY, NOW, HOURS = "une clé de session assez longue", 1_800_000_000, 12


# ---- the cookie's value ----------------------------------------------------------------------------------------


def test_a_value_carries_the_email_the_method_and_its_times():
    value = sc.make(KEY, " Admin@Exemple.fr ", accounts.CHOOSER, NOW, HOURS)
    assert sc.SHAPE.fullmatch(value)
    assert sc.read(KEY, value, accounts.CHOOSER, NOW + 60, HOURS) == sc.Session(
        ADMIN, accounts.CHOOSER, NOW, NOW + HOURS * 3600)


def test_an_altered_value_or_another_key_is_refused_without_naming_anyone():
    value = sc.make(KEY, ADMIN, accounts.PASSWORD, NOW, HOURS)
    body, signature = value.split(".")
    forged = tokens.b64(tokens.unb64(body).replace(b"admin@", b"comite@")) + "." + signature
    for bad in (forged, body + "." + signature[::-1], value + "x", "", "n'importe quoi", body,
                '<script>alert(1)</script>'):
        with pytest.raises(sc.BadCookie) as refused:
            sc.read(KEY, bad, accounts.PASSWORD, NOW, HOURS)
        assert (refused.value.reason, refused.value.email) == (sc.ALTERED, "")
    with pytest.raises(sc.BadCookie, match="altéré"):
        sc.read("une autre clé, tout aussi longue", value, accounts.PASSWORD, NOW, HOURS)


def test_a_personal_link_token_signed_with_the_same_key_is_no_session():
    token = tokens.sign(KEY, tokens.Payload("acceptation", "REN-1", ADMIN, NOW + 3600, str(NOW)))
    with pytest.raises(sc.BadCookie, match="altéré"):
        sc.read(KEY, token, ADMIN, NOW, HOURS)


def test_an_expired_value_is_refused_with_its_email():
    value = sc.make(KEY, ADMIN, accounts.CHOOSER, NOW, HOURS)
    assert sc.read(KEY, value, accounts.CHOOSER, NOW + HOURS * 3600 - 1, HOURS).email == ADMIN
    for now, hours in ((NOW + HOURS * 3600, HOURS), (NOW + 2 * 3600, 1)):  # past its end; the setting shortened
        with pytest.raises(sc.BadCookie) as refused:
            sc.read(KEY, value, accounts.CHOOSER, now, hours)
        assert (refused.value.reason, refused.value.email) == (sc.EXPIRED, ADMIN)


def test_a_value_made_for_the_chooser_does_not_open_a_password_server():
    value = sc.make(KEY, ADMIN, accounts.CHOOSER, NOW, HOURS)
    with pytest.raises(sc.BadCookie) as refused:
        sc.read(KEY, value, accounts.PASSWORD, NOW, HOURS)
    assert (refused.value.reason, refused.value.email) == (sc.OTHER_METHOD, ADMIN)


def test_a_value_made_with_a_password_that_changed_since_is_refused_with_its_email():
    value = sc.make(KEY, ADMIN, accounts.PASSWORD, NOW, HOURS, stamp="tampon-ancien")
    assert sc.read(KEY, value, accounts.PASSWORD, NOW, HOURS, stamp_of=lambda email: "tampon-ancien").email == ADMIN
    for today in ("tampon-nouveau", ""):  # a new password, or none any more
        with pytest.raises(sc.BadCookie) as refused:
            sc.read(KEY, value, accounts.PASSWORD, NOW, HOURS, stamp_of=lambda email, t=today: t)
        assert (refused.value.reason, refused.value.email) == (sc.PASSWORD_CHANGED, ADMIN)


def test_an_accounts_stamp_changes_with_every_new_password_and_tells_nothing_of_it(tmp_path):
    book = accounts.LocalAccounts(tmp_path / "comptes.json")
    assert book.stamp(ADMIN) == ""
    book.set_password(ADMIN, "un mot de passe assez long")
    first = book.stamp(ADMIN)
    book.set_password(ADMIN, "un mot de passe assez long")  # the same password again: a new salt, a new stamp
    assert first and book.stamp(ADMIN) not in ("", first) and book.stamp(f" {ADMIN.upper()} ") == book.stamp(ADMIN)
    assert "mot de passe" not in first and len(first) == 16


def test_the_key_is_the_configured_secret_else_a_key_file_written_once(tmp_path):
    settings = Settings(workbook_path=tmp_path / "classeur.xlsx")
    assert sc.signing_key(replace(settings, session_secret=KEY)) == KEY
    key = sc.signing_key(replace(settings, session_secret="court"))  # too short: the server's own key
    path = tmp_path / sc.KEY_FILE
    assert len(key) == 64 and path.read_text().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sc.signing_key(settings) == key and sc.server_key(path) == key
    assert [p.name for p in tmp_path.iterdir()] == [sc.KEY_FILE]  # no temporary file left behind


def test_the_duration_and_the_secret_are_settings(tmp_path):
    assert load_settings({}, secrets_paths=()).session_hours == 12
    env = {"ECOLE_ENTREPRISE_SESSION_HOURS": "2.5", "ECOLE_ENTREPRISE_SESSION_SECRET": KEY}
    settings = load_settings(env, secrets_paths=())
    assert (settings.session_hours, settings.session_secret) == (2.5, KEY)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[app]\nsession_hours = 8\nsession_secret = "s"\n', encoding="utf-8")
    assert (load_settings({}, secrets_paths=(secrets,)).session_hours,
            load_settings({}, secrets_paths=(secrets,)).session_secret) == (8, "s")


# ---- the shell -------------------------------------------------------------------------------------------------


@pytest.fixture
def browser_cookie(monkeypatch, app_workbook):
    """What the browser sent when the session opened (AppTest has no browser to send cookies)."""
    import pages._shell as shell

    sent = {"value": ""}
    monkeypatch.setattr(shell, "_request_cookie", lambda: sent["value"])
    return sent


def cookie_for(email, method=accounts.CHOOSER, now=None, hours=HOURS) -> str:
    return sc.make(sc.signing_key(load_settings()), email, method, time.time() if now is None else now, hours)


def run_app(page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    if page:
        at.switch_page(page)  # before the first run: Streamlit's pages/ discovery runs the page file by itself
    at.query_params.update(query or {})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cookie_scripts(at) -> list[str]:
    return [e.proto.body for e in at.get("html") if "document.cookie" in e.proto.body]


def signed_in_as(at) -> str:
    user = at.session_state["_user"] if "_user" in at.session_state else None
    return user.email if user else ""


def refusals():
    return [r for r in app_store().read(fresh=True).rows(journal.TAB) if r["action"] == accounts.SIGN_IN_REFUSED]


def enter(at, email) -> AppTest:
    at.selectbox(key="local_user_choice").set_value(next(o for o in at.selectbox(key="local_user_choice").options
                                                         if email.split("@")[0].split(".")[0] in o.lower()))
    [button] = [b for b in at.button if b.label == "Entrer"]
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_signing_in_sets_a_signed_cookie_for_the_whole_site(browser_cookie):
    at = enter(run_app(), ADMIN)
    assert signed_in_as(at) == ADMIN
    [script] = cookie_scripts(at)
    value = script.split(f"{sc.COOKIE}=")[1].split(";")[0]
    assert sc.read(sc.signing_key(load_settings()), value, accounts.CHOOSER, time.time(), HOURS).email == ADMIN
    assert "; Path=/; SameSite=Strict; Expires=" in script and ' GMT"' in script
    assert '"https:" ? "; Secure"' in script


def test_a_valid_cookie_restores_the_person_and_logout_clears_it(browser_cookie):
    browser_cookie["value"] = cookie_for(COMITE)
    at = run_app()
    assert signed_in_as(at) == COMITE
    assert "Comité de pilotage Démo" in " ".join(c.value for c in at.sidebar.caption)
    [button] = [b for b in at.button if b.key == "logout"]
    button.click().run()
    assert signed_in_as(at) == "" and at.selectbox(key="local_user_choice")
    [script] = cookie_scripts(at)
    assert f"{sc.COOKIE}=; Path=/; SameSite=Strict; Max-Age=0" in script
    at.run()  # the request's cookie is still the one of the page load: it does not sign the person in again
    assert signed_in_as(at) == "" and not refusals()


def test_a_restored_person_is_rechecked_in_utilisateurs(browser_cookie):
    store = app_store()
    [row] = [r for r in store.read().rows("Utilisateurs") if r["email"] == COMITE]
    store.update("Utilisateurs", row.id, {"actif": "non"}, row.fingerprint)
    browser_cookie["value"] = cookie_for(COMITE)
    at = run_app()
    assert signed_in_as(at) == "" and any("n'est pas autorisé" in e.value for e in at.error)
    assert "Max-Age=0" in cookie_scripts(at)[0]


@pytest.mark.parametrize("make, reason, who", [
    (lambda: cookie_for(ADMIN)[:-3] + "abc", sc.ALTERED, "(adresse vide)"),
    (lambda: cookie_for(ADMIN, now=time.time() - (HOURS + 1) * 3600), sc.EXPIRED, ADMIN),
    (lambda: cookie_for(ADMIN, method=accounts.PASSWORD), sc.OTHER_METHOD, ADMIN),
])
def test_a_bad_cookie_is_ignored_journaled_once_and_cleared(browser_cookie, make, reason, who):
    browser_cookie["value"] = make()
    at = run_app()
    assert signed_in_as(at) == "" and at.selectbox(key="local_user_choice")
    at.run()
    [entry] = refusals()
    assert entry["acteur"] == who and f"méthode : {sc.METHOD} ; motif : {reason}" == entry["details"]
    assert "Max-Age=0" in cookie_scripts(at)[0]


def test_a_dev_user_needs_no_cookie(browser_cookie, monkeypatch):
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", ADMIN)
    browser_cookie["value"] = "altéré"
    at = run_app()
    assert signed_in_as(at) == ADMIN and not cookie_scripts(at) and not refusals()


def test_a_password_sign_in_survives_a_reload_too(browser_cookie, monkeypatch):
    monkeypatch.delenv("ECOLE_ENTREPRISE_DEMO")  # AppTest has no server address: beyond loopback, passwords
    browser_cookie["value"] = cookie_for(ADMIN, method=accounts.PASSWORD)
    assert signed_in_as(run_app()) == ADMIN


def test_a_new_password_ends_the_sessions_opened_with_the_old_one(browser_cookie, monkeypatch):
    monkeypatch.delenv("ECOLE_ENTREPRISE_DEMO")  # beyond loopback: local passwords
    book = accounts.local_accounts(load_settings())
    book.set_password(ADMIN, "le premier mot de passe")
    opened = sc.make(sc.signing_key(load_settings()), ADMIN, accounts.PASSWORD, time.time(), HOURS,
                     stamp=book.stamp(ADMIN))
    browser_cookie["value"] = opened
    assert signed_in_as(run_app()) == ADMIN
    book.set_password(ADMIN, "le second mot de passe")  # `set-password`, e.g. after a leak
    at = run_app()
    assert signed_in_as(at) == ""
    [entry] = refusals()
    assert entry["acteur"] == ADMIN and entry["details"] == f"méthode : {sc.METHOD} ; motif : {sc.PASSWORD_CHANGED}"
    assert "Max-Age=0" in cookie_scripts(at)[0]


def test_a_local_session_ends_after_its_duration_even_in_an_open_tab(browser_cookie, monkeypatch):
    import pages._shell as shell

    at = enter(run_app(), ADMIN)
    assert signed_in_as(at) == ADMIN
    at.session_state[shell.LOCAL_EXPIRES] = time.time() - 1
    at.run()
    assert signed_in_as(at) == "" and "Max-Age=0" in cookie_scripts(at)[0]


# ---- record links ----------------------------------------------------------------------------------------------


def test_a_record_link_opened_signed_out_signs_in_then_opens_its_record(browser_cookie):
    meeting = app_store().read().rows("Rencontres")[0].id
    at = run_app("pages/rencontres.py", {"id": meeting})
    assert [t.value for t in at.title] == ["Rencontres École–Entreprise BFC"]  # the sign-in page
    assert at.selectbox(key="local_user_choice")
    assert not [w for w in at.warning if "Session expirée" in w.value]
    enter(at, ADMIN)
    assert at.title[0].value == "Rencontres"
    assert any(c.value.startswith(f"{meeting} — année scolaire") for c in at.caption)
    assert at.query_params["id"] == meeting


def test_a_record_link_opens_its_record_for_a_dev_user(browser_cookie, monkeypatch):
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", ADMIN)
    meeting = app_store().read().rows("Rencontres")[0].id
    at = run_app("pages/rencontres.py", {"id": meeting})
    assert any(c.value.startswith(f"{meeting} — année scolaire") for c in at.caption)


def test_a_page_the_role_may_not_open_says_so_under_its_own_address(browser_cookie, monkeypatch):
    monkeypatch.setenv("ECOLE_ENTREPRISE_DEV_USER", COMITE)
    at = run_app("pages/appariement.py")
    assert [e.value for e in at.error] == ["Votre rôle ne donne pas accès à cette page. Adressez-vous au service "
                                           "école-entreprise."]
    assert not at.selectbox and not at.tabs
