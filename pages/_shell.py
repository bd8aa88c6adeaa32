"""Who is using the app, and which pages they get. The services enforce the same rules on every call."""

from __future__ import annotations

import json
import re
import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ecole_entreprise import errors
from ecole_entreprise.services.kernel import accounts, navigation, session_cookie
from ecole_entreprise.services.kernel.users import UnknownUser, find_user, session_user, users
from pages._feedback import run_guarded
from pages._plain import plain
from pages._shared import PAGE_TABS, get_settings, get_store

# The one page registry (services/kernel/navigation.py): PAGES[key].path is the page file.
PAGES, PUBLIC_PAGES = navigation.PAGES, navigation.PUBLIC_PAGES
# Session keys of the local sign-in: the cookie value the browser should hold ("" : none, clear it), whether this
# session's request cookie was already considered, and when the local sign-in ends (Unix time).
COOKIE_WANTED, COOKIE_READ, LOCAL_EXPIRES = "_session_cookie", "_session_cookie_read", "_local_expires"
REFUSED = "Votre rôle ne donne pas accès à cette page. Adressez-vous au service école-entreprise."
NOT_FOUND = ("Cette adresse ne correspond à aucune page de l'application (lien incomplet ou ancien). Choisissez une "
             "page dans le menu.")
# An address segment Streamlit accepts as a page's url_path (no "/", nothing to sanitize).
PAGE_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,80}")


def _page(key: str, spec: navigation.Page, default: bool = False) -> st.Page:
    return st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=key, default=default)


def _link_pages() -> list[st.Page]:
    """Personal-link pages: reachable by URL signed in or not, never listed in the menu."""
    return [st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=key, visibility="hidden")
            for key, spec in navigation.LINK_PAGES.items()]


def run_app() -> None:
    """The entry point's run: page config, identity → role → the page asked for."""
    st.set_page_config(page_title="Rencontres École–Entreprise BFC", page_icon="🤝", layout="wide")
    run_guarded(lambda: build_navigation(identify_user()).run())


def build_navigation(user):
    """Every page of the registry has its URL in every session, so a record link never meets « Page not found »:
    signed out, a page that needs signing in shows the sign-in page under its own URL (query kept), and once
    signed in the same run lands on it; signed in, a page the role may not open says so. The menu is ours
    (st.page_link from the registry): Streamlit's own is off (client.showSidebarNavigation), as it would list the
    raw file names of pages/ while the first run of a freshly started server discovers them."""
    if accounts.chooser_forced(get_settings()):  # the chooser over the real sheet: said on every page, in red
        st.error("Connexion locale forcée (allow_local_login) sur la feuille Google réelle : n'importe qui peut "
                 "prendre n'importe quelle identité, admin compris. Réservé aux essais : retirez ce réglage.",
                 icon=":material/warning:")
    if user is None:
        st.session_state.pop("_user", None)
        login = st.Page(_login_page, title="Connexion", icon=":material/key:", url_path="connexion", default=True)
        menu = {"Accès": [login], **{section: [_page(k, spec) for k, spec in pages]
                                     for section, pages in navigation.sections_for(None).items()}}
        hidden = [_stand_in(key, _login_page, "Connexion") for key in PAGES if key not in PUBLIC_PAGES]
        default_key = "connexion"
    else:
        menu = {section: [_page(k, spec, default=k == navigation.HOME) for k, spec in pages]
                for section, pages in navigation.sections_for(user).items()}
        hidden = [_stand_in(key, _refused, spec.title) for key, spec in PAGES.items()
                  if not navigation.may_open(user, key)]
        default_key = navigation.HOME
    first = next(iter(menu), "Pilotage")
    sections = {**menu, first: [*menu.get(first, []), *_link_pages(), *hidden]}
    sections[first] += _unknown_address([p for section in sections.values() for p in section])
    page = st.navigation(sections, position="hidden")
    _menu(menu)
    if user is not None:
        with st.sidebar:
            st.caption(f"Connecté : {plain(user.label)}")
            if st.button("Se déconnecter", key="logout"):
                _logout()
    sync_session_cookie()
    return _reading_its_tabs(page, default_key)


