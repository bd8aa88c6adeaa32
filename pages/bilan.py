"""Bilan for the steering committee: filters, funnel, breakdowns, map, satisfaction, timeline, exports."""

from datetime import date

import streamlit as st

from ecole_entreprise.domain.roles import ACADEMIES, COMITE
from ecole_entreprise.services import access, bilan, charts, report
from ecole_entreprise.services.parameters import current_school_year
from pages._shared import get_snapshot, refresh_button
from pages._shell import page_user

user = page_user(access.VIEW_BILAN)
small_cells = user.role == COMITE  # the committee sees aggregates with counts of fewer than 5 people masked
free_text = access.allowed(user, access.VIEW_FREE_TEXT_BILAN)
st.title("Bilan du programme")
refresh_button()
snapshot = get_snapshot()
data = bilan.prepare(snapshot)
current = current_school_year(snapshot, date.today())
years = sorted({r["annee_scolaire"] for r in snapshot.rows("Rencontres") if r["annee_scolaire"]} | {current},
               reverse=True)

with st.container(border=True):
    col_year, col_academie, col_dep, col_period = st.columns(4)
    year = col_year.selectbox("Année scolaire", years, index=years.index(current), key="bilan_year")
    academie = col_academie.selectbox("Académie", ["Toutes"] + list(ACADEMIES), key="bilan_academie")
    choices = sorted(ACADEMIES.get(academie, [d for deps in ACADEMIES.values() for d in deps]))
    departements = col_dep.multiselect("Départements", choices, placeholder="Tous", key="bilan_deps")
    period = col_period.selectbox("Période", ["Toute l'année", bilan.SEMAINE_EE], key="bilan_period")
try:
    filt = bilan.BilanFilter(year, academie=None if academie == "Toutes" else academie,
                             departements=tuple(departements) or None,
                             periode=bilan.SEMAINE_EE if period == bilan.SEMAINE_EE else None)
    tables = bilan.all_tables(data, filt, include_free_text=free_text)
except bilan.BilanFilterError as error:
    st.error(str(error))
    st.stop()
st.caption(bilan.filter_label(filt, data) + (" — effectifs de moins de 5 personnes masqués (« < 5 »)."
                                              if small_cells else ""))


def shown(key: str, frame, for_chart: bool = False):
    return bilan.protect(key, frame, for_chart=for_chart) if small_cells else frame


st.dataframe(shown("kpis", tables["kpis"]), hide_index=True, width="stretch")
if not any(r["annee_scolaire"] == year for r in snapshot.rows("Rencontres")):
    st.info(f"Aucune rencontre pour l'année {year} : proposez des rencontres depuis la page Appariement, ou "
            "choisissez une autre année scolaire.")
for key in charts.CHART_KEYS:
    frame = bilan.map_points(data, filt) if key == "carte" else tables[key]
    with st.container(border=True):
        st.subheader(charts.CHART_TITLES[key])
        st.altair_chart(charts.chart_for(key, shown(key, frame, for_chart=True)), width="stretch")
        if key != "carte":
            with st.expander("Voir le tableau"):
                st.dataframe(shown(key, frame), hide_index=True, width="stretch")

if free_text:
    st.subheader("Conclusions des rencontres")
    found = tables["conclusions"]
    query = st.text_input("Rechercher dans les conclusions")
    if query:
        found = found[found["Conclusions"].str.contains(query, case=False, regex=False)]
    if found.empty:
        st.caption("Aucune conclusion saisie pour cette sélection.")
    else:
        st.dataframe(found, hide_index=True, width="stretch")

st.subheader("Exports pour le comité de pilotage")
st.caption("Agrégats uniquement ; les effectifs de moins de 5 personnes apparaissent « < 5 ».")
comments = st.text_area("Commentaires (repris dans le PDF)", key="bilan_comments", max_chars=5000)
left, right = st.columns(2)
if left.button("Préparer le PDF", type="primary"):
    with st.spinner("Génération du PDF (graphiques rendus hors ligne)…"):
        st.session_state["bilan_pdf"] = (filt, report.build_pdf(data, filt, comments))
ready = st.session_state.get("bilan_pdf")
if ready and ready[0] == filt:
    left.download_button("Télécharger le PDF", ready[1], file_name=f"bilan-{year}.pdf", mime="application/pdf")
if right.button("Préparer les tableaux (xlsx)"):
    st.session_state["bilan_xlsx"] = (filt, report.build_xlsx(data, filt))
ready = st.session_state.get("bilan_xlsx")
if ready and ready[0] == filt:
    right.download_button("Télécharger les tableaux (xlsx)", ready[1], file_name=f"bilan-{year}.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
