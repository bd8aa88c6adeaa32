"""Home: where the data lives, the year's KPI tiles and today's to-do list (each item links to where to act)."""

from datetime import date

import streamlit as st

from ecole_entreprise.services.bilan.compute import home_kpis
from ecole_entreprise.services.home import todo
from ecole_entreprise.services.kernel import access, memo
from pages._shared import data_location_caption, demo_loader, get_settings, get_snapshot, refresh_button
from pages._shell import PAGES, page_user

user = page_user("accueil")
st.title("Accueil")
st.caption(data_location_caption())
refresh_button()
snapshot = get_snapshot()
today = date.today()

if not any(snapshot.rows(tab) for tab in ("Entreprises", "Personnels", "Rencontres")):
    st.info("Aucune entreprise ni aucun volontaire pour l'instant. Saisissez-les dans les pages Entreprises et "
            "Personnels, importez une liste (page Import) ou remplissez directement la feuille.")
    if get_settings().backend == "local" and access.allowed(user, access.MANAGE_USERS):
        demo_loader()
    st.stop()

# Kept until the tabs they come from change (services/kernel/memo.py): a view after a re-read costs digests.
year, small = todo.current_school_year(snapshot, today), user.rights.masks_small_counts
kpis = memo.per_tabs(snapshot, memo.HOME_KPI_TABS, ("kpis", year, small), lambda: home_kpis(snapshot, year, small))
st.subheader(f"Année scolaire {kpis.annee}")
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
        right.page_link(PAGES[item.page_key].path, label=item.action, icon="➡️", query_params=query)
