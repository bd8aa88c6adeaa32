"""Import a list of companies or staff (CSV or Excel): column mapping, line-by-line preview, import of valid lines.

The preview (with the IDs each valid line will get) is kept for the session: importing it again, or retrying
after an interruption, never writes a line twice.
"""

import hashlib
import math
from pathlib import Path

import streamlit as st

from ecole_entreprise.services.census import imports
from ecole_entreprise.services.census import records as census
from ecole_entreprise.services.kernel import access
from ecole_entreprise.services.privacy.contacts import journal_export
from pages._context import page_context
from pages._feedback import Feedback
from pages._plain import plain
from pages._shared import data_location_caption, get_settings, journaled_download, refresh_button

IGNORE = ""
REPORT, OUTCOME, ROUND = "import_report", "import_outcome", "import_round"


def _start_over() -> None:
    st.session_state.pop(REPORT, None)
    st.session_state.pop(OUTCOME, None)
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1  # a new uploader: the old file is dropped


def _mapping(frame, tab: str, digest: str) -> dict[str, str]:
    """One select per column of the file, pre-filled with the suggestion; returns column -> field."""
    schema_tab = ctx.store.schema.tab(tab)
    fields = imports.mappable_fields(tab)
    suggested = imports.suggest_mapping(list(frame.columns), tab)
    options = [IGNORE, *fields]
    labels = {IGNORE: "— ignorer —", **{f: schema_tab.field(f).header + (" *" if schema_tab.field(f).required else "")
                                        for f in fields}}
    st.subheader("2. Correspondance des colonnes")
    st.caption("Chaque colonne du fichier va dans un champ de la feuille ; corrigez la suggestion si besoin. "
               "Les champs marqués * sont obligatoires.")
    mapping = {}
    columns = st.columns(3)
    for index, column in enumerate(frame.columns):
        example = next((v for v in frame[column] if v), "")
        chosen = columns[index % 3].selectbox(
            plain(column), options, index=options.index(suggested.get(column, IGNORE)), format_func=labels.get,
            key=f"map_{digest}_{tab}_{index}", help=f"Exemple : {plain(example[:60])}" if example else None)
        if chosen != IGNORE:
            mapping[column] = chosen
    return mapping


def _file_wide(tab: str, mapping: dict[str, str], digest: str) -> dict[str, str]:
    """A value for every line that gives none (a salon or CLEE list rarely has a channel column)."""
    names = imports.FILE_WIDE_FIELDS[tab]
    if not names:
        return {}
    schema_tab = ctx.store.schema.tab(tab)
    st.caption("Valeurs pour tout le fichier : elles complètent les lignes où la colonne est vide ou absente.")
    chosen = {}
    for column, name in zip(st.columns(len(names)), names, strict=True):
        options = ["", *schema_tab.field(name).choices]
        chosen[name] = column.selectbox(schema_tab.field(name).header + " (tout le fichier)", options,
                                        format_func=lambda v: v or "— d'après le fichier —",
                                        key=f"const_{digest}_{tab}_{name}")
    return {k: v for k, v in chosen.items() if v}


def _twice(mapping: dict[str, str], tab: str) -> list[str]:
    chosen = list(mapping.values())
    return sorted({ctx.store.schema.tab(tab).field(f).header for f in chosen if chosen.count(f) > 1})


def _report(frame, mapping: dict[str, str], tab: str, digest: str, user, constants: dict[str, str]):
    """The preview for this file, tab and mapping: computed once, then reused (same IDs) until one changes."""
    signature = (digest, tab, tuple(sorted(mapping.items())), tuple(sorted(constants.items())))
    kept = st.session_state.get(REPORT)
    if kept is None or kept[0] != signature:
        kept = (signature, imports.preview(frame, mapping, tab, ctx.snapshot(), user, constants))
        st.session_state[REPORT] = kept
    return kept[1]


def _anomalies_button(frame, filename: str, key: str) -> None:
    if frame.empty:
        return
    user, store = ctx.user, ctx.store
    journaled_download(f"les {len(frame)} anomalie(s) (CSV)", imports.anomalies_csv(frame),
                       f"anomalies-{Path(filename).stem}.csv", "text/csv", key,
                       lambda: journal_export(store, user, f"anomalies d'import de « {filename} » (CSV)",
                                              list(frame.columns), "import de listes"))