def _stand_in(key: str, target, title: str) -> st.Page:
    """Page `key`'s URL, not in the menu, running `target` (the sign-in page, or the refusal)."""
    return st.Page(target, title=title, icon=PAGES[key].icon, url_path=key, visibility="hidden")


def _refused() -> None:
    st.error(REFUSED)


def _unknown_address(pages: list[st.Page]) -> list[st.Page]:
    """The address typed or followed names no page: a French « page introuvable » under that address, in place of
    Streamlit's English « Page not found » box (shown only for an address no page may carry, such as a nested one)."""
    run = get_script_run_ctx()
    if run is None or run.pages_manager.intended_page_script_hash:  # a click in the app names a page by its hash
        return []
    asked = (run.pages_manager.intended_page_name or "").strip("/")
    if not PAGE_SEGMENT.fullmatch(asked) or asked in {p.url_path for p in pages}:
        return []
    return [st.Page(_not_found, title="Page introuvable", icon=":material/search_off:", url_path=asked,
                    visibility="hidden")]


def _not_found() -> None:
    st.title("Page introuvable")
    st.warning(NOT_FOUND)


def _menu(sections: dict[str, list[st.Page]]) -> None:
    with st.sidebar:
        for section, pages in sections.items():
            st.caption(section)
            for page in pages:
                st.page_link(page)


def _reading_its_tabs(page: st.Page, default_key: str) -> st.Page:
    """The page about to run reads only the tabs the registry declares for it (pages._shared.get_snapshot)."""
    st.session_state[PAGE_TABS] = navigation.page_tabs(page.url_path or default_key)
    return page


def get_snapshot():
    """The shell's own read, to identify the user: the core tabs, which most pages read too (one request on a
    cold view; a page needing a history tab then reads that tab alone). Pages use pages._shared.get_snapshot."""
    return get_store().read(tabs=navigation.core_tabs())


def login_mode() -> str:
    """Chooser, password, identity provider or none (services/kernel/accounts.py decides from the settings)."""
    try:
        headers = st.context.headers
        forwarded = bool(headers.get("X-Forwarded-For") or headers.get("Forwarded"))
    except Exception:  # noqa: BLE001 - no request context (a bare script run): nothing was forwarded
        forwarded = False
    return accounts.login_mode(get_settings(), st.get_option("server.address"), forwarded)


def identify_user():
    """The signed-in user mapped through the Utilisateurs tab; None shows the login page."""
    settings, mode = get_settings(), login_mode()
    try:
        snapshot = get_snapshot()
    except errors.UserError as error:
        st.error(plain(error))
        stop_before_any_page()
    email = ""
    if mode == accounts.CHOOSER:
        email = settings.dev_user or local_email(mode)
    elif mode == accounts.PASSWORD:
        email = local_email(mode)
    elif mode == accounts.OIDC:
        if not st.user.is_logged_in:
            return None
        email = st.user.email or ""
        if st.user.get("email_verified") is False:  # an address the provider has not checked proves nothing
            _journal_sign_in(email, False, "adresse non vérifiée par le fournisseur d'identité")
            st.error("Votre fournisseur d'identité n'a pas vérifié cette adresse électronique : connexion refusée. "
                     "Adressez-vous au service école-entreprise.")
            st.button("Se déconnecter", on_click=st.logout)
            st.stop()
    else:
        st.error("Connexion impossible : configurez la section [auth] de .streamlit/secrets.toml (voir le README), "
                 "ou autorisez explicitement la connexion locale (ECOLE_ENTREPRISE_ALLOW_LOCAL_LOGIN=1).")
        st.stop()
    if not email:
        return None
    try:
        user = find_user(snapshot, email)
    except UnknownUser as error:
        _journal_sign_in(email, False, "compte absent ou inactif dans Utilisateurs")
        st.error(plain(error))
        if st.session_state.pop("local_user", None):
            st.session_state[COOKIE_WANTED] = ""
            sync_session_cookie()
        if mode == accounts.OIDC:
            st.button("Se déconnecter", on_click=st.logout)
        st.stop()
    if mode == accounts.OIDC:
        _journal_sign_in(email, True)
    user = session_user(get_store(), user)  # its actions re-read the account (services/kernel/access.require)
    st.session_state["_user"] = user
    return user


