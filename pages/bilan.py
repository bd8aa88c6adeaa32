"""Bilan for the steering committee: filters, key figures, charts with their tables, conclusions, exports.

Thin on purpose: every figure comes from services/bilan.py, every chart from services/charts.py and the exports
from services/report.py. The comité de pilotage gets the small-cell rule on every table and chart, and the
conclusions (free text) are neither requested from the service nor sent for roles without VIEW_FREE_TEXT_BILAN.
"""

import re
from datetime import date
from functools import partial

import altair as alt
import streamlit as st

from ecole_entreprise.domain.roles import ACADEMIES
from ecole_entreprise.services.bilan import charts, report
from ecole_entreprise.services.bilan import compute as bilan
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.formatting import departement_label, format_frame
from pages._plain import plain
from pages._shared import get_snapshot, refresh_button
from pages._shell import page_user

WHOLE_REGION = "Toute la région"
WHOLE_YEAR, CHOSEN_DATES = "Toute l'année", "Dates choisies"
PERIODS = (WHOLE_YEAR, bilan.SEMAINE_EE, CHOSEN_DATES)
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
# Charts in reading order: the map right after the bars by département.
ORDER = ("entonnoir", "departements", "carte", "fonctions", "canaux", "formats", "satisfaction", "chronologie",
         "comparaison")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CAPTIONS = {
    "entonnoir": "Personnes (volontaires et entreprises) ayant atteint chaque étape avec au moins une rencontre.",
    "departements": "Recensés de l'année et rencontres réalisées, par département de l'entreprise.",
    "carte": "Communes des entreprises participantes et des établissements des volontaires.",
    "fonctions": "Volontaires recensés et rencontres réalisées selon la fonction du personnel.",
    "canaux": "Part des volontaires recensés par chaque canal qui ont réalisé au moins une rencontre.",
    "formats": "Rencontres réalisées par format, et leur satisfaction moyenne (sur 5).",
    "satisfaction": "Réponses des deux parties sur les rencontres réalisées : défavorables à gauche, favorables "
                    "à droite.",
    "chronologie": "Cumul, semaine après semaine depuis le 1er septembre.",
    "comparaison": "Mêmes indicateurs, même territoire et mêmes dates, l'année scolaire précédente.",
}


def prepared(snapshot) -> bilan.BilanData:
    """The converted tabs, kept for this session while the shared snapshot is the same object."""
    memo = st.session_state.get("_bilan_data")
    if memo is None or memo[0] is not snapshot:
        memo = (snapshot, bilan.prepare(snapshot))
        st.session_state["_bilan_data"] = memo
    return memo[1]


def school_years(data: bilan.BilanData) -> list[str]:
    seen = set(data.rencontres["annee"]) | set(data.entreprises["annee"]) | set(data.personnels["annee"])
    valid = {y for y in seen | {data.annee_courante} if re.fullmatch(r"\d{4}-\d{4}", y)}
    return sorted(valid, reverse=True)


def year_bounds(annee: str) -> tuple[date, date]:
    start = int(annee[:4])
    return date(start, 9, 1), date(start + 1, 8, 31)


def filter_bar(data: bilan.BilanData) -> bilan.BilanFilter | None:
    """The four filters; None (with a French hint shown) while a date range is not complete."""
    years = school_years(data)
    col_year, col_academie, col_deps, col_period = st.columns(4)
    year = col_year.selectbox("Année scolaire", years, index=years.index(data.annee_courante)
                              if data.annee_courante in years else 0, key="bilan_year")
    academie = col_academie.selectbox("Académie", [WHOLE_REGION, *ACADEMIES], key="bilan_academie",
                                      format_func=lambda a: a if a == WHOLE_REGION else f"Académie de {a}")
    choices = sorted(ACADEMIES.get(academie, bilan.ALL_DEPARTEMENTS))
    departements = col_deps.multiselect("Départements", choices, key=f"bilan_deps_{academie}",
                                        format_func=departement_label, placeholder="Tous")
    period = col_period.selectbox("Période", PERIODS, key="bilan_period")
    periode = bilan.SEMAINE_EE if period == bilan.SEMAINE_EE else None
    if period == CHOSEN_DATES:
        first, last = year_bounds(year)
        picked = col_period.date_input("Du … au …", value=(first, last), min_value=first, max_value=last,
                                       key=f"bilan_dates_{year}", format="DD/MM/YYYY")
        if len(picked) != 2:
            st.info("Choisissez la date de fin de la période.")
            return None
        periode = tuple(picked)
    return bilan.BilanFilter(year, academie=None if academie == WHOLE_REGION else academie,
                             departements=tuple(departements) or None, periode=periode)


def french(frame):
    return format_frame(frame, bilan.PERCENT_COLUMNS, bilan.SIGNED_COLUMNS)


def key_figures(kpis) -> None:
    shown = french(kpis)
    for column, (label, value) in zip(st.columns(len(shown)), shown.itertuples(index=False), strict=True):
        column.metric(label, value)


