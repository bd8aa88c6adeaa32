"""Helpers shared by pages: store access, data freshness, schema-driven form widgets, French messages."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, datetime

import streamlit as st

from ecole_entreprise.config import Settings, load_settings
from ecole_entreprise.domain import values as cells
from ecole_entreprise.domain.schema import Field
from ecole_entreprise.services.home import todo
from ecole_entreprise.services.kernel import conflicts
from ecole_entreprise.store import shared_store
from ecole_entreprise.store.base import Conflict, Snapshot, StoreError
from pages._plain import plain, plain_rows

log = logging.getLogger("ecole_entreprise.pages")
UNEXPECTED = ("Une erreur inattendue a interrompu l'opération. Si vous étiez en train d'enregistrer, la modification "
              "a peut-être été enregistrée malgré tout : relisez les données (bouton « Relire les données ») et "
              "vérifiez avant de recommencer. Si l'erreur revient, signalez-la à l'administrateur (le détail est "
              "dans le journal du serveur).")


def unexpected_message(error: BaseException) -> str:
    """What a person reads for any error: a StoreError's own French text, else a French notice (the English
    detail and the traceback go to the server log only)."""
    if isinstance(error, StoreError):
        return str(error)
    log.error("unexpected error on a page", exc_info=error)
    return UNEXPECTED


def run_guarded(run) -> None:
    """The entry point's run of the current page: no traceback and no English text ever reaches the page."""
    try:
        run()
    except Exception as error:  # noqa: BLE001 - st.stop/st.rerun are BaseExceptions and pass through
        st.error(plain(unexpected_message(error)))


def get_settings() -> Settings:
    return load_settings()


def get_store():
    """The process-wide cached store (one read cache for all sessions)."""
    return shared_store(get_settings())


# Session key: the tabs the page of this run reads, from the page registry (set by pages/_shell.py).
PAGE_TABS = "_page_tabs"


def get_snapshot(fresh: bool = False) -> Snapshot:
    """The tabs this page reads (every tab when none is set); served from the shared cache, so calling it several
    times in one run costs nothing."""
    return get_store().read(fresh=fresh, tabs=st.session_state.get(PAGE_TABS))


def refresh_button() -> None:
    if st.sidebar.button("🔄 Relire les données", help="Relire la feuille maintenant (sinon toutes les minutes)"):
        get_store().invalidate()
        st.rerun()


def demo_loader() -> None:
    """Empty state: offer the fictional demo data (local workbook only)."""
    from ecole_entreprise.services.census.demo import DemoRefused, load_demo

    st.write("Le classeur est vide. Chargez le jeu de démonstration (données fictives) pour découvrir l'outil, "
             "ou ajoutez vos propres données dans le classeur puis rechargez la page.")
    if st.button("Charger les données de démonstration", type="primary", key="load_demo"):
        bar = st.progress(0.0, text="Chargement…")
        try:
            load_demo(get_store(), on_progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
        except (DemoRefused, StoreError) as error:
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


def show_conflict(conflict: Conflict, user) -> None:
    """Both versions side by side (fields the user may not see stay masked); nothing was written."""
    st.error(plain(conflict))
    lines = conflicts.conflict_table(user, conflict, get_snapshot())
    if lines:
        st.table(plain_rows(lines))
    st.caption("Rechargez la fiche pour repartir de la version actuelle, puis ressaisissez vos modifications.")


# ---- schema-driven widgets -------------------------------------------------------------------------------


def _parsed_date(text: str) -> date | None:
    try:
        return cells.parse_date(text) if text else None
    except ValueError:
        return None


def field_widget(field: Field, current: str, key: str) -> str:
    """One input for one schema field; returns the cell text to validate (validation is the service's job)."""
    label = field.header + (" *" if field.required else "")
    help_text = field.help or None
    if field.type == "choice":
        options = [""] + list(field.choices)
        index = options.index(current) if current in options else 0
        return st.selectbox(label, options, index=index, key=key, help=help_text,
                            format_func=lambda v: v or "—")
    if field.type == "multichoice":
        chosen = [v for v in cells.parse_multi(current) if v in field.choices]
        return cells.format_multi(st.multiselect(label, list(field.choices), default=chosen, key=key,
                                                 help=help_text, select_all=False, placeholder="Choisir…"))
    if field.type == "bool":
        return cells.format_bool(st.checkbox(label, value=current.strip().lower() in cells.TRUE_WORDS,
                                             key=key, help=help_text))
    if field.type == "date":
        value = st.date_input(label, value=_parsed_date(current), key=key, help=help_text, format="DD/MM/YYYY")
        return cells.format_date(value) if value else ""
    if field.type == "text" and (field.max_length or 0) > 300:
        return st.text_area(label, value=current, key=key, help=help_text, max_chars=field.max_length)
    return st.text_input(label, value=current, key=key, help=help_text, max_chars=field.max_length)


def field_error(errors: dict[str, str], warnings: dict[str, str], name: str) -> None:
    """The French message right under its field."""
    if name in errors:
        st.markdown(f":red[⚠ {plain(errors[name])}]")
    elif name in warnings:
        st.markdown(f":orange[ℹ {plain(warnings[name])}]")


def fr_datetime(text: str) -> str:
    try:
        return cells.parse_datetime(text).strftime("%d/%m/%Y %H:%M") if text else ""
    except ValueError:
        return text


def fr_date(value) -> str:
    if isinstance(value, (date, datetime)):
        return value.strftime("%d/%m/%Y")
    parsed = _parsed_date(str(value or ""))
    return parsed.strftime("%d/%m/%Y") if parsed else str(value or "")


def todo_filter(snapshot: Snapshot, user, tab: str) -> set[str] | None:
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
        except StoreError as error:
            st.error(plain(error))
            return
        st.session_state[key] = signature
        st.rerun()
