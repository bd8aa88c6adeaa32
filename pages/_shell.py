"""Who is using the app, and which pages they get. The services enforce the same rules on every call."""

from __future__ import annotations

import streamlit as st

from ecole_entreprise.domain.roles import User
from ecole_entreprise.services.kernel import accounts, navigation
from ecole_entreprise.services.kernel.users import UnknownUser, find_user, session_user, users
from ecole_entreprise.store.base import StoreError
from pages._plain import plain
from pages._shared import PAGE_TABS, get_settings, get_store

# The one page registry (services/kernel/navigation.py): PAGES[key].path is the page file.
PAGES, PUBLIC_PAGES = navigation.PAGES, navigation.PUBLIC_PAGES


def _page(key: str, spec: navigation.Page, default: bool = False) -> st.Page:
    return st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=key, default=default)


def _link_pages() -> list[st.Page]:
    """Personal-link pages: reachable by URL signed in or not, never listed in the menu."""
    return [st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=key, visibility="hidden")
            for key, spec in navigation.LINK_PAGES.items()]


def build_navigation(user: User | None):
    if accounts.chooser_forced(get_settings()):  # the chooser over the real sheet: said on every page, in red
        st.error("Connexion locale forcée (allow_local_login) sur la feuille Google réelle : n'importe qui peut "
                 "prendre n'importe quelle identité, admin compris. Réservé aux essais : retirez ce réglage.",
                 icon=":material/warning:")
    if user is None:
        st.session_state.pop("_user", None)
        login = st.Page(_login_page, title="Connexion", icon=":material/key:", url_path="connexion", default=True)
        public = {section: [_page(k, spec) for k, spec in pages]
                  for section, pages in navigation.sections_for(None).items()}
        return _reading_its_tabs(st.navigation(
            {"Accès": [login, *_link_pages()], **public}, expanded=True), "connexion")
    sections = {section: [_page(k, spec, default=k == navigation.HOME) for k, spec in pages]
                for section, pages in navigation.sections_for(user).items()}
    first = next(iter(sections), "Pilotage")
    sections[first] = [*sections.get(first, []), *_link_pages()]
    with st.sidebar:
        st.caption(f"Connecté : {plain(user.label)}")
        if st.button("Se déconnecter", key="logout"):
            _logout()
    return _reading_its_tabs(st.navigation(sections, expanded=True), navigation.HOME)


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


def identify_user() -> User | None:
    """The signed-in user mapped through the Utilisateurs tab; None shows the login page."""
    settings, mode = get_settings(), login_mode()
    try:
        snapshot = get_snapshot()
    except StoreError as error:
        st.error(plain(error))
        stop_before_any_page()
    email = ""
    if mode == accounts.CHOOSER:
        email = settings.dev_user or st.session_state.get("local_user", "")
    elif mode == accounts.PASSWORD:
        email = st.session_state.get("local_user", "")
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
        st.session_state.pop("local_user", None)
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
    except StoreError as error:
        st.warning(f"Connexion non inscrite au journal : {error}")


def stop_before_any_page() -> None:
    """Stop this run with nothing but the message above: a run that ends before st.navigation makes Streamlit run
    the requested page file by itself (its pages/ discovery), which would then fail again, outside any guard."""
    st.navigation([st.Page(_nothing, title="Indisponible", url_path="indisponible")], position="hidden")
    st.stop()


def _nothing() -> None:
    pass


def current_user() -> User:
    """The user identified by streamlit_app.py in this run (pages are only reachable through it)."""
    user = st.session_state.get("_user")
    if user is None:
        # A deep link opened on a freshly started server runs the page file directly (Streamlit discovers
        # pages/ until st.navigation has run once): go through the entry point, which identifies the user.
        try:
            st.switch_page("streamlit_app.py")
        except Exception:  # noqa: BLE001 - any refusal leaves the plain message below
            pass
        st.warning("Session expirée : reconnectez-vous.")
        st.stop()
    return user


def _logout() -> None:
    st.session_state.pop("local_user", None)
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
        st.session_state["local_user"] = labels[choice]
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
        st.session_state["local_user"] = email.strip().lower()
        st.rerun()
    st.error("Adresse ou mot de passe incorrect." if refused != accounts.TOO_MANY else
             "Trop d'essais refusés pour cette adresse : réessayez dans quelques minutes.")


def page_user(key: str) -> User:
    """The current user, if the registry lets them open page `key`; otherwise a French refusal and the page stops."""
    user = current_user()
    st.session_state[PAGE_TABS] = navigation.page_tabs(key)
    if not navigation.may_open(user, key):
        st.error("Votre rôle ne donne pas accès à cette page. Adressez-vous au service école-entreprise.")
        st.stop()
    return user
