"""Helpers shared by pages: store access, data freshness, schema-driven form widgets, French messages."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import streamlit as st

from ecole_entreprise import bootstrap, errors
from ecole_entreprise.config import Settings, load_settings
from ecole_entreprise.services.home import todo
from ecole_entreprise.services.kernel import forms
from pages._plain import plain


def get_settings() -> Settings:
    return load_settings()


def get_store():
    """The process-wide cached store (one read cache for all sessions)."""
    return bootstrap.store(get_settings())


# Session key: the tabs the page of this run reads, from the page registry (set by pages/_shell.py).
PAGE_TABS = "_page_tabs"


def get_snapshot(fresh: bool = False):
    """The tabs this page reads (every tab when none is set); served from the shared cache, so calling it several
    times in one run costs nothing."""
    return get_store().read(fresh=fresh, tabs=st.session_state.get(PAGE_TABS))


def refresh_button() -> None:
    if st.sidebar.button("Relire les données", icon=":material/refresh:",
                         help="Relire la feuille maintenant (sinon toutes les minutes)"):
        get_store().invalidate()
        st.rerun()


def demo_loader() -> None:
    """Empty state: offer the fictional demo data (local workbook only)."""
    from ecole_entreprise.services.census.demo import load_demo

    st.write("Le classeur est vide. Chargez le jeu de démonstration (données fictives) pour découvrir l'outil, "
             "ou ajoutez vos propres données dans le classeur puis rechargez la page.")
    if st.button("Charger les données de démonstration", type="primary", key="load_demo"):
        bar = st.progress(0.0, text="Chargement…")
        try:
            load_demo(get_store(), on_progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
        except errors.UserError as error:
            st.error(plain(error))
            return
        st.success("Données de démonstration chargées.")
        st.rerun()


def data_location_caption() -> str:
    store = get_store()
    where = store.describe()
    age = store.age_s()
    fresh = "à l'instant" if not age or age < 5 else f"il y a {int(age)} s"
    if where["kind"] == "google":
        return f"Données : Google Sheets « {plain(where['title'])} » ([ouvrir]({where['url']})) — lues {fresh}."
    return f"Données : classeur local {plain(where['location'])} — lues {fresh}."


# ---- schema-driven widgets -------------------------------------------------------------------------------


def field_widget(field, current: str, key: str) -> str:
    """One input for one schema field; returns the cell text to validate (validation is the service's job)."""
    label = field.header + (" *" if field.required else "")
    help_text = field.help or None
    if field.type == "choice":
        options = [""] + list(field.choices)
        index = options.index(current) if current in options else 0
        return st.selectbox(label, options, index=index, key=key, help=help_text,
                            format_func=lambda v: v or "—")
    if field.type == "multichoice":
        chosen = forms.choices_of(current, field.choices)
        return forms.choices_cell(st.multiselect(label, list(field.choices), default=chosen, key=key,
                                                 help=help_text, select_all=False, placeholder="Choisir…"))
    if field.type == "bool":
        return forms.bool_cell(st.checkbox(label, value=forms.is_true(current),
                                             key=key, help=help_text))
    if field.type == "date":
        value = st.date_input(label, value=forms.date_of(current), key=key, help=help_text, format="DD/MM/YYYY")
        return forms.date_cell(value)
    if field.type == "text" and (field.max_length or 0) > 300:
        return st.text_area(label, value=current, key=key, help=help_text, max_chars=field.max_length)
    return st.text_input(label, value=current, key=key, help=help_text, max_chars=field.max_length)


def fr_datetime(text: str) -> str:
    parsed = forms.datetime_of(text)
    return parsed.strftime("%d/%m/%Y %H:%M") if parsed else (text or "")


def fr_date(value) -> str:
    if isinstance(value, (date, datetime)):
        return value.strftime("%d/%m/%Y")
    parsed = forms.date_of(str(value or ""))
    return parsed.strftime("%d/%m/%Y") if parsed else str(value or "")


def todo_filter(snapshot, user, tab: str) -> set[str] | None:
    """The IDs a home-page to-do link asked for (query parameter « a_faire »), with a way back to the whole list;
    None when the page was opened without such a link."""
    key = st.query_params.get(todo.FILTER_PARAM, "")
    ids = todo.filtered_ids(snapshot, user, tab, key, date.today()) if key else None
    if ids is None:
        return None
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.info(f"À faire : {todo.FILTER_LABELS[key]} ({len(ids)}).")
    if right.button("Afficher toute la liste", key=f"todo_clear_{tab}"):
        st.query_params.pop(todo.FILTER_PARAM, None)
        st.rerun()
    return ids


def journaled_download(what: str, data: bytes, file_name: str, mime: str, key: str, journal_call) -> None:
    """A file holding personal data leaves only once the journal records it: a first click journals, then the
    file is offered. Until then its bytes are never sent to the browser (a download button would send them)."""
    signature = hashlib.sha256(data).hexdigest()
    if st.session_state.get(key) == signature:
        st.download_button(f"Télécharger {what}", data, file_name=file_name, mime=mime, key=f"{key}_download")
        return
    if st.button(f"Préparer {what}", key=f"{key}_prepare",
                 help="L'export est inscrit au journal avant d'être proposé au téléchargement."):
        try:
            journal_call()
        except errors.UserError as error:
            st.error(plain(error))
            return
        st.session_state[key] = signature
        st.rerun()
