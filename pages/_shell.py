"""Who is using the app, and which pages they get. The services enforce the same rules on every call."""

from __future__ import annotations

import streamlit as st

from ecole_entreprise.domain.roles import User
from ecole_entreprise.services.kernel import navigation
from ecole_entreprise.services.kernel.users import UnknownUser, find_user, users
from ecole_entreprise.store.base import StoreError
from pages._shared import PAGE_TABS, get_settings, get_store

# The one page registry (services/kernel/navigation.py): PAGES[key].path is the page file.
PAGES, PUBLIC_PAGES = navigation.PAGES, navigation.PUBLIC_PAGES


def _page(key: str, spec: navigation.Page, default: bool = False) -> st.Page:
    return st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=key, default=default)


def build_navigation(user: User | None):
    if user is None:
        st.session_state.pop("_user", None)
        login = st.Page(_login_page, title="Connexion", icon="🔑", url_path="connexion", default=True)
        public = {section: [_page(k, spec) for k, spec in pages]
                  for section, pages in navigation.sections_for(None).items()}
        return _reading_its_tabs(st.navigation({"Accès": [login], **public}), "connexion")
    sections = {section: [_page(k, spec, default=k == navigation.HOME) for k, spec in pages]
                for section, pages in navigation.sections_for(user).items()}
    with st.sidebar:
        st.caption(f"Connecté : {user.label}")
        if st.button("Se déconnecter", key="logout"):
            _logout()
    return _reading_its_tabs(st.navigation(sections), navigation.HOME)


def _reading_its_tabs(page: st.Page, default_key: str) -> st.Page:
    """The page about to run reads only the tabs the registry declares for it (pages._shared.get_snapshot)."""
    st.session_state[PAGE_TABS] = navigation.page_tabs(page.url_path or default_key)
    return page


def get_snapshot():
    """The shell's own read, to identify the user: the core tabs, which most pages read too (one request on a
    cold view; a page needing a history tab then reads that tab alone). Pages use pages._shared.get_snapshot."""
    return get_store().read(tabs=navigation.core_tabs())


def identify_user() -> User | None:
    """The signed-in user mapped through the Utilisateurs tab; None shows the login page."""
    settings = get_settings()
    local_login = settings.backend == "local" or settings.allow_local_login
    try:
        snapshot = get_snapshot()
    except StoreError as error:
        st.error(str(error))
        st.stop()
    email = ""
    if settings.dev_user and local_login:
        email = settings.dev_user
    elif local_login:
        email = st.session_state.get("local_user", "")
    elif settings.auth_configured:
        if not st.user.is_logged_in:
            return None
        if st.user.get("email_verified") is False:  # an address the provider has not checked proves nothing
            st.error("Votre fournisseur d'identité n'a pas vérifié cette adresse électronique : connexion refusée. "
                     "Adressez-vous au service école-entreprise.")
            st.button("Se déconnecter", on_click=st.logout)
            st.stop()
        email = st.user.email or ""
    else:
        st.error("Connexion impossible : configurez la section [auth] de .streamlit/secrets.toml (voir le README), "
                 "ou autorisez explicitement la connexion locale (ECOLE_ENTREPRISE_ALLOW_LOCAL_LOGIN=1).")
        st.stop()
    if not email:
        return None
    try:
        user = find_user(snapshot, email)
    except UnknownUser as error:
        st.error(str(error))
        st.session_state.pop("local_user", None)
        if settings.auth_configured and not local_login:
            st.button("Se déconnecter", on_click=st.logout)
        st.stop()
    st.session_state["_user"] = user
    return user


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
    settings = get_settings()
    st.session_state.pop("local_user", None)
    if settings.auth_configured and not (settings.backend == "local" or settings.allow_local_login):
        st.logout()
    st.rerun()


def _login_page() -> None:
    settings = get_settings()
    st.title("Rencontres École–Entreprise BFC")
    st.write("« Les chefs d'entreprise invitent l'Éducation nationale » — outil de suivi du programme.")
    if settings.backend == "local" or settings.allow_local_login:
        _local_identity_chooser()
    else:
        st.button("Se connecter", type="primary", on_click=st.login)
    st.info("Vous êtes chef d'entreprise ou personnel de l'Éducation nationale ? Inscrivez-vous avec les pages "
            "« Inscription » du menu.")


def _local_identity_chooser() -> None:
    from pages._shared import demo_loader

    st.subheader("Mode local — identité de démonstration")
    st.caption("Ce sélecteur n'existe qu'en mode local (classeur embarqué) : en production, la connexion passe par "
               "le fournisseur d'identité de l'établissement.")
    known = users(get_snapshot())
    if not known:
        st.warning("Aucun utilisateur n'est encore enregistré.")
        demo_loader()
        return
    labels = {u.label: u.email for u in known}
    choice = st.selectbox("Se connecter en tant que", list(labels), key="local_user_choice")
    if st.button("Entrer", type="primary"):
        st.session_state["local_user"] = labels[choice]
        st.rerun()


def page_user(key: str) -> User:
    """The current user, if the registry lets them open page `key`; otherwise a French refusal and the page stops."""
    user = current_user()
    st.session_state[PAGE_TABS] = navigation.page_tabs(key)
    if not navigation.may_open(user, key):
        st.error("Votre rôle ne donne pas accès à cette page. Adressez-vous au service école-entreprise.")
        st.stop()
    return user
