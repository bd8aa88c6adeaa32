"""Bilan for the steering committee: filters, key figures, charts with their tables, conclusions, exports.

Thin on purpose: services/bilan/view.py returns the figures already clipped to the user's départements and
masked for the comité (fixed territories, whole school years, « < 5 » and « n.d. »); the tables, charts and
captions come from its registry, the exports from services/bilan/report.py. The conclusions (free text) are
neither requested from the service nor sent for roles without VIEW_FREE_TEXT_BILAN.
"""

from datetime import date
from functools import partial

import altair as alt
import streamlit as st

from ecole_entreprise import errors
from ecole_entreprise.services.bilan import compute as bilan
from ecole_entreprise.services.bilan import report, view
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.kernel.formatting import departement_label, format_frame
from pages._context import page_context
from pages._plain import plain
from pages._shared import refresh_button

WHOLE_REGION, ALL_DEPS = "Toute la région", "Tous"
WHOLE_YEAR, CHOSEN_DATES = "Toute l'année", "Dates choisies"
PERIODS = (WHOLE_YEAR, bilan.SEMAINE_EE, CHOSEN_DATES)
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def year_bounds(annee: str) -> tuple[date, date]:
    start = int(annee[:4])
    return date(start, 9, 1), date(start + 1, 8, 31)


def territory(col_academie, col_deps, choices: view.FilterChoices) -> tuple[str | None, tuple[str, ...] | None]:
    """Académie, then départements: a list for coordinators, one département (or all) for the comité."""
    academie = col_academie.selectbox("Académie", [WHOLE_REGION, *choices.academies], key="bilan_academie",
                                      format_func=lambda a: a if a == WHOLE_REGION else f"Académie de {a}")
    offered = choices.departements["" if academie == WHOLE_REGION else academie]
    if choices.single_departement:
        picked = col_deps.selectbox("Département", [ALL_DEPS, *offered], key=f"bilan_dep_{academie}",
                                    format_func=lambda d: d if d == ALL_DEPS else departement_label(d))
        departements = None if picked == ALL_DEPS else (picked,)
    else:
        departements = tuple(col_deps.multiselect("Départements", offered, key=f"bilan_deps_{academie}",
                                                  format_func=departement_label,
                                                  select_all=False, placeholder="Tous")) or None
    return (None if academie == WHOLE_REGION else academie), departements


def filter_bar(choices: view.FilterChoices) -> bilan.BilanFilter | None:
    """The four filters; None (with a French hint shown) while a date range is not complete."""
    col_year, col_academie, col_deps, col_period = st.columns(4)
    year = col_year.selectbox("Année scolaire", choices.years, index=choices.years.index(choices.default_year),
                              key="bilan_year")
    academie, departements = territory(col_academie, col_deps, choices)
    period = col_period.selectbox("Période", PERIODS if choices.dates else (WHOLE_YEAR,), key="bilan_period")
    periode = bilan.SEMAINE_EE if period == bilan.SEMAINE_EE else None
    if period == CHOSEN_DATES:
        first, last = year_bounds(year)
        picked = col_period.date_input("Du … au …", value=(first, last), min_value=first, max_value=last,
                                       key=f"bilan_dates_{year}", format="DD/MM/YYYY")
        if len(picked) != 2:
            st.info("Choisissez la date de fin de la période.")
            return None
        periode = tuple(picked)
    return bilan.BilanFilter(year, academie=academie, departements=departements, periode=periode)


def french(frame):
    return format_frame(frame, bilan.PERCENT_COLUMNS, bilan.SIGNED_COLUMNS)


def key_figures(kpis) -> None:
    shown = french(kpis)
    for column, (label, value) in zip(st.columns(len(shown)), shown.itertuples(index=False), strict=True):
        column.metric(label, value)