def _journal_sign_in(email: str, accepted: bool, reason: str = "", method: str = accounts.OIDC) -> None:
    """Once per session and outcome: the provider's sign-in is seen again on every rerun."""
    seen = st.session_state.setdefault("_signins_journaled", set())
    if (email, accepted) in seen:
        return
    seen.add((email, accepted))
    try:
        accounts.record_sign_in(get_store(), email, accepted, method, reason)
    except errors.UserError as error:
        st.warning(f"Connexion non inscrite au journal : {error}")


def stop_before_any_page() -> None:
    """Stop this run with nothing but the message above: a run that ends before st.navigation makes Streamlit run
    the requested page file by itself (its pages/ discovery), which would then fail again, outside any guard."""
    st.navigation([st.Page(_nothing, title="Indisponible", url_path="indisponible")], position="hidden")
    st.stop()


def _nothing() -> None:
    pass


def current_user(key: str | None = None):
    """The user identified by the entry point in this run (pages are only reachable through it)."""
    user = st.session_state.get("_user")
    if user is None and key is not None:
        # A record link opened on a freshly started server runs page `key`'s file by itself (Streamlit discovers
        # pages/ until st.navigation has run once): run the entry point here instead, under the same address
        # and query, which identifies the user then runs this page (or the sign-in page), and stop this run.
        run_app()
        st.stop()
    if user is None:
        st.warning("Session expirée : reconnectez-vous.")
        st.stop()
    return user


# ---- the local sign-in's session (services/kernel/session_cookie.py) ------------------------------------------


def local_email(mode: str) -> str:
    """Who signed in locally in this session: on its first run, from a valid session cookie; "" once the local
    sign-in's time is over."""
    state = st.session_state
    if not state.get(COOKIE_READ):
        state[COOKIE_READ] = True  # the request's cookies stay those of the page load: after a logout, ignore them
        if not state.get("local_user"):
            _restore_from_cookie(mode)
    if state.get("local_user") and time.time() >= state.get(LOCAL_EXPIRES, float("inf")):
        _end_local_session()
    return state.get("local_user", "")


def _request_cookie() -> str:
    """The session cookie the browser sent when this session opened ("" without one, or without a browser)."""
    try:
        value = st.context.cookies.get(session_cookie.COOKIE, "")
    except Exception:  # noqa: BLE001 - no request context (a bare script run): no cookie
        return ""
    return value if isinstance(value, str) else ""


def _restore_from_cookie(mode: str) -> None:
    value = _request_cookie()
    if not value:
        return
    settings = get_settings()
    try:
        session = session_cookie.read(session_cookie.signing_key(settings), value, mode, time.time(),
                                      settings.session_hours, stamp_of=_password_stamp(mode))
    except session_cookie.BadCookie as refused:
        _journal_sign_in(refused.email, False, refused.reason, method=session_cookie.METHOD)
        st.session_state[COOKIE_WANTED] = ""  # cleared from the browser: not refused again on every reload
        return
    except (OSError, ValueError):  # no key to check it with: sign in again
        return
    st.session_state["local_user"], st.session_state[LOCAL_EXPIRES] = session.email, session.expires
    st.session_state[COOKIE_WANTED] = value


def start_local_session(email: str, mode: str) -> None:
    """A local sign-in accepted: for this session, and for the next ones of this browser through the cookie."""
    settings, now = get_settings(), time.time()
    st.session_state["local_user"] = email
    st.session_state[LOCAL_EXPIRES] = now + settings.session_hours * 3600
    try:
        st.session_state[COOKIE_WANTED] = session_cookie.make(session_cookie.signing_key(settings), email, mode,
                                                              now, settings.session_hours,
                                                              stamp=_password_stamp(mode)(email))
    except (OSError, ValueError):  # no key: the sign-in lasts as long as the tab
        st.session_state.pop(COOKIE_WANTED, None)