def chart_section(key: str, frame, small_cells: bool) -> None:
    """Title, one-line explanation, chart, and the same figures as a table."""
    st.subheader(charts.CHART_TITLES[key])
    st.caption(CAPTIONS[key])
    drawn = bilan.protect(key, frame, for_chart=True) if small_cells else frame
    chart = charts.chart_for(key, drawn)
    if key == "carte":  # the map keeps its designed square
        st.altair_chart(chart, width="content")
        return
    # fit-x: the chart takes the page's width and keeps its own height (Streamlit's default "fit" would squeeze
    # the bars into the designed height, axes and legend included).
    st.altair_chart(chart.properties(autosize=FIT_WIDTH), width="stretch")
    with st.expander("Voir le tableau"):
        table = bilan.protect(key, frame) if small_cells else frame
        st.dataframe(french(table.drop(columns=["latitude", "longitude"], errors="ignore")), hide_index=True,
                     width="stretch")


@st.fragment
def conclusions_list(found) -> None:
    """Searchable without recomputing the whole page (fragment)."""
    query = st.text_input("Rechercher dans les conclusions", key="bilan_search",
                          placeholder="Un mot : stage, visite, orientation…")
    if query:
        found = found[found["Conclusions"].str.contains(query, case=False, regex=False)]
    if found.empty:
        st.caption("Aucune conclusion ne correspond." if query else "Aucune conclusion saisie pour cette sélection.")
        return
    st.caption(f"{len(found)} conclusion(s).")
    st.dataframe(french(found), hide_index=True, width="stretch")


@st.fragment
def exports(data: bilan.BilanData, filt: bilan.BilanFilter) -> None:
    """Comments, then the PDF built on request only (it renders every chart), and the xlsx built on download.
    A prepared PDF is offered while the filters and comments it was built with are unchanged."""
    comments = st.text_area("Commentaires", key="bilan_comments", max_chars=5000,
                            placeholder="Analyse du coordinateur, reprise à la fin du PDF.")
    wanted = (filt, comments)
    left, right = st.columns(2)
    if left.button("Préparer le PDF", type="primary", key="bilan_prepare_pdf"):
        with st.spinner("Préparation du PDF (graphiques et tableaux)…"):
            st.session_state["bilan_pdf"] = (wanted, report.build_pdf(data, filt, comments))
    ready = st.session_state.get("bilan_pdf")
    if ready and ready[0] == wanted:
        left.download_button("Télécharger le PDF", ready[1], file_name=f"bilan-{filt.annee_scolaire}.pdf",
                             mime="application/pdf", on_click="ignore", key="bilan_pdf_download")
    elif ready:
        left.caption("Les filtres ou les commentaires ont changé : préparez à nouveau le PDF.")
    right.download_button("Télécharger les tableaux (xlsx)", partial(report.build_xlsx, data, filt),
                          file_name=f"bilan-{filt.annee_scolaire}.xlsx", mime=XLSX_MIME, on_click="ignore",
                          key="bilan_xlsx_download")


def nothing_to_show(data: bilan.BilanData) -> bool:
    return data.entreprises.empty and data.personnels.empty and data.rencontres.empty


user = page_user("bilan")
small_cells = user.rights.masks_small_counts  # counts of fewer than 5 people read "< 5" (the comité)
free_text = access.allowed(user, access.VIEW_FREE_TEXT_BILAN)
st.title("Bilan du programme")
refresh_button()
snapshot = get_snapshot()
data = prepared(snapshot)
if nothing_to_show(data):
    st.info("Aucune donnée à analyser : le bilan se remplit dès que des entreprises, des volontaires et des "
            "rencontres sont saisis (pages Entreprises, Personnels, Import et Appariement).")
    st.stop()

with st.container(border=True):
    try:
        filt = filter_bar(data)
        if filt is None:
            st.stop()
        tables = bilan.all_tables(data, filt, include_free_text=free_text)
    except bilan.BilanFilterError as error:
        st.error(f"{plain(error)} Choisissez une autre période, ou faites compléter l'onglet Parametres de la feuille "
                 "(semaine_ee_debut, semaine_ee_fin au format AAAA-MM-JJ).")
        st.stop()
    note = (" Effectifs de moins de 5 personnes masqués : « < 5 » dans les tableaux, barre ou point absent dans les "
            "graphiques ; « n.d. » : taux ou moyenne non diffusé." if small_cells else "")
    st.caption(plain(bilan.filter_label(filt, data)) + "." + note)

kpis = tables["kpis"]
key_figures(bilan.protect("kpis", kpis) if small_cells else kpis)
if kpis.set_index("Indicateur").at[bilan.PROPOSEES, "Valeur"] == 0:
    hint = ("proposez des rencontres depuis la page Appariement" if access.allowed(user, access.PAIR)
            else "le service école-entreprise n'en a pas encore saisi")
    st.info(f"Aucune rencontre pour cette sélection ({plain(bilan.filter_label(filt, data))}) : {hint}, ou choisissez "
            "une autre année scolaire, un autre territoire ou une autre période.")

tables["carte"] = bilan.map_points(data, filt)
for key in ORDER:
    with st.container(border=True):
        chart_section(key, tables[key], small_cells)

if free_text:
    with st.container(border=True):
        st.subheader("Conclusions des rencontres")
        st.caption("Textes libres saisis par les participants ; ils ne figurent pas dans les exports.")
        conclusions_list(tables["conclusions"])

with st.container(border=True):
    st.subheader("Exports pour le comité de pilotage")
    st.caption("Agrégats uniquement (ni noms, ni coordonnées, ni textes libres) ; les effectifs de moins de "
               "5 personnes y apparaissent « < 5 », quel que soit votre rôle.")
    exports(data, filt)