def _show_outcome(outcome, filename: str) -> None:
    st.success(f"{outcome.imported} fiche(s) importée(s) depuis « {plain(filename)} ».")
    if outcome.errors or outcome.duplicates:
        st.warning(f"Lignes non importées : {outcome.errors} en erreur, {outcome.duplicates} doublon(s). "
                   "Corrigez-les dans le fichier des anomalies puis importez-le à son tour.")
    _anomalies_button(outcome.anomalies, filename, "anomalies_after")
    if st.button("Importer un autre fichier", key="import_again"):
        _start_over()
        st.rerun()


def _preview(report, filename: str) -> None:
    st.subheader("3. Vérification ligne par ligne")
    if report.missing_required:
        st.error("Colonnes obligatoires sans correspondance : " + ", ".join(report.missing_required)
                 + ". Choisissez la colonne du fichier qui les contient, donnez une valeur pour tout le fichier "
                 "(canal, fonction) ou complétez le fichier.")
    valid, errors, duplicates = (report.count(s) for s in (imports.VALID, imports.ERROR, imports.DUPLICATE))
    for column, (label, value) in zip(st.columns(3), (("Lignes valides", valid), ("Lignes en erreur", errors),
                                                      ("Doublons", duplicates)), strict=True):
        column.metric(label, value)
    frame = report.frame()
    only_anomalies = st.toggle("N'afficher que les anomalies", key="only_anomalies", disabled=frame.empty)
    st.dataframe(report.anomalies() if only_anomalies else frame, hide_index=True, width="stretch")
    _anomalies_button(report.anomalies(), filename, "anomalies_before")


ctx = page_context("import")
user = ctx.user
feedback = Feedback("import")
st.title("Import")
st.caption(data_location_caption())
refresh_button()
allowed_tabs = [t for t in imports.IMPORTABLE_TABS if access.allowed(user, census.EDIT_PERMISSIONS[t])]
if not allowed_tabs:
    st.error("Votre rôle ne permet d'importer dans aucun onglet.")
    st.stop()

st.subheader("1. Fichier")
st.write("Une ligne par entreprise ou par personne, les titres de colonnes sur la première ligne. Seules les "
         "lignes valides sont importées ; les autres sont listées avec leur motif.")
tab = st.radio("Onglet de destination", allowed_tabs, horizontal=True, key="import_tab")
limits = get_settings().limits
upload = st.file_uploader("Fichier CSV ou Excel (.xlsx)", type=["csv", "xlsx"],
                          max_upload_size=max(1, math.ceil(limits.import_max_mb)),
                          key=f"upload_{st.session_state.get(ROUND, 0)}")
if upload is None:
    st.info("Déposez un fichier pour voir la correspondance des colonnes et la vérification de chaque ligne.")
    st.stop()
data = upload.getvalue()
try:
    table = imports.read_table(data, upload.name, limits)
except imports.ImportFileError as error:
    st.error(plain(error))
    st.stop()
st.caption(f"« {plain(upload.name)} » : {len(table)} ligne(s), {len(table.columns)} colonne(s).")
digest = hashlib.sha256(data).hexdigest()[:16]

mapping = _mapping(table, tab, digest)
twice = _twice(mapping, tab)
if twice:
    st.error("Un même champ est choisi pour plusieurs colonnes : " + ", ".join(twice) + ". Gardez-en une seule.")
    st.stop()
constants = _file_wide(tab, mapping, digest)
report = _report(table, mapping, tab, digest, user, constants)
done = st.session_state.get(OUTCOME)
if done is not None and done[0] is report:
    _show_outcome(done[1], upload.name)
    st.stop()
_preview(report, upload.name)

st.subheader("4. Import")
third_party = st.checkbox(
    "Liste fournie par un tiers", key="third_party",
    help="Personnes reprises de la liste d'un partenaire, d'un salon… : elles doivent être informées du traitement "
         "dans le mois (RGPD, article 14). La date limite est inscrite sur chaque fiche et rappelée à l'accueil.")
valid = report.count(imports.VALID)
if st.button(f"Importer {valid} ligne(s) valide(s) dans « {tab} »", type="primary",
             disabled=valid == 0 or bool(report.missing_required), key="run_import"):
    bar = st.progress(0.0, text="Import en cours…")

    def run():
        outcome = imports.run_import(ctx.store, report, user, upload.name, third_party,
                                     on_progress=lambda fraction, message: bar.progress(fraction, text=message))
        st.session_state[OUTCOME] = (report, outcome)
        return outcome

    feedback.run(run, rerun=True)
feedback.show(user, ctx.snapshot())
