"""Home: where the data lives, the year's KPI tiles and today's to-do list (each item links to where to act)."""

from datetime import date

import streamlit as st

from ecole_entreprise.services.census.quality import locale_warning
from ecole_entreprise.services.home import todo
from ecole_entreprise.services.home.kpis import home_tiles
from ecole_entreprise.services.kernel import access, journal, memo, workbook_recovery
from pages._context import page_context
from pages._feedback import show_conflict
from pages._plain import plain
from pages._shared import data_location_caption, demo_loader, get_settings, refresh_button
from pages._shell import PAGES

ctx = page_context("accueil")
user, store = ctx.user, ctx.store
st.title("Accueil")
st.caption(data_location_caption())
refresh_button()
snapshot = ctx.snapshot()
today = date.today()
if warning := locale_warning(store):
    st.warning(warning)


def erased_writes_notice() -> None:
    """Admins: app writes a copy of the local workbook saved over them erased, and a one-click re-apply (through
    the conflict rules: a row changed since is shown, not overwritten)."""
    erasures = workbook_recovery.erased(store)
    if not erasures:
        return
    for line in workbook_recovery.notice_lines(erasures, today):
        st.warning(plain(line))
    left, right = st.columns(2)
    if left.button("Réappliquer ces modifications", type="primary", key="reapply_erased"):
        result = workbook_recovery.reapply(store, user)
        (st.warning if result.stopped or result.conflicts else st.success)(plain(result.summary_fr()))
        for conflict in result.conflicts:
            show_conflict(conflict, user, ctx.snapshot())
    elif right.button("Les laisser effacées", key="dismiss_erased"):
        st.info(plain(workbook_recovery.dismiss(store, user)))


if access.allowed(user, access.RECOVER_WRITES):
    erased_writes_notice()
if access.allowed(user, access.VIEW_JOURNAL) and (altered := journal.alert(store, snapshot)):
    st.error(altered, icon=":material/warning:")

if not any(snapshot.rows(tab) for tab in ("Entreprises", "Personnels", "Rencontres")):
    st.info("Aucune entreprise ni aucun volontaire pour l'instant. Saisissez-les dans les pages Entreprises et "
            "Personnels, importez une liste (page Import) ou remplissez directement la feuille.")
    if get_settings().backend == "local" and access.allowed(user, access.MANAGE_USERS):
        demo_loader()
    st.stop()

# Clipped to the user's départements and masked on the server (services/home/kpis.py); kept until the tabs they
# come from change (services/kernel/memo.py): a view after a re-read costs digests.
year = todo.current_school_year(snapshot, today)
with st.spinner("Calcul des chiffres clés…", show_time=True):  # shown only past half a second
    kpis = memo.per_tabs(snapshot, memo.HOME_KPI_TABS, ("kpis", year, user),
                         lambda: home_tiles(snapshot, user, year))
st.subheader(f"Année scolaire {plain(kpis.annee)}")
TILES_PER_ROW = 4  # seven tiles on one row would cut their labels
for start in range(0, len(kpis.tiles), TILES_PER_ROW):
    row = kpis.tiles[start:start + TILES_PER_ROW]
    for column, tile in zip(st.columns(TILES_PER_ROW), row, strict=False):
        column.metric(tile.label, tile.value, help=tile.help or None, border=True)

if not access.allowed(user, access.VIEW_PERSON_LISTS):
    st.caption("Les listes nominatives ne sont pas accessibles à votre rôle ; le détail est dans la page Bilan.")
    st.stop()

st.subheader("À faire")
items = memo.per_tabs(snapshot, tuple(snapshot.tabs), ("todo", user, today),
                      lambda: todo.todo_items(snapshot, user, today))
if not items:
    st.success("Rien en attente : tout est à jour.")
for item in items:
    with st.container(border=True):
        left, right = st.columns([5, 1])
        left.markdown(f"**{item.title}** — {item.count}")
        left.caption(item.detail)
        query = {todo.FILTER_PARAM: item.filter_key} if item.filter_key else None
        right.page_link(PAGES[item.page_key].path, label=item.action, icon=":material/arrow_forward:",
                        query_params=query)