def chart_section(section: view.Section) -> None:
    """Title, one-line explanation, chart, and the same figures as a table."""
    st.subheader(section.title)
    st.caption(section.caption)
    is_map = section.key == "carte"
    if is_map:  # the map keeps its designed square
        st.altair_chart(section.chart, width="content")
    else:
        # fit-x: the chart takes the page's width and keeps its own height (Streamlit's default "fit" would
        # squeeze the bars into the designed height, axes and legend included).
        st.altair_chart(section.chart.properties(autosize=FIT_WIDTH), width="stretch")
    if section.mask_note:  # masked values are marked on the chart, never silently left out: say how many
        st.caption(section.mask_note)
    if is_map:
        return
    with st.expander("Voir le tableau"):
        st.dataframe(french(section.table.drop(columns=["latitude", "longitude"], errors="ignore")),
                     hide_index=True, width="stretch")
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
    A prepared PDF is offered while the filters and comments it was built with are unchanged. Exports always
    follow the small-cell rule: the service refuses a filter it cannot protect (a list of départements, dates)."""
    try:
        exported = view.export_view(data, user, filt)
    except errors.Invalid as error:  # a filter the small-cell rule cannot protect: said, nothing built
        st.info(f"Exports : {plain(error)}")
        return
    comments = st.text_area("Commentaires", key="bilan_comments", max_chars=5000,
                            placeholder="Analyse du coordinateur, reprise à la fin du PDF.")
    wanted = (filt, comments)
    left, right = st.columns(2)
    if left.button("Préparer le PDF", type="primary", key="bilan_prepare_pdf"):
        with st.spinner("Préparation du PDF (graphiques et tableaux)…"):
            st.session_state["bilan_pdf"] = (wanted, report.build_pdf(exported, comments))
    ready = st.session_state.get("bilan_pdf")
    if ready and ready[0] == wanted:
        left.download_button("Télécharger le PDF", ready[1], file_name=f"bilan-{filt.annee_scolaire}.pdf",
                             mime="application/pdf", on_click="ignore", key="bilan_pdf_download")
    elif ready:
        left.caption("Les filtres ou les commentaires ont changé : préparez à nouveau le PDF.")
    right.download_button("Télécharger les tableaux (xlsx)", partial(report.build_xlsx, exported),
                          file_name=f"bilan-{filt.annee_scolaire}.xlsx", mime=XLSX_MIME, on_click="ignore",
                          key="bilan_xlsx_download")


def nothing_to_show(data: bilan.BilanData) -> bool:
    return data.entreprises.empty and data.personnels.empty and data.rencontres.empty


ctx = page_context("bilan")
user = ctx.user
st.title("Bilan du programme")
refresh_button()
data = view.prepared(ctx.snapshot())
if nothing_to_show(data):
    st.info("Aucune donnée à analyser : le bilan se remplit dès que des entreprises, des volontaires et des "
            "rencontres sont saisis (pages Entreprises, Personnels, Import et Appariement).")
    st.stop()

try:
    choices = view.filter_choices(data, user)
except errors.Refused as refused:  # no département in scope: nothing to show, said in French
    st.error(plain(refused))
    st.stop()

with st.container(border=True):
    try:
        filt = filter_bar(choices)
        if filt is None:
            st.stop()
        # After a change of this year's counts the comité's masks are decided again (seconds): said while it lasts
        with st.spinner("Calcul du bilan et des masques des petits effectifs…", show_time=True):
            shown = view.bilan_view(data, user, filt)
    except errors.Invalid as error:  # e.g. no semaine école-entreprise in Parametres
        st.error(f"{plain(error)} Choisissez une autre période, ou faites compléter l'onglet Parametres de la feuille "
                 "(semaine_ee_debut, semaine_ee_fin au format AAAA-MM-JJ).")
        st.stop()
    note = (" Petits effectifs masqués : « < 5 » dans les tableaux et sur les graphiques ; « n.d. » : valeur non "
            "diffusée (taux ou moyenne sur moins de 5, ou nombre masqué pour qu'un total ne permette pas de "
            "retrouver un petit effectif)." if shown.masked else "")
    st.caption(plain(shown.label) + "." + note)

key_figures(shown.kpis)
if shown.kpis.set_index("Indicateur").at[bilan.PROPOSEES, "Valeur"] == 0:
    hint = ("proposez des rencontres depuis la page Appariement" if access.allowed(user, access.PAIR)
            else "le service école-entreprise n'en a pas encore saisi")
    st.info(f"Aucune rencontre pour cette sélection ({plain(shown.label)}) : {hint}, ou choisissez une autre année "
            "scolaire, un autre territoire ou une autre période.")

for section in shown.sections():
    with st.container(border=True):
        chart_section(section)

if access.allowed(user, access.VIEW_FREE_TEXT_BILAN):
    with st.container(border=True):
        st.subheader("Conclusions des rencontres")
        st.caption("Textes libres saisis par les participants ; ils ne figurent pas dans les exports.")
        conclusions_list(shown.conclusions)

with st.container(border=True):
    st.subheader("Exports pour le comité de pilotage")
    st.caption("Agrégats uniquement (ni noms, ni coordonnées, ni textes libres), pour un territoire fixe (région, "
               "académie ou un département) et l'année scolaire entière ; les petits effectifs y sont masqués "
               "(« < 5 », « n.d. »), quel que soit votre rôle.")
    exports(data, shown.filt)