def _password_stamp(mode: str):
    """email → the stamp of its password today: a new password ends the sessions opened with the old one."""
    if mode != accounts.PASSWORD:
        return lambda email: ""
    return accounts.local_accounts(get_settings()).stamp


def _end_local_session() -> None:
    for name in ("local_user", LOCAL_EXPIRES):
        st.session_state.pop(name, None)
    if COOKIE_WANTED in st.session_state or _request_cookie():
        st.session_state[COOKIE_WANTED] = ""


def sync_session_cookie() -> None:
    """Streamlit sets no cookie from Python: a script in the page does, with the value this session wants
    ("": removed). The same value renders the same element, so the script does not run again on each rerun."""
    value = st.session_state.get(COOKIE_WANTED)
    if value is None:
        return
    cookie = session_cookie.cookie_text(value, st.session_state.get(LOCAL_EXPIRES, time.time()))
    script = ("<script>document.cookie = " + json.dumps(cookie) +
              ' + (location.protocol === "https:" ? "; Secure" : "");</script>')
    with st.sidebar:
        st.html(script, unsafe_allow_javascript=True)


def _logout() -> None:
    _end_local_session()
    st.session_state.pop("_signins_journaled", None)
    if login_mode() == accounts.OIDC:
        st.logout()
    st.rerun()


def _login_page() -> None:
    st.title("Rencontres École–Entreprise BFC")
    st.write("« Les chefs d'entreprise invitent l'Éducation nationale » — outil de suivi du programme.")
    mode = login_mode()
    if mode == accounts.CHOOSER:
        _local_identity_chooser()
    elif mode == accounts.PASSWORD:
        _password_form()
    else:
        st.button("Se connecter", type="primary", on_click=st.login)
    st.info("Vous êtes chef d'entreprise ou personnel de l'Éducation nationale ? Inscrivez-vous avec les pages "
            "« Inscription » du menu.")


def _local_identity_chooser() -> None:
    from pages._shared import demo_loader

    st.subheader("Mode local — identité de démonstration")
    if accounts.chooser_forced(get_settings()):
        st.caption("Connexion locale forcée sur la feuille Google réelle : ce sélecteur n'authentifie personne.")
    else:
        st.caption("Ce sélecteur n'apparaît que lorsque le serveur n'écoute que sur cette machine (127.0.0.1) ou en "
                   "démonstration déclarée (`[app] demo`) : il n'authentifie personne.")
    known = users(get_snapshot())
    if not known:
        st.warning("Aucun utilisateur n'est encore enregistré.")
        demo_loader()
        return
    labels = {u.label: u.email for u in known}
    choice = st.selectbox("Se connecter en tant que", list(labels), key="local_user_choice")
    if st.button("Entrer", type="primary"):
        _journal_sign_in(labels[choice], True, method=accounts.CHOOSER)
        start_local_session(labels[choice], accounts.CHOOSER)
        st.rerun()


def _password_form() -> None:
    st.subheader("Connexion")
    with st.form("password_login"):
        email = st.text_input("Adresse électronique", key="login_email")
        password = st.text_input("Mot de passe", type="password", key="login_password")
        sent = st.form_submit_button("Se connecter", type="primary")
    if not sent:
        st.caption("Compte créé par l'administrateur : `python -m ecole_entreprise set-password <email>`.")
        return
    known = {u.email for u in users(get_snapshot())}
    refused = accounts.sign_in_with_password(get_store(), get_settings(), known, email, password)
    if not refused:
        start_local_session(email.strip().lower(), accounts.PASSWORD)
        st.rerun()
    st.error("Adresse ou mot de passe incorrect." if refused != accounts.TOO_MANY else
             "Trop d'essais refusés pour cette adresse : réessayez dans quelques minutes.")


def page_user(key: str):
    """The current user, if the registry lets them open page `key`; otherwise a French refusal and the page stops."""
    user = current_user(key)
    st.session_state[PAGE_TABS] = navigation.page_tabs(key)
    if not navigation.may_open(user, key):
        st.error(REFUSED)
        st.stop()
    return user
